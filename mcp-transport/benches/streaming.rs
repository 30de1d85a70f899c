//! The transport benchmarks behind `BENCHMARKS.md`.
//!
//! Run with: `cargo bench -p mcp-transport --bench streaming` (add `-- quick` for a short run,
//! and section numbers such as `-- quick 3` to run only those sections).
//!
//! It measures, in one run on one machine so that ratios compare like with like:
//! 1. latency from a tool's `yield` to the client's receipt, per transport (p50, p99);
//! 2. `tools/call` throughput over streamable HTTP with 1, 4 and 16 concurrent clients, next
//!    to a bare hyper server answering the same requests with a canned JSON body;
//! 3. progress notifications per second from one generator to a reading client over stdio;
//! 4. resident memory per idle session holding an open GET stream (server in a child process);
//! 5. `tools/call` throughput over streamable HTTP in the stateful era (a session) beside the
//!    stateless one (2026-07-28: per-request `_meta`, no session), same server, same load;
//! 6. yield -> receipt latency and `tools/call` throughput with the Redis shared store beside
//!    the memory store, and across two replicas (a session on one, its calls sent to the
//!    other); needs `redis-server` (Debian's package).

#[path = "streaming/store.rs"]
mod store;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1 as client_http1;
use hyper::server::conn::http1 as server_http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use mcp_core::protocol::ToolDefinition as ToolDef;
use mcp_core::tool::FnTool;
use mcp_core::{CallEvent, CallToolResult, Client, IntoCallToolResult, Progress, Server};
use mcp_transport::http::{HttpConfig, ResponseMode, serve};
use mcp_transport::http_client::{self, HttpClientOptions, HttpMode};
use mcp_transport::stdio;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UnixStream};
use tokio::sync::Semaphore;

fn def(name: &str) -> ToolDef {
    serde_json::from_value(json!({
        "name": name, "description": name,
        "inputSchema": {"type": "object", "properties": {"n": {"type": "integer"}}}
    }))
    .expect("valid definition")
}

/// `job`: `echo` that may run as a task (`execution.taskSupport: optional`).
fn job_def() -> ToolDef {
    serde_json::from_value(json!({
        "name": "job", "description": "job", "inputSchema": {"type": "object"},
        "execution": {"taskSupport": "optional"}
    }))
    .expect("valid definition")
}

/// The tools the benchmarks call: `echo` (an immediate result), `job` (the same, as a task),
/// `flood` (n progress items as fast as the transport takes them) and `pingpong` (yields,
/// then waits for the client).
fn bench_server(stamps: Arc<Mutex<Vec<Instant>>>, release: Arc<Semaphore>) -> Server {
    Server::builder("bench", "1")
        .outbox_capacity(256)
        .tool(FnTool::new(def("echo"), |_ctx, _args| async {
            "ok".to_string().into_call_tool_result()
        }))
        .tool(FnTool::new(job_def(), |_ctx, _args| async {
            "ok".to_string().into_call_tool_result()
        }))
        .tool(FnTool::new(def("flood"), |ctx, args| async move {
            let n = args.get("n").and_then(|v| v.as_u64()).unwrap_or(1000);
            for i in 0..n {
                ctx.progress(Progress::new().at(i as f64)).await;
            }
            CallToolResult::default()
        }))
        .tool(FnTool::new(def("pingpong"), move |ctx, args| {
            let stamps = stamps.clone();
            let release = release.clone();
            async move {
                let n = args.get("n").and_then(|v| v.as_u64()).unwrap_or(100);
                for i in 0..n {
                    stamps.lock().expect("stamps").push(Instant::now());
                    ctx.progress(Progress::new().at(i as f64)).await;
                    release.acquire().await.expect("open").forget();
                }
                CallToolResult::default()
            }
        }))
        .build()
        .expect("valid server")
}

struct Percentiles {
    p50: Duration,
    p99: Duration,
    n: usize,
}

fn percentiles(mut samples: Vec<Duration>) -> Percentiles {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    Percentiles {
        p50: at(0.50),
        p99: at(0.99),
        n: samples.len(),
    }
}

