//! What every [`TaskStore`] must do, as test bodies any store's tests call with a fresh
//! store: the memory store's unit tests and the Redis store's tests (in `mcp-transport`) run
//! the same checks. Compiled for this crate's tests and with the `store-tests` feature.
//!
//! Each check panics when the store misbehaves, and bounds every wait (a store that never
//! wakes a waiter fails rather than hangs).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use super::store::{Lease, TaskChange, TaskOutcome, TaskRecord, TaskStatus, TaskStore};
use crate::jsonrpc::JsonObject;
use crate::protocol::InputRequest;

/// The longest a check waits for a store that should answer at once.
const LIMIT: Duration = Duration::from_secs(30);

async fn bounded<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(LIMIT, future)
        .await
        .unwrap_or_else(|_| panic!("the store never finished: {what}"))
}

/// A working task `id` of `owner`, created now, with a time to live.
pub fn record(id: &str, owner: &str, ttl: Option<Duration>) -> TaskRecord {
    TaskRecord::new(
        id.into(),
        owner.into(),
        "tools/call",
        true,
        ttl,
        Duration::from_secs(1),
        SystemTime::now(),
    )
}

fn ids(records: Vec<TaskRecord>) -> Vec<String> {
    records.into_iter().map(|r| r.task_id).collect()
}

/// `changed` completes after a change, at once when the task is already past the revision or
/// unknown, and when the task is removed.
pub async fn a_waiter_wakes_on_a_change_and_on_removal(store: &dyn TaskStore) {
    store.create(record("a", "", None)).await.unwrap();
    let wait = store.changed("a", 0);
    let change = TaskChange::Message(Some("half way".into()));
    let after = store.update("a", change, SystemTime::now()).await.unwrap();
    assert_eq!(after.unwrap().revision, 1);
    bounded("a waiter after a change", wait).await.unwrap();
    // Already past: completes at once.
    bounded("a waiter past the revision", store.changed("a", 0))
        .await
        .unwrap();
    // Unknown task: completes at once.
    bounded("a waiter on no task", store.changed("nope", 0))
        .await
        .unwrap();
    // A task removed (its time to live passed) while someone waits on it.
    let now = SystemTime::now();
    store
        .create(record("b", "", Some(Duration::from_secs(60))))
        .await
        .unwrap();
    let (woke, swept) = bounded("a waiter on a removed task", async {
        tokio::join!(store.changed("b", 0), async {
            tokio::task::yield_now().await;
            store.sweep(now + Duration::from_secs(61)).await
        })
    })
    .await;
    woke.unwrap();
    assert_eq!(swept.unwrap().expired, ["b"]);
    assert!(store.get("b").await.unwrap().is_none());
}

/// `list` gives the owner's tasks only, in creation order, from a cursor; ids are unique.
pub async fn listing_is_by_owner_in_creation_order_with_a_cursor(store: &dyn TaskStore) {
    for (id, owner) in [("1", "x"), ("2", "y"), ("3", "x"), ("4", "x")] {
        store.create(record(id, owner, None)).await.unwrap();
    }
    assert_eq!(ids(store.list("x", None, 2).await.unwrap()), ["1", "3"]);
    assert_eq!(ids(store.list("x", Some("3"), 2).await.unwrap()), ["4"]);
    assert_eq!(ids(store.list("y", None, 10).await.unwrap()), ["2"]);
    assert!(ids(store.list("z", None, 10).await.unwrap()).is_empty());
    assert!(store.create(record("1", "x", None)).await.is_err());
}

