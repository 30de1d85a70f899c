//! Tasks: a tool a client may run detached from its request.

// ANCHOR: tool
use std::time::Duration;

use mcp_core::{Progress, tool};

/// Writes a report of `sections` sections, one a second. A client may run it as a task: it
/// then outlives the request, the connection and the client that started it.
#[tool(task = "optional")]
pub async fn build_report(
    /// How many sections to write.
    sections: u64,
) -> String {
    for i in 1..=sections {
        tokio::time::sleep(Duration::from_secs(1)).await;
        // As a task, this becomes the task's status message.
        yield_!(Progress::step(
            i,
            sections,
            format!("section {i} of {sections} written")
        ));
    }
    format!("a report of {sections} sections")
}
// ANCHOR_END: tool
