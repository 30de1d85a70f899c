//! The host server of the guide's chapter: its own tool, a plugin, and layers.

// ANCHOR: all
use std::time::Duration;

use mcp_core::middleware::{TimeoutLayer, TraceLayer};
use mcp_core::plugin::toolbox;
use mcp_core::{BuildError, Server, tool};

use super::quota::QuotaLayer;
use crate::notes::Notes;

/// Counts the words of a text (the host's own tool).
#[tool(read_only)]
async fn word_count(
    /// The text to count.
    text: String,
) -> String {
    format!("{} words", text.split_whitespace().count())
}

/// The host: its own tool, the notes under the prefix `notes`, and three layers.
pub fn server() -> Result<Server, BuildError> {
    Server::builder("plugins-demo", env!("CARGO_PKG_VERSION"))
        .instructions("Count words with word_count; keep notes with the notes_ tools.")
        .tool(word_count)
        // `add_note` becomes `notes_add_note`, `notes://all` becomes `notes://notes/all`.
        .plugin_prefixed("notes", toolbox("notes", Notes::default()))
        // The first layer added sees a call first.
        .layer(TraceLayer::new())
        .layer(QuotaLayer::new(100))
        .layer(TimeoutLayer::new(Duration::from_secs(60)))
        .build()
}
// ANCHOR_END: all
