//! What the gateway's hop costs: the numbers behind BENCHMARKS.md's gateway section.
//!
//! Run with: `cargo bench -p mcp-gateway --bench gateway` (add `-- quick` for a short run).
//!
//! A bench server (tools `echo` and `pingpong`) serves streamable HTTP on loopback. The same
//! client calls it directly, then through a gateway (an in-process server, also on streamable
//! HTTP, mounting the bench server by URL with `prefix = ""`), so the second path crosses two
//! HTTP hops and the relay. In one run on one machine:
//! 1. latency from the tool's yield to the client's receipt (p50, p99; one event in flight);
//! 2. `tools/call` throughput of `echo` with 1, 4 and 16 concurrent clients.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mcp_core::protocol::ToolDefinition;
use mcp_core::tool::FnTool;
use mcp_core::{CallEvent, CallToolResult, Client, IntoCallToolResult, Progress, Server};
use mcp_gateway::{Remote, RemoteOptions, RemotePlugin, Upstream};
use mcp_transport::http::{HttpConfig, RunningServer, serve};
use mcp_transport::http_client::{self, HttpClientOptions, HttpMode};
use serde_json::json;
use tokio::sync::Semaphore;

fn definition(name: &str) -> ToolDefinition {
    serde_json::from_value(json!({
        "name": name, "description": name,
        "inputSchema": {"type": "object", "properties": {"n": {"type": "integer"}}}
    }))
    .expect("valid definition")
}

/// `echo` answers at once; `pingpong` stamps the time, yields, and waits for the client's
/// permit before the next step.
fn bench_server(stamps: Arc<Mutex<Vec<Instant>>>, release: Arc<Semaphore>) -> Server {
    Server::builder("bench", "1")
        .tool(FnTool::new(definition("echo"), |_ctx, _args| async {
            "ok".to_string().into_call_tool_result()
        }))
        .tool(FnTool::new(definition("pingpong"), move |ctx, args| {
            let (stamps, release) = (stamps.clone(), release.clone());
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

async fn listen(server: &Server) -> RunningServer {
    serve("127.0.0.1:0", server, HttpConfig::default())
        .await
        .expect("listening")
}

async fn client(running: &RunningServer) -> Client {
    let options = HttpClientOptions {
        mode: HttpMode::Streamable,
        ..HttpClientOptions::default()
    };
    http_client::connect(&format!("http://{}/mcp", running.local_addr()), options)
        .await
        .expect("client")
}

/// p50 and p99 of yield-to-receipt over `n` events (the first tenth dropped as warm-up).
async fn latency(
    client: &Client,
    stamps: &Mutex<Vec<Instant>>,
    release: &Semaphore,
    n: u64,
) -> (Duration, Duration) {
    stamps.lock().expect("stamps").clear();
    let mut call = client
        .call_tool_streaming("pingpong", json!({"n": n}))
        .await
        .expect("call");
    let mut samples = Vec::with_capacity(n as usize);
    while let Some(event) = call.next_event().await {
        match event {
            CallEvent::Progress(p) => {
                let sent = stamps.lock().expect("stamps")[p.progress as usize];
                samples.push(sent.elapsed());
                release.add_permits(1);
            }
            CallEvent::Done(result) => {
                result.expect("pingpong result");
            }
        }
    }
    let mut samples = samples.split_off(samples.len() / 10);
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    (at(0.50), at(0.99))
}

/// `echo` calls per second from `clients` clients calling one after another for `secs`.
async fn throughput(running: &RunningServer, clients: usize, secs: f64) -> f64 {
    let mut connected = Vec::new();
    for _ in 0..clients {
        connected.push(client(running).await);
    }
    let until = Instant::now() + Duration::from_secs_f64(secs);
    let started = Instant::now();
    let tasks: Vec<_> = connected
        .into_iter()
        .map(|c| {
            tokio::spawn(async move {
                let mut done = 0u64;
                while Instant::now() < until {
                    let result = c.call_tool("echo", json!({})).await.expect("echo");
                    assert_ne!(result.is_error, Some(true));
                    done += 1;
                }
                done
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await.expect("client task");
    }
    total as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let quick = std::env::args().any(|a| a == "quick");
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(run(quick));
}

async fn run(quick: bool) {
    let (events, secs) = if quick { (500, 0.5) } else { (5000, 3.0) };
    let stamps = Arc::new(Mutex::new(Vec::new()));
    let release = Arc::new(Semaphore::new(0));
    let direct = listen(&bench_server(stamps.clone(), release.clone())).await;
    let remote = Remote::start(
        "bench",
        Upstream::url(format!("http://{}/mcp", direct.local_addr())),
        RemoteOptions::default(),
    );
    remote
        .ready(Duration::from_secs(30))
        .await
        .expect("mounted");
    let front = Server::builder("gateway", "1")
        .plugin(RemotePlugin::new(remote))
        .build()
        .expect("gateway");
    front.start_plugins().await.expect("started");
    let gateway = listen(&front).await;

    println!("## 1. Latency from yield to client receipt ({events} events each, one in flight)\n");
    println!("| path | p50 | p99 |\n| --- | --- | --- |");
    for (name, running) in [("direct", &direct), ("through the gateway", &gateway)] {
        let c = client(running).await;
        let (p50, p99) = latency(&c, &stamps, &release, events).await;
        println!(
            "| {name} | {} µs | {} µs |",
            p50.as_micros(),
            p99.as_micros()
        );
    }

    println!("\n## 2. tools/call throughput, streamable HTTP ({secs} s per cell)\n");
    println!("| clients | direct | through the gateway | ratio |\n| --- | --- | --- | --- |");
    for clients in [1, 4, 16] {
        let d = throughput(&direct, clients, secs).await;
        let g = throughput(&gateway, clients, secs).await;
        println!(
            "| {clients} | {d:.0}/s | {g:.0}/s | {:.0}% |",
            100.0 * g / d
        );
    }
    front.shutdown_plugins().await;
}
