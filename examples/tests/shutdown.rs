//! Shutdown never truncates silently: on SIGTERM and on SIGINT alike, a server stops accepting,
//! lets calls finish within its grace period (`--shutdown-timeout`), then ends each call still
//! running with a JSON-RPC error on its stream before it exits. Over HTTP with ten open
//! streams, and over stdio.

#![cfg(unix)]

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::stdio_common::raw::{RawPeer, is_response_to, within};
use common::{FIXTURE, Log, TempDir, send_signal, start_http, wait_for_file};
use mcp_core::client::ClientEra;
use mcp_core::{CallEvent, RequestError, ToolCall};
use mcp_transport::http_client::{self, HttpClientOptions, HttpMode};
use nix::sys::signal::Signal;
use serde_json::json;
use tokio::process::{Child, Command};

/// The fixture server over HTTP on a free port, its `/mcp` URL, and its log.
async fn start_fixture(grace: &str) -> (Child, String, Log) {
    let mut command = Command::new(FIXTURE);
    command
        .args(["--transport", "http", "--bind", "127.0.0.1:0"])
        .args(["--shutdown-timeout", grace]);
    let (child, addr, log) = start_http(command).await;
    (child, format!("http://{addr}/mcp"), log)
}

/// Reads a call to its end: its result's text, or the error it ended with.
async fn end_of(mut call: ToolCall) -> Result<String, RequestError> {
    loop {
        match call.next_event().await {
            Some(CallEvent::Progress(_)) => {}
            Some(CallEvent::Done(done)) => return done.map(|r| r.text()),
            None => panic!("the call ended without a result or an error"),
        }
    }
}

/// Asserts that `ended` is the server's own shutdown error, not one the client made up when
/// the connection dropped.
fn assert_shutdown_error(ended: &Result<String, RequestError>) {
    match ended {
        Err(RequestError::Rpc(e)) => {
            assert_eq!(e.code.0, -32000, "{e}");
            assert_eq!(
                e.data.as_ref().map(|d| d["reason"].clone()),
                Some(json!("shutdown")),
                "the server's shutdown error: {e}"
            );
        }
        other => panic!("expected the server's shutdown error, got {other:?}"),
    }
}

async fn ten_open_streams_each_get_a_result_or_an_error(signal: Signal, era: ClientEra) {
    let dir = TempDir::new("shutdown-http");
    let (mut child, url, log) = start_fixture("2").await;
    within("ten streams through a shutdown", async {
        let mut options = HttpClientOptions {
            mode: HttpMode::Streamable,
            ..HttpClientOptions::default()
        };
        options.client.era = era;
        let client = http_client::connect(&url, options).await.expect("connects");
        // One call that can finish within the grace period, nine that never end.
        let mut lockstep = client
            .call_tool_streaming("lockstep", json!({"steps": 2, "dir": dir.arg()}))
            .await
            .unwrap();
        assert!(matches!(
            lockstep.next_event().await,
            Some(CallEvent::Progress(_))
        ));
        let mut hangs = Vec::new();
        for i in 0..9 {
            let mine = TempDir::new(&format!("hang-{i}"));
            let mut call = client
                .call_tool_streaming("hang", json!({"dir": mine.arg()}))
                .await
                .unwrap();
            assert!(matches!(
                call.next_event().await,
                Some(CallEvent::Progress(_))
            ));
            hangs.push((call, mine));
        }
        send_signal(&child, signal);
        // The lockstep call finishes within the grace: released step by step.
        std::fs::write(dir.join("ack-1"), "").unwrap();
        assert!(matches!(
            lockstep.next_event().await,
            Some(CallEvent::Progress(_))
        ));
        std::fs::write(dir.join("ack-2"), "").unwrap();
        assert_eq!(end_of(lockstep).await.expect("its result"), "done");
        // The others are ended by the server with an error on their streams.
        for (call, mine) in hangs {
            assert_shutdown_error(&end_of(call).await);
            wait_for_file(&mine.join("dropped")).await;
        }
        let status = child.wait().await.expect("the server exits");
        assert!(status.success(), "{status}");
    })
    .await;
    let log = log.lock().unwrap().join("\n");
    assert!(log.contains("shutting down"), "{log}");
    assert!(
        log.contains("Host: localhost, 127.0.0.1, [::1]"),
        "the start-up log says which hosts are accepted:\n{log}"
    );
}

// The two signals take one path, and so do the two eras once the grace is over; each era is
// shown with one signal: ten 2026-07-28 requests (each a POST of its own, outside the session
// table) and ten calls of a 2025-11-25 session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_ten_open_streams_gives_each_a_result_or_an_error() {
    ten_open_streams_each_get_a_result_or_an_error(Signal::SIGTERM, ClientEra::Auto).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_with_ten_open_streams_gives_each_a_result_or_an_error() {
    ten_open_streams_each_get_a_result_or_an_error(Signal::SIGINT, ClientEra::Stateful).await;
}

