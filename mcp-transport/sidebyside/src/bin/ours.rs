//! Our server with the benchmark's one tool, `progress {steps, delay_ms}`, on default config.
//!
//! `ours stdio` serves stdin/stdout; `ours http` serves streamable HTTP on a free loopback
//! port and prints the address. `OURS_HTTP_IDLE_POLL_US` (unset: the default) sets the HTTP
//! idle poll's window: `callgrind.py` sets 0, so that its count is the work per call and not
//! a spin whose length depends on timing.

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
            let mut config = mcp_transport::http::HttpConfig::default();
            if let Ok(us) = std::env::var("OURS_HTTP_IDLE_POLL_US") {
                config = config.idle_poll(Duration::from_micros(us.parse()?));
            }
            let running = mcp_transport::http::serve(
                SocketAddr::from(([127, 0, 0, 1], 0)),
                &server,
                config,
            )
            .await?;
            announce(running.local_addr());
            running.wait().await;
        }
    }
    Ok(())
}
