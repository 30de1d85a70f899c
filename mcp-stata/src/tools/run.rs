//! How the tools run code: in a fresh batch run or in a named session, with the call's
//! progress, timeout and cancellation; and the helpers that resolve their arguments.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use mcp_core::Context;
use tokio::time::Instant;

use super::StataTools;
use super::error::ToolError;
use super::progress::follow;
use super::report::RunInfo;
use crate::batch::BatchOptions;
use crate::config::StataConfig;
use crate::outcome::RunOutcome;
use crate::session::{ConsoleSession, SessionOptions};

/// The longest session name.
const MAX_NAME: usize = 64;

impl StataTools {
    /// The Stata to run, or the error that explains its absence.
    pub(crate) fn stata(&self) -> Result<&StataConfig, ToolError> {
        self.stata
            .as_ref()
            .map_err(|e| ToolError::NoStata(Arc::clone(e)))
    }

    /// The directory relative paths start from.
    fn base_dir(&self) -> PathBuf {
        match &self.working_dir {
            Some(dir) => dir.clone(),
            None => std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
        }
    }

    /// `path` made absolute against the working directory.
    pub(crate) fn resolve(&self, path: &str) -> PathBuf {
        let path = Path::new(path);
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.base_dir().join(path)
        }
    }

    /// The call's working directory: `dir` if given (and a directory), else the default.
    pub(crate) fn working_dir_for(&self, dir: Option<&str>) -> Result<PathBuf, ToolError> {
        let Some(dir) = dir.filter(|d| !d.trim().is_empty()) else {
            return Ok(self.base_dir());
        };
        let dir = self.resolve(dir);
        if !dir.is_dir() {
            return Err(ToolError::invalid(
                "working_dir",
                format!("{} is not a directory", dir.display()),
            ));
        }
        Ok(dir)
    }

    /// The do-file at `path`, made absolute; `.do` added to a name without an extension when
    /// only that exists (as Stata does).
    pub(crate) fn do_file(&self, path: &str) -> PathBuf {
        let mut file = self.resolve(path);
        if !file.exists() && file.extension().is_none() {
            file.set_extension("do");
        }
        file
    }

    /// The working directory a call names, if it names one (checked to be a directory).
    pub(crate) fn chosen_working_dir(
        &self,
        dir: Option<&str>,
    ) -> Result<Option<PathBuf>, ToolError> {
        match dir.filter(|d| !d.trim().is_empty()) {
            Some(dir) => Ok(Some(self.working_dir_for(Some(dir))?)),
            None => Ok(None),
        }
    }

    /// The call's timeout: `seconds` if given, else the server's.
    pub(crate) fn timeout_for(&self, seconds: Option<f64>) -> Result<Option<Duration>, ToolError> {
        match seconds {
            None => Ok(self.timeout),
            Some(s) if s > 0.0 => Duration::try_from_secs_f64(s)
                .map(Some)
                .map_err(|_| ToolError::invalid("timeout_seconds", "too large")),
            Some(_) => Err(ToolError::invalid(
                "timeout_seconds",
                "must be a positive number of seconds",
            )),
        }
    }

    /// What the report needs besides the outcome.
    pub(crate) fn info(&self, session: Option<&str>, timeout: Option<Duration>) -> RunInfo {
        RunInfo {
            session: session.map(str::to_owned),
            timeout,
            failure: None,
            max_image_bytes: self.max_image_bytes,
            max_result_bytes: self.max_result_bytes,
        }
    }

    /// Runs the do-file at `path` in a fresh batch run, streaming its log to `ctx`.
    pub(crate) async fn run_file(
        &self,
        ctx: &Context,
        path: &str,
        args: Vec<String>,
        working_dir: Option<&str>,
        timeout: Option<Duration>,
    ) -> Result<RunOutcome, ToolError> {
        let stata = self.stata()?;
        let file = self.do_file(path);
        let working_dir = self.chosen_working_dir(working_dir)?;
        let options = BatchOptions {
            working_dir,
            args,
            timeout,
        };
        let mut run = self.backend.start_file(stata, &file, options).await?;
        Ok(follow(ctx, &mut run, self.lines_per_progress).await?)
    }

    /// Runs `code` in a fresh batch run, or in the session `session` (started if needed),
    /// streaming its log to `ctx`.
    pub(crate) async fn run_code(
        &self,
        ctx: &Context,
        code: &str,
        session: Option<&str>,
        working_dir: Option<&str>,
        timeout: Option<Duration>,
    ) -> Result<RunOutcome, ToolError> {
        // The call's timeout runs from its first moment: a session's start-up counts too.
        let deadline = timeout.map(|t| Instant::now() + t);
        let stata = self.stata()?;
        let working_dir = self.working_dir_for(working_dir)?;
        let Some(name) = session else {
            let options = BatchOptions {
                working_dir: Some(working_dir),
                args: Vec::new(),
                timeout,
            };
            let mut run = self.backend.start_code(stata, code, options).await?;
            return Ok(follow(ctx, &mut run, self.lines_per_progress).await?);
        };
        let startup_timeout = match deadline {
            Some(deadline) => self
                .session_startup_timeout
                .min(deadline.saturating_duration_since(Instant::now())),
            None => self.session_startup_timeout,
        };
        let options = SessionOptions {
            working_dir: Some(working_dir.clone()),
            startup_timeout,
        };
        let start =
            self.sessions
                .get_or_start(name, working_dir, ConsoleSession::start(stata, options));
        // A start this call makes ends by itself at the deadline (and says what Stata printed);
        // this bound is for a start another call makes, which this call only waits for.
        let session = match (deadline, timeout) {
            (Some(deadline), Some(timeout)) => {
                tokio::time::timeout_at(deadline + stata.kill_grace + Duration::from_secs(5), start)
                    .await
                    .map_err(|_| ToolError::StillStarting {
                        name: name.to_owned(),
                        timeout,
                    })??
            }
            _ => start.await?,
        };
        let _busy = session.busy();
        let remaining = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let mut run = session.console.run(code, remaining).await?;
        Ok(follow(ctx, &mut run, self.lines_per_progress).await?)
    }
}

/// `name` if it can name a session.
pub(crate) fn session_name(name: Option<&str>) -> Result<Option<&str>, ToolError> {
    let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    let fine = name.len() <= MAX_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if fine {
        Ok(Some(name))
    } else {
        Err(ToolError::invalid(
            "session",
            format!("use up to {MAX_NAME} letters, digits, `_`, `-` or `.` (for example \"main\")"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::session_name;

    #[test]
    fn session_names() {
        assert_eq!(session_name(Some(" main ")).unwrap(), Some("main"));
        assert_eq!(session_name(Some("")).unwrap(), None);
        assert_eq!(session_name(None).unwrap(), None);
        assert!(session_name(Some("a b")).is_err());
        assert!(session_name(Some(&"x".repeat(65))).is_err());
    }
}
