//! Section 6: the Redis shared store beside the memory store. Starts its own `redis-server`
//! (Debian's package) on a free loopback port, with no persistence.

use std::net::{SocketAddr, TcpListener as StdListener};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mcp_core::Server;
use mcp_core::client::ClientEra;
use mcp_transport::http::{HttpConfig, RedisStore, RunningServer, serve};
use mcp_transport::http_client::{self, HttpClientOptions, HttpMode};
use tokio::sync::Semaphore;

use super::{latency, open_session, throughput};

/// A redis-server killed on drop.
struct Redis(Child, u16);

impl Redis {
    fn start() -> Redis {
        let port = StdListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let child = Command::new("/usr/bin/redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server (Debian's package) is installed");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "redis-server starts"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Redis(child, port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn replica(server: &Server, url: &str) -> RunningServer {
    let store = RedisStore::connect(url).await.expect("connect to redis");
    let config = HttpConfig::default().shared_store(Arc::new(store));
    serve(SocketAddr::from(([127, 0, 0, 1], 0)), server, config)
        .await
        .expect("serve a replica")
}

/// Prints section 6.
pub(crate) async fn run(
    server: &Server,
    stamps: &Mutex<Vec<Instant>>,
    release: &Semaphore,
    n_lat: u64,
    secs: f64,
) {
    let redis = Redis::start();
    let url = format!("redis://127.0.0.1:{}/", redis.1);
    let memory = serve(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        server,
        HttpConfig::default(),
    )
    .await
    .expect("serve");
    let a = replica(server, &url).await;
    let b = replica(server, &url).await;

    println!("\n## 6. The Redis shared store beside the memory store (2025-11-25 sessions)\n");
    println!("Latency from yield to client receipt ({n_lat} events, one in flight):\n");
    println!("| store | p50 | p99 |\n| --- | --- | --- |");
    for (name, addr) in [
        ("memory", memory.local_addr()),
        ("Redis, one replica", a.local_addr()),
    ] {
        let mut options = HttpClientOptions {
            mode: HttpMode::Streamable,
            ..Default::default()
        };
        options.client.era = ClientEra::Stateful;
        let client = http_client::connect(&format!("http://{addr}/mcp"), options)
            .await
            .expect("http client");
        let p = latency(&client, stamps, release, n_lat).await;
        println!(
            "| {name} | {:.0} µs | {:.0} µs |",
            p.p50.as_secs_f64() * 1e6,
            p.p99.as_secs_f64() * 1e6
        );
    }

    println!("\n`tools/call` throughput, SSE responses ({secs} s per cell):\n");
    println!(
        "| clients | memory | Redis, one replica | ratio | Redis, session on A, calls to B | ratio |"
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    let memory_session = open_session(memory.local_addr()).await;
    let a_session = open_session(a.local_addr()).await;
    for clients in [1, 4, 16] {
        let mem = throughput(
            memory.local_addr(),
            Some(memory_session.clone()),
            clients,
            secs,
        )
        .await;
        let local = throughput(a.local_addr(), Some(a_session.clone()), clients, secs).await;
        let forwarded = throughput(b.local_addr(), Some(a_session.clone()), clients, secs).await;
        println!(
            "| {clients} | {mem:.0}/s | {local:.0}/s | {:.0}% | {forwarded:.0}/s | {:.0}% |",
            100.0 * local / mem,
            100.0 * forwarded / mem
        );
    }
}
