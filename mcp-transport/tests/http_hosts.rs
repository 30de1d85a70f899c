//! DNS-rebinding defences at the edges: duplicate `Host` and `Origin` headers, absolute-form
//! targets, and a listener bound beyond loopback, all sent as raw bytes so that no client
//! library tidies them up first.

mod http_support;

use std::net::SocketAddr;

use http_support::*;
use mcp_transport::http::{HostPolicy, HttpConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}"#;

/// Sends `initialize` with the request line target `target` and the extra header lines
/// `headers`; returns the response's status code.
async fn status_of(addr: SocketAddr, target: &str, headers: &str) -> u16 {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST {target} HTTP/1.1\r\n{headers}Accept: application/json, text/event-stream\r\n\
         Content-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{INIT}",
        INIT.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {answer}"))
}

#[tokio::test]
async fn duplicates_and_absolute_form_targets_are_refused() {
    timeout(LIMIT, async {
        let gate = Gate::new();
        let running = start(&fixture_server(&gate), HttpConfig::default()).await;
        let addr = running.local_addr();
        let host = format!("Host: localhost:{}\r\n", addr.port());
        assert_eq!(status_of(addr, "/mcp", &host).await, 200);
        // On today's main: 200, the first header checked and the second ignored.
        let two_hosts = format!("{host}Host: evil.example\r\n");
        assert_eq!(status_of(addr, "/mcp", &two_hosts).await, 400);
        let two_origins =
            format!("{host}Origin: http://localhost\r\nOrigin: http://evil.example\r\n");
        assert_eq!(status_of(addr, "/mcp", &two_origins).await, 400);
        // The authority of an absolute-form target names the host the request is for.
        let foreign = "http://evil.example/mcp";
        assert_eq!(status_of(addr, foreign, &host).await, 403);
        let own = format!("http://localhost:{}/mcp", addr.port());
        assert_eq!(status_of(addr, &own, &host).await, 200);
    })
    .await
    .expect("timed out");
}

#[tokio::test]
async fn listed_names_are_accepted_for_host_and_origin_and_nothing_else() {
    // (What a listener beyond loopback does without a list, any Host but no browser Origin, is
    // pinned by the unit tests of `guard.rs`: the tests bind loopback addresses only.)
    timeout(LIMIT, async {
        let gate = Gate::new();
        let listed =
            HttpConfig::default().hosts(HostPolicy::AllowList(vec!["mcp.example.com".into()]));
        let running = start(&fixture_server(&gate), listed).await;
        let addr = running.local_addr();
        assert_eq!(
            running.service().accepted_hosts(),
            "Host: mcp.example.com; Origin: the same names"
        );
        let named = "Host: mcp.example.com\r\nOrigin: https://mcp.example.com\r\n";
        assert_eq!(status_of(addr, "/mcp", named).await, 200);
        let elsewhere = "Host: mcp.example.com\r\nOrigin: https://evil.example\r\n";
        assert_eq!(status_of(addr, "/mcp", elsewhere).await, 403);
        assert_eq!(status_of(addr, "/mcp", "Host: 192.0.2.10\r\n").await, 403);
    })
    .await
    .expect("timed out");
}
