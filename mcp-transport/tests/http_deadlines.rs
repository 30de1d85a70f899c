//! No request holds a connection forever: a body that stops arriving is cut at its deadline
//! (while other clients are served), and so is a response its client stopped reading, and a
//! connection whose request headers never complete (or that sits idle between requests).

mod http_support;

use std::time::Duration;

use http_support::*;
use mcp_core::tool::FnTool;
use mcp_core::{CallToolResult, Content, Server};
use mcp_transport::http::HttpConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};

/// Reads until the peer closes the connection; returns what it sent.
async fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return seen,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_stops_arriving_is_cut_at_its_deadline_while_others_are_served() {
    timeout(LIMIT, async {
        let gate = Gate::new();
        let deadline = Duration::from_millis(500);
        let config = HttpConfig::default().request_body_timeout(deadline);
        let running = start(&fixture_server(&gate), config).await;
        let addr = running.local_addr();

        // Declares 100 bytes, sends 4, then nothing: on today's main this holds the
        // connection for as long as the client likes.
        let mut slow = Vec::new();
        let sent = Instant::now();
        for _ in 0..20 {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let head = format!(
                "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json, \
                 text/event-stream\r\nContent-Type: application/json\r\n\
                 Content-Length: 100\r\n\r\n{{\"js"
            );
            stream.write_all(head.as_bytes()).await.unwrap();
            slow.push(stream);
        }
        // Meanwhile, a well-behaved client is served at once.
        let session = initialize(addr).await;
        let x = send(addr, post(addr, Some(&session), &call_message(1, "quick"))).await;
        let mut events = x.sse();
        assert_eq!(progress_of(&events.next_message().await.unwrap()).1, "one");

        for mut stream in slow {
            let answer = read_to_close(&mut stream).await;
            let answer = String::from_utf8_lossy(&answer);
            assert!(
                answer.starts_with("HTTP/1.1 408"),
                "a body incomplete at its deadline gets 408: {answer}"
            );
            assert!(answer.to_ascii_lowercase().contains("connection: close"));
        }
        // Closed once the deadline passed, not before.
        assert!(sent.elapsed() >= deadline);
    })
    .await
    .expect("timed out: a connection with an incomplete body was never closed");
}

/// A server whose `flood` tool yields `n` progress events of 8 KiB each.
fn flood_server() -> Server {
    Server::builder("flood", "1")
        .tool(FnTool::new(
            def("flood", "many large progress events"),
            |ctx, _args| async move {
                let chunk = "x".repeat(8 * 1024);
                for _ in 0..10_000 {
                    ctx.progress(chunk.clone()).await;
                }
                CallToolResult::success(vec![Content::text("flooded")])
            },
        ))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_nobody_reads_loses_its_connection() {
    timeout(LIMIT, async {
        let send_timeout = Duration::from_millis(500);
        let config = HttpConfig::default()
            .send_timeout(send_timeout)
            .keep_alive(None);
        let running = start(&flood_server(), config).await;
        let addr = running.local_addr();
        let mut stats = running.service().watch_stats();
        let session = initialize(addr).await;

        // Ask for 80 MiB of events, then stop reading: the socket's buffers fill and the
        // server's writes wait on the client. The clock starts before the request is sent:
        // the server's writes can wait on the client only after that. (Started once the
        // connection was seen, it could start late: the buffers fill within a millisecond,
        // and a test thread descheduled meanwhile on a loaded machine saw the connection go
        // a little less than `send_timeout` after it started.)
        let started = Instant::now();
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let body = call_message(1, "flood").to_string();
        let head = format!(
            "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json, \
             text/event-stream\r\nContent-Type: application/json\r\nMcp-Session-Id: \
             {session}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        stats.wait_for(|s| s.connections == 1).await.unwrap();
        // The server lets go of the stalled connection, not before `send_timeout`.
        stats.wait_for(|s| s.connections == 0).await.unwrap();
        assert!(started.elapsed() >= send_timeout);
        // What the client reads now ends: the connection is closed, not merely idle.
        let _ = read_to_close(&mut stream).await;
    })
    .await
    .expect("timed out: a connection whose client stopped reading was kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_that_never_complete_and_idle_connections_are_closed_at_the_header_timeout() {
    timeout(LIMIT, async {
        let gate = Gate::new();
        let limit = Duration::from_millis(500);
        let config = HttpConfig::default().header_read_timeout(limit);
        let running = start(&fixture_server(&gate), config).await;
        let addr = running.local_addr();
        let opened = Instant::now();
        // Half a request head, then nothing; and a connection that never sends a byte.
        let mut partial = TcpStream::connect(addr).await.unwrap();
        let half = format!("POST /mcp HTTP/1.1\r\nHost: {addr}\r\nAccept: appl");
        partial.write_all(half.as_bytes()).await.unwrap();
        let mut silent = TcpStream::connect(addr).await.unwrap();
        // A kept-alive connection whose one request was answered, then sent nothing more.
        let mut kept = TcpStream::connect(addr).await.unwrap();
        let put = format!("PUT /mcp HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\n\r\n");
        kept.write_all(put.as_bytes()).await.unwrap();

        // Meanwhile a call that outlasts the header timeout keeps its connection: the limit
        // is on waiting for a request, not on answering one.
        let session = initialize(addr).await;
        let x = send(
            addr,
            post(addr, Some(&session), &call_message(1, "lockstep")),
        )
        .await;
        let mut events = x.sse();
        assert_eq!(
            progress_of(&events.next_message().await.unwrap()).1,
            "item 1"
        );
        tokio::time::sleep(limit * 2).await;
        for i in 2..=ITEMS {
            gate.release();
            let item = events
                .next_message()
                .await
                .expect("the stream is still open");
            assert_eq!(progress_of(&item).1, format!("item {i}"));
        }
        gate.release();
        let answer = events.next_message().await.expect("the call's answer");
        assert_eq!(answer["result"]["content"][0]["text"], "done", "{answer}");

        // The others were closed, once the limit passed and not before; the half-sent head
        // and the silent connection got nothing, the kept-alive one only its answer.
        assert!(read_to_close(&mut partial).await.is_empty());
        assert!(read_to_close(&mut silent).await.is_empty());
        let answered = String::from_utf8_lossy(&read_to_close(&mut kept).await).into_owned();
        assert!(answered.starts_with("HTTP/1.1 405"), "{answered}");
        assert!(opened.elapsed() >= limit);
    })
    .await
    .expect("timed out: a connection without a complete request was kept");
}
