//! What a task is in storage ([`TaskRecord`]), the changes the server makes to it
//! ([`TaskChange`]), and the trait a store implements ([`TaskStore`]).
//!
//! The rules of a change live in [`TaskRecord::apply`], not in the stores: a store only has
//! to apply a change atomically (the memory store under a lock; a shared store with an
//! optimistic transaction or a server-side script) and wake whoever waits on the task.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{ErrorCode, RpcError};
use crate::jsonrpc::JsonObject;
use crate::protocol::InputRequest;
use crate::tool::BoxFuture;

/// Where a task is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Running.
    Working,
    /// Waiting for the client's answer to one of its requests.
    InputRequired,
    /// Finished with a result.
    Completed,
    /// Finished with a JSON-RPC error (and, in the 2025-11-25 era, a tool error result).
    Failed,
    /// Cancelled before it finished.
    Cancelled,
}

impl TaskStatus {
    /// Whether the task is over: completed, failed or cancelled.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            TaskStatus::Completed | TaskStatus::Failed | TaskStatus::Cancelled
        )
    }

    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Working => "working",
            TaskStatus::InputRequired => "input_required",
            TaskStatus::Completed => "completed",
            TaskStatus::Failed => "failed",
            TaskStatus::Cancelled => "cancelled",
        }
    }
}

/// A JSON-RPC error kept as a task's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskError {
    /// The JSON-RPC code.
    pub code: i64,
    /// The message.
    pub message: String,
    /// Extra data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl From<RpcError> for TaskError {
    fn from(e: RpcError) -> Self {
        TaskError {
            code: e.code.0,
            message: e.message,
            data: e.data,
        }
    }
}

impl From<TaskError> for RpcError {
    fn from(e: TaskError) -> Self {
        RpcError {
            code: ErrorCode(e.code),
            message: e.message,
            data: e.data,
        }
    }
}

/// How a task ended: what its request would have answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskOutcome {
    /// The request's result (for `tools/call`, a `CallToolResult`, `isError` or not).
    Answer(JsonObject),
    /// A JSON-RPC error.
    Error(TaskError),
}

/// Who runs a task, until when: a replica renews its lease while the task runs. A task
/// whose lease lapsed has lost its runner (the replica died): [`TaskStore::sweep`] fails it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// The runner's name (one per server process).
    pub holder: String,
    /// When the lease lapses unless renewed.
    pub expires_at: SystemTime,
}

/// One task as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TaskRecord {
    /// The unguessable id the client holds.
    pub task_id: String,
    /// Whose task it is: only requests of the same scope (session, or authenticated
    /// identity) may read, await or cancel it. Empty: anyone holding the id.
    pub owner: String,
    /// The request it runs (`tools/call`).
    pub method: String,
    /// Whether it was created in the 2026-07-28 era (the tasks extension's wire shapes).
    pub modern: bool,
    /// Its status.
    pub status: TaskStatus,
    /// What the tool last said about its work (its last yield).
    pub status_message: Option<String>,
    /// Creation time.
    pub created_at: SystemTime,
    /// Last change of the status or status message.
    pub last_updated_at: SystemTime,
    /// How long after creation the task may be deleted; `None`: kept until the server stops.
    pub ttl_ms: Option<u64>,
    /// The poll interval suggested to clients.
    pub poll_interval_ms: u64,
    /// The outcome, once terminal (none for a cancelled task).
    pub outcome: Option<TaskOutcome>,
    /// Requests to the client waiting for an answer (2026-07-28), by key.
    pub input_requests: BTreeMap<String, InputRequest>,
    /// Answers received and not yet taken by the runner, by key.
    pub answers: BTreeMap<String, JsonObject>,
    /// Every key ever asked, so that a key is never reused and a late answer is ignored.
    pub asked: Vec<String>,
    /// Whether the client asked to cancel: the runner stops when it sees this.
    pub cancel_requested: bool,
    /// The runner's lease.
    pub lease: Option<Lease>,
    /// Incremented by every change: waiters compare it.
    pub revision: u64,
}

