//! [`MemoryTaskStore`]: tasks in this process's memory (the default store).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::SystemTime;

use tokio::sync::watch;

use super::StoreError;
#[cfg(test)]
use super::store::TaskOutcome;
use super::store::{Sweep, TaskChange, TaskRecord, TaskStatus, TaskStore, orphaned_outcome};
use crate::tool::BoxFuture;

/// Tasks kept in memory: they live as long as the server process. Right for one process;
/// replicas behind a balancer need a shared store.
#[derive(Debug, Default)]
pub struct MemoryTaskStore {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    tasks: HashMap<String, Entry>,
    /// Task ids in creation order, for listing.
    order: Vec<String>,
}

#[derive(Debug)]
struct Entry {
    record: TaskRecord,
    /// Carries the record's revision to waiters; dropped with the entry (waking them).
    revision: watch::Sender<u64>,
}

impl MemoryTaskStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryTaskStore::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many tasks the store holds (expired ones included until the next sweep).
    pub fn len(&self) -> usize {
        self.lock().tasks.len()
    }

    /// Whether the store holds no task.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn ready<T: Send + 'static>(value: T) -> BoxFuture<T> {
    Box::pin(std::future::ready(value))
}

impl TaskStore for MemoryTaskStore {
    fn create(&self, record: TaskRecord) -> BoxFuture<Result<(), StoreError>> {
        let mut state = self.lock();
        if state.tasks.contains_key(&record.task_id) {
            return ready(Err(StoreError::Duplicate(record.task_id)));
        }
        let id = record.task_id.clone();
        let (revision, _) = watch::channel(record.revision);
        state.order.push(id.clone());
        state.tasks.insert(id, Entry { record, revision });
        ready(Ok(()))
    }

    fn get(&self, task_id: &str) -> BoxFuture<Result<Option<TaskRecord>, StoreError>> {
        let now = SystemTime::now();
        let state = self.lock();
        let record = state
            .tasks
            .get(task_id)
            .map(|e| &e.record)
            .filter(|r| !r.expired(now))
            .cloned();
        ready(Ok(record))
    }

    fn update(
        &self,
        task_id: &str,
        change: TaskChange,
        now: SystemTime,
    ) -> BoxFuture<Result<Option<TaskRecord>, StoreError>> {
        let mut state = self.lock();
        let Some(entry) = state.tasks.get_mut(task_id) else {
            return ready(Ok(None));
        };
        if entry.record.apply(change, now) {
            entry.revision.send_replace(entry.record.revision);
        }
        ready(Ok(Some(entry.record.clone())))
    }

    fn list(
        &self,
        owner: &str,
        after: Option<&str>,
        limit: usize,
    ) -> BoxFuture<Result<Vec<TaskRecord>, StoreError>> {
        let now = SystemTime::now();
        let state = self.lock();
        let start = match after {
            None => 0,
            Some(cursor) => match state.order.iter().position(|id| id == cursor) {
                Some(i) => i + 1,
                None => return ready(Ok(Vec::new())),
            },
        };
        let page = state.order[start..]
            .iter()
            .filter_map(|id| state.tasks.get(id))
            .map(|e| &e.record)
            .filter(|r| r.owner == owner && !r.expired(now))
            .take(limit)
            .cloned()
            .collect();
        ready(Ok(page))
    }

    fn changed(&self, task_id: &str, revision: u64) -> BoxFuture<Result<(), StoreError>> {
        let rx = self
            .lock()
            .tasks
            .get(task_id)
            .map(|e| e.revision.subscribe());
        Box::pin(async move {
            if let Some(mut rx) = rx {
                // An error means the task was removed: that is a change too.
                let _ = rx.wait_for(|r| *r > revision).await;
            }
            Ok(())
        })
    }

    fn sweep(&self, now: SystemTime) -> BoxFuture<Result<Sweep, StoreError>> {
        let mut state = self.lock();
        let mut sweep = Sweep::default();
        for entry in state.tasks.values_mut() {
            let record = &mut entry.record;
            let lapsed = record
                .lease
                .as_ref()
                .is_some_and(|lease| lease.expires_at <= now);
            if lapsed && !record.status.is_terminal() {
                let change = TaskChange::Finish {
                    status: TaskStatus::Failed,
                    outcome: Some(orphaned_outcome()),
                    message: Some("the server running this task stopped".into()),
                };
                if record.apply(change, now) {
                    entry.revision.send_replace(record.revision);
                    sweep.orphaned.push(record.task_id.clone());
                }
            }
        }
        let expired: Vec<String> = state
            .tasks
            .values()
            .filter(|e| e.record.expired(now))
            .map(|e| e.record.task_id.clone())
            .collect();
        for id in &expired {
            state.tasks.remove(id);
        }
        state.order.retain(|id| !expired.contains(id));
        sweep.expired = expired;
        ready(Ok(sweep))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::task::Lease;

    /// Whether an outcome is a tool result (rather than a JSON-RPC error).
    fn is_result(outcome: &TaskOutcome) -> bool {
        matches!(outcome, TaskOutcome::Answer(_))
    }

    fn record(id: &str, owner: &str, ttl: Option<Duration>) -> TaskRecord {
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

    #[tokio::test]
    async fn a_waiter_wakes_on_a_change_and_on_removal() {
        let store = MemoryTaskStore::new();
        store.create(record("a", "", None)).await.unwrap();
        let wait = store.changed("a", 0);
        let change = TaskChange::Message(Some("half way".into()));
        let after = store.update("a", change, SystemTime::now()).await.unwrap();
        assert_eq!(after.unwrap().revision, 1);
        wait.await.unwrap();
        // Already past: completes at once.
        store.changed("a", 0).await.unwrap();
        // Unknown task: completes at once.
        store.changed("nope", 0).await.unwrap();
    }

    #[tokio::test]
    async fn listing_is_by_owner_in_creation_order_with_a_cursor() {
        let store = MemoryTaskStore::new();
        for (id, owner) in [("1", "x"), ("2", "y"), ("3", "x"), ("4", "x")] {
            store.create(record(id, owner, None)).await.unwrap();
        }
        let ids = |v: Vec<TaskRecord>| v.into_iter().map(|r| r.task_id).collect::<Vec<_>>();
        assert_eq!(ids(store.list("x", None, 2).await.unwrap()), ["1", "3"]);
        assert_eq!(ids(store.list("x", Some("3"), 2).await.unwrap()), ["4"]);
        assert_eq!(ids(store.list("y", None, 10).await.unwrap()), ["2"]);
        assert!(store.create(record("1", "x", None)).await.is_err());
    }

    #[tokio::test]
    async fn a_sweep_deletes_expired_tasks_and_fails_orphaned_ones() {
        let store = MemoryTaskStore::new();
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
        assert!(orphan.outcome.as_ref().is_some_and(|o| !is_result(o)));
    }
}
