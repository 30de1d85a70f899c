//! [`RedisTaskStore`]: the [`TaskStore`] of replicas sharing a Redis server.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mcp_core::task::{StoreError, Sweep, TaskChange, TaskRecord, TaskStore};
use mcp_core::tool::BoxFuture;
use redis::aio::ConnectionManager;

use super::{RedisStore, SharedStore as _};

/// How many times a change is retried when other replicas keep changing the same task.
const MAX_ATTEMPTS: usize = 64;
/// How long a task's key outlives its time to live when no replica sweeps it away.
const BACKSTOP: Duration = Duration::from_secs(3600);
/// How many ids a listing reads at once.
const LIST_BATCH: isize = 64;

/// Creates a task unless its id exists: the record, its place in its owner's list, and in the
/// expiry and lease indexes.
const CREATE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local n = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'rec', ARGV[1], 'ver', '0')
redis.call('ZADD', KEYS[3], n, ARGV[2])
if ARGV[3] ~= '' then redis.call('ZADD', KEYS[4], ARGV[3], ARGV[2]) end
if ARGV[4] ~= '' then redis.call('ZADD', KEYS[5], ARGV[4], ARGV[2]) end
if ARGV[5] ~= '' then redis.call('PEXPIREAT', KEYS[1], ARGV[5]) end
return 1
";

/// Writes a record if its version is still ARGV[1]; keeps the lease index in step and
/// publishes the new revision if there is one. Knows nothing of a task's rules.
const COMPARE_AND_SET: &str = r"
if redis.call('HGET', KEYS[1], 'ver') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'rec', ARGV[2], 'ver', ARGV[3])
if ARGV[4] == '' then redis.call('ZREM', KEYS[2], ARGV[5]) else redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5]) end
if ARGV[6] ~= '' then redis.call('PUBLISH', ARGV[7], ARGV[6]) end
return 1
";