/// Yield-to-receipt latency: the tool stamps the time just before each yield; the client
/// subtracts it on receipt, then releases the next step (one event in flight at a time).
async fn latency(
    client: &Client,
    stamps: &Mutex<Vec<Instant>>,
    release: &Semaphore,
    n: u64,
) -> Percentiles {
    stamps.lock().expect("stamps").clear();
    let mut call = client
        .call_tool_streaming("pingpong", json!({"n": n}))
        .await
        .expect("call");
    let mut samples = Vec::with_capacity(n as usize);
    while let Some(event) = call.next_event().await {
        match event {
            CallEvent::Progress(p) => {
                let now = Instant::now();
                let sent = stamps.lock().expect("stamps")[p.progress as usize];
                samples.push(now - sent);
                release.add_permits(1);
            }
            CallEvent::Done(r) => {
                r.expect("pingpong result");
            }
        }
    }
    // Drop the warm-up tenth.
    percentiles(samples.split_off(samples.len() / 10))
}

async fn stdio_client(server: &Server) -> Client {
    let (a, b) = UnixStream::pair().expect("socket pair");
    let (sr, sw) = a.into_split();
    let server = server.clone();
    tokio::spawn(async move {
        let _ = stdio::serve_io(&server, sr, sw).await;
    });
    let (cr, cw) = b.into_split();
    Client::connect(stdio::client_channel(cr, cw))
        .await
        .expect("stdio client")
}

/// Progress notifications per second from one generator to a reading client.
async fn flood_rate(client: &Client, n: u64) -> f64 {
    let started = Instant::now();
    let mut call = client
        .call_tool_streaming("flood", json!({"n": n}))
        .await
        .expect("call");
    let mut seen = 0u64;
    while let Some(event) = call.next_event().await {
        match event {
            CallEvent::Progress(_) => seen += 1,
            CallEvent::Done(r) => {
                r.expect("flood result");
            }
        }
    }
    assert_eq!(seen, n, "every notification arrives");
    n as f64 / started.elapsed().as_secs_f64()
}

/// A bare hyper server answering every request with the same JSON-RPC result.
async fn bare_hyper() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let body = Bytes::from_static(
        br#"{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"ok"}]}}"#,
    );
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            let body = body.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<Incoming>| {
                    let body = body.clone();
                    async move {
                        let _ = req.into_body().collect().await;
                        Ok::<_, Infallible>(
                            Response::builder()
                                .header("content-type", "application/json")
                                .body(Full::new(body))
                                .expect("response"),
                        )
                    }
                });
                let _ = server_http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// The id of the next `tools/call`, unique across the benchmark's clients.
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// One keep-alive connection posting `tools/call` as fast as answers come back: in a
/// session (stateful era), or as stateless 2026-07-28 requests (`stateless`: per-request
/// `_meta` and the mirrored headers, no session).
async fn post_loop(
    addr: SocketAddr,
    session: Option<String>,
    stateless: bool,
    until: Instant,
) -> u64 {
    let stream = TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let (mut sender, conn) = client_http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(conn);
    let mut done = 0;
    while Instant::now() < until {
        // A fresh id per call: ids must not repeat among a session's requests in flight.
        let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let body = Bytes::from(if stateless {
            format!(
                r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"echo","arguments":{{}},"_meta":{{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{{}}}}}}}}"#
            )
        } else {
            format!(
                r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"echo","arguments":{{}}}}}}"#
            )
        });
        let mut req = Request::post(format!("http://{addr}/mcp"))
            .header("host", addr.to_string())
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream");
        req = if stateless {
            req.header("mcp-protocol-version", "2026-07-28")
                .header("mcp-method", "tools/call")
                .header("mcp-name", "echo")
        } else {
            req.header("mcp-protocol-version", "2025-11-25")
        };
        if let Some(s) = &session {
            req = req.header("mcp-session-id", s);
        }
        let req = req.body(Full::new(body)).expect("request");
        let response = sender.send_request(req).await.expect("response");
        assert!(
            response.status().is_success(),
            "status {}",
            response.status()
        );
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        // Count only real answers: an error (such as a refused id) must not pass for a call.
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            text.contains(r#""result":{"#) && text.contains(r#""text":"ok""#),
            "not a tool result: {text}"
        );
        done += 1;
    }
    done
}