#[tokio::test]
async fn sigterm_over_stdio_answers_every_call_then_exits() {
    let dir = TempDir::new("shutdown-stdio");
    let hang = TempDir::new("shutdown-stdio-hang");
    let mut child = Command::new(FIXTURE)
        .args(["--transport", "stdio", "--shutdown-timeout", "2"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("the fixture server starts");
    let mut peer = RawPeer::new(child.stdout.take().unwrap(), child.stdin.take().unwrap());
    within("stdio through a shutdown", async {
        peer.initialize().await;
        peer.send_call(1, "lockstep", json!({"steps": 1, "dir": dir.arg()}))
            .await;
        peer.progress(1).await;
        peer.send_call(2, "hang", json!({"dir": hang.arg()})).await;
        peer.progress(2).await;
        send_signal(&child, Signal::SIGTERM);
        std::fs::write(dir.join("ack-1"), "").unwrap();
        let done = peer.response(1).await;
        assert_eq!(done["result"]["content"][0]["text"], "done", "{done}");
        let ended = peer.response(2).await;
        assert_eq!(ended["error"]["code"], -32000, "{ended}");
        assert_eq!(ended["error"]["data"]["reason"], "shutdown", "{ended}");
        wait_for_file(&hang.join("dropped")).await;
        // Then the server exits on its own, its input still open.
        peer.read_to_end().await;
        let status = child.wait().await.expect("the server exits");
        assert!(status.success(), "{status}");
        assert_eq!(peer.responses_to(2).len(), 1, "one answer per call");
        assert!(
            peer.received
                .iter()
                .filter(|m| is_response_to(m, 1))
                .count()
                == 1
        );
    })
    .await;
}

/// How long a server may take to stop once its stdout is closed: prompt, not "whenever stdin
/// closes".
const PROMPTLY: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_closed_stdout_ends_the_server_promptly_and_cancels_its_calls() {
    let hang = TempDir::new("closed-stdout");
    let mut child = Command::new(FIXTURE)
        .args(["--transport", "stdio"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the fixture server starts");
    let stdin = child.stdin.take().unwrap();
    let mut peer = RawPeer::new(child.stdout.take().unwrap(), tokio::io::sink());
    let mut input = stdin;
    within("a call before the client closes stdout", async {
        use tokio::io::AsyncWriteExt;
        let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "t", "version": "0"}}});
        let call = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
            "name": "hang", "arguments": {"dir": hang.arg()}}});
        for message in [init, call] {
            input
                .write_all(format!("{message}\n").as_bytes())
                .await
                .unwrap();
        }
        peer.response(0).await;
        wait_for_file(&hang.join("started")).await;
    })
    .await;
    // The client closes the server's stdout and keeps its stdin open.
    drop(peer);
    let status = tokio::time::timeout(PROMPTLY, child.wait())
        .await
        .expect("the server stopped while its stdin was still open")
        .unwrap();
    assert!(!status.success(), "{status}");
    assert!(
        hang.join("dropped").exists(),
        "the running call was cancelled"
    );
    let mut stderr = String::new();
    use tokio::io::AsyncReadExt;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .await
        .unwrap();
    assert!(
        stderr.contains("the client closed stdout"),
        "a clear message: {stderr}"
    );
    drop(input);
}

#[tokio::test]
async fn a_closed_stdout_ends_an_idle_server_too() {
    let mut child = Command::new(FIXTURE)
        .args(["--transport", "stdio"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the fixture server starts");
    let input = child.stdin.take().unwrap();
    // Nothing to write, so no write fails: only watching the pipe notices.
    drop(child.stdout.take());
    let status = tokio::time::timeout(PROMPTLY, child.wait())
        .await
        .expect("the idle server stopped while its stdin was still open")
        .unwrap();
    assert!(!status.success(), "{status}");
    drop(input);
}

/// Starts the fixture over HTTP with its hook-logging plugin, stops it with `signals` (one
/// or two), and returns what the hooks wrote.
async fn hooks_through_signals(signals: &[Signal]) -> String {
    let dir = TempDir::new("plugin-hooks");
    let hooks = dir.join("hooks.log");
    let mut command = Command::new(FIXTURE);
    command
        .args(["--transport", "http", "--bind", "127.0.0.1:0"])
        .arg("--hook-log")
        .arg(&hooks);
    let (mut child, _addr, _log) = start_http(command).await;
    within("the server stops on a signal", async {
        for signal in signals {
            send_signal(&child, *signal);
        }
        let status = child.wait().await.expect("the server exits");
        assert!(status.success(), "{status}");
    })
    .await;
    std::fs::read_to_string(&hooks).expect("the hooks wrote their log")
}

#[tokio::test]
async fn plugin_hooks_run_exactly_once_on_graceful_shutdown() {
    assert_eq!(
        hooks_through_signals(&[Signal::SIGTERM]).await,
        "start\nshutdown\n"
    );
    assert_eq!(
        hooks_through_signals(&[Signal::SIGINT]).await,
        "start\nshutdown\n"
    );
    // A second signal stops at once, and still runs the hooks once.
    assert_eq!(
        hooks_through_signals(&[Signal::SIGTERM, Signal::SIGTERM]).await,
        "start\nshutdown\n"
    );

    // Over stdio, the client closing its end is the graceful end.
    let dir = TempDir::new("plugin-hooks-stdio");
    let hooks = dir.join("hooks.log");
    let mut child = Command::new(FIXTURE)
        .arg("--hook-log")
        .arg(&hooks)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the fixture starts");
    within("the server ends with its input", async {
        drop(child.stdin.take());
        let status = child.wait().await.expect("the server exits");
        assert!(status.success(), "{status}");
    })
    .await;
    assert_eq!(
        std::fs::read_to_string(&hooks).unwrap(),
        "start\nshutdown\n"
    );
}