/// Deletes an expired task (once, whichever replica sweeps first) and wakes its waiters.
const DROP: &str = r"
if redis.call('ZREM', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('PUBLISH', ARGV[2], 'gone')
return 1
";

const SEQ: &str = "mcp:tasks:seq";
const EXPIRY: &str = "mcp:tasks:expiry";
const LEASES: &str = "mcp:tasks:leases";

fn task_key(id: &str) -> String {
    format!("mcp:task:{id}")
}

fn owner_key(owner: &str) -> String {
    format!("mcp:tasks:owner:{owner}")
}

/// The channel announcing a task's changes.
fn task_channel(id: &str) -> String {
    format!("mcp:task:{id}")
}

fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn unavailable(e: redis::RedisError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn encode(record: &TaskRecord) -> Result<String, StoreError> {
    serde_json::to_string(record).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn decode(raw: &str) -> Result<TaskRecord, StoreError> {
    serde_json::from_str(raw).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// When a task's time to live ends, if it has one.
fn expiry(record: &TaskRecord) -> Option<SystemTime> {
    let ttl = Duration::from_millis(record.ttl_ms?);
    record.created_at.checked_add(ttl)
}

/// When its runner's lease lapses, while it is unfinished.
fn lease_end(record: &TaskRecord) -> Option<u64> {
    let lease = record.lease.as_ref()?;
    (!record.status.is_terminal()).then(|| millis(lease.expires_at))
}

fn opt(n: Option<u64>) -> String {
    n.map(|n| n.to_string()).unwrap_or_default()
}

/// Tasks in Redis, shared by every replica connected to it: a task created through one
/// replica is read, awaited, answered and cancelled through any other. Made from the
/// [`RedisStore`] the replicas already share, by [`RedisStore::task_store`].
///
/// Every change runs [`TaskRecord::apply`] (or [`TaskRecord::fail_if_orphaned`]) here, in Rust,
/// under an optimistic transaction: read the record and its version, apply, then write only if
/// the version is still the one read (a compare-and-set script that knows nothing of tasks),
/// else read again and retry. The rules of a change stay in one place, for every store.
///
/// Keys (all under `mcp:`): `task:<id>` (a hash: `rec`, the JSON record, and `ver`, its
/// version), `tasks:owner:<owner>` (the owner's task ids in creation order, for listing),
/// `tasks:expiry` and `tasks:leases` (ids by the millisecond their time to live ends, and their
/// runner's lease lapses: what a sweep looks at), `tasks:seq` (the creation counter). Every
/// change of a task's revision is published on channel `mcp:task:<id>` (its revision, or
/// `gone` when it is deleted): the waiters of every replica wake, the runner of a cancelled
/// task among them.
#[derive(Clone)]
pub struct RedisTaskStore {
    store: RedisStore,
}

impl std::fmt::Debug for RedisTaskStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisTaskStore").finish_non_exhaustive()
    }
}

impl RedisStore {
    /// The tasks store on the same Redis server (and connections).
    pub fn task_store(&self) -> RedisTaskStore {
        RedisTaskStore {
            store: self.clone(),
        }
    }
}

impl RedisTaskStore {
    fn conn(&self) -> ConnectionManager {
        self.store.connection()
    }

    /// The record and its version.
    async fn read(&self, id: &str) -> Result<Option<(TaskRecord, String)>, StoreError> {
        let mut hmget = redis::cmd("HMGET");
        hmget.arg(task_key(id)).arg("rec").arg("ver");
        // Sent again if the connection dropped under it: a waiter woken by pub/sub
        // reconnecting re-reads here, on the new connection.
        let (rec, ver): (Option<String>, Option<String>) = self
            .store
            .read(&hmget)
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        match (rec, ver) {
            (Some(rec), Some(ver)) => Ok(Some((decode(&rec)?, ver))),
            _ => Ok(None),
        }
    }

    /// Applies `change` to the task under an optimistic transaction, retried while other
    /// replicas change it in between. `change` says whether it changed anything. The task
    /// after the change and that answer, or `None` if there is no such task.
    async fn modify(
        &self,
        id: &str,
        mut change: impl FnMut(&mut TaskRecord) -> bool + Send,
    ) -> Result<Option<(TaskRecord, bool)>, StoreError> {
        for _ in 0..MAX_ATTEMPTS {
            let Some((before, version)) = self.read(id).await? else {
                return Ok(None);
            };
            let mut after = before.clone();
            let changed = change(&mut after);
            if after == before {
                return Ok(Some((after, changed)));
            }
            let next = version.parse::<u64>().unwrap_or(0) + 1;
            let news = if after.revision == before.revision {
                String::new()
            } else {
                after.revision.to_string()
            };
            let written: i64 = redis::cmd("EVAL")
                .arg(COMPARE_AND_SET)
                .arg(2)
                .arg(task_key(id))
                .arg(LEASES)
                .arg(&version)
                .arg(encode(&after)?)
                .arg(next)
                .arg(opt(lease_end(&after)))
                .arg(id)
                .arg(news)
                .arg(task_channel(id))
                .query_async(&mut self.conn())
                .await
                .map_err(unavailable)?;
            if written == 1 {
                return Ok(Some((after, changed)));
            }
        }
        Err(StoreError::Unavailable(format!(
            "task {id} kept changing under {MAX_ATTEMPTS} attempts to change it"
        )))
    }

    async fn drop_expired(&self, id: &str) -> Result<bool, StoreError> {
        let owner = match self.read(id).await? {
            Some((record, _)) => owner_key(&record.owner),
            None => String::new(),
        };
        let dropped: i64 = redis::cmd("EVAL")
            .arg(DROP)
            .arg(4)
            .arg(task_key(id))
            .arg(EXPIRY)
            .arg(LEASES)
            .arg(if owner.is_empty() {
                owner_key("")
            } else {
                owner
            })
            .arg(id)
            .arg(task_channel(id))
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(dropped == 1)
    }

    async fn due(&self, index: &str, now: SystemTime) -> Result<Vec<String>, StoreError> {
        redis::cmd("ZRANGEBYSCORE")
            .arg(index)
            .arg("-inf")
            .arg(millis(now))
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)
    }

    async fn list_page(
        &self,
        owner: String,
        after: Option<String>,
        limit: usize,
    ) -> Result<Vec<TaskRecord>, StoreError> {
        let now = SystemTime::now();
        let key = owner_key(&owner);
        let mut conn = self.conn();
        let mut start: isize = match after {
            None => 0,
            Some(cursor) => {
                let rank: Option<isize> = redis::cmd("ZRANK")
                    .arg(&key)
                    .arg(cursor)
                    .query_async(&mut conn)
                    .await
                    .map_err(unavailable)?;
                match rank {
                    Some(rank) => rank + 1,
                    None => return Ok(Vec::new()),
                }
            }
        };
        let mut page = Vec::new();
        while page.len() < limit {
            let ids: Vec<String> = redis::cmd("ZRANGE")
                .arg(&key)
                .arg(start)
                .arg(start + LIST_BATCH - 1)
                .query_async(&mut conn)
                .await
                .map_err(unavailable)?;
            if ids.is_empty() {
                break;
            }
            start += LIST_BATCH;
            let mut pipe = redis::pipe();
            for id in &ids {
                pipe.hget(task_key(id), "rec");
            }
            let records: Vec<Option<String>> =
                pipe.query_async(&mut conn).await.map_err(unavailable)?;
            for raw in records.into_iter().flatten() {
                let record = decode(&raw)?;
                if record.owner == owner && !record.expired(now) && page.len() < limit {
                    page.push(record);
                }
            }
        }
        Ok(page)
    }
}

impl TaskStore for RedisTaskStore {
    fn create(&self, record: TaskRecord) -> BoxFuture<Result<(), StoreError>> {
        let this = self.clone();
        Box::pin(async move {
            let id = record.task_id.clone();
            let ends = expiry(&record);
            let created: i64 = redis::cmd("EVAL")
                .arg(CREATE)
                .arg(5)
                .arg(task_key(&id))
                .arg(SEQ)
                .arg(owner_key(&record.owner))
                .arg(EXPIRY)
                .arg(LEASES)
                .arg(encode(&record)?)
                .arg(&id)
                .arg(opt(ends.map(millis)))
                .arg(opt(lease_end(&record)))
                .arg(opt(ends.map(|t| millis(t + BACKSTOP))))
                .query_async(&mut this.conn())
                .await
                .map_err(unavailable)?;
            if created == 1 {
                Ok(())
            } else {
                Err(StoreError::Duplicate(id))
            }
        })
    }

    fn get(&self, task_id: &str) -> BoxFuture<Result<Option<TaskRecord>, StoreError>> {
        let (this, id) = (self.clone(), task_id.to_owned());
        Box::pin(async move {
            let now = SystemTime::now();
            Ok(this
                .read(&id)
                .await?
                .map(|(record, _)| record)
                .filter(|r| !r.expired(now)))
        })
    }

    fn update(
        &self,
        task_id: &str,
        change: TaskChange,
        now: SystemTime,
    ) -> BoxFuture<Result<Option<TaskRecord>, StoreError>> {
        let (this, id) = (self.clone(), task_id.to_owned());
        Box::pin(async move {
            let modified = this
                .modify(&id, |record| record.apply(change.clone(), now))
                .await?;
            Ok(modified.map(|(record, _)| record))
        })
    }

    fn list(
        &self,
        owner: &str,
        after: Option<&str>,
        limit: usize,
    ) -> BoxFuture<Result<Vec<TaskRecord>, StoreError>> {
        let this = self.clone();
        let (owner, after) = (owner.to_owned(), after.map(str::to_owned));
        Box::pin(async move { this.list_page(owner, after, limit).await })
    }

    fn changed(&self, task_id: &str, revision: u64) -> BoxFuture<Result<(), StoreError>> {
        let (this, id) = (self.clone(), task_id.to_owned());
        Box::pin(async move {
            // Subscribed before reading: a change in between is in the read or on the channel.
            let mut subscription = this
                .store
                .subscribe(task_channel(&id))
                .await
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            match this.read(&id).await? {
                Some((record, _)) if record.revision <= revision => {}
                _ => return Ok(()),
            }
            loop {
                let Some(news) = subscription.messages.recv().await else {
                    // Pub/sub reconnected (a change may have been missed meanwhile): woken, the
                    // waiter re-reads its task and waits again on the new connection.
                    return Ok(());
                };
                let news = String::from_utf8_lossy(&news);
                if news == "gone" || news.parse::<u64>().is_ok_and(|r| r > revision) {
                    return Ok(());
                }
            }
        })
    }

    fn sweep(&self, now: SystemTime) -> BoxFuture<Result<Sweep, StoreError>> {
        let this = self.clone();
        Box::pin(async move {
            let mut sweep = Sweep::default();
            for id in this.due(LEASES, now).await? {
                let modified = this
                    .modify(&id, |record| record.fail_if_orphaned(now))
                    .await?;
                match modified {
                    Some((_, true)) => sweep.orphaned.push(id),
                    Some((_, false)) => {}
                    None => {
                        // Its key outlived every sweep (the backstop expiry): forget it.
                        let () = redis::cmd("ZREM")
                            .arg(LEASES)
                            .arg(&id)
                            .query_async(&mut this.conn())
                            .await
                            .map_err(unavailable)?;
                    }
                }
            }
            for id in this.due(EXPIRY, now).await? {
                if this.drop_expired(&id).await? {
                    sweep.expired.push(id);
                }
            }
            Ok(sweep)
        })
    }
}