/// Starts a session on our server with a raw POST and returns its id.
async fn open_session(addr: SocketAddr) -> String {
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "bench", "version": "1"}}})
    .to_string();
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut sender, conn) = client_http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(conn);
    let req = Request::post(format!("http://{addr}/mcp"))
        .header("host", addr.to_string())
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(Full::new(Bytes::from(init)))
        .expect("request");
    let response = sender.send_request(req).await.expect("response");
    let id = response
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .expect("a session id")
        .to_owned();
    let _ = response.into_body().collect().await;
    id
}

async fn throughput(addr: SocketAddr, session: Option<String>, clients: usize, secs: f64) -> f64 {
    throughput_of(addr, session, false, clients, secs).await
}

async fn throughput_of(
    addr: SocketAddr,
    session: Option<String>,
    stateless: bool,
    clients: usize,
    secs: f64,
) -> f64 {
    let until = Instant::now() + Duration::from_secs_f64(secs);
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| tokio::spawn(post_loop(addr, session.clone(), stateless, until)))
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.expect("client task");
    }
    total as f64 / started.elapsed().as_secs_f64()
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Opens one raw GET stream for `session` and keeps the socket.
async fn hold_get_stream(addr: SocketAddr, session: String) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "GET /mcp HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\nMcp-Session-Id: {session}\r\nMCP-Protocol-Version: 2025-11-25\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await.expect("read");
        assert!(n > 0, "the GET stream closed");
        head.extend_from_slice(&buf[..n]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    stream
}

async fn idle_sessions(count: usize) -> (u64, u64) {
    let exe = std::env::current_exe().expect("own path");
    let mut child = tokio::process::Command::new(exe)
        .arg("serve-idle")
        .arg(count.to_string())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("server process");
    let mut out = child.stdout.take().expect("stdout");
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while out.read(&mut byte).await.expect("read addr") == 1 && byte[0] != b'\n' {
        line.push(byte[0]);
    }
    let addr: SocketAddr = String::from_utf8(line)
        .expect("utf-8")
        .trim()
        .parse()
        .expect("addr");
    let pid = child.id().expect("pid");
    // Warm the server (allocator, first session) before the baseline.
    let warm = open_session(addr).await;
    let _warm_stream = hold_get_stream(addr, warm).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = rss_kib(pid);
    let mut held = Vec::with_capacity(count);
    let sem = Arc::new(Semaphore::new(64));
    let mut tasks = Vec::new();
    for _ in 0..count {
        let permit = sem.clone().acquire_owned().await.expect("open");
        tasks.push(tokio::spawn(async move {
            let id = open_session(addr).await;
            let s = hold_get_stream(addr, id).await;
            drop(permit);
            s
        }));
    }
    for t in tasks {
        held.push(t.await.expect("session task"));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss_kib(pid);
    drop(held);
    let _ = child.kill().await;
    (before, after)
}

fn serve_idle(count: usize) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let server = bench_server(Arc::default(), Arc::new(Semaphore::new(0)));
        let config = HttpConfig::default()
            .max_sessions(count + 16)
            .keep_alive(Some(Duration::from_secs(30)));
        let running = serve(SocketAddr::from(([127, 0, 0, 1], 0)), &server, config)
            .await
            .expect("serve");
        println!("{}", running.local_addr());
        running.wait().await;
    });
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("serve-idle") {
        let count = args.get(2).and_then(|c| c.parse().ok()).unwrap_or(10_000);
        return serve_idle(count);
    }
    let quick = args.iter().any(|a| a == "quick");
    let sections: Vec<u32> = args.iter().skip(1).filter_map(|a| a.parse().ok()).collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run(quick, &sections));
}

