//! [`ToolError`]: why a Stata tool could not do what it was asked. Each becomes a result with
//! `isError: true` whose text says what to do about it.

use std::sync::Arc;

use crate::locate::LocateError;
use crate::outcome::RunError;
use crate::quote::QuoteError;
use crate::session::SessionError;

/// Why a tool call failed before (or instead of) producing a Stata log.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// Stata was not found when the server started.
    #[error("{0}")]
    NoStata(Arc<LocateError>),
    /// The run could not be made, or Stata failed to start.
    #[error(transparent)]
    Run(#[from] RunError),
    /// The session could not start.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// A path or value cannot be written into Stata code.
    #[error(transparent)]
    Quote(#[from] QuoteError),
    /// No session has this name.
    #[error("there is no open Stata session named {name:?} ({})", open_sessions(.open))]
    UnknownSession {
        /// The name asked for.
        name: String,
        /// The names of the open sessions.
        open: Vec<String>,
    },
    /// The session limit is reached.
    #[error(
        "cannot start the session {name:?}: {max} sessions are open already; close one with stata_close_session, or run the code without a session"
    )]
    TooManySessions {
        /// The session that was to start.
        name: String,
        /// The limit.
        max: usize,
    },
    /// The call's timeout ran out while another call was still starting the session.
    #[error(
        "the session {name:?} was still starting when this call's timeout of {} s ran out",
        timeout.as_secs_f64()
    )]
    StillStarting {
        /// The session's name.
        name: String,
        /// The call's timeout.
        timeout: std::time::Duration,
    },
    /// An argument is not acceptable.
    #[error("invalid `{argument}`: {reason}")]
    InvalidArgument {
        /// The argument's name.
        argument: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

fn open_sessions(open: &[String]) -> String {
    if open.is_empty() {
        "none is open; stata_run_code with `session` starts one".to_owned()
    } else {
        format!("open: {}", open.join(", "))
    }
}

impl ToolError {
    /// An [`InvalidArgument`](ToolError::InvalidArgument) error.
    pub(crate) fn invalid(argument: &'static str, reason: impl Into<String>) -> ToolError {
        ToolError::InvalidArgument {
            argument,
            reason: reason.into(),
        }
    }
}
