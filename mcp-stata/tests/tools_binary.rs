//! The real `mcp-stata` binary over stdio, driven by the framework's stdio client, with the
//! stand-in as Stata (`STATA_PATH`): streaming in lockstep, no processes left after the
//! server ends (stdin closed, or SIGTERM), and the answer without Stata.

mod common;
mod support;

use std::path::Path;
use std::time::Duration;

use common::{PATIENCE, release, standin};
use mcp_transport::stdio::{StdioClient, connect};
use serde_json::json;
use support::*;
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_mcp-stata");

async fn start(dir: &Path, stata: &Path, mark: &str) -> StdioClient {
    let mut command = Command::new(BIN);
    command
        .env("STATA_PATH", stata)
        .env("MCP_STATA_WORKDIR", dir)
        .env("MCP_STATA_JOBS_DIR", dir.join("jobs"))
        .env(MARK, mark)
        .env("RUST_LOG", "warn");
    connect(command).await.unwrap()
}

/// Sends `signal` to the server and waits (bounded) for it to exit.
async fn signal_and_wait(
    server: &mut StdioClient,
    signal: nix::sys::signal::Signal,
) -> std::process::ExitStatus {
    let pid = server.process().id().unwrap();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), signal).unwrap();
    tokio::time::timeout(PATIENCE, server.process_mut().wait())
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_streams_a_run_in_lockstep_over_stdio() {
    let tmp = tempfile::tempdir().unwrap();
    let mark = tmp.path().display().to_string();
    let server = start(tmp.path(), &standin(), &mark).await;
    assert_eq!(server.server().server_info.name, "mcp-stata");
    let names: Vec<String> = server
        .list_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert!(names.contains(&"stata_run_code".to_owned()));

    let go = tmp.path().join("go");
    let code = format!(
        "display \"before\"\n_standin_wait_file {}\ndisplay \"after\"",
        q(&go)
    );
    let mut call = server
        .call_tool_streaming("stata_run_code", json!({ "code": code }))
        .await
        .unwrap();
    let seen = wait_for_line(&mut call, "before").await;
    assert!(!go.exists());
    assert_eq!(seen.last().unwrap().total, Some(3.0));
    release(&go);
    let done = finish(&mut call).await;
    assert!(!done.result.is_error(), "{}", done.text());
    assert!(done.lines().contains(&"after".to_owned()));
    assert_eq!(done.structured()["status"], "success");

    // A session and a stuck run are open when the client goes: nothing may be left.
    let opened = server
        .call_tool(
            "stata_run_code",
            json!({ "code": "set obs 2", "session": "s" }),
        )
        .await
        .unwrap();
    assert!(!opened.is_error(), "{}", opened.text());
    let mut stuck = server
        .call_tool_streaming(
            "stata_run_code",
            json!({ "code": format!("display \"stuck\"\n_standin_wait_file {}", q(&tmp.path().join("never"))) }),
        )
        .await
        .unwrap();
    wait_for_line(&mut stuck, "stuck").await;
    // Marked: the server, the session's Stata and the run's (and their keepers).
    let server_pid = server.process().id().unwrap();
    let pids = marked_pids(&mark);
    assert_eq!(marked_stata(&mark).len(), 2, "{pids:?}");
    assert!(pids.contains(&server_pid));
    let status = tokio::time::timeout(PATIENCE, server.shutdown(Duration::from_secs(20)))
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "the server exits on its own: {status:?}");
    assert_gone(&pids).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_the_server_and_its_sessions() {
    let tmp = tempfile::tempdir().unwrap();
    let mark = tmp.path().display().to_string();
    let mut server = start(tmp.path(), &standin(), &mark).await;
    let opened = server
        .call_tool(
            "stata_run_code",
            json!({ "code": "set obs 2", "session": "s" }),
        )
        .await
        .unwrap();
    assert!(!opened.is_error(), "{}", opened.text());
    let pid = server.process().id().unwrap();
    let pids = marked_pids(&mark);
    assert_eq!(
        marked_stata(&mark).len(),
        1,
        "the session's Stata: {pids:?}"
    );
    assert!(pids.contains(&pid));
    let status = signal_and_wait(&mut server, nix::sys::signal::Signal::SIGTERM).await;
    assert!(status.success(), "{status:?}");
    assert_gone(&pids).await;
}

