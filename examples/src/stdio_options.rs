//! Serving stdio with options: the guide's example of the idle poll.

// ANCHOR: idle
use std::time::Duration;

use mcp_transport::stdio::{StdioError, StdioServer};

/// Serves `server` on stdin and stdout without the idle poll: after an answer the thread
/// sleeps at once (the default polls a stdin pipe for up to
/// `mcp_transport::stdio::DEFAULT_IDLE_POLL`, adapting the window to the client).
pub async fn serve_without_idle_poll(server: &mcp_core::Server) -> Result<(), StdioError> {
    StdioServer::new(server)
        .idle_poll(Duration::ZERO)
        .serve()
        .await
}
// ANCHOR_END: idle

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use mcp_transport::stdio::{DEFAULT_IDLE_POLL, StdioServer};

    #[test]
    fn the_option_reaches_the_server() {
        let server = mcp_core::Server::builder("idle", "1")
            .build()
            .expect("a server");
        let off = format!("{:?}", StdioServer::new(&server).idle_poll(Duration::ZERO));
        assert!(off.contains("idle_poll: 0ns"), "{off}");
        let on = format!("{:?}", StdioServer::new(&server));
        assert!(
            on.contains(&format!("idle_poll: {DEFAULT_IDLE_POLL:?}")),
            "{on}"
        );
    }
}
