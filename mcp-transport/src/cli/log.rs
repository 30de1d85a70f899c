//! `--log-level`: logs go to stderr (on stdio, stdout carries the protocol).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use super::ServeError;

/// The logging flag.
#[derive(Debug, Clone, clap::Args)]
#[non_exhaustive]
#[command(next_help_heading = "Logging")]
pub struct LogArgs {
    /// What to log, as a tracing filter: a level (`error`, `warn`, `info`, `debug`, `trace`)
    /// or per-module levels (`info,mcp_transport=debug`). Logs go to stderr.
    #[arg(long, env = "RUST_LOG", default_value = "info", value_name = "FILTER")]
    pub log_level: String,
}

impl LogArgs {
    /// Sends logs to stderr, filtered by `--log-level`. Does nothing when a global subscriber
    /// is already installed (a second call, or the program's own).
    pub fn init(&self) -> Result<(), ServeError> {
        let filter = EnvFilter::try_new(&self.log_level).map_err(|e| {
            ServeError::Config(format!(
                "--log-level {:?} is not a log filter: {e}",
                self.log_level
            ))
        })?;
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .try_init();
        Ok(())
    }
}
