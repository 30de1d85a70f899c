//! Two replicas of one server behind HAProxy round-robin (no stickiness) sharing a real
//! redis-server (Debian's package, installed by scripts/test.sh), all started here on free
//! loopback ports with their configuration under target/: a 2025-era client whose stream is
//! cut mid-call resumes through the balancer, on the other replica too, and receives every
//! event exactly once, live, until the result; a replica killed while running a call leaves a
//! resuming client with a JSON-RPC error once its lease lapsed, not a hang; a task created
//! through one replica is read, awaited and cancelled through the other (both eras); a task
//! whose replica is killed turns `failed` once its lease lapsed, with nobody asking.
//!
//! The replicas are examples' fixture-server, whose `lockstep` tool a test outside the process
//! steers through files (the conformance server, the same serving code with the suite's
//! tools, goes through the same setup in scripts/conformance-replicas.sh).

mod common;

use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::PathBuf;
use std::process::{Child as StdChild, Command as StdCommand, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{FIXTURE, Log, TempDir, start_http, wait_for_file};
use mcp_core::client::{Client, ClientEra, Started, TaskInfo};
use mcp_core::error::RequestError;
use mcp_core::task::TaskStatus;
use mcp_core::{CallEvent, ToolCall};
use mcp_transport::http_client::{self, HttpClientOptions, HttpMode};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};

/// The limit of one wait: generous, so that only a deadlock (or a hang) reaches it.
const LIMIT: Duration = Duration::from_secs(60);
/// The replicas' lease in these tests.
const LEASE: &str = "2s";

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn wait_listening(addr: SocketAddr, what: &str) {
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(started.elapsed() < LIMIT, "{what} did not listen on {addr}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A process killed (and reaped) on drop.
struct Reaped(StdChild);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// redis-server, two replicas and HAProxy in front of them.
struct Deployment {
    _dir: TargetDir,
    redis_port: u16,
    replicas: Vec<(Child, Log)>,
    /// The replicas' own addresses (`host:port`), to reach one of them without the balancer.
    addrs: Vec<String>,
    balancer: SocketAddr,
    _redis: Reaped,
    _haproxy: Reaped,
}

/// A fresh directory under target/ for the deployment's configuration, removed on drop.
struct TargetDir(PathBuf);

impl TargetDir {
    fn new() -> TargetDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("replicas-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create the deployment's directory");
        TargetDir(path)
    }
}

impl Drop for TargetDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Deployment {
    async fn start() -> Deployment {
        let dir = TargetDir::new();
        let redis_port = free_port();
        let conf = dir.0.join("redis.conf");
        std::fs::write(
            &conf,
            format!(
                "bind 127.0.0.1\nport {redis_port}\nsave \"\"\nappendonly no\ndir {}\n",
                dir.0.display()
            ),
        )
        .expect("write redis.conf");
        let redis = StdCommand::new("/usr/bin/redis-server")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed (scripts/test.sh installs Debian's package)");
        let redis = Reaped(redis);
        wait_listening(([127, 0, 0, 1], redis_port).into(), "redis-server");
        let store = format!("redis://127.0.0.1:{redis_port}/");
        let mut replicas = Vec::new();
        let mut addrs = Vec::new();
        for _ in 0..2 {
            let mut command = Command::new(FIXTURE);
            command.args([
                "--transport",
                "http",
                "--bind",
                "127.0.0.1:0",
                "--allowed-hosts",
                "127.0.0.1,localhost",
                "--store",
                &store,
                "--replica-lease",
                LEASE,
                "--request-state-key",
                "the-same-key-on-every-replica",
                "--log-level",
                "info,mcp_transport::http::shared=debug",
            ]);
            let (child, addr, log) = start_http(command).await;
            addrs.push(addr);
            replicas.push((child, log));
        }
        let port = free_port();
        let config = include_str!("replicas/haproxy.cfg.template")
            .replace("@LISTEN@", &format!("127.0.0.1:{port}"))
            .replace("@REPLICA1@", &addrs[0])
            .replace("@REPLICA2@", &addrs[1]);
        let cfg = dir.0.join("haproxy.cfg");
        std::fs::write(&cfg, config).expect("write haproxy.cfg");
        let haproxy = StdCommand::new("/usr/sbin/haproxy")
            .arg("-db")
            .arg("-f")
            .arg(&cfg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("haproxy is installed (scripts/test.sh installs Debian's package)");
        let balancer = ([127, 0, 0, 1], port).into();
        let haproxy = Reaped(haproxy);
        wait_listening(balancer, "haproxy");
        Deployment {
            _dir: dir,
            redis_port,
            replicas,
            addrs,
            balancer,
            _redis: redis,
            _haproxy: haproxy,
        }
    }

    /// How many replicas' logs say they served a request for a session of the other.
    fn followers(&self) -> usize {
        self.replicas
            .iter()
            .filter(|(_, log)| {
                log.lock()
                    .unwrap()
                    .iter()
                    .any(|l| l.contains("a request for a session of another replica"))
            })
            .count()
    }

    /// The replica a session lives on, from its record in Redis and the replicas' logs.
    fn home(&self) -> usize {
        let cli = |args: &[&str]| {
            let out = StdCommand::new("redis-cli")
                .args(["-p", &self.redis_port.to_string()])
                .args(args)
                .output()
                .expect("redis-cli runs");
            String::from_utf8_lossy(&out.stdout).trim().to_owned()
        };
        let key = cli(&["--scan", "--pattern", "mcp:session:*"]);
        let record = cli(&["get", key.lines().next().expect("one session")]);
        let replica = record.split(' ').next().expect("a record").to_owned();
        self.replicas
            .iter()
            .position(|(_, log)| {
                log.lock()
                    .unwrap()
                    .iter()
                    .any(|l| l.contains("serving as one replica") && l.contains(&replica))
            })
            .expect("the home replica's log names its id")
    }
}

/// A TCP relay to `upstream` that cuts, once each, the connection whose server-to-client bytes
/// contain one of `markers` (right after forwarding them): a dropped stream, on demand.
async fn cutting_relay(upstream: SocketAddr, markers: &'static [&'static str]) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind relay");
    let addr = listener.local_addr().expect("relay address");
    let cuts = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let cuts = cuts.clone();
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(upstream).await else {
                    return;
                };
                let (mut cr, mut cw) = client.into_split();
                let (mut sr, mut sw) = server.into_split();
                let up = tokio::spawn(async move {
                    let mut buf = vec![0u8; 16 * 1024];
                    while let Ok(n) = cr.read(&mut buf).await {
                        if n == 0 || sw.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
                let mut buf = vec![0u8; 16 * 1024];
                while let Ok(n) = sr.read(&mut buf).await {
                    if n == 0 || cw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                    let text = String::from_utf8_lossy(&buf[..n]);
                    let next = cuts.load(Ordering::SeqCst);
                    if markers.get(next).is_some_and(|m| text.contains(m))
                        && cuts
                            .compare_exchange(next, next + 1, Ordering::SeqCst, Ordering::SeqCst)
                            .is_ok()
                    {
                        break; // drop both halves: the client sees the stream end
                    }
                }
                up.abort();
            });
        }
    });
    addr
}

