//! A stdio server mounted by command (the fixture server, built beside this test): killed
//! mid-call, the call gets a JSON-RPC error at once; it is started again after a back-off
//! that doubles while it keeps dying young; calls after the restart work.

use std::path::{Path, PathBuf};
use std::time::Duration;

use mcp_core::{CallEvent, Context, ErrorCode, JsonObject, memory};
use mcp_gateway::{Gateway, Remote, RemoteOptions, Upstream};
use serde_json::json;

const LIMIT: Duration = Duration::from_secs(30);

async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(LIMIT, future)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}

/// A binary built beside this test (`target/<profile>/NAME`).
fn sibling(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let profile = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binaries live in target/<profile>/deps");
    let path = profile.join(name);
    assert!(
        path.exists(),
        "{} is not built: run `cargo build -p examples` first",
        path.display()
    );
    path
}

fn kill(pid: u32) {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL).unwrap();
}

fn options(initial: Duration) -> RemoteOptions {
    let mut options = RemoteOptions::default();
    options.initial_backoff = initial;
    options.max_backoff = initial * 4;
    // Every run here is short: the back-off never resets.
    options.stable_after = Duration::from_secs(3600);
    options
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_fails_the_call_in_flight_and_restarts_with_back_off() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = sibling("fixture-server").display().to_string();
    let initial = Duration::from_millis(20);
    let remote = Remote::start(
        "fixture",
        Upstream::command(fixture, ["--transport", "stdio"]),
        options(initial),
    );
    within("ready", remote.ready(LIMIT)).await.unwrap();
    let gateway = Gateway::from_remotes("gateway", vec![("fixture".into(), remote.clone())])
        .server()
        .unwrap();
    gateway.start_plugins().await.unwrap();
    let client = memory::connect(&gateway).await.unwrap();

    // A call in flight when the server dies gets a JSON-RPC error, not a hang.
    let mut call = client
        .call_tool_streaming("fixture_hang", json!({"dir": dir.path()}))
        .await
        .unwrap();
    match within("started", call.next_event()).await {
        Some(CallEvent::Progress(p)) => assert_eq!(p.message.as_deref(), Some("started")),
        other => panic!("{other:?}"),
    }
    kill(remote.process_id().expect("a stdio server runs"));
    match within("the error", call.next_event()).await {
        Some(CallEvent::Done(Err(mcp_core::RequestError::Rpc(e)))) => {
            assert_eq!(e.code, ErrorCode::SERVER_ERROR);
            assert!(
                e.message.contains("`fixture` went away before answering"),
                "{e}"
            );
        }
        other => panic!("{other:?}"),
    }

    // Restarted; dying young twice more doubles the wait each time, up to the maximum.
    for n in 2..=4 {
        assert!(
            within("restart", remote.wait_for_connection(n, LIMIT)).await,
            "connection {n}"
        );
        if n < 4 {
            kill(remote.process_id().unwrap());
        }
    }
    assert_eq!(
        remote.backoffs(),
        [initial, initial * 2, initial * 4],
        "the waits before each restart"
    );
    // The restarted server serves.
    let echoed = within(
        "echo",
        client.call_tool("fixture_echo", json!({"text": "again"})),
    )
    .await
    .unwrap();
    assert!(format!("{:?}", echoed.content).contains("again"));
    gateway.shutdown_plugins().await;
    assert!(!remote.is_up());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_to_a_server_that_stays_down_fails_within_the_wait() {
    let mut options = options(Duration::from_secs(3600));
    options.unavailable_wait = Duration::from_millis(50);
    options.connect_timeout = Duration::from_secs(5);
    // A command that is no MCP server: every attempt fails, the first wait is an hour.
    let remote = Remote::start(
        "broken",
        Upstream::command("/bin/true", Vec::<String>::new()),
        options,
    );
    let e = within(
        "the error",
        remote.call_tool(&Context::detached(), "anything", JsonObject::new()),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::SERVER_ERROR);
    assert!(
        e.message
            .starts_with("the mounted server `broken` is unavailable"),
        "{e}"
    );
    remote.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guides_config_mounts_what_it_says() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/gateway.toml");
    let config = mcp_gateway::GatewayConfig::load(&path).unwrap();
    assert_eq!(config.gateway.name, "my-gateway");
    let mounts: Vec<(String, String)> = config
        .mounts()
        .into_iter()
        .map(|m| (m.name, m.prefix))
        .collect();
    assert_eq!(
        mounts,
        [
            ("demo".into(), "demo".into()),
            ("remote".into(), "remote".into()),
            ("stata".into(), String::new())
        ]
    );
    // The demo as the config says, with the binary built beside this test: `count` is
    // served as `demo_count`.
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "command = [\"streaming-demo\"",
        &format!(
            "command = [{:?}",
            sibling("streaming-demo").display().to_string()
        ),
    );
    let only_demo = text.split("[servers.stata]").next().unwrap();
    let config = mcp_gateway::GatewayConfig::parse(only_demo, &path).unwrap();
    let gateway = Gateway::start(&config, &RemoteOptions::default(), LIMIT).await;
    let server = gateway.server().unwrap();
    server.start_plugins().await.unwrap();
    let client = memory::connect(&server).await.unwrap();
    let result = within(
        "demo_count",
        client.call_tool("demo_count", json!({"to": 2, "delay_ms": 0})),
    )
    .await
    .unwrap();
    assert!(format!("{:?}", result.content).contains("counted to 2"));
    server.shutdown_plugins().await;
}
