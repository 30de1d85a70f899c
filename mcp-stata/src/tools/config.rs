//! [`ToolsConfig`]: which Stata the tools run (or why there is none), where, and for how long.

use std::path::PathBuf;
use std::time::Duration;

use super::budget::DEFAULT_MAX_RESULT_BYTES;
use crate::backend::Backend;
use crate::config::StataConfig;
use crate::locate::{LocateError, Locator};

/// The settings of [`StataTools`](super::StataTools).
///
/// ```
/// use std::time::Duration;
/// use mcp_stata::{StataConfig, StataExecutable, ToolsConfig};
///
/// let stata = StataConfig::new(StataExecutable::new("/usr/local/stata18/stata-mp"));
/// let config = ToolsConfig::new(stata)
///     .working_dir("/home/ann/project")
///     .timeout(Duration::from_secs(600));
/// assert_eq!(config.max_sessions, 8);
/// ```
#[derive(Debug)]
pub struct ToolsConfig {
    /// The Stata to run, or why none was found: then every tool answers with this error.
    pub stata: Result<StataConfig, LocateError>,
    /// Where code runs and sessions start, and what relative paths are relative to (default:
    /// the server's current directory). A do-file runs in its own directory unless the call
    /// names another.
    pub working_dir: Option<PathBuf>,
    /// How long one call may run before Stata is stopped, unless the call sets its own
    /// (default: no limit).
    pub timeout: Option<Duration>,
    /// How many persistent sessions may be open at once (default 8).
    pub max_sessions: usize,
    /// How long a new session's Stata may take to answer (default 60 s).
    pub session_startup_timeout: Duration,
    /// Exported graphs larger than this are named in the result but not attached (default
    /// 4 MiB).
    pub max_image_bytes: u64,
    /// At most this many log lines go into one progress message; lines that arrive together
    /// are sent together (default 50).
    pub lines_per_progress: usize,
    /// The text of one result (its text content and the strings of its structured content)
    /// stays under this many bytes: the log's tail is cut to fit (default 256 KiB). The full
    /// log stays on disk, at the path the result names.
    pub max_result_bytes: usize,
    /// Where batch runs go: this machine (the default) or a Slurm cluster. Sessions always run
    /// on this machine.
    pub backend: Backend,
}

impl ToolsConfig {
    /// Settings that run `stata`, with the defaults.
    pub fn new(stata: StataConfig) -> ToolsConfig {
        ToolsConfig::with_stata(Ok(stata))
    }

    /// Settings without Stata: every tool explains `error` (where the search looked, how to
    /// set `STATA_PATH`).
    pub fn unavailable(error: LocateError) -> ToolsConfig {
        ToolsConfig::with_stata(Err(error))
    }

    /// Settings for the Stata that `locator` finds, or for its error.
    pub fn from_locator(locator: &Locator) -> ToolsConfig {
        ToolsConfig::with_stata(locator.locate().map(StataConfig::new))
    }

    /// Settings for the Stata found on this machine (`STATA_PATH`, the usual installs, `PATH`).
    pub fn locate() -> ToolsConfig {
        ToolsConfig::from_locator(&Locator::from_env())
    }

    fn with_stata(stata: Result<StataConfig, LocateError>) -> ToolsConfig {
        ToolsConfig {
            stata,
            working_dir: None,
            timeout: None,
            max_sessions: 8,
            session_startup_timeout: Duration::from_secs(60),
            max_image_bytes: 4 * 1024 * 1024,
            lines_per_progress: 50,
            max_result_bytes: DEFAULT_MAX_RESULT_BYTES,
            backend: Backend::Local,
        }
    }

    /// Sets [`working_dir`](Self::working_dir).
    pub fn working_dir(mut self, dir: impl Into<PathBuf>) -> ToolsConfig {
        self.working_dir = Some(dir.into());
        self
    }

    /// Sets [`timeout`](Self::timeout).
    pub fn timeout(mut self, timeout: Duration) -> ToolsConfig {
        self.timeout = Some(timeout);
        self
    }

    /// Sets [`backend`](Self::backend).
    pub fn backend(mut self, backend: Backend) -> ToolsConfig {
        self.backend = backend;
        self
    }

    /// Sets [`max_sessions`](Self::max_sessions).
    pub fn max_sessions(mut self, n: usize) -> ToolsConfig {
        self.max_sessions = n;
        self
    }
}
