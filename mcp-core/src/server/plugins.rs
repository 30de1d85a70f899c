//! Mounting plugins (see [`crate::plugin`]) and layers (see [`crate::middleware`]) on a
//! server.

use std::sync::Arc;

use tower::{Layer, Service};

use super::{Server, ServerBuilder};
use crate::error::RpcError;
use crate::jsonrpc::Payload;
use crate::middleware::{CallService, McpCall, wrap};
use crate::plugin::{Plugin, Prefix};

impl Server {
    /// This server with `layer` around its calls, outside every layer it has: the same
    /// tools, plugins and sessions otherwise (as with [`with_eras`](Self::with_eras)). For a
    /// serving call that adds layers its flags ask for, such as metrics.
    pub fn with_layer<L>(&self, layer: L) -> Server
    where
        L: Layer<CallService> + Send + Sync + 'static,
        L::Service:
            Service<McpCall, Response = Payload, Error = RpcError> + Clone + Send + Sync + 'static,
        <L::Service as Service<McpCall>>::Future: Send + 'static,
    {
        Server {
            middleware: self
                .middleware
                .outer(Box::new(move |inner| wrap(&layer, inner))),
            ..self.clone()
        }
    }
}

impl ServerBuilder {
    /// Adds a middleware layer around calls (`tools/call`, `prompts/get`, `resources/read`):
    /// any tower [`Layer`] whose service takes an [`McpCall`] and answers with the result
    /// object or an [`RpcError`]. The first layer added is the outermost (it sees a call
    /// first), as with tower's `ServiceBuilder`. See [`crate::middleware`].
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<CallService> + Send + Sync + 'static,
        L::Service:
            Service<McpCall, Response = Payload, Error = RpcError> + Clone + Send + Sync + 'static,
        <L::Service as Service<McpCall>>::Future: Send + 'static,
    {
        self.layers.push(Box::new(move |inner| wrap(&layer, inner)));
        self
    }

    /// Mounts a plugin: its tools, prompts and resources join the server's under the names
    /// it gives them, its instructions follow the server's under its name, and its hooks run
    /// when the server starts and stops serving. A name that another plugin (or the server
    /// itself) also offers fails the build with [`BuildError::Clash`](super::BuildError::Clash).
    pub fn plugin(self, plugin: impl Plugin) -> Self {
        self.plugin_prefixed("", plugin)
    }

    /// Mounts a plugin under `prefix`: its tool and prompt `name` becomes `prefix_name`, its
    /// resource `scheme://path` becomes `scheme://prefix/path` (and `scheme:path`
    /// `scheme:prefix/path`). An empty prefix is the same as [`plugin`](Self::plugin).
    pub fn plugin_prefixed(mut self, prefix: impl Into<String>, plugin: impl Plugin) -> Self {
        let prefix = prefix.into();
        self.plugins
            .push((Prefix::new(&prefix), Arc::new(plugin) as Arc<dyn Plugin>));
        self
    }
}
