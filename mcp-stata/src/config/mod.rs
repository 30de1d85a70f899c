//! How to run Stata: which executable, where job directories go, grace periods; and the
//! settings a server starts with ([`StataArgs`]), checked at start-up.

use std::path::PathBuf;
use std::time::Duration;

use crate::locate::{LocateError, Locator, StataExecutable};
use crate::quote::PathStyle;

mod startup;

pub use startup::{StartupError, StataArgs, check_jobs_dir, check_workdir, parse_seconds};

/// Settings shared by batch runs and console sessions.
#[derive(Clone, Debug)]
pub struct StataConfig {
    /// The Stata executable.
    pub executable: StataExecutable,
    /// Batch command-line and path style: `-b -q do` and `/` (Unix) or `/e /q do` (Windows).
    pub path_style: PathStyle,
    /// Where each run gets its own directory (default: `mcp-stata` in the temporary directory).
    pub jobs_dir: PathBuf,
    /// How long Stata gets after SIGTERM before SIGKILL (and a console after a break).
    pub kill_grace: Duration,
    /// How often the batch log is checked for new lines.
    pub poll_interval: Duration,
    /// How many of the log's last lines a finished run keeps.
    pub tail_lines: usize,
    /// Exported graphs larger than this are not read back.
    pub max_graph_bytes: u64,
    /// Extra environment variables for the Stata process (`STATATMP`, ...).
    pub env: Vec<(String, String)>,
}

impl StataConfig {
    /// Settings for `executable`, with the defaults.
    pub fn new(executable: StataExecutable) -> StataConfig {
        StataConfig {
            executable,
            path_style: PathStyle::current(),
            jobs_dir: std::env::temp_dir().join("mcp-stata"),
            kill_grace: Duration::from_secs(3),
            poll_interval: Duration::from_millis(25),
            tail_lines: 200,
            max_graph_bytes: 16 * 1024 * 1024,
            env: Vec::new(),
        }
    }

    /// Settings for the Stata found by [`Locator::from_env`] (`STATA_PATH`, the usual installs,
    /// `PATH`).
    pub fn locate() -> Result<StataConfig, LocateError> {
        Locator::from_env().locate().map(StataConfig::new)
    }
}

/// A fresh, uniquely named token (hex) for directory, file and sentinel names.
pub(crate) fn unique_token() -> String {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        bytes = (nanos as u64 ^ u64::from(std::process::id()) << 32).to_le_bytes();
    }
    format!("{:016x}", u64::from_be_bytes(bytes))
}

/// Creates a new, uniquely named directory `<prefix>-<token>` under `parent`.
pub(crate) fn create_job_dir(parent: &std::path::Path, prefix: &str) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(parent)?;
    loop {
        let dir = parent.join(format!("{prefix}-{}", unique_token()));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}
