//! A server out of file descriptors: slow-body connections fill its table, yet they are cut at
//! the body deadline, a well-behaved client is served, and the log says so a few times, not
//! ten times a second.

#![cfg(unix)]

mod common;

use common::stdio_common::raw::within;
use common::{FIXTURE, start_http};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::Command;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_descriptors_the_server_backs_off_quietly_and_serves_again() {
    // At most 64 open files: a few dozen connections exhaust them.
    let mut command = Command::new("sh");
    command
        .args(["-c", "ulimit -n 64 && exec \"$0\" \"$@\"", FIXTURE])
        .args(["--transport", "http", "--bind", "127.0.0.1:0"])
        .args(["--request-body-timeout", "1"]);
    let (_child, addr, log) = start_http(command).await;
    within("a server out of descriptors", async {
        // Eighty clients declare a body of 100 bytes and send 4.
        let mut slow = Vec::new();
        for _ in 0..80 {
            let mut stream = TcpStream::connect(&addr).await.unwrap();
            let head = format!(
                "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json, \
                 text/event-stream\r\nContent-Type: application/json\r\n\
                 Content-Length: 100\r\n\r\n{{\"js"
            );
            stream.write_all(head.as_bytes()).await.unwrap();
            slow.push(stream);
        }
        // A well-behaved client waits its turn, and is served once the slow ones are cut.
        let mut stream = TcpStream::connect(&addr).await.unwrap();
        let body = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}"#;
        let request = format!(
            "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json, \
             text/event-stream\r\nContent-Type: application/json\r\nConnection: close\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.contains("\"protocolVersion\""), "{answer}");
        drop(slow);
    })
    .await;
    let log = log.lock().unwrap().clone();
    let failures: Vec<&String> = log.iter().filter(|l| l.contains("accept")).collect();
    assert!(
        log.iter()
            .any(|l| l.contains("accepting connections failed")),
        "the descriptors did run out: {log:#?}"
    );
    // A streak of failures is told once at its start and once at its end (and once a minute
    // while it lasts); on today's main, every 100 ms.
    assert!(
        failures.len() <= 8,
        "{} log lines about accepting: {failures:#?}",
        failures.len()
    );
}
