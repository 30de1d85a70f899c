//! Mounting plugins on a server (see [`crate::plugin`]).

use std::sync::Arc;

use super::ServerBuilder;
use crate::plugin::{Plugin, Prefix};

impl ServerBuilder {
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
