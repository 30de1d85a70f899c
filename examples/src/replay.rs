//! How long finished response streams stay replayable: the guide's example of choosing the
//! replay depth of streamable HTTP.

// ANCHOR: replay
use std::sync::Arc;
use std::time::Duration;

use mcp_transport::http::{HttpConfig, MemoryEventStore};

/// An HTTP configuration whose delivered responses stay replayable for a minute, and up to
/// 10,000 of them: for clients on flaky networks, at a cost of about 0.6 KiB per short
/// response kept (some 6 MiB at most here) on top of the default.
pub fn longer_replay() -> HttpConfig {
    let store = MemoryEventStore::new(1024, 64 * 1024 * 1024)
        .finished_grace(Duration::from_secs(60))
        .max_finished(10_000);
    HttpConfig::default().event_store(Arc::new(store))
}
// ANCHOR_END: replay

#[cfg(test)]
mod tests {
    #[test]
    fn the_configuration_is_accepted() {
        let server = mcp_core::Server::builder("replay", "1")
            .build()
            .expect("a server");
        mcp_transport::http::McpService::new(&server, super::longer_replay())
            .expect("a valid configuration");
    }
}
