//! Helpers of the probe's tests: the binaries, running the probe, and servers started over
//! HTTP on a free port.

#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The probe under test.
pub const PROBE: &str = env!("CARGO_BIN_EXE_mcp-probe");

/// Fails the test instead of hanging: only a deadlock or a lost stream reaches this.
pub async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(120), future)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish in time"))
}

/// A binary of another workspace crate, built beside this test's binary
/// (`target/<profile>/NAME`): `cargo build --workspace` (which CI runs first) builds it.
pub fn sibling(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let profile = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binaries live in target/<profile>/deps");
    let path = profile.join(name);
    assert!(
        path.exists(),
        "{} is not built: run `cargo build --workspace` (or `cargo build -p examples -p mcp-stata -p stata-standin`) first",
        path.display()
    );
    path
}

/// Runs the probe with `args` and returns what it printed and how it exited.
pub async fn probe(args: &[&str]) -> Output {
    within(
        "mcp-probe",
        Command::new(PROBE)
            .args(args)
            .stdin(Stdio::null())
            .env_remove("MCP_PROBE_URL")
            .env_remove("MCP_BEARER_TOKEN")
            .output(),
    )
    .await
    .expect("mcp-probe runs")
}

/// The probe's stdout, as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A server started with `--transport http --bind 127.0.0.1:0`, and its base URL.
pub struct HttpServer {
    pub child: Child,
    pub base: String,
}

/// Starts `program` over HTTP on a free port, with `env`, and waits for the address it logs.
pub async fn start_http(program: &Path, env: &[(&str, &str)]) -> HttpServer {
    let mut child = Command::new(program)
        .args([
            "--transport",
            "http",
            "--bind",
            "127.0.0.1:0",
            "--log-level",
            "info",
        ])
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the server starts");
    let mut lines = BufReader::new(child.stderr.take().expect("piped stderr")).lines();
    let base = within("the server's address", async {
        loop {
            let line = lines
                .next_line()
                .await
                .expect("stderr reads")
                .expect("the server logs its address before it exits");
            if let Some(rest) = line.split("serving streamable HTTP at http://").nth(1) {
                let addr = rest.split('/').next().expect("an address");
                break format!("http://{addr}");
            }
        }
    })
    .await;
    // Keep reading, so that the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    HttpServer { child, base }
}

/// The lines of the probe's output that report a progress event.
pub fn event_lines(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| l.starts_with('[') && l.contains(" ms] ") && !l.contains("result"))
        .collect()
}