/// `sweep` deletes the tasks whose time to live passed and fails (-32603) those whose
/// runner's lease lapsed, not before.
pub async fn a_sweep_deletes_expired_tasks_and_fails_orphaned_ones(store: &dyn TaskStore) {
    let now = SystemTime::now();
    store
        .create(record("short", "", Some(Duration::from_millis(1))))
        .await
        .unwrap();
    store.create(record("orphan", "", None)).await.unwrap();
    let lease = Lease {
        holder: "replica-1".into(),
        expires_at: now + Duration::from_secs(5),
    };
    store
        .update("orphan", TaskChange::Lease(lease), now)
        .await
        .unwrap();
    // Before the lease lapses nothing is orphaned.
    let early = store.sweep(now + Duration::from_secs(1)).await.unwrap();
    assert_eq!(early.expired, ["short"]);
    assert!(early.orphaned.is_empty());
    let late = store.sweep(now + Duration::from_secs(6)).await.unwrap();
    assert_eq!(late.orphaned, ["orphan"]);
    let orphan = store.get("orphan").await.unwrap().unwrap();
    assert_eq!(orphan.status, TaskStatus::Failed);
    assert!(matches!(orphan.outcome, Some(TaskOutcome::Error(ref e)) if e.code == -32603));
    // A failed task is not orphaned twice.
    let again = store.sweep(now + Duration::from_secs(7)).await.unwrap();
    assert!(again.orphaned.is_empty());
}

/// `update` applies [`TaskRecord::apply`]: the first outcome wins, a lease is no revision,
/// and the record read back is the one `update` returned.
pub async fn every_change_follows_the_records_rules(store: &dyn TaskStore) {
    let now = SystemTime::now();
    assert!(
        store
            .update("none", TaskChange::RequestCancel, now)
            .await
            .unwrap()
            .is_none()
    );
    store.create(record("r", "o", None)).await.unwrap();
    let lease = Lease {
        holder: "me".into(),
        expires_at: now + Duration::from_secs(30),
    };
    let leased = store.update("r", TaskChange::Lease(lease.clone()), now);
    let leased = leased.await.unwrap().unwrap();
    assert_eq!((leased.revision, leased.lease), (0, Some(lease)));
    let cancel = TaskChange::Finish {
        status: TaskStatus::Cancelled,
        outcome: None,
        message: Some("cancelled".into()),
    };
    let cancelled = store.update("r", cancel, now).await.unwrap().unwrap();
    assert_eq!(
        (cancelled.status, cancelled.revision),
        (TaskStatus::Cancelled, 1)
    );
    assert_eq!(cancelled.lease, None, "a finished task holds no lease");
    let late = TaskChange::Finish {
        status: TaskStatus::Completed,
        outcome: Some(TaskOutcome::Answer(JsonObject::new())),
        message: None,
    };
    let after = store.update("r", late, now).await.unwrap().unwrap();
    assert_eq!((after.status, after.revision), (TaskStatus::Cancelled, 1));
    assert_eq!(store.get("r").await.unwrap(), Some(after));
}

/// Changes made at the same time are each applied once, none lost: the store applies each
/// atomically.
pub async fn concurrent_changes_are_each_applied_once(store: &dyn TaskStore) {
    const ASKS: usize = 16;
    store.create(record("busy", "", None)).await.unwrap();
    let now = SystemTime::now();
    let asks = (0..ASKS).map(|n| {
        let change = TaskChange::Ask {
            key: format!("k{n}"),
            request: InputRequest {
                method: "elicitation/create".into(),
                params: JsonObject::new(),
            },
        };
        store.update("busy", change, now)
    });
    for done in bounded("concurrent changes", futures_util::future::join_all(asks)).await {
        assert!(done.unwrap().is_some());
    }
    let record = store.get("busy").await.unwrap().unwrap();
    assert_eq!(record.revision, ASKS as u64);
    assert_eq!(record.input_requests.len(), ASKS);
    let answers: BTreeMap<String, JsonObject> = (0..ASKS)
        .map(|n| (format!("k{n}"), JsonObject::new()))
        .collect();
    let answered = store.update("busy", TaskChange::Answer(answers), now);
    let answered = answered.await.unwrap().unwrap();
    assert_eq!(answered.status, TaskStatus::Working);
    assert_eq!(answered.answers.len(), ASKS);
}

/// A task whose time to live passed is not read or listed, even before a sweep.
pub async fn an_expired_task_is_neither_read_nor_listed(store: &dyn TaskStore) {
    let mut old = record("old", "o", Some(Duration::from_secs(1)));
    old.created_at -= Duration::from_secs(2);
    store.create(old).await.unwrap();
    store.create(record("new", "o", None)).await.unwrap();
    assert!(store.get("old").await.unwrap().is_none());
    assert_eq!(ids(store.list("o", None, 10).await.unwrap()), ["new"]);
}