async fn stateful_client(relay: SocketAddr) -> Client {
    // Only the call's own stream: the balancer's turns then follow the test's requests.
    stateful_client_with(relay, false).await
}

/// A 2025-era client through `relay`, with or without its GET stream.
async fn stateful_client_with(relay: SocketAddr, open_get_stream: bool) -> Client {
    let mut options = HttpClientOptions {
        mode: HttpMode::Streamable,
        open_get_stream,
        ..HttpClientOptions::default()
    };
    options.client.era = ClientEra::Stateful;
    let url = format!("http://{relay}/mcp");
    tokio::time::timeout(LIMIT, http_client::connect(&url, options))
        .await
        .expect("the handshake ends")
        .expect("the client connects through the balancer")
}

async fn next(call: &mut ToolCall, what: &str) -> CallEvent {
    tokio::time::timeout(LIMIT, call.next_event())
        .await
        .unwrap_or_else(|_| panic!("{what} never arrived"))
        .unwrap_or_else(|| panic!("the call ended before {what}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_stream_resumes_through_the_balancer_on_either_replica_exactly_once_and_live() {
    let deployment = Deployment::start().await;
    // Cut after step 2 and after step 4: the two resumptions are consecutive requests, so
    // round-robin sends them to different replicas, one of which does not run the call.
    let relay = cutting_relay(deployment.balancer, &["step 2", "step 4"]).await;
    let client = stateful_client(relay).await;
    let acks = TempDir::new("acks");
    let steps = 6;
    let mut call = client
        .call_tool_streaming("lockstep", json!({"steps": steps, "dir": acks.arg()}))
        .await
        .expect("the call starts");
    for i in 1..=steps {
        match next(&mut call, &format!("step {i}")).await {
            CallEvent::Progress(p) => {
                assert_eq!(p.progress, i as f64, "each step once, in order");
                assert_eq!(p.message.as_deref(), Some(format!("step {i}").as_str()));
            }
            other => panic!("expected step {i}, got {other:?}"),
        }
        // Only now may the tool go on: the event came live, not after the call ended.
        std::fs::write(acks.join(&format!("ack-{i}")), b"").expect("ack");
    }
    match next(&mut call, "the result").await {
        CallEvent::Done(Ok(result)) => assert_eq!(result.text(), "done"),
        other => panic!("expected the result, got {other:?}"),
    }
    assert!(
        deployment.followers() >= 1,
        "a replica that does not run the call served part of it"
    );
    // The session goes on serving through either replica.
    client.ping().await.expect("ping through the balancer");
    client.ping().await.expect("ping through the other replica");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_replica_running_a_call_ends_it_with_an_error_for_a_resuming_client() {
    let mut deployment = Deployment::start().await;
    let relay = cutting_relay(deployment.balancer, &["step 1"]).await;
    let client = stateful_client(relay).await;
    let acks = TempDir::new("acks-kill");
    let mut call = client
        .call_tool_streaming("lockstep", json!({"steps": 3, "dir": acks.arg()}))
        .await
        .expect("the call starts");
    assert!(matches!(
        next(&mut call, "step 1").await,
        CallEvent::Progress(_)
    ));
    // The tool now waits for ack-1, which never comes: its replica dies with the call.
    let home = deployment.home();
    deployment.replicas[home]
        .0
        .kill()
        .await
        .expect("kill the replica running the call");
    match next(&mut call, "the end of the call").await {
        CallEvent::Done(Err(RequestError::Rpc(error))) => {
            assert_eq!(error.code.0, -32000, "{error:?}");
            assert_eq!(
                error.data.as_ref().and_then(|d| d.get("reason")),
                Some(&json!("replica-lost")),
                "{error:?}"
            );
        }
        other => panic!("expected a JSON-RPC error, got {other:?}"),
    }
}

/// A 2026-07-28 client of one replica (no balancer: the test chooses the replica).
async fn modern_client(addr: &str) -> Client {
    let mut options = HttpClientOptions {
        mode: HttpMode::Streamable,
        ..HttpClientOptions::default()
    };
    options.client.era = ClientEra::Stateless;
    let url = format!("http://{addr}/mcp");
    tokio::time::timeout(LIMIT, http_client::connect(&url, options))
        .await
        .expect("the discovery ends")
        .expect("the client connects to the replica")
}

/// Starts `tool` as a task through `client`.
async fn start_task(client: &Client, tool: &str, arguments: serde_json::Value) -> String {
    match client.call_tool_as_task(tool, arguments, None).await {
        Ok(Started::Task(task)) => task.task_id,
        other => panic!("expected a task, got {other:?}"),
    }
}

/// Reads the task through `client` until `done` holds (the state is written by another
/// replica: polling is how a client learns of it), within the test's limit.
async fn task_until(client: &Client, id: &str, done: impl Fn(&TaskInfo) -> bool) -> TaskInfo {
    tokio::time::timeout(LIMIT, async {
        loop {
            let task = client.get_task(id).await.expect("tasks/get");
            if done(&task) {
                return task;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the task reached the state awaited")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_created_through_one_replica_is_read_awaited_and_cancelled_through_the_other() {
    let deployment = Deployment::start().await;
    // 2026-07-28: each client talks to one replica; the task runs on the first.
    let (one, other) = (
        modern_client(&deployment.addrs[0]).await,
        modern_client(&deployment.addrs[1]).await,
    );
    let acks = TempDir::new("acks-task");
    let id = start_task(&one, "lockstep", json!({"steps": 2, "dir": acks.arg()})).await;
    for i in 1..=2 {
        // Each step is seen through the other replica before the tool may go on.
        let message = format!("step {i}");
        let seen = task_until(&other, &id, |t| {
            t.status_message.as_deref() == Some(&message)
        })
        .await;
        assert_eq!(seen.status, TaskStatus::Working);
        std::fs::write(acks.join(&format!("ack-{i}")), b"").expect("ack");
    }
    let result = tokio::time::timeout(LIMIT, other.task_result(&id))
        .await
        .expect("the result came")
        .expect("the task completed");
    assert_eq!(result.text(), "done");
    // Cancelled through the other replica: the runner on the first drops the tool.
    let marks = TempDir::new("hang-task");
    let id = start_task(&one, "hang", json!({"dir": marks.arg()})).await;
    tokio::time::timeout(LIMIT, wait_for_file(&marks.join("started")))
        .await
        .expect("the tool started");
    other.cancel_task(&id).await.expect("tasks/cancel");
    tokio::time::timeout(LIMIT, wait_for_file(&marks.join("dropped")))
        .await
        .expect("the cancellation reached the replica running the tool");
    let cancelled = one.get_task(&id).await.expect("tasks/get on the first");
    assert_eq!(cancelled.status, TaskStatus::Cancelled);

    // 2025-11-25: one session through the balancer; its requests alternate between the
    // replicas, and those reaching the other are forwarded to the session's home. Its GET
    // stream (on either replica) carries the task's status notifications.
    let client = stateful_client_with(deployment.balancer, true).await;
    let mut notes = client.notifications();
    let acks = TempDir::new("acks-task-2025");
    let id = start_task(&client, "lockstep", json!({"steps": 1, "dir": acks.arg()})).await;
    task_until(&client, &id, |t| {
        t.status_message.as_deref() == Some("step 1")
    })
    .await;
    let waiting = tokio::spawn({
        let (client, id) = (client.clone(), id.clone());
        async move { client.task_result(&id).await }
    });
    std::fs::write(acks.join("ack-1"), b"").expect("ack");
    let result = tokio::time::timeout(LIMIT, waiting)
        .await
        .expect("tasks/result answered")
        .expect("joined")
        .expect("the task completed");
    assert_eq!(result.text(), "done");
    let completed = tokio::time::timeout(LIMIT, async {
        while let Some(note) = notes.recv().await {
            let params = note.params.unwrap_or_default();
            if note.method == "notifications/tasks/status"
                && params.get("taskId") == Some(&json!(id))
                && params.get("status") == Some(&json!("completed"))
            {
                return true;
            }
        }
        false
    })
    .await
    .expect("the status notification came");
    assert!(completed, "the status notification came on the GET stream");
    let marks = TempDir::new("hang-task-2025");
    let id = start_task(&client, "hang", json!({"dir": marks.arg()})).await;
    tokio::time::timeout(LIMIT, wait_for_file(&marks.join("started")))
        .await
        .expect("the tool started");
    client.cancel_task(&id).await.expect("tasks/cancel");
    tokio::time::timeout(LIMIT, wait_for_file(&marks.join("dropped")))
        .await
        .expect("the cancellation reached the tool");
    let cancelled = client.get_task(&id).await.expect("tasks/get");
    assert_eq!(cancelled.status, TaskStatus::Cancelled);
    assert!(
        deployment.followers() >= 1,
        "a replica that does not hold the session served some of its task requests"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_replica_running_a_task_turns_it_failed_once_its_lease_lapsed() {
    let mut deployment = Deployment::start().await;
    let (one, other) = (
        modern_client(&deployment.addrs[0]).await,
        modern_client(&deployment.addrs[1]).await,
    );
    let acks = TempDir::new("acks-task-kill");
    let id = start_task(&one, "lockstep", json!({"steps": 2, "dir": acks.arg()})).await;
    task_until(&other, &id, |t| {
        t.status_message.as_deref() == Some("step 1")
    })
    .await;
    // The tool now waits for ack-1, which never comes: its replica dies with the task.
    deployment.replicas[0]
        .0
        .kill()
        .await
        .expect("kill the replica running the task");
    // Nobody asks about the task: the other replica's sweep timer fails it in the store.
    let key = format!("mcp:task:{id}");
    tokio::time::timeout(LIMIT, async {
        loop {
            let out = StdCommand::new("redis-cli")
                .args(["-p", &deployment.redis_port.to_string()])
                .args(["hget", &key, "rec"])
                .output()
                .expect("redis-cli runs");
            if String::from_utf8_lossy(&out.stdout).contains("\"status\":\"failed\"") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the task failed without anyone asking");
    let failed = other.get_task(&id).await.expect("tasks/get");
    assert_eq!(failed.status, TaskStatus::Failed);
    assert_eq!(failed.error.as_ref().map(|e| e.code.0), Some(-32603));
    match other.task_result(&id).await {
        Err(RequestError::Rpc(error)) => assert_eq!(error.code.0, -32603, "{error:?}"),
        other => panic!("expected the task's error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guides_replicas_share_a_task() {
    let deployment = Deployment::start().await;
    let url = format!("redis://127.0.0.1:{}/", deployment.redis_port);
    let server = examples::tour::server().expect("the tour's server");
    let bind: SocketAddr = ([127, 0, 0, 1], 0).into();
    let mut replicas = Vec::new();
    for _ in 0..2 {
        let replica = examples::tour::serve_replica(&server, bind, &url, b"one key for all")
            .await
            .expect("a replica serves");
        replicas.push(replica);
    }
    let one = modern_client(&replicas[0].local_addr().to_string()).await;
    let other = modern_client(&replicas[1].local_addr().to_string()).await;
    let id = start_task(&one, "build_report", json!({"sections": 1})).await;
    let result = tokio::time::timeout(LIMIT, other.task_result(&id))
        .await
        .expect("the result came")
        .expect("the task completed");
    assert_eq!(result.text(), "a report of 1 sections");
}
