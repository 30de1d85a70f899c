//! Tasks: a tool call that runs detached from the request that started it, so that it
//! outlives the stream, the connection and the client that made it.
//!
//! Both eras are served from one engine:
//!
//! - **2025-11-25** (experimental core tasks): the client adds `task: {ttl}` to `tools/call`
//!   for a tool whose `execution.taskSupport` is `optional` or `required`, gets
//!   `{task: {...}}` at once, and then uses `tasks/get`, `tasks/result` (waits for the end),
//!   `tasks/list` and `tasks/cancel`. The tool's yields become the task's status message and
//!   `notifications/progress` for the call's token (on the session's stream of unrelated
//!   messages); its requests to the client (elicitation, sampling) carry the
//!   `io.modelcontextprotocol/related-task` `_meta` while the task shows `input_required`.
//! - **2026-07-28** (the `io.modelcontextprotocol/tasks` extension, SEP-2663): a client that
//!   declares the extension in a request's capabilities may get `resultType: "task"` from
//!   `tools/call` of a tool with task support. The server decides: a call that finishes, or
//!   asks the client for input, before it yields or waits on anything else is answered on the
//!   request itself (a plain result, or a multi round-trip `input_required` result); one that
//!   goes on becomes a task. `tasks/get` inlines the result, error or input requests;
//!   `tasks/update` answers input requests; `tasks/cancel` acknowledges.
//!
//! A tool needs no change to run as a task: what it yields becomes the status message, its
//! return value the result (or, from [`Tool::call_or_error`](crate::Tool::call_or_error), its
//! JSON-RPC error: the task fails with it), and a question to the client `input_required`. A
//! tool that forwards to another server holds the decision with [`TaskHold`] until that
//! server made its own.
//!
//! Tasks live in a [`TaskStore`]: [`MemoryTaskStore`] by default. A task is scoped to its
//! caller (the session in the 2025 era); a request from another scope gets "task not
//! found", as for an id that never existed.

mod engine;
mod hold;
mod memory;
mod store;
#[cfg(any(test, feature = "store-tests"))]
pub mod store_tests;
mod wire;

pub use engine::TaskConfig;
pub(crate) use engine::{
    TaskEngine, TaskRun, call_as_task, declares_extension, follow, handle, missing_extension,
    owned, task_mode,
};
pub use hold::TaskHold;
pub use memory::MemoryTaskStore;
pub use store::{
    Lease, StoreError, Sweep, TaskChange, TaskError, TaskOutcome, TaskRecord, TaskStatus,
    TaskStore, orphaned_outcome,
};
pub(crate) use wire::related_task_meta as related_meta;

/// The identifier of the 2026-07-28 tasks extension.
pub const TASKS_EXTENSION: &str = "io.modelcontextprotocol/tasks";

/// The `_meta` key naming the task a message belongs to (2025-11-25).
pub const RELATED_TASK_KEY: &str = "io.modelcontextprotocol/related-task";
