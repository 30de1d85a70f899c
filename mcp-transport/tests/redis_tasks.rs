//! The Redis task store passes the checks every task store passes (the memory store's unit
//! tests run the same bodies, `mcp_core::task::store_tests`), against a real `redis-server`
//! (Debian's package, installed by scripts/test.sh) started per test on a free loopback port,
//! with no persistence. Plus what only a shared store shows: two connections (two replicas)
//! see each other's tasks and changes.

#![cfg(feature = "redis-store")]

use std::time::{Duration, Instant, SystemTime};

use mcp_core::task::store_tests::{self as check, record};
use mcp_core::task::{TaskChange, TaskStatus, TaskStore};
use mcp_transport::http::{RedisStore, RedisTaskStore};
use redis_server::RedisServer;

#[path = "support/redis_server.rs"]
mod redis_server;

struct Redis(RedisServer);

impl Redis {
    fn start() -> Redis {
        Redis(RedisServer::start())
    }

    async fn tasks(&self) -> RedisTaskStore {
        RedisStore::connect(&self.0.url())
            .await
            .expect("connect to redis-server")
            .task_store()
    }
}

#[tokio::test]
async fn a_waiter_wakes_on_a_change_and_on_removal() {
    let redis = Redis::start();
    check::a_waiter_wakes_on_a_change_and_on_removal(&redis.tasks().await).await;
}

#[tokio::test]
async fn listing_is_by_owner_in_creation_order_with_a_cursor() {
    let redis = Redis::start();
    check::listing_is_by_owner_in_creation_order_with_a_cursor(&redis.tasks().await).await;
}

#[tokio::test]
async fn a_sweep_deletes_expired_tasks_and_fails_orphaned_ones() {
    let redis = Redis::start();
    check::a_sweep_deletes_expired_tasks_and_fails_orphaned_ones(&redis.tasks().await).await;
}

#[tokio::test]
async fn every_change_follows_the_records_rules() {
    let redis = Redis::start();
    check::every_change_follows_the_records_rules(&redis.tasks().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_changes_are_each_applied_once() {
    let redis = Redis::start();
    check::concurrent_changes_are_each_applied_once(&redis.tasks().await).await;
}

#[tokio::test]
async fn an_expired_task_is_neither_read_nor_listed() {
    let redis = Redis::start();
    check::an_expired_task_is_neither_read_nor_listed(&redis.tasks().await).await;
}

/// Two replicas (two connections): one creates and waits, the other cancels; the waiter
/// wakes through pub/sub, and both read the same record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_through_one_replica_wakes_a_waiter_of_the_other() {
    let redis = Redis::start();
    let (a, b) = (redis.tasks().await, redis.tasks().await);
    a.create(record("shared", "someone", None)).await.unwrap();
    let seen = b.get("shared").await.unwrap().expect("b reads a's task");
    assert_eq!(seen.owner, "someone");
    let waiter = tokio::spawn({
        let a = a.clone();
        async move { a.changed("shared", 0).await }
    });
    // Lockstep: the change is made only once a's waiter is subscribed to the task's channel,
    // so it is the published change that wakes it.
    let client = redis::Client::open(redis.0.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let started = Instant::now();
    loop {
        let (_, subscribers): (String, u64) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg("mcp:task:shared")
            .query_async(&mut conn)
            .await
            .unwrap();
        if subscribers == 1 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "a subscribes");
        tokio::task::yield_now().await;
    }
    b.update("shared", TaskChange::RequestCancel, SystemTime::now())
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(30), waiter)
        .await
        .expect("the waiter of the other replica woke")
        .unwrap()
        .unwrap();
    let finish = TaskChange::Finish {
        status: TaskStatus::Cancelled,
        outcome: None,
        message: None,
    };
    b.update("shared", finish, SystemTime::now()).await.unwrap();
    let read = a.get("shared").await.unwrap().unwrap();
    assert!(read.cancel_requested);
    assert_eq!(read.status, TaskStatus::Cancelled);
    assert_eq!(a.list("someone", None, 10).await.unwrap(), [read]);
}

/// Sends `CLIENT KILL TYPE <kind>` (the connections of that kind are dropped, the data
/// stays: what a network blip or a restarted proxy does to a replica).
async fn kill_clients(conn: &mut redis::aio::MultiplexedConnection, kind: &str) -> u64 {
    redis::cmd("CLIENT")
        .arg("KILL")
        .arg("TYPE")
        .arg(kind)
        .arg("SKIPME")
        .arg("yes")
        .query_async(conn)
        .await
        .unwrap()
}

/// The subscribers Redis counts on `channel`.
async fn numsub(conn: &mut redis::aio::MultiplexedConnection, channel: &str) -> u64 {
    let (_, subscribers): (String, u64) = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg(channel)
        .query_async(conn)
        .await
        .unwrap();
    subscribers
}

/// Both replicas' connections (pub/sub and commands) are dropped while a waiter of one
/// waits: it re-subscribes once pub/sub is back and re-reads its task, and a change made
/// through the other replica afterwards wakes it. Nothing is asserted on time: conditions
/// are awaited within an overall bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiter_wakes_on_a_change_after_the_connections_dropped() {
    let redis = Redis::start();
    let (a, b) = (redis.tasks().await, redis.tasks().await);
    a.create(record("kept", "someone", None)).await.unwrap();
    let client = redis::Client::open(redis.0.url()).unwrap();
    let mut admin = client.get_multiplexed_async_connection().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    // Waits as the task engine does: read, then wait for a change past what was read.
    let waiter = tokio::spawn({
        let a = a.clone();
        async move {
            loop {
                let record = a.get("kept").await?.expect("the task is kept");
                if record.cancel_requested {
                    return Ok::<_, mcp_core::task::StoreError>(record);
                }
                a.changed("kept", record.revision).await?;
            }
        }
    });
    while numsub(&mut admin, "mcp:task:kept").await != 1 {
        assert!(Instant::now() < deadline, "a subscribes");
        tokio::task::yield_now().await;
    }
    // The drop: both kinds of connection of both replicas.
    // (Redis counts a connection as `pubsub` while it is subscribed: a's; b's is `normal`.)
    assert_eq!(
        kill_clients(&mut admin, "pubsub").await,
        1,
        "a's pub/sub connection"
    );
    assert!(kill_clients(&mut admin, "normal").await >= 3);
    // a's waiter is subscribed again, on a new connection (the kill is done when it answers:
    // the old subscription no longer counts).
    while numsub(&mut admin, "mcp:task:kept").await != 1 {
        assert!(
            Instant::now() < deadline && !waiter.is_finished(),
            "a re-subscribes after the drop"
        );
        tokio::task::yield_now().await;
    }
    assert!(
        !waiter.is_finished(),
        "no change yet: the waiter still waits"
    );
    // b's command connection reconnects by itself: a command sent on the dropped one may
    // fail (a clear error, never a hang), then succeeds.
    loop {
        match b
            .update("kept", TaskChange::RequestCancel, SystemTime::now())
            .await
        {
            Ok(_) => break,
            Err(e) => assert!(Instant::now() < deadline, "b's commands work again: {e}"),
        }
    }
    let woken = tokio::time::timeout_at(deadline.into(), waiter)
        .await
        .expect("the waiter of the other replica woke after the drop")
        .unwrap()
        .unwrap();
    assert!(woken.cancel_requested);
}
