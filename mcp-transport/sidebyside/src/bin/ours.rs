//! Our server with the benchmark's one tool, `progress {steps, delay_ms}`, on default config.
//!
//! `ours stdio` serves stdin/stdout; `ours http` serves streamable HTTP on a free loopback
//! port and prints the address.

use std::net::SocketAddr;
use std::time::Duration;

use mcp_core::{Progress, Server, tool};
use sidebyside::{Mode, announce, mode_from_args, now_ns};

/// Reports `steps` progress steps, `delay_ms` apart; each message is the time of its yield.
#[tool]
async fn progress(
    /// How many steps.
    steps: u64,
    /// The pause before each step, in milliseconds.
    #[arg(default = 0)]
    delay_ms: u64,
) -> String {
    for i in 1..=steps {
        if delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        }
        yield_!(Progress::step(i, steps, now_ns().to_string()));
    }
    format!("done {steps}")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (mode, _) = mode_from_args();
    let server = Server::builder("sidebyside-ours", "1")
        .tool(progress)
        .build()?;
    match mode {
        Mode::Stdio => mcp_transport::stdio::serve(&server).await?,
        Mode::Http => {
            let running = mcp_transport::http::serve(
                SocketAddr::from(([127, 0, 0, 1], 0)),
                &server,
                mcp_transport::http::HttpConfig::default(),
            )
            .await?;
            announce(running.local_addr());
            running.wait().await;
        }
    }
    Ok(())
}
