//! Choosing how streamable HTTP answers requests: the guide's example of the response modes.

// ANCHOR: mode
use mcp_transport::http::{HttpConfig, ResponseMode};

/// The default configuration answers a request whose response is ready at once with one
/// `application/json` body, and streams any other (`ResponseMode::Auto`). This one streams
/// every answer, also one ready at once, and stores each for a client that resumes: for
/// clients or proxies that expect `text/event-stream` every time.
pub fn always_streamed() -> HttpConfig {
    HttpConfig::default().response_mode(ResponseMode::Sse)
}
// ANCHOR_END: mode

#[cfg(test)]
mod tests {
    #[test]
    fn the_configuration_streams_every_answer() {
        let config = super::always_streamed();
        let shown = format!("{config:?}");
        assert!(shown.contains("response_mode: Sse"), "{shown}");
        let server = mcp_core::Server::builder("modes", "1")
            .build()
            .expect("a server");
        mcp_transport::http::McpService::new(&server, config).expect("a valid configuration");
    }

    #[test]
    fn the_default_is_auto() {
        let shown = format!("{:?}", mcp_transport::http::HttpConfig::default());
        assert!(shown.contains("response_mode: Auto"), "{shown}");
    }
}