async fn run(quick: bool, sections: &[u32]) {
    let wanted = |n: u32| sections.is_empty() || sections.contains(&n);
    let (n_lat, n_flood, secs, sessions) = if quick {
        (500, 50_000, 0.5, 1_000)
    } else {
        (5_000, 500_000, 3.0, 10_000)
    };
    let stamps: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let release = Arc::new(Semaphore::new(0));
    let server = bench_server(stamps.clone(), release.clone());
    let running = serve(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        &server,
        HttpConfig::default(),
    )
    .await
    .expect("serve");
    let addr = running.local_addr();
    let json_mode = serve(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        &server,
        HttpConfig::default().response_mode(ResponseMode::Json),
    )
    .await
    .expect("serve json");

    let stdio_client = stdio_client(&server).await;
    let http = http_client::connect(
        &format!("http://{addr}/mcp"),
        HttpClientOptions {
            mode: HttpMode::Streamable,
            ..Default::default()
        },
    )
    .await
    .expect("http client");
    let sse = http_client::connect(
        &format!("http://{addr}/sse"),
        HttpClientOptions {
            mode: HttpMode::Legacy,
            ..Default::default()
        },
    )
    .await
    .expect("sse client");
    if wanted(1) {
        println!(
            "## 1. Latency from yield to client receipt ({n_lat} events each, one in flight)\n"
        );
        println!("| transport | p50 | p99 |\n| --- | --- | --- |");
        for (name, client) in [
            ("stdio (socket pair)", &stdio_client),
            ("streamable HTTP (SSE)", &http),
            ("legacy HTTP+SSE", &sse),
        ] {
            let p = latency(client, &stamps, &release, n_lat).await;
            println!(
                "| {name} | {:.0} µs | {:.0} µs |",
                p.p50.as_secs_f64() * 1e6,
                p.p99.as_secs_f64() * 1e6
            );
            let _ = p.n;
        }
    }

    if wanted(2) {
        println!("\n## 2. tools/call throughput over streamable HTTP ({secs} s per cell)\n");
        println!(
            "| clients | bare hyper (canned JSON) | ours, JSON response | ratio | ours, SSE response | ratio |"
        );
        println!("| --- | --- | --- | --- | --- | --- |");
        let bare = bare_hyper().await;
        let json_session = open_session(json_mode.local_addr()).await;
        let sse_session = open_session(addr).await;
        for clients in [1, 4, 16] {
            let base = throughput(bare, None, clients, secs).await;
            let ours_json = throughput(
                json_mode.local_addr(),
                Some(json_session.clone()),
                clients,
                secs,
            )
            .await;
            let ours_sse = throughput(addr, Some(sse_session.clone()), clients, secs).await;
            println!(
                "| {clients} | {base:.0}/s | {ours_json:.0}/s | {:.0}% | {ours_sse:.0}/s | {:.0}% |",
                100.0 * ours_json / base,
                100.0 * ours_sse / base
            );
        }
    }

    if wanted(5) {
        println!(
            "\n## 5. tools/call throughput over streamable HTTP, stateful vs stateless ({secs} s per cell)\n"
        );
        println!("| clients | stateful (session, SSE response) | stateless (2026-07-28) | ratio |");
        println!("| --- | --- | --- | --- |");
        let session = open_session(addr).await;
        for clients in [1, 4, 16] {
            let stateful = throughput_of(addr, Some(session.clone()), false, clients, secs).await;
            let stateless = throughput_of(addr, None, true, clients, secs).await;
            println!(
                "| {clients} | {stateful:.0}/s | {stateless:.0}/s | {:.0}% |",
                100.0 * stateless / stateful
            );
        }
    }

    if wanted(6) {
        store::run(&server, &stamps, &release, n_lat, secs).await;
    }

    if wanted(3) {
        println!("\n## 3. Progress notifications per second, one generator, stdio\n");
        let rate = flood_rate(&stdio_client, n_flood).await;
        println!("{n_flood} notifications: {rate:.0}/s\n");
    }

    if wanted(4) {
        println!(
            "## 4. Idle sessions with open GET streams ({sessions}, server in its own process)\n"
        );
        let (before, after) = idle_sessions(sessions).await;
        let per = (after.saturating_sub(before)) as f64 * 1024.0 / sessions as f64;
        println!(
            "RSS before {before} KiB, after {after} KiB: {:.1} KiB per session",
            per / 1024.0
        );
    }
}
