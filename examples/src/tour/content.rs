//! Content blocks, and a whole result of the tool's own making.

// ANCHOR: all
use mcp_core::{CallToolResult, Content, tool};

/// Returns a one-pixel PNG as image content, with a caption.
#[tool]
pub async fn pixel() -> Vec<Content> {
    const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
    vec![
        Content::text("a single pixel"),
        Content::image(PNG, "image/png"),
    ]
}

/// Fails on purpose, with a full result of its own making.
#[tool]
pub async fn always_fails() -> CallToolResult {
    CallToolResult::error("this tool always fails")
}
// ANCHOR_END: all
