//! The stdio flags: settings of [`StdioServer`] beyond what every transport shares.

use std::time::Duration;

use super::duration;
use crate::stdio::StdioServer;

/// The flags of the stdio transport (`--transport stdio`). Each maps to a setting of
/// [`StdioServer`], whose defaults they share.
#[derive(Debug, Clone, clap::Args)]
#[non_exhaustive]
#[command(next_help_heading = "stdio (with --transport stdio)")]
pub struct StdioArgs {
    /// After an answer, how long at most to keep reading a stdin pipe for the next request
    /// before sleeping (`0`: off). The window adapts: it grows while requests follow answers
    /// closely (a client calling tools one after another then gets answers without waking the
    /// server) and drops to zero while they do not, or while waking the server is cheap anyway
    /// (CPUs kept awake by other work); it costs up to this much CPU time per gap. See
    /// `StdioServer::idle_poll`.
    #[arg(long, env = "MCP_STDIO_IDLE_POLL", default_value = "80us", value_parser = duration::parse, value_name = "DURATION")]
    pub stdio_idle_poll: Duration,
}

impl StdioArgs {
    /// `server` with the settings these flags describe.
    pub fn apply(&self, server: StdioServer) -> StdioServer {
        server.idle_poll(self.stdio_idle_poll)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;
    use crate::stdio::DEFAULT_IDLE_POLL;

    #[derive(clap::Parser)]
    struct Args {
        #[command(flatten)]
        stdio: StdioArgs,
    }

    #[test]
    fn the_default_is_the_servers() {
        let args = Args::try_parse_from(["serve"]).unwrap();
        assert_eq!(args.stdio.stdio_idle_poll, DEFAULT_IDLE_POLL);
    }

    #[test]
    fn the_flag_sets_the_window_and_zero_turns_it_off() {
        let args = Args::try_parse_from(["serve", "--stdio-idle-poll", "0"]).unwrap();
        assert_eq!(args.stdio.stdio_idle_poll, Duration::ZERO);
        let args = Args::try_parse_from(["serve", "--stdio-idle-poll", "50us"]).unwrap();
        assert_eq!(args.stdio.stdio_idle_poll, Duration::from_micros(50));
        let shown = format!("{:?}", args.stdio.apply(StdioServer::new(&server())));
        assert!(shown.contains("idle_poll: 50µs"), "{shown}");
    }

    fn server() -> mcp_core::Server {
        mcp_core::Server::builder("t", "1").build().unwrap()
    }
}