/// A server killed with SIGKILL runs no destructor: the keeper beside each Stata sees the
/// server's pipe close and ends Stata's process group, for a batch run and a busy session alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_of_the_server_mid_run_leaves_no_stata() {
    let tmp = tempfile::tempdir().unwrap();
    let mark = tmp.path().display().to_string();
    let mut server = start(tmp.path(), &standin(), &mark).await;
    let stuck = |name: &str| {
        format!(
            "display \"started {name}\"\n_standin_wait_file {}",
            q(&tmp.path().join("never"))
        )
    };
    let mut batch = server
        .call_tool_streaming("stata_run_code", json!({ "code": stuck("batch") }))
        .await
        .unwrap();
    wait_for_line(&mut batch, "started batch").await;
    let mut session = server
        .call_tool_streaming(
            "stata_run_code",
            json!({ "code": stuck("session"), "session": "busy" }),
        )
        .await
        .unwrap();
    wait_for_line(&mut session, "started session").await;
    let server_pid = server.process().id().unwrap();
    assert_eq!(
        marked_stata(&mark).len(),
        2,
        "the batch run's Stata and the session's"
    );
    let pids: Vec<u32> = marked_pids(&mark)
        .into_iter()
        .filter(|&p| p != server_pid)
        .collect();
    let status = signal_and_wait(&mut server, nix::sys::signal::Signal::SIGKILL).await;
    assert!(!status.success());
    assert_gone(&pids).await;
    assert!(marked_pids(&mark).is_empty());
}

/// Start-up checks: a working directory that does not exist stops the server with a clear
/// message; an empty `STATA_PATH=` (and other empty settings) mean "not set".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_checks_and_empty_settings() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("no such dir");
    let out = Command::new(BIN)
        .env("MCP_STATA_WORKDIR", &missing)
        .env("STATA_PATH", standin())
        .env("RUST_LOG", "off")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "mcp-stata: --workdir (MCP_STATA_WORKDIR) {}: no such directory",
            missing.display()
        )),
        "{stderr}"
    );
    let file = tmp.path().join("a file");
    std::fs::write(&file, b"").unwrap();
    let out = Command::new(BIN)
        .env("MCP_STATA_JOBS_DIR", file.join("jobs"))
        .env("STATA_PATH", standin())
        .env("RUST_LOG", "off")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--jobs-dir (MCP_STATA_JOBS_DIR)"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Empty values, as launcher configurations write them: the server starts and serves.
    let mut command = Command::new(BIN);
    for name in [
        "STATA_PATH",
        "MCP_STATA_TIMEOUT",
        "MCP_STATA_JOBS_DIR",
        "MCP_STATA_BACKEND",
        "MCP_STATA_SLURM_PARTITION",
        "MCP_STATA_SBATCH_ARGS",
        "MCP_STATA_MAX_RESULT_BYTES",
    ] {
        command.env(name, "");
    }
    command
        .env("MCP_STATA_WORKDIR", tmp.path())
        .env("PATH", tmp.path())
        .env("HOME", tmp.path())
        .env("RUST_LOG", "warn");
    let server = connect(command).await.unwrap();
    let result = server
        .call_tool("stata_run_code", json!({ "code": "display 1" }))
        .await
        .unwrap();
    assert!(result.is_error());
    assert!(
        result
            .text()
            .starts_with("Stata was not found. STATA_PATH is not set;"),
        "{}",
        result.text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_stata_the_binary_serves_and_explains() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("no/stata-mp");
    let server = start(tmp.path(), &missing, "none").await;
    let result = server
        .call_tool("stata_run_code", json!({ "code": "display 1" }))
        .await
        .unwrap();
    assert!(result.is_error());
    assert!(
        result.text().starts_with(&format!(
            "STATA_PATH is set to {missing:?}, but no such file exists"
        )),
        "{}",
        result.text()
    );
}

/// The guide's example (`examples/mount.rs`) serves its own tool and the Stata tools.
/// `cargo test -p mcp-stata` builds it into `target/<profile>/examples/`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mount_example_serves_both_kinds_of_tools() {
    let exe = std::env::current_exe().unwrap();
    let example = exe
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .join("examples/mount");
    assert!(
        example.exists(),
        "{} is not built: run `cargo test -p mcp-stata` (which builds the examples) or \
         `cargo build -p mcp-stata --examples`",
        example.display()
    );
    let tmp = tempfile::tempdir().unwrap();
    let mut command = Command::new(example);
    command
        .env("STATA_PATH", standin())
        .current_dir(tmp.path())
        .env("RUST_LOG", "warn");
    let server = connect(command).await.unwrap();
    let words = server
        .call_tool("word_count", json!({ "text": "one two three" }))
        .await
        .unwrap();
    assert_eq!(words.text(), "3 words");
    let mut call = server
        .call_tool_streaming("stata_run_code", json!({ "code": "display 6*7" }))
        .await
        .unwrap();
    let done = finish(&mut call).await;
    assert!(
        done.lines().contains(&"42".to_owned()),
        "{:?}",
        done.lines()
    );
    server.shutdown(Duration::from_secs(10)).await.unwrap();
}
