//! The Stata settings of a server's command line and environment ([`StataArgs`], a clap
//! argument group to flatten into any parser), checked when the server starts: the working
//! directory exists and is writable, the jobs directory can be made and written, the timeout is a
//! number, the Slurm commands are there when the Slurm backend is chosen, the Stata executable
//! exists and is executable (found, not run). An empty value (`STATA_PATH=` in a launcher's
//! configuration) means the setting is not set.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{StataConfig, unique_token};
use crate::backend::Backend;
use crate::locate::Locator;
use crate::slurm::SlurmConfig;
use crate::tools::ToolsConfig;

// ANCHOR: args
/// The Stata settings of `mcp-stata` (each also from its environment variable; an empty value
/// means unset).
#[derive(Clone, Debug, Default, clap::Args)]
pub struct StataArgs {
    /// The Stata executable (`stata-mp`, `stata-se`, `stata`, `StataMP-64.exe`, ...), or its
    /// directory. Default: the usual install locations, then `PATH`.
    #[arg(long, env = "STATA_PATH", value_name = "PATH")]
    pub stata: Option<String>,
    /// Where code runs and sessions start, and what relative paths are relative to; it must
    /// exist and be writable. Default: the current directory.
    #[arg(long, env = "MCP_STATA_WORKDIR", value_name = "DIR")]
    pub workdir: Option<String>,
    /// Stop any call after this many seconds, unless the call sets its own timeout.
    #[arg(long, env = "MCP_STATA_TIMEOUT", value_name = "SECONDS")]
    pub timeout: Option<String>,
    /// Where each run gets its own directory (with its log); created if missing. With the
    /// Slurm backend it must be on a filesystem the cluster's nodes share. Default: `mcp-stata`
    /// in the temporary directory.
    #[arg(long, env = "MCP_STATA_JOBS_DIR", value_name = "DIR")]
    pub jobs_dir: Option<String>,
    /// Where batch runs go: `local` (Stata on this machine) or `slurm` (`sbatch` to a Slurm
    /// cluster). Sessions always run here. Default: `local`.
    #[arg(long, env = "MCP_STATA_BACKEND", value_name = "local|slurm")]
    pub backend: Option<String>,
    /// The Slurm partition to submit to. Default: the cluster's default partition.
    #[arg(long, env = "MCP_STATA_SLURM_PARTITION", value_name = "NAME")]
    pub slurm_partition: Option<String>,
    /// How often to ask Slurm where a job stands, in seconds. Default: 1.
    #[arg(long, env = "MCP_STATA_SLURM_POLL", value_name = "SECONDS")]
    pub slurm_poll: Option<String>,
    /// One more `sbatch` option, as one argument (`--sbatch-arg=--time=2:00:00`); repeat it for
    /// more. In the environment, options separated by spaces.
    #[arg(
        long = "sbatch-arg",
        env = "MCP_STATA_SBATCH_ARGS",
        value_name = "OPTION",
        allow_hyphen_values = true,
        value_delimiter = ' '
    )]
    pub sbatch_args: Vec<String>,
    /// At most this many bytes of text in one result; the log's tail is cut to fit (the whole
    /// log stays on disk). Default: 262144 (256 KiB).
    #[arg(long, env = "MCP_STATA_MAX_RESULT_BYTES", value_name = "BYTES")]
    pub max_result_bytes: Option<String>,
}
// ANCHOR_END: args

