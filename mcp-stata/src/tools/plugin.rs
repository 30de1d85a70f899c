//! The Stata tools as a plugin: tools, instructions, and sessions closed when the server stops.

use std::sync::Arc;

use mcp_core::tool::BoxFuture;
use mcp_core::{Catalog, Plugin};

use super::{INSTRUCTIONS, StataTools, ToolsConfig};

/// The Stata tools as a [`Plugin`]: mount it with `ServerBuilder::plugin`. It brings the
/// tools and their [`INSTRUCTIONS`], and its shutdown hook closes every open session (Stata
/// exits, its process group is gone) when the serving call ends.
///
/// The tools are already named `stata_*`, and the instructions name them so: mount it
/// without a prefix unless a name clashes.
///
/// ```no_run
/// use mcp_core::Server;
/// use mcp_stata::{StataPlugin, ToolsConfig};
///
/// let server = Server::builder("my-server", "1.0")
///     .plugin(StataPlugin::new(ToolsConfig::locate()))
///     .build()
///     .unwrap();
/// assert!(server.tool("stata_run_do_file").is_some());
/// ```
#[derive(Debug, Clone)]
pub struct StataPlugin {
    tools: Arc<StataTools>,
}

impl StataPlugin {
    /// Tools that run Stata as `config` says, as a plugin.
    pub fn new(config: ToolsConfig) -> Self {
        StataPlugin::from_tools(Arc::new(StataTools::new(config)))
    }

    /// Shared tools as a plugin.
    pub fn from_tools(tools: Arc<StataTools>) -> Self {
        StataPlugin { tools }
    }

    /// The tools (to ask why Stata is unavailable, or to list sessions).
    pub fn tools(&self) -> &Arc<StataTools> {
        &self.tools
    }
}

impl Plugin for StataPlugin {
    fn name(&self) -> String {
        "stata".into()
    }

    fn catalog(&self) -> Catalog {
        Catalog::from_toolbox(&self.tools)
    }

    fn instructions(&self) -> Option<String> {
        Some(INSTRUCTIONS.into())
    }

    fn shutdown(self: Arc<Self>) -> BoxFuture<()> {
        Box::pin(async move { self.tools.close_all_sessions().await })
    }
}
