//! Section 6: the Redis shared store beside the memory store. Starts its own `redis-server`
//! (Debian's package) on a free loopback port, with no persistence.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use mcp_core::Server;
use mcp_core::client::{ClientEra, Started};
use mcp_transport::http::{HttpConfig, RedisStore, RunningServer, serve};
use mcp_transport::http_client::{self, HttpClientOptions, HttpMode};
use tokio::sync::Semaphore;

use self::redis_server::RedisServer;
use super::{latency, open_session, percentiles, throughput};
use serde_json::json;

#[path = "../../tests/support/redis_server.rs"]
mod redis_server;

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
    let redis = RedisServer::start();
    let url = redis.url();
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

    let rounds = (n_lat / 10).max(50);
    println!(
        "\nTask round trip, 2025-11-25 session (`tools/call` of `job` with `task`, then \
         `tasks/result`; {rounds} in a row, one at a time):\n"
    );
    println!("| task store | p50 | p99 | round trips/s |\n| --- | --- | --- | --- |");
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
        let mut samples = Vec::with_capacity(rounds as usize);
        let started = Instant::now();
        for _ in 0..rounds {
            let t0 = Instant::now();
            let Ok(Started::Task(task)) = client.call_tool_as_task("job", json!({}), None).await
            else {
                panic!("job runs as a task");
            };
            client
                .task_result(&task.task_id)
                .await
                .expect("the task's result");
            samples.push(t0.elapsed());
        }
        let rate =
            f64::from(u32::try_from(rounds).unwrap_or(u32::MAX)) / started.elapsed().as_secs_f64();
        let p = percentiles(samples);
        println!(
            "| {name} | {:.0} µs | {:.0} µs | {rate:.0}/s |",
            p.p50.as_secs_f64() * 1e6,
            p.p99.as_secs_f64() * 1e6
        );
    }
}