impl TaskRecord {
    /// A new working task.
    pub fn new(
        task_id: String,
        owner: String,
        method: &str,
        modern: bool,
        ttl: Option<Duration>,
        poll_interval: Duration,
        now: SystemTime,
    ) -> Self {
        TaskRecord {
            task_id,
            owner,
            method: method.to_owned(),
            modern,
            status: TaskStatus::Working,
            status_message: None,
            created_at: now,
            last_updated_at: now,
            ttl_ms: ttl.map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX)),
            poll_interval_ms: u64::try_from(poll_interval.as_millis()).unwrap_or(u64::MAX),
            outcome: None,
            input_requests: BTreeMap::new(),
            answers: BTreeMap::new(),
            asked: Vec::new(),
            cancel_requested: false,
            lease: None,
            revision: 0,
        }
    }

    /// Whether the task's time to live has passed at `now`.
    pub fn expired(&self, now: SystemTime) -> bool {
        self.ttl_ms.is_some_and(|ttl| {
            self.created_at
                .checked_add(Duration::from_millis(ttl))
                .is_some_and(|end| end <= now)
        })
    }

    /// Applies `change` at `now`; returns whether anything changed (and bumps the revision
    /// if so). A terminal task changes no more: the first outcome wins, so a cancelled task
    /// stays cancelled when its work ends anyway.
    pub fn apply(&mut self, change: TaskChange, now: SystemTime) -> bool {
        let changed = match change {
            TaskChange::Lease(lease) => {
                // A lease is not a state change: no revision bump, no wake-up.
                if !self.status.is_terminal() {
                    self.lease = Some(lease);
                }
                return false;
            }
            _ if self.status.is_terminal() => false,
            TaskChange::Message(message) => {
                let changed = self.status_message != message;
                self.status_message = message;
                changed
            }
            TaskChange::Ask { key, request } => {
                if self.asked.contains(&key) {
                    false
                } else {
                    self.asked.push(key.clone());
                    self.input_requests.insert(key, request);
                    self.status = TaskStatus::InputRequired;
                    true
                }
            }
            TaskChange::Answer(responses) => {
                let mut any = false;
                for (key, answer) in responses {
                    if self.input_requests.remove(&key).is_some() {
                        self.answers.insert(key, answer);
                        any = true;
                    }
                }
                if any && self.input_requests.is_empty() {
                    self.status = TaskStatus::Working;
                }
                any
            }
            TaskChange::Take(key) => self.answers.remove(&key).is_some(),
            TaskChange::Status(status) if status.is_terminal() => false,
            TaskChange::Status(status) => {
                let changed = self.status != status;
                self.status = status;
                changed
            }
            TaskChange::Finish {
                status,
                outcome,
                message,
            } => {
                if !status.is_terminal() {
                    return false;
                }
                self.status = status;
                self.outcome = outcome;
                if message.is_some() {
                    self.status_message = message;
                }
                self.input_requests.clear();
                self.lease = None;
                true
            }
            TaskChange::RequestCancel => {
                let changed = !self.cancel_requested;
                self.cancel_requested = true;
                changed
            }
        };
        if changed {
            self.last_updated_at = now;
            self.revision += 1;
        }
        changed
    }
}

impl TaskRecord {
    /// Fails the task if its runner's lease lapsed at `now` while it was unfinished (its
    /// replica died); returns whether it did. What every store's [`TaskStore::sweep`] does.
    pub fn fail_if_orphaned(&mut self, now: SystemTime) -> bool {
        let lapsed = self
            .lease
            .as_ref()
            .is_some_and(|lease| lease.expires_at <= now);
        if !lapsed || self.status.is_terminal() {
            return false;
        }
        let change = TaskChange::Finish {
            status: TaskStatus::Failed,
            outcome: Some(orphaned_outcome()),
            message: Some("the server running this task stopped".into()),
        };
        self.apply(change, now)
    }
}

/// A change to a task (see [`TaskRecord::apply`] for the rules).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum TaskChange {
    /// A new status message (what the tool yielded).
    Message(Option<String>),
    /// The runner asks the client (2026-07-28): a new input request; the task waits for input.
    Ask {
        /// The request's key, unique over the task's life.
        key: String,
        /// The request.
        request: InputRequest,
    },
    /// The client's answers (`tasks/update`); those to keys not outstanding are ignored.
    Answer(BTreeMap<String, JsonObject>),
    /// The runner took the answer under this key.
    Take(String),
    /// A non-terminal status (working, or input required while a 2025-era request to the
    /// client is out).
    Status(TaskStatus),
    /// The task ends.
    Finish {
        /// A terminal status.
        status: TaskStatus,
        /// The outcome (none for a cancelled task).
        outcome: Option<TaskOutcome>,
        /// A final status message, if any.
        message: Option<String>,
    },
    /// The client asked to cancel.
    RequestCancel,
    /// The runner renews its lease.
    Lease(Lease),
}

/// Why a store could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store cannot be reached.
    #[error("the task store is unavailable: {0}")]
    Unavailable(String),
    /// A task with this id exists already.
    #[error("a task with id {0} exists already")]
    Duplicate(String),
    /// What the store holds cannot be read.
    #[error("the task store holds an unreadable record: {0}")]
    Corrupt(String),
}

impl From<StoreError> for RpcError {
    fn from(e: StoreError) -> Self {
        RpcError::internal(e)
    }
}