/// A setting the server cannot start with.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The working directory is missing, not a directory, or not writable.
    #[error("--workdir (MCP_STATA_WORKDIR) {}: {problem}", .path.display())]
    Workdir {
        /// The directory.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// The jobs directory cannot be made or written.
    #[error("--jobs-dir (MCP_STATA_JOBS_DIR) {}: {problem}", .path.display())]
    JobsDir {
        /// The directory.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// A value that is not what the setting takes.
    #[error("{setting}: {value:?} {problem}")]
    Invalid {
        /// The setting (`--timeout (MCP_STATA_TIMEOUT)`).
        setting: &'static str,
        /// Its value.
        value: String,
        /// What it should be.
        problem: &'static str,
    },
    /// The Slurm backend cannot work here.
    #[error("--backend slurm: {0}")]
    Slurm(String),
}

/// `value` unless it is empty (or only blanks).
fn set(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl StataArgs {
    /// The tools' settings, checked: an error names the setting and what is wrong. A Stata
    /// that cannot be found is not an error here: the server starts, and every call explains
    /// where it looked and how to set `STATA_PATH`.
    pub fn tools_config(&self) -> Result<ToolsConfig, StartupError> {
        let workdir = set(&self.workdir).map(PathBuf::from);
        if let Some(dir) = &workdir {
            check_workdir(dir)?;
        }
        let timeout = set(&self.timeout)
            .map(|text| parse_seconds("--timeout (MCP_STATA_TIMEOUT)", text))
            .transpose()?;
        let max_result_bytes = set(&self.max_result_bytes)
            .map(|text| {
                text.parse::<usize>()
                    .ok()
                    .filter(|&n| n >= 4096)
                    .ok_or_else(|| StartupError::Invalid {
                        setting: "--max-result-bytes (MCP_STATA_MAX_RESULT_BYTES)",
                        value: text.to_owned(),
                        problem: "is not a number of bytes of at least 4096",
                    })
            })
            .transpose()?;
        let backend = self.backend()?;
        let mut locator = Locator::from_env();
        locator.stata_path = set(&self.stata).map(Into::into);
        let jobs_dir = set(&self.jobs_dir).map(PathBuf::from);
        let mut config = match locator.locate() {
            Ok(executable) => {
                tracing::info!(path = %executable.path.display(), edition = %executable.edition, "found Stata");
                let mut stata = StataConfig::new(executable);
                if let Some(dir) = &jobs_dir {
                    stata.jobs_dir = dir.clone();
                }
                check_jobs_dir(&stata.jobs_dir)?;
                ToolsConfig::new(stata)
            }
            Err(error) => {
                tracing::warn!("{error}");
                tracing::warn!("serving anyway: every tool call will answer with this error");
                ToolsConfig::unavailable(error)
            }
        };
        config.working_dir = workdir;
        config.timeout = timeout;
        if let Some(bytes) = max_result_bytes {
            config.max_result_bytes = bytes;
        }
        config.backend = backend;
        Ok(config)
    }

    /// The backend the settings choose, its commands checked.
    pub fn backend(&self) -> Result<Backend, StartupError> {
        match set(&self.backend) {
            None | Some("local") => Ok(Backend::Local),
            Some("slurm") => {
                let defaults = SlurmConfig::default();
                let poll = set(&self.slurm_poll)
                    .map(|text| parse_seconds("--slurm-poll (MCP_STATA_SLURM_POLL)", text))
                    .transpose()?
                    .unwrap_or(defaults.poll);
                let slurm = SlurmConfig {
                    partition: set(&self.slurm_partition).map(str::to_owned),
                    poll,
                    sbatch_args: self
                        .sbatch_args
                        .iter()
                        .map(|a| a.trim())
                        .filter(|a| !a.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    ..defaults
                };
                slurm.check().map_err(StartupError::Slurm)?;
                Ok(Backend::Slurm(slurm))
            }
            Some(other) => Err(StartupError::Invalid {
                setting: "--backend (MCP_STATA_BACKEND)",
                value: other.to_owned(),
                problem: "is not a backend: use local or slurm",
            }),
        }
    }
}

/// A positive number of seconds.
pub fn parse_seconds(setting: &'static str, text: &str) -> Result<Duration, StartupError> {
    let invalid = || StartupError::Invalid {
        setting,
        value: text.to_owned(),
        problem: "is not a positive number of seconds",
    };
    let seconds: f64 = text.trim().parse().map_err(|_| invalid())?;
    if seconds <= 0.0 || !seconds.is_finite() {
        return Err(invalid());
    }
    Duration::try_from_secs_f64(seconds).map_err(|_| invalid())
}

/// Whether a file can be made in `dir` (made and removed at once).
fn writable(dir: &Path) -> Result<(), std::io::Error> {
    let probe = dir.join(format!(".mcp-stata-probe-{}", unique_token()));
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(&probe)
}

/// The working directory must exist, be a directory and be writable (Stata writes graphs and
/// data there).
pub fn check_workdir(dir: &Path) -> Result<(), StartupError> {
    let problem = |problem: String| StartupError::Workdir {
        path: dir.to_path_buf(),
        problem,
    };
    match std::fs::metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(problem("no such directory".to_owned()));
        }
        Err(e) => return Err(problem(e.to_string())),
        Ok(meta) if !meta.is_dir() => return Err(problem("not a directory".to_owned())),
        Ok(_) => {}
    }
    writable(dir).map_err(|e| problem(format!("not writable ({e})")))
}

/// The jobs directory is made if missing, and must be writable.
pub fn check_jobs_dir(dir: &Path) -> Result<(), StartupError> {
    let problem = |problem: String| StartupError::JobsDir {
        path: dir.to_path_buf(),
        problem,
    };
    std::fs::create_dir_all(dir).map_err(|e| problem(format!("cannot be made ({e})")))?;
    writable(dir).map_err(|e| problem(format!("not writable ({e})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_are_unset_and_bad_ones_are_named() {
        let args = StataArgs {
            timeout: Some(String::new()),
            workdir: Some("  ".to_owned()),
            backend: Some(String::new()),
            ..StataArgs::default()
        };
        assert!(matches!(args.backend(), Ok(Backend::Local)));
        assert_eq!(set(&args.timeout), None);
        let e = parse_seconds("--timeout (MCP_STATA_TIMEOUT)", "soon").unwrap_err();
        assert_eq!(
            e.to_string(),
            "--timeout (MCP_STATA_TIMEOUT): \"soon\" is not a positive number of seconds"
        );
        assert!(parse_seconds("t", "-1").is_err());
        assert_eq!(
            parse_seconds("t", "1.5").unwrap(),
            Duration::from_millis(1500)
        );
        let bad = StataArgs {
            backend: Some("pbs".to_owned()),
            ..StataArgs::default()
        };
        assert!(
            bad.backend()
                .unwrap_err()
                .to_string()
                .contains("use local or slurm")
        );
    }

    #[test]
    fn directories_are_checked() {
        let tmp = tempfile::tempdir().unwrap();
        let missing = tmp.path().join("missing");
        let e = check_workdir(&missing).unwrap_err().to_string();
        assert!(e.ends_with("missing: no such directory"), "{e}");
        let file = tmp.path().join("file");
        std::fs::write(&file, b"").unwrap();
        assert!(
            check_workdir(&file)
                .unwrap_err()
                .to_string()
                .ends_with("not a directory")
        );
        check_workdir(tmp.path()).unwrap();
        check_jobs_dir(&tmp.path().join("jobs/deep")).unwrap();
        assert!(check_jobs_dir(&file.join("sub")).is_err());
    }
}
