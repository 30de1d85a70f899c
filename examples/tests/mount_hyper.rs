//! The `mount-hyper` example: the application's own route and the mounted MCP server both
//! answer on one listener.

use std::time::Duration;

use mcp_transport::http_client::{self, HttpClientOptions};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

mod common;

const LIMIT: Duration = Duration::from_secs(60);

#[tokio::test]
async fn own_routes_and_mcp_side_by_side() {
    // Below the ephemeral range, so no outgoing connection of a concurrent test takes it
    // between the probe and the example's bind.
    let port = common::ports::listen_port();
    let addr = format!("127.0.0.1:{port}");
    let _child = Command::new(env!("CARGO_BIN_EXE_mount-hyper"))
        .args(["--bind", &addr])
        .kill_on_drop(true)
        .spawn()
        .expect("mount-hyper starts");
    let mut stream = tokio::time::timeout(LIMIT, async {
        loop {
            match tokio::net::TcpStream::connect(&addr).await {
                Ok(s) => break s,
                Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            }
        }
    })
    .await
    .expect("mount-hyper listens");
    stream
        .write_all(
            format!("GET /health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("ok"), "{response}");

    for path in ["mcp", "sse"] {
        let url = format!("http://{addr}/{path}");
        let client = tokio::time::timeout(
            LIMIT,
            http_client::connect(&url, HttpClientOptions::default()),
        )
        .await
        .expect("in time")
        .expect("connects");
        let result = client
            .call_tool("hello", json!({"name": "Ada"}))
            .await
            .unwrap();
        assert_eq!(result.text(), "Hello, Ada!");
    }
}
