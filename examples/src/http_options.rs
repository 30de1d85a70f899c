//! Serving HTTP with options: the guide's example of the HTTP idle poll.

// ANCHOR: idle
use std::time::Duration;

use mcp_transport::http::HttpConfig;

/// The default HTTP configuration without the idle poll: after a response a kept-alive
/// connection's task sleeps at once until the next request arrives (the default polls the
/// socket for up to 160 µs, adapting the window to the client).
pub fn config_without_idle_poll() -> HttpConfig {
    HttpConfig::default().idle_poll(Duration::ZERO)
}
// ANCHOR_END: idle

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_option_reaches_the_config() {
        let off = format!("{:?}", config_without_idle_poll());
        assert!(off.contains("idle_poll: 0ns"), "{off}");
        let on = format!("{:?}", HttpConfig::default());
        assert!(on.contains("idle_poll: 160µs"), "{on}");
    }
}
