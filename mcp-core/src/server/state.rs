//! State one session shares with the contexts of its requests.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::peer::Pending;
use crate::protocol::{InitializeParams, LoggingLevel, ProtocolVersion};

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
}

impl Default for SessionState {
    fn default() -> Self {
        SessionState {
            version: OnceLock::new(),
            client: OnceLock::new(),
            log_level: AtomicU8::new(LEVEL_UNSET),
            pending: Pending::default(),
        }
    }
}

impl SessionState {
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