/// What one [`TaskStore::sweep`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sweep {
    /// Tasks deleted because their time to live passed.
    pub expired: Vec<String>,
    /// Tasks failed because their runner's lease lapsed.
    pub orphaned: Vec<String>,
}

/// Where tasks live: in this process ([`MemoryTaskStore`](super::MemoryTaskStore), the
/// default) or in a store replicas share.
///
/// Every method is one atomic step; the server combines them. A shared store must make
/// [`create`](Self::create) durable before it returns (the protocol requires a created
/// task to be readable at once, from any replica), apply [`update`](Self::update) with
/// [`TaskRecord::apply`] atomically, and wake [`changed`](Self::changed) waiters on every
/// replica (a cancellation reaches the replica running the task this way).
pub trait TaskStore: Send + Sync + 'static {
    /// Stores a new task.
    fn create(&self, record: TaskRecord) -> BoxFuture<Result<(), StoreError>>;

    /// The task, if it exists (and has not expired).
    fn get(&self, task_id: &str) -> BoxFuture<Result<Option<TaskRecord>, StoreError>>;

    /// Applies `change` at `now` with [`TaskRecord::apply`]; returns the task after it, or
    /// `None` if there is no such task.
    fn update(
        &self,
        task_id: &str,
        change: TaskChange,
        now: SystemTime,
    ) -> BoxFuture<Result<Option<TaskRecord>, StoreError>>;

    /// Up to `limit` tasks of `owner`, oldest first, after task `after` (a cursor).
    fn list(
        &self,
        owner: &str,
        after: Option<&str>,
        limit: usize,
    ) -> BoxFuture<Result<Vec<TaskRecord>, StoreError>>;

    /// Completes when the task's revision is past `revision`, or the task is gone.
    fn changed(&self, task_id: &str, revision: u64) -> BoxFuture<Result<(), StoreError>>;

    /// Deletes tasks whose time to live passed, and fails (`failed`, error `-32603`) the
    /// unfinished tasks whose runner's lease lapsed, at `now`.
    fn sweep(&self, now: SystemTime) -> BoxFuture<Result<Sweep, StoreError>>;
}

/// The outcome given to a task whose runner disappeared.
pub fn orphaned_outcome() -> TaskOutcome {
    TaskOutcome::Error(TaskError {
        code: ErrorCode::INTERNAL_ERROR.0,
        message: "the server running this task stopped before it finished".into(),
        data: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> TaskRecord {
        TaskRecord::new(
            "t".into(),
            String::new(),
            "tools/call",
            true,
            Some(Duration::from_secs(60)),
            Duration::from_secs(1),
            SystemTime::UNIX_EPOCH,
        )
    }

    #[test]
    fn the_first_outcome_wins() {
        let mut r = record();
        let now = SystemTime::UNIX_EPOCH;
        assert!(r.apply(
            TaskChange::Finish {
                status: TaskStatus::Cancelled,
                outcome: None,
                message: None
            },
            now
        ));
        let late = TaskChange::Finish {
            status: TaskStatus::Completed,
            outcome: Some(TaskOutcome::Answer(JsonObject::new())),
            message: None,
        };
        assert!(!r.apply(late, now));
        assert_eq!(r.status, TaskStatus::Cancelled);
        assert!(!r.apply(TaskChange::Message(Some("late".into())), now));
        assert_eq!(r.revision, 1);
    }

    #[test]
    fn answers_to_keys_not_outstanding_are_ignored_and_keys_are_never_reused() {
        let mut r = record();
        let now = SystemTime::UNIX_EPOCH;
        let ask = |key: &str| TaskChange::Ask {
            key: key.into(),
            request: InputRequest {
                method: "elicitation/create".into(),
                params: JsonObject::new(),
            },
        };
        assert!(r.apply(ask("a"), now));
        assert!(r.apply(ask("b"), now));
        assert_eq!(r.status, TaskStatus::InputRequired);
        let answer =
            |key: &str| TaskChange::Answer(BTreeMap::from([(key.into(), JsonObject::new())]));
        assert!(!r.apply(answer("never-asked"), now));
        assert!(r.apply(answer("a"), now));
        assert_eq!(
            r.status,
            TaskStatus::InputRequired,
            "b is still outstanding"
        );
        assert!(!r.apply(answer("a"), now), "a was answered already");
        assert!(r.apply(answer("b"), now));
        assert_eq!(r.status, TaskStatus::Working);
        assert!(!r.apply(ask("a"), now), "a key is never asked twice");
    }

    #[test]
    fn expiry_follows_the_time_to_live() {
        let r = record();
        assert!(!r.expired(SystemTime::UNIX_EPOCH + Duration::from_secs(59)));
        assert!(r.expired(SystemTime::UNIX_EPOCH + Duration::from_secs(60)));
    }
}
