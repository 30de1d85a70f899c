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
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = tokio::time::timeout(PATIENCE, server.process_mut().wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");
    assert_gone(&pids).await;
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
