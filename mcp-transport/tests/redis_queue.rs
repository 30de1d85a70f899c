//! The bounded queue of writes to Redis, against a real `redis-server` (Debian's package,
//! installed by scripts/test.sh) started per test: a Redis that stops answering holds a
//! tool's progress back at the bound (never more queued, nothing dropped), other sessions
//! are served once it answers again, and every event is then replayable from another
//! replica, in order, once; a Redis that dies turns into a typed, counted error while the
//! server goes on serving.

#![cfg(feature = "redis-store")]

mod http_support;
#[path = "support/redis_server.rs"]
mod redis_server;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use http::{Method, StatusCode};
use http_support::{
    Event, LIMIT, builder, call_message, def, full, get, initialize, post, progress_of, send, start,
};
use mcp_core::tool::FnTool;
use mcp_core::{CallToolResult, Content, Server};
use mcp_transport::http::{HttpConfig, RedisStore, RedisWriteError, WriteQueueLimits};
use mcp_transport::metrics::Metrics;
use redis_server::RedisServer;
use tokio::sync::{Semaphore, mpsc};

/// The bound on queued events in these tests: small, so that a stopped Redis fills it.
const BOUND: usize = 8;

/// What the test holds of the `chatty` tool: it waits for `go`, then reports progress
/// until `stop` is set (at most `MAX` reports), counting each report once it was sent.
#[derive(Clone)]
struct Chatty {
    go: Arc<Semaphore>,
    sent: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    stopped: Arc<Semaphore>,
}

impl Chatty {
    fn new() -> Chatty {
        Chatty {
            go: Arc::new(Semaphore::new(0)),
            sent: Arc::default(),
            stop: Arc::default(),
            stopped: Arc::new(Semaphore::new(0)),
        }
    }
}

/// The most reports of `chatty` (a replica keeps them all: see `store`).
const MAX: u64 = 2000;

fn server(chatty: &Chatty) -> Server {
    let c = chatty.clone();
    Server::builder("redis-queue", "0")
        .tool(FnTool::new(
            def("chatty", "reports progress as fast as it may"),
            move |ctx, _args| {
                let c = c.clone();
                async move {
                    c.go.acquire().await.expect("open").forget();
                    let mut n = 0;
                    while n < BOUND as u64 || (!c.stop.load(Ordering::SeqCst) && n < MAX) {
                        n += 1;
                        ctx.progress(format!("event {n}")).await;
                        c.sent.store(n, Ordering::SeqCst);
                    }
                    // Still running until the test says so.
                    c.stopped.acquire().await.expect("open").forget();
                    CallToolResult::success(vec![Content::text(format!("sent {n}"))])
                }
            },
        ))
        .tool(FnTool::new(
            def("quick", "two reports, at once"),
            |ctx, _args| async move {
                ctx.progress("one").await;
                ctx.progress("two").await;
                CallToolResult::success(vec![Content::text("quick done")])
            },
        ))
        .build()
        .expect("valid server")
}

/// A replica's store on `redis`: queue bound `BOUND` events, every event of a stream kept.
async fn store(redis: &RedisServer) -> Arc<RedisStore> {
    let limits = WriteQueueLimits {
        events: BOUND,
        ..WriteQueueLimits::default()
    };
    let store = RedisStore::connect_with(&redis.url(), limits)
        .await
        .expect("connect to redis-server")
        .max_events(100_000);
    Arc::new(store)
}

/// A replica serving `server` on `store`, with metrics.
async fn metered(server: &Server, store: Arc<RedisStore>) -> mcp_transport::http::RunningServer {
    let metrics = Metrics::new();
    let config = HttpConfig::default()
        .shared_store(store)
        .metrics(metrics.clone());
    start(&server.with_layer(metrics.layer()), config).await
}

/// Waits (no deadline but the overall limit) until `ready` holds.
async fn until(what: &str, mut ready: impl FnMut() -> bool) {
    tokio::time::timeout(LIMIT, async {
        while !ready() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("never: {what}"));
}

/// The `/metrics` text of the server at `addr`.
async fn metrics(addr: std::net::SocketAddr) -> String {
    let request = builder(addr, Method::GET, "/metrics")
        .body(full(""))
        .unwrap();
    let x = send(addr, request).await;
    assert_eq!(x.status, StatusCode::OK);
    String::from_utf8(x.bytes().await.to_vec()).unwrap()
}

/// The value of `name` in a metrics text.
fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
}

