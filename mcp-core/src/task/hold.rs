//! Holding back a call's becoming a task: in 2026-07-28 a call that may run as a task
//! becomes one when it first reports or waits on something else; a call that holds a
//! [`TaskHold`] stays on its request meanwhile (its progress goes there, a result ends it
//! plainly, a question to the client makes it `input_required`), and becomes a task when it
//! lets go. A gateway holds while the server behind it decides whether the call is a task.

use std::sync::Arc;

use super::engine::TaskRun;

/// Keeps a call that may become a task (2026-07-28) on its request until released or
/// dropped. From [`Context::hold_task`](crate::Context::hold_task).
#[derive(Debug)]
pub struct TaskHold {
    run: Arc<TaskRun>,
}

impl TaskHold {
    pub(crate) fn new(run: Arc<TaskRun>) -> Self {
        run.holds.send_modify(|n| *n += 1);
        TaskHold { run }
    }

    /// Whether the call runs as a task already (a 2025-11-25 call always does; a
    /// 2026-07-28 call once it was let go).
    pub fn is_task(&self) -> bool {
        self.run.is_detached()
    }

    /// The task's time to live: what the caller asked, within the server's bounds (`None`:
    /// kept until deleted). A gateway asks the server behind it for the same.
    pub fn ttl(&self) -> Option<std::time::Duration> {
        self.run.ttl
    }

    /// Lets the call become a task now, as dropping the hold does.
    pub fn release(self) {}
}

impl Drop for TaskHold {
    fn drop(&mut self) {
        self.run.holds.send_modify(|n| *n = n.saturating_sub(1));
    }
}
