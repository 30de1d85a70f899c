//! [`MemoryTaskStore`]: tasks in this process's memory (the default store).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::SystemTime;

use tokio::sync::watch;

use super::StoreError;
use super::store::{Sweep, TaskChange, TaskRecord, TaskStore};
use crate::sync::lock;
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
        lock(&self.state)
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
            if entry.record.fail_if_orphaned(now) {
                entry.revision.send_replace(entry.record.revision);
                sweep.orphaned.push(entry.record.task_id.clone());
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
    use super::MemoryTaskStore;
    use crate::task::store_tests as check;

    #[tokio::test]
    async fn a_waiter_wakes_on_a_change_and_on_removal() {
        check::a_waiter_wakes_on_a_change_and_on_removal(&MemoryTaskStore::new()).await;
    }

    #[tokio::test]
    async fn listing_is_by_owner_in_creation_order_with_a_cursor() {
        check::listing_is_by_owner_in_creation_order_with_a_cursor(&MemoryTaskStore::new()).await;
    }

    #[tokio::test]
    async fn a_sweep_deletes_expired_tasks_and_fails_orphaned_ones() {
        check::a_sweep_deletes_expired_tasks_and_fails_orphaned_ones(&MemoryTaskStore::new()).await;
    }

    #[tokio::test]
    async fn every_change_follows_the_records_rules() {
        check::every_change_follows_the_records_rules(&MemoryTaskStore::new()).await;
    }

    #[tokio::test]
    async fn concurrent_changes_are_each_applied_once() {
        check::concurrent_changes_are_each_applied_once(&MemoryTaskStore::new()).await;
    }

    #[tokio::test]
    async fn an_expired_task_is_neither_read_nor_listed() {
        check::an_expired_task_is_neither_read_nor_listed(&MemoryTaskStore::new()).await;
    }
}
