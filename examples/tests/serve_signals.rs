//! The library's serving call stops gracefully on SIGTERM and SIGINT, over HTTP and stdio
//! alike (here through `streaming-demo`, which serves with `ServeArgs::run`).

#![cfg(unix)]

mod common;

use std::process::Stdio;

use common::stdio_common::raw::within;
use common::{send_signal, start_http};
use mcp_core::CallEvent;
use mcp_transport::http_client::{self, HttpClientOptions};
use nix::sys::signal::Signal;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const DEMO: &str = env!("CARGO_BIN_EXE_streaming-demo");

/// Starts the demo over HTTP on a free port; returns it and its `/mcp` URL.
async fn demo_over_http() -> (Child, String) {
    let mut command = Command::new(DEMO);
    command
        .args(["--transport", "http", "--bind", "127.0.0.1:0"])
        .stdin(Stdio::null());
    let (child, addr, _log) = start_http(command).await;
    (child, format!("http://{addr}/mcp"))
}

#[tokio::test]
async fn sigterm_over_http_lets_the_running_call_finish() {
    for sig in [Signal::SIGTERM, Signal::SIGINT] {
        let (mut child, url) = demo_over_http().await;
        let client = within(
            "connect",
            http_client::connect(&url, HttpClientOptions::default()),
        )
        .await
        .unwrap();
        let mut call = client
            .call_tool_streaming("count", json!({"to": 3, "delay_ms": 150}))
            .await
            .unwrap();
        // The first step has run: the call is in flight when the signal arrives.
        match within("the first step", call.next_event()).await {
            Some(CallEvent::Progress(p)) => assert_eq!(p.progress, 1.0),
            other => panic!("expected progress, got {other:?}"),
        }
        send_signal(&child, sig);
        let result = within("the result after the signal", call.result())
            .await
            .expect("the running call finishes");
        assert_eq!(result.text(), "counted to 3", "{sig}");
        let status = within("the server's exit", child.wait()).await.unwrap();
        assert!(status.success(), "{sig}: {status:?}");
    }
}

#[tokio::test]
async fn a_signal_over_stdio_ends_the_server_while_its_client_holds_stdin() {
    for sig in [Signal::SIGTERM, Signal::SIGINT] {
        let mut child = Command::new(DEMO)
            .args(["--transport", "stdio"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("streaming-demo starts");
        // Wait until it serves, then signal it: its stdin stays open all along.
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        within("serving on stdio", async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if line.contains("serving on stdio") {
                    break;
                }
            }
        })
        .await;
        send_signal(&child, sig);
        let status = within("the server's exit", child.wait()).await.unwrap();
        assert!(status.success(), "{sig}: {status:?}");
        drop(child.stdin.take());
    }
}
