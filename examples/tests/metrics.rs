//! `--metrics`: a binary serving through the library (`streaming-demo`) serves `/metrics` in
//! the Prometheus text format; `promtool check metrics` (Debian's `prometheus` package, which
//! scripts/test.sh installs) accepts it, and a real Prometheus, started here with a scrape
//! config, scrapes it and answers the per-tool call count through its query API.

#![cfg(unix)]

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::{TempDir, start_http};
use mcp_core::client::ClientEra;
use mcp_core::{CallEvent, ClientOptions};
use mcp_transport::http_client::{self, HttpClientOptions};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::Command;

const DEMO: &str = env!("CARGO_BIN_EXE_streaming-demo");
const PROMETHEUS: &str = "/usr/bin/prometheus";
const PROMTOOL: &str = "/usr/bin/promtool";
/// The whole test's bound (Prometheus starts in a second or two, and scrapes every second).
const LIMIT: Duration = Duration::from_secs(90);

/// A plain HTTP/1.0 GET (no chunked answers): the status and the body.
async fn get(addr: &str, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.expect("connects");
    let request = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let raw = String::from_utf8(raw).expect("text");
    let (head, body) = raw.split_once("\r\n\r\n").expect("a head and a body");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    (status, body.to_owned())
}

/// The value of the sample `name` (with its labels, as written) in the text format.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

async fn promtool_accepts(text: &str) {
    let mut check = Command::new(PROMTOOL)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs (scripts/test.sh installs Debian's prometheus package)");
    let mut stdin = check.stdin.take().unwrap();
    stdin.write_all(text.as_bytes()).await.unwrap();
    drop(stdin);
    let out = check.wait_with_output().await.unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics refused the output:\n{}{}\n---\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_the_per_tool_call_count() {
    tokio::time::timeout(LIMIT, async {
        let mut command = Command::new(DEMO);
        command.args(["--transport", "http", "--bind", "127.0.0.1:0", "--metrics"]);
        let (_demo, addr, _log) = start_http(command).await;

        // Three calls that report progress, one that fails on its arguments.
        let options = HttpClientOptions {
            client: ClientOptions {
                era: ClientEra::Stateful,
                ..ClientOptions::default()
            },
            ..HttpClientOptions::default()
        };
        let client = http_client::connect(&format!("http://{addr}/mcp"), options)
            .await
            .expect("connects");
        for _ in 0..3 {
            let mut call = client
                .call_tool_streaming("count", json!({"to": 2, "delay_ms": 0}))
                .await
                .unwrap();
            loop {
                match call.next_event().await {
                    Some(CallEvent::Progress(_)) => {}
                    Some(CallEvent::Done(done)) => {
                        assert_eq!(done.unwrap().text(), "counted to 2");
                        break;
                    }
                    None => panic!("the call ended without a result"),
                }
            }
        }
        let bad = client.call_tool("count", json!({"to": "far"})).await;
        assert!(bad.map(|r| r.is_error()).unwrap_or(true));
        assert_eq!(get(&addr, "/nowhere").await.0, 404);

        let (status, text) = get(&addr, "/metrics").await;
        assert_eq!(status, 200, "{text}");
        assert_eq!(sample(&text, r#"mcp_tool_calls_total{tool="count"}"#), Some(4.0), "{text}");
        assert_eq!(sample(&text, r#"mcp_tool_errors_total{tool="count"}"#), Some(1.0), "{text}");
        assert_eq!(
            sample(&text, r#"mcp_tool_call_duration_seconds_count{tool="count"}"#),
            Some(4.0),
            "{text}"
        );
        assert_eq!(sample(&text, "mcp_progress_notifications_sent_total"), Some(6.0), "{text}");
        assert_eq!(sample(&text, r#"mcp_refusals_total{reason="not_found"}"#), Some(1.0), "{text}");
        assert_eq!(sample(&text, "mcp_sessions_open"), Some(1.0), "{text}");
        assert!(sample(&text, "mcp_http_response_bytes_total").unwrap() > 0.0, "{text}");
        promtool_accepts(&text).await;

        // A real Prometheus scrapes it.
        let dir = TempDir::new("prometheus");
        let port = common::ports::listen_port();
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
                 scrape_configs:\n  - job_name: demo\n    static_configs:\n      - targets: ['{addr}']\n"
            ),
        )
        .unwrap();
        let _prometheus = Command::new(PROMETHEUS)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("prometheus runs (scripts/test.sh installs Debian's prometheus package)");
        let prometheus = format!("127.0.0.1:{port}");
        let query = "/api/v1/query?query=mcp_tool_calls_total%7Btool%3D%22count%22%7D";
        let answered = loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            if TcpStream::connect(&prometheus).await.is_err() {
                continue;
            }
            let (status, body) = get(&prometheus, query).await;
            if status != 200 {
                continue;
            }
            let answer: Value = serde_json::from_str(&body).expect("JSON");
            assert_eq!(answer["status"], "success", "{answer}");
            if let Some(found) = answer["data"]["result"].get(0) {
                break found.clone();
            }
        };
        assert_eq!(answered["metric"]["job"], "demo", "{answered}");
        assert_eq!(answered["value"][1], "4", "{answered}");
    })
    .await
    .expect("Prometheus answered within the limit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_metrics_in_the_environment_turns_metrics_on_and_stdio_refuses_them() {
    tokio::time::timeout(LIMIT, async {
        let mut command = Command::new(DEMO);
        command
            .args(["--transport", "http", "--bind", "127.0.0.1:0"])
            .env("MCP_METRICS", "1");
        let (_demo, addr, _log) = start_http(command).await;
        let (status, text) = get(&addr, "/metrics").await;
        assert_eq!(status, 200, "{text}");
        assert_eq!(sample(&text, "mcp_sessions_open"), Some(0.0), "{text}");

        // Without the flag there is no such page.
        let (_plain, addr, _log) = start_http({
            let mut c = Command::new(DEMO);
            c.args(["--transport", "http", "--bind", "127.0.0.1:0"]);
            c
        })
        .await;
        assert_eq!(get(&addr, "/metrics").await.0, 404);

        // There is no listener to serve them on over stdio: a clear error, not silence.
        let output = Command::new(DEMO)
            .args(["--transport", "stdio", "--metrics"])
            .stdin(Stdio::null())
            .output()
            .await
            .unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("--metrics serves /metrics on the HTTP listener"),
            "{stderr}"
        );
    })
    .await
    .expect("within the limit");
}
