//! The deployment the multi-replica tests start: a real redis-server (Debian's package,
//! installed by scripts/test.sh), two replicas of examples' fixture-server sharing it, and
//! HAProxy round-robin (no stickiness) in front of them, all on free loopback ports with their
//! configuration under target/; and the 2025-era client the tests connect through it.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child as StdChild, Command as StdCommand, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mcp_core::client::{Client, ClientEra, RequestHandler};
use mcp_transport::http_client::{self, HttpClientOptions, HttpMode};
use serde_json::json;
use tokio::process::{Child, Command};

use crate::common::ports::start_listening;
use crate::common::{FIXTURE, Log, start_http};

/// The limit of one wait: generous, so that only a deadlock (or a hang) reaches it.
pub const LIMIT: Duration = Duration::from_secs(60);
/// The replicas' lease in these tests.
pub const LEASE: &str = "2s";

/// A process killed (and reaped) on drop.
struct Reaped(StdChild);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// redis-server, two replicas and HAProxy in front of them.
pub struct Deployment {
    _dir: TargetDir,
    pub redis_port: u16,
    pub replicas: Vec<(Child, Log)>,
    /// The replicas' own addresses (`host:port`), to reach one of them without the balancer.
    pub addrs: Vec<String>,
    pub balancer: SocketAddr,
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
    pub async fn start() -> Deployment {
        let dir = TargetDir::new();
        let conf = dir.0.join("redis.conf");
        let (redis, redis_addr) = start_listening(
            "redis-server",
            |redis_port| {
                std::fs::write(
                    &conf,
                    format!(
                        "bind 127.0.0.1\nport {redis_port}\nsave \"\"\nappendonly no\ndir {}\n",
                        dir.0.display()
                    ),
                )
                .expect("write redis.conf");
                StdCommand::new("/usr/bin/redis-server")
                    .arg(&conf)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("redis-server is installed (scripts/test.sh installs Debian's package)")
            },
            String::new,
        );
        let redis = Reaped(redis);
        let redis_port = redis_addr.port();
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
        let cfg = dir.0.join("haproxy.cfg");
        let (haproxy, balancer) = start_listening(
            "haproxy",
            |port| {
                let config = include_str!("haproxy.cfg.template")
                    .replace("@LISTEN@", &format!("127.0.0.1:{port}"))
                    .replace("@REPLICA1@", &addrs[0])
                    .replace("@REPLICA2@", &addrs[1]);
                std::fs::write(&cfg, config).expect("write haproxy.cfg");
                StdCommand::new("/usr/sbin/haproxy")
                    .arg("-db")
                    .arg("-f")
                    .arg(&cfg)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("haproxy is installed (scripts/test.sh installs Debian's package)")
            },
            String::new,
        );
        let haproxy = Reaped(haproxy);
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
    pub fn followers(&self) -> usize {
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

    /// Sends `args` to the deployment's redis-server with redis-cli; its answer.
    pub fn redis_cli(&self, args: &[&str]) -> String {
        let out = StdCommand::new("redis-cli")
            .args(["-p", &self.redis_port.to_string()])
            .args(args)
            .output()
            .expect("redis-cli runs");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// The replica a session lives on, from its record in Redis and the replicas' logs.
    pub fn home(&self) -> usize {
        let cli = |args: &[&str]| self.redis_cli(args);
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

pub async fn stateful_client(relay: SocketAddr) -> Client {
    // Only the call's own stream: the balancer's turns then follow the test's requests.
    stateful_client_with(relay, false).await
}

/// A 2025-era client through `relay`, with or without its GET stream; with it, the client
/// answers elicitation with the name "Ada" (without it, it declares elicitation only: the
/// test answers on a stream of its own).
pub async fn stateful_client_with(relay: SocketAddr, open_get_stream: bool) -> Client {
    let mut options = HttpClientOptions {
        mode: HttpMode::Streamable,
        open_get_stream,
        ..HttpClientOptions::default()
    };
    options.client.era = ClientEra::Stateful;
    options.client.capabilities.elicitation = Some(Default::default());
    if open_get_stream {
        let handler: RequestHandler = Arc::new(|_request| {
            Box::pin(async {
                let answer = json!({"action": "accept", "content": {"name": "Ada"}});
                Ok(answer.as_object().cloned().unwrap_or_default())
            })
        });
        options.client.on_request = Some(handler);
    }
    let url = format!("http://{relay}/mcp");
    tokio::time::timeout(LIMIT, http_client::connect(&url, options))
        .await
        .expect("the handshake ends")
        .expect("the client connects through the balancer")
}
