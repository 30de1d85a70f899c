//! The named persistent sessions of [`StataTools`](super::StataTools): started on first use,
//! listed, broken into, closed.

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use schemars::JsonSchema;
use serde::Serialize;
use tokio::sync::OnceCell;

use super::error::ToolError;
use crate::process::ExitInfo;
use crate::session::{ConsoleSession, SessionError};

/// One open session.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) console: ConsoleSession,
    working_dir: PathBuf,
    started: Instant,
    commands: AtomicU64,
    running: AtomicUsize,
}

/// Marks a session busy while a call runs code in it.
pub(crate) struct Busy(Arc<Session>);

impl Session {
    /// Counts a call that runs code in the session, until the returned guard is dropped.
    pub(crate) fn busy(self: &Arc<Self>) -> Busy {
        self.commands.fetch_add(1, Ordering::SeqCst);
        self.running.fetch_add(1, Ordering::SeqCst);
        Busy(Arc::clone(self))
    }

    /// Whether a call is running (or waiting to run) code in the session.
    pub(crate) fn is_busy(&self) -> bool {
        self.running.load(Ordering::SeqCst) > 0
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What `stata_list_sessions` tells about one session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct SessionInfo {
    /// The session's name.
    pub name: String,
    /// The pid of its Stata process.
    pub pid: Option<u32>,
    /// The directory it started in.
    pub working_dir: String,
    /// How many calls have run code in it.
    pub calls: u64,
    /// Whether a call is running code in it now.
    pub busy: bool,
    /// Seconds since it started.
    pub age_seconds: u64,
}

type Slot = Arc<OnceCell<Arc<Session>>>;

/// The sessions by name.
#[derive(Debug)]
pub(crate) struct Sessions {
    slots: Mutex<HashMap<String, Slot>>,
    max: usize,
}

impl Sessions {
    pub(crate) fn new(max: usize) -> Sessions {
        Sessions {
            slots: Mutex::new(HashMap::new()),
            max,
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Slot>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The session `name`, started with `start` if it is not open. Two calls that start the
    /// same name at once share one start.
    pub(crate) async fn get_or_start<F>(
        &self,
        name: &str,
        working_dir: PathBuf,
        start: F,
    ) -> Result<Arc<Session>, ToolError>
    where
        F: Future<Output = Result<ConsoleSession, SessionError>>,
    {
        let slot = {
            let mut slots = self.lock();
            match slots.get(name) {
                Some(slot) => Arc::clone(slot),
                None => {
                    if slots.len() >= self.max {
                        return Err(ToolError::TooManySessions {
                            name: name.to_owned(),
                            max: self.max,
                        });
                    }
                    let slot = Slot::default();
                    slots.insert(name.to_owned(), Arc::clone(&slot));
                    slot
                }
            }
        };
        // If this call gives up (an error, or its future dropped while Stata starts), a slot
        // left without a session must not count against the limit.
        let mut vacate = Vacate {
            sessions: self,
            name,
            slot: Arc::clone(&slot),
            armed: true,
        };
        let session = slot
            .get_or_try_init(|| async {
                let console = start.await?;
                Ok::<_, SessionError>(Arc::new(Session {
                    console,
                    working_dir,
                    started: Instant::now(),
                    commands: AtomicU64::new(0),
                    running: AtomicUsize::new(0),
                }))
            })
            .await?;
        vacate.armed = false;
        // Another call that gave up while this one waited may have removed the slot.
        self.lock()
            .entry(name.to_owned())
            .or_insert_with(|| Arc::clone(&slot));
        Ok(Arc::clone(session))
    }

    /// The open session `name`.
    pub(crate) fn get(&self, name: &str) -> Result<Arc<Session>, ToolError> {
        let slots = self.lock();
        match slots.get(name).and_then(|slot| slot.get()) {
            Some(session) => Ok(Arc::clone(session)),
            None => Err(ToolError::UnknownSession {
                name: name.to_owned(),
                open: open_names(&slots),
            }),
        }
    }

    /// The open sessions, by name.
    pub(crate) fn list(&self) -> Vec<SessionInfo> {
        let slots = self.lock();
        let mut infos: Vec<SessionInfo> = slots
            .iter()
            .filter_map(|(name, slot)| {
                let s = slot.get()?;
                Some(SessionInfo {
                    name: name.clone(),
                    pid: s.console.pid(),
                    working_dir: s.working_dir.display().to_string(),
                    calls: s.commands.load(Ordering::SeqCst),
                    busy: s.is_busy(),
                    age_seconds: s.started.elapsed().as_secs(),
                })
            })
            .collect();
        infos.sort_by(|a, b| a.name.cmp(&b.name));
        infos
    }

    /// Closes `name`: breaks the command running in it, ends Stata. How Stata exited.
    pub(crate) async fn close(&self, name: &str) -> Result<Option<ExitInfo>, ToolError> {
        let session = self.get(name)?;
        self.lock().remove(name);
        session.console.interrupt();
        Ok(session.console.close().await?)
    }

    /// Closes every session.
    pub(crate) async fn close_all(&self) {
        let sessions: Vec<Arc<Session>> = self
            .lock()
            .drain()
            .filter_map(|(_, slot)| slot.get().cloned())
            .collect();
        for session in &sessions {
            session.console.interrupt();
        }
        for session in sessions {
            let _ = session.console.close().await;
        }
    }
}

/// Removes a slot that holds no session when dropped armed.
struct Vacate<'a> {
    sessions: &'a Sessions,
    name: &'a str,
    slot: Slot,
    armed: bool,
}

impl Drop for Vacate<'_> {
    fn drop(&mut self) {
        if !self.armed || self.slot.initialized() {
            return;
        }
        let mut slots = self.sessions.lock();
        if slots
            .get(self.name)
            .is_some_and(|s| Arc::ptr_eq(s, &self.slot) && !s.initialized())
        {
            slots.remove(self.name);
        }
    }
}

fn open_names(slots: &HashMap<String, Slot>) -> Vec<String> {
    let mut names: Vec<String> = slots
        .iter()
        .filter(|(_, slot)| slot.initialized())
        .map(|(name, _)| name.clone())
        .collect();
    names.sort();
    names
}