/// The id and the progress message of each event.
fn progress(events: &[Event]) -> Vec<(String, String)> {
    events
        .iter()
        .filter(|e| !e.data.is_empty())
        .map(|e| {
            let message = e.message();
            let text = if message["method"] == "notifications/progress" {
                progress_of(&message).1
            } else {
                message["result"]["content"][0]["text"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            };
            (e.id.clone().expect("an id"), text)
        })
        .collect()
}

/// A tool that reports progress while Redis does not answer is held back at the bound: it
/// gets exactly `BOUND` reports ahead of Redis, the queue never holds more, and nothing is
/// dropped. Once Redis answers again another session is served while the tool goes on, and
/// every event is replayed by the other replica in order, once each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_redis_holds_a_tool_back_at_the_bound_and_loses_nothing() {
    let redis = RedisServer::start();
    let chatty = Chatty::new();
    let server = server(&chatty);
    let (store_a, store_b) = (store(&redis).await, store(&redis).await);
    let a = metered(&server, store_a.clone()).await;
    let b = start(&server, HttpConfig::default().shared_store(store_b)).await;

    let session = initialize(a.local_addr()).await;
    let x = send(
        a.local_addr(),
        post(a.local_addr(), Some(&session), &call_message(1, "chatty")),
    )
    .await;
    assert_eq!(x.status, StatusCode::OK);
    // The client reads everything as it comes: only Redis holds the tool back.
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    let mut sse = x.sse();
    let reader = tokio::spawn(async move {
        let mut events = Vec::new();
        while let Some(event) = sse.next().await {
            if !event.data.is_empty() {
                let _ = seen_tx.send(());
            }
            events.push(event);
        }
        events
    });
    until("the writes so far reached Redis", || {
        store_a.write_queue().events == 0
    })
    .await;

    redis.signal("STOP");
    chatty.go.add_permits(1);
    // The report after the bound finds the queue full, and waits.
    until("a report waits for room", || {
        store_a.write_queue().waits >= 1
    })
    .await;
    let queue = store_a.write_queue();
    assert_eq!(
        chatty.sent.load(Ordering::SeqCst),
        BOUND as u64,
        "the tool got exactly the bound ahead of Redis"
    );
    assert_eq!(queue.events, BOUND, "the queue is full");
    assert_eq!(queue.peak_events, BOUND, "and never held more");
    for _ in 0..BOUND {
        // The client got each of them meanwhile (delivery never waits for Redis).
        tokio::time::timeout(LIMIT, seen.recv())
            .await
            .unwrap()
            .unwrap();
    }

    redis.signal("CONT");
    // Another session, served while the tool goes on reporting through the same queue.
    until("the tool goes on", || {
        chatty.sent.load(Ordering::SeqCst) > BOUND as u64
    })
    .await;
    let other = initialize(a.local_addr()).await;
    let x = send(
        a.local_addr(),
        post(a.local_addr(), Some(&other), &call_message(2, "quick")),
    )
    .await;
    let mut quick = x.sse();
    let mut answer = None;
    while let Some(event) = quick.next().await {
        if !event.data.is_empty() {
            answer = Some(event.message());
        }
    }
    let answer = answer.expect("the other session's answer");
    assert_eq!(answer["result"]["content"][0]["text"], "quick done");
    assert!(
        !reader.is_finished(),
        "the tool was still running meanwhile"
    );

    chatty.stop.store(true, Ordering::SeqCst);
    chatty.stopped.add_permits(1);
    let events = tokio::time::timeout(LIMIT, reader).await.unwrap().unwrap();
    let live = progress(&events);
    let sent = chatty.sent.load(Ordering::SeqCst);
    assert_eq!(live.len() as u64, sent + 1, "every report, then the result");
    let stream = live[0].0.split(':').next().unwrap().to_owned();
    for (n, (id, text)) in live.iter().enumerate().take(sent as usize) {
        assert_eq!(id, &format!("{stream}:{}", n + 1));
        assert_eq!(text, &format!("event {}", n + 1));
    }
    assert_eq!(live.last().unwrap().1, format!("sent {sent}"));

    // The other replica replays the whole stream from Redis: the same events, in order,
    // once each.
    let resumed = send(
        b.local_addr(),
        get(b.local_addr(), &session, Some(&format!("{stream}:0"))),
    )
    .await;
    assert_eq!(resumed.status, StatusCode::OK);
    let mut sse = resumed.sse();
    let mut replayed = Vec::new();
    while let Some(event) = tokio::time::timeout(LIMIT, sse.next()).await.unwrap() {
        replayed.push(event);
    }
    assert_eq!(progress(&replayed), live, "replayed as delivered");

    let queue = store_a.write_queue();
    assert!(
        queue.peak_events <= BOUND,
        "never more than the bound: {queue:?}"
    );
    assert_eq!(queue.failed, 0, "{queue:?}");
    let text = metrics(a.local_addr()).await;
    assert!(metric(&text, "mcp_store_queue_waits_total") >= 1);
    assert_eq!(metric(&text, "mcp_store_write_failures_total"), 0);
    assert!(metric(&text, "mcp_store_queued_events") <= BOUND as u64);
}

