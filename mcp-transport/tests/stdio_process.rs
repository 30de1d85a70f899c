//! The stdio client's process handling: typed errors, and a dropped client taking the
//! server's whole process group with it.

#![cfg(unix)]

mod stdio_common;

use std::path::Path;
use std::time::Duration;

use mcp_transport::stdio::{
    StderrMode, StdioClientError, StdioClientOptions, connect, connect_with, spawn,
};
use stdio_common::raw::within;
use tokio::process::Command;

/// Whether process `pid` is gone (or a zombie nobody has reaped yet).
fn is_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // The state follows the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
    }
}

/// Polls until `pid` is gone; the caller's time limit fails the test otherwise.
async fn wait_until_gone(pid: u32) {
    while !is_gone(pid) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Polls until `path` exists and holds a line; returns it.
async fn read_when_written(path: &Path) -> String {
    loop {
        if let Ok(text) = std::fs::read_to_string(path)
            && text.ends_with('\n')
        {
            return text.trim().to_owned();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A fresh directory, removed when dropped.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("mcp-stdio-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temp dir");
        TempDir(dir)
    }

    fn join(&self, name: &str) -> std::path::PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn a_missing_program_is_a_spawn_error() {
    let err = connect(Command::new("/nonexistent/mcp-server-that-is-not-there"))
        .await
        .expect_err("nothing to run");
    match err {
        StdioClientError::Spawn { program, source } => {
            assert!(program.contains("mcp-server-that-is-not-there"));
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("expected a spawn error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_server_that_exits_at_once_fails_the_handshake() {
    let err = within("connecting to `true`", connect(Command::new("true")))
        .await
        .expect_err("`true` is no MCP server");
    assert!(matches!(err, StdioClientError::Connect(_)), "{err:?}");
}

#[tokio::test]
async fn a_silent_server_times_out_and_is_killed() {
    let dir = TempDir::new("silent");
    let pidfile = dir.join("pid");
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!("echo $$ > {}; exec sleep 600", pidfile.display()));
    // The shell must have written its pid before the client gives up and kills it, or the
    // test cannot tell whether it is gone (and waits for the file until its limit): at
    // 200 ms, a shell started late on a loaded machine could be killed before its `echo`.
    // The wait is the feature under test; 2 s is ample for a shell to start.
    let options = StdioClientOptions {
        connect_timeout: Duration::from_secs(2),
        stderr: StderrMode::Discard,
        ..Default::default()
    };
    within("a silent server", async {
        let err = connect_with(command, options)
            .await
            .expect_err("no handshake");
        assert!(matches!(err, StdioClientError::Timeout(_)), "{err:?}");
        let pid: u32 = read_when_written(&pidfile).await.parse().expect("a pid");
        wait_until_gone(pid).await;
    })
    .await;
}

#[tokio::test]
async fn dropping_the_process_kills_its_whole_group() {
    let dir = TempDir::new("group");
    let pidfile = dir.join("grandchild");
    // The server starts a grandchild of its own, then waits on stdin like a server would.
    let mut command = Command::new("sh");
    command.arg("-c").arg(format!(
        "sleep 600 & echo $! > {}; exec sleep 600",
        pidfile.display()
    ));
    within("killing the process group", async {
        let (_channel, process) = spawn(command).expect("sh runs");
        let server = process.id().expect("running");
        let grandchild: u32 = read_when_written(&pidfile).await.parse().expect("a pid");
        assert!(!is_gone(grandchild));
        drop(process);
        wait_until_gone(server).await;
        wait_until_gone(grandchild).await;
    })
    .await;
}

#[tokio::test]
async fn shutdown_closes_stdin_and_reports_the_exit_status() {
    // `cat` echoes its input and exits at end of input: closing stdin must be enough.
    let (_channel, process) = spawn(Command::new("cat")).expect("cat runs");
    let status = within("cat to exit", process.shutdown(Duration::from_secs(20)))
        .await
        .expect("an exit status");
    assert!(status.success(), "{status:?}");
}
