//! State one session shares with the contexts of its requests.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock};

use crate::jsonrpc::Notification;
use crate::peer::Pending;
use crate::protocol::{InitializeParams, LoggingLevel, ProtocolVersion};
use crate::sync::lock;
use crate::transport::Outbox;

/// No level set: every message goes out.
const LEVEL_UNSET: u8 = u8::MAX;

/// Per-session state: negotiated version, the client's identity, its log level, and the
/// requests the server sent to the client.
#[derive(Debug)]
pub(crate) struct SessionState {
    version: OnceLock<ProtocolVersion>,
    client: OnceLock<InitializeParams>,
    log_level: AtomicU8,
    pub(crate) pending: Pending,
    subscriptions: Mutex<HashSet<String>>,
    notify: Option<Outbox>,
    /// An unguessable name for the session's tasks (made when first needed).
    task_scope: OnceLock<String>,
}

impl Default for SessionState {
    fn default() -> Self {
        SessionState {
            version: OnceLock::new(),
            client: OnceLock::new(),
            log_level: AtomicU8::new(LEVEL_UNSET),
            pending: Pending::default(),
            subscriptions: Mutex::new(HashSet::new()),
            notify: None,
            task_scope: OnceLock::new(),
        }
    }
}

impl SessionState {
    /// State whose unrelated messages go to `notify`.
    pub(crate) fn with_notify(notify: Outbox) -> Self {
        SessionState {
            notify: Some(notify),
            ..SessionState::default()
        }
    }

    /// Where messages that belong to no request go.
    pub(crate) fn notify_outbox(&self) -> Option<&Outbox> {
        self.notify.as_ref()
    }

    /// The name of this session's tasks: random, so that a later session never sees them.
    pub(crate) fn task_scope(&self) -> &str {
        self.task_scope.get_or_init(|| {
            let mut raw = [0u8; 16];
            if getrandom::fill(&mut raw).is_err() {
                // Without entropy, a name no other session can share: this state's address
                // plus a process-wide counter.
                static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
                let n = NEXT.fetch_add(1, Ordering::Relaxed);
                return format!("{:p}-{n}", self as *const Self);
            }
            crate::hex::lower_hex(&raw)
        })
    }

    /// Sends a message that belongs to no request.
    pub(crate) async fn notify(&self, note: Notification) {
        if let Some(outbox) = &self.notify {
            let _ = outbox.send(note.into(), None).await;
        }
    }

    pub(crate) fn subscribe(&self, uri: String, on: bool) {
        let mut set = lock(&self.subscriptions);
        if on {
            set.insert(uri);
        } else {
            set.remove(&uri);
        }
    }

    pub(crate) fn is_subscribed(&self, uri: &str) -> bool {
        lock(&self.subscriptions).contains(uri)
    }

    pub(crate) fn protocol_version(&self) -> Option<ProtocolVersion> {
        self.version.get().copied()
    }

    /// Records the handshake; `false` if the session was already initialized.
    pub(crate) fn initialize(&self, version: ProtocolVersion, client: InitializeParams) -> bool {
        let first = self.version.set(version).is_ok();
        if first {
            let _ = self.client.set(client);
        }
        first
    }

    pub(crate) fn client(&self) -> Option<&InitializeParams> {
        self.client.get()
    }

    pub(crate) fn set_log_level(&self, level: LoggingLevel) {
        self.log_level.store(level as u8, Ordering::Relaxed);
    }

    pub(crate) fn should_log(&self, level: LoggingLevel) -> bool {
        let min = self.log_level.load(Ordering::Relaxed);
        min == LEVEL_UNSET || level as u8 >= min
    }
}