/// Redis dies while sessions stream: the writes that cannot reach it are a typed error
/// (for `flush`) and counted (at `/metrics`), and the server goes on serving its sessions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_redis_is_a_typed_counted_error_and_the_server_goes_on() {
    let mut redis = RedisServer::start();
    let chatty = Chatty::new();
    let server = server(&chatty);
    let store = store(&redis).await;
    let a = metered(&server, store.clone()).await;
    let sessions = [
        initialize(a.local_addr()).await,
        initialize(a.local_addr()).await,
    ];
    store.flush().await.expect("Redis is up");

    redis.kill();
    for (id, session) in [(1, &sessions[0]), (2, &sessions[1]), (3, &sessions[0])] {
        // Each call is answered: the client gets every report and the result.
        let x = send(
            a.local_addr(),
            post(a.local_addr(), Some(session), &call_message(id, "quick")),
        )
        .await;
        assert_eq!(x.status, StatusCode::OK);
        let mut sse = x.sse();
        let mut texts = Vec::new();
        while let Some(event) = tokio::time::timeout(LIMIT, sse.next()).await.unwrap() {
            texts.extend(progress(&[event]).into_iter().map(|(_, text)| text));
        }
        assert_eq!(texts, ["one", "two", "quick done"]);
    }

    let error = store
        .flush()
        .await
        .expect_err("the writes did not reach Redis");
    assert!(
        matches!(error, RedisWriteError::Redis { writes, .. } if writes >= 1),
        "{error:?}"
    );
    assert!(error.is_unreachable(), "{error}");
    assert!(std::error::Error::source(&error).is_some());
    let queue = store.write_queue();
    assert!(queue.failed >= 1, "{queue:?}");
    assert_eq!(queue.events, 0, "failed writes leave the queue: {queue:?}");
    let text = metrics(a.local_addr()).await;
    assert!(
        metric(&text, "mcp_store_write_failures_total") >= 1,
        "{text}"
    );
}

/// A Redis that stops answering fails a batch after the store's `write_timeout`, not the
/// default 30 s: the writes are counted lost, the client still got every report, and once
/// Redis answers again the store writes again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_redis_leaves_unanswered_fails_after_the_write_timeout() {
    let redis = RedisServer::start();
    let chatty = Chatty::new();
    let server = server(&chatty);
    // Short enough to tell from the default 30 s; long enough that a Redis that answers is
    // never taken for one that does not on a loaded machine (the writes after `CONT` must
    // all succeed: at 200 ms a Redis process descheduled for a moment could fail one).
    let limits = WriteQueueLimits {
        write_timeout: Duration::from_secs(1),
        ..WriteQueueLimits::default()
    };
    let store = Arc::new(
        RedisStore::connect_with(&redis.url(), limits)
            .await
            .expect("connect to redis-server"),
    );
    let a = metered(&server, store.clone()).await;
    let session = initialize(a.local_addr()).await;
    store.flush().await.expect("Redis is up");

    redis.signal("STOP");
    let x = send(
        a.local_addr(),
        post(a.local_addr(), Some(&session), &call_message(1, "quick")),
    )
    .await;
    let mut sse = x.sse();
    let mut texts = Vec::new();
    while let Some(event) = tokio::time::timeout(LIMIT, sse.next()).await.unwrap() {
        texts.extend(progress(&[event]).into_iter().map(|(_, text)| text));
    }
    assert_eq!(texts, ["one", "two", "quick done"], "delivery never waits");
    // Far less than the default 30 s, far more than 1 s: only the setting ends it here.
    let error = tokio::time::timeout(Duration::from_secs(10), store.flush())
        .await
        .expect("the batch failed after write_timeout, not the default")
        .expect_err("Redis did not answer");
    assert!(
        matches!(error, RedisWriteError::Redis { writes, .. } if writes >= 1),
        "{error:?}"
    );
    assert!(store.write_queue().failed >= 1, "{:?}", store.write_queue());

    redis.signal("CONT");
    until("the store writes again", || store.write_queue().events == 0).await;
    let failed = store.write_queue().failed;
    let x = send(
        a.local_addr(),
        post(a.local_addr(), Some(&session), &call_message(2, "quick")),
    )
    .await;
    let mut sse = x.sse();
    while tokio::time::timeout(LIMIT, sse.next())
        .await
        .unwrap()
        .is_some()
    {}
    store.flush().await.expect("Redis answers again");
    assert_eq!(store.write_queue().failed, failed, "nothing more was lost");
}
