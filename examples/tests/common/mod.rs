//! Helpers for the examples' tests: temporary directories, the fixture server over raw
//! lines, and (from mcp-transport's tests) the raw-line peer and the schema validator.

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::watch;

#[path = "../../../mcp-transport/tests/stdio_common/mod.rs"]
pub mod stdio_common;

/// Ports below the ephemeral range, and starting a program again on another port when the
/// one it was given was taken before it bound it.
#[path = "../../../mcp-transport/tests/support/ports.rs"]
pub mod ports;

use stdio_common::raw::RawPeer;

/// The fixture server binary.
pub const FIXTURE: &str = env!("CARGO_BIN_EXE_fixture-server");

/// A fresh directory, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A new empty directory whose name includes `name`.
    pub fn new(name: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("mcp-examples-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create a temp dir");
        TempDir(path)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// A path inside the directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// The directory as a string, for tool arguments.
    pub fn arg(&self) -> String {
        self.0.to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Waits until `path` exists (polling; the caller's time limit fails the test otherwise).
pub async fn wait_for_file(path: &Path) {
    while !path.exists() {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Starts the fixture server with piped stdin and stdout, and a raw peer on them.
pub fn spawn_fixture() -> (RawPeer, Child) {
    let mut child = Command::new(FIXTURE)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        // The `panic` tool's panic is expected: keep its report short.
        .env("RUST_BACKTRACE", "0")
        .kill_on_drop(true)
        .spawn()
        .expect("the fixture server starts");
    let stdin = child.stdin.take().expect("piped stdin");
    let stdout = child.stdout.take().expect("piped stdout");
    (RawPeer::new(stdout, stdin), child)
}

/// A server's log (its stderr), kept line by line as it runs.
pub type Log = Arc<Mutex<Vec<String>>>;

/// Starts an HTTP server whose log says `serving streamable HTTP at http://ADDR/mcp`, and
/// returns it with that address (`host:port`) and its log so far and to come.
pub async fn start_http(mut command: Command) -> (Child, String, Log) {
    let mut child = command
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the server starts");
    let log = Log::default();
    let (addr_tx, mut addr) = watch::channel(None);
    let mut lines = BufReader::new(child.stderr.take().expect("piped stderr")).lines();
    let kept = log.clone();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(rest) = line.split("serving streamable HTTP at http://").nth(1) {
                let found = rest.split('/').next().unwrap_or_default().to_owned();
                addr_tx.send_replace(Some(found));
            }
            kept.lock().unwrap().push(line);
        }
    });
    let addr = addr
        .wait_for(Option::is_some)
        .await
        .expect("the server logs its address")
        .clone()
        .expect("an address");
    (child, addr, log)
}

/// Sends `signal` to a running child process.
#[cfg(unix)]
pub fn send_signal(child: &Child, signal: nix::sys::signal::Signal) {
    let pid = nix::unistd::Pid::from_raw(child.id().expect("running") as i32);
    nix::sys::signal::kill(pid, signal).expect("the signal is sent");
}
