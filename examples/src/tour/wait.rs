//! Cancellation: the session drops the tool's future.

// ANCHOR: all
use std::time::Duration;

use mcp_core::{Progress, tool};

/// Waits `seconds` seconds, reporting each one; stops early when the client cancels.
#[tool]
pub async fn wait(
    /// How long to wait.
    seconds: u64,
) -> String {
    for i in 1..=seconds {
        // When the client sends `notifications/cancelled`, the session drops this future at
        // its next await: no response is sent, and destructors run as usual.
        tokio::time::sleep(Duration::from_secs(1)).await;
        yield_!(Progress::step(i, seconds, format!("{i} s")));
    }
    format!("waited {seconds} s")
}
// ANCHOR_END: all
