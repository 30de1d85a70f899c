//! Batch runs on a Slurm cluster: the do-file is submitted with `sbatch` into a job directory on
//! a filesystem the server shares with the nodes, where `stata -b -q do` runs it as on a
//! workstation (the same wrapper, the same log); the server follows the log there while the job
//! runs and asks `scontrol` where the job stands.
//!
//! - [`SlurmRun`]: one do-file (or code), one job. Its events are the job's queue state
//!   ([`RunEvent::Status`](crate::RunEvent::Status): pending and why, running and where, ended),
//!   then every log line as it is written, then the outcome, which carries the job's id, node,
//!   elapsed time and exit code ([`ClusterJob`](crate::ClusterJob)).
//! - [`SlurmArray`]: one do-file over a list of parameter sets, as one job array (`--array`);
//!   each element's state, lines and outcome, by element.
//!
//! Cancelling, a timeout, or dropping the run `scancel`s the job and waits until Slurm has let
//! it go (no longer in `squeue`), so no Stata is left on the node.
//!
//! Everything the server needs to follow a job is in its directory (`job.json`, the wrapper, the
//! log, the exit status the job script writes), not in the server's memory: a job outlives the
//! call that submitted it only if someone follows it again, and [`SlurmRun::attach`] does that
//! from the directory alone. That is what lets a cluster run become a detached task (a call
//! that returns at once, and a result fetched later) without changes here. Until then, a server
//! that is killed leaves its submitted jobs to the cluster: they run to their end (or their
//! time limit) and their directories hold the outcome.

mod job;
mod run;
mod scontrol;
mod watch;

use std::ffi::{OsStr, OsString};
use std::time::Duration;

use tokio::process::Command;

pub use run::{ArrayOptions, SlurmArray, SlurmRun};

/// How to submit to the cluster.
#[derive(Clone, Debug)]
pub struct SlurmConfig {
    /// The partition (`--partition`); default: the cluster's default partition.
    pub partition: Option<String>,
    /// More `sbatch` options, each one argument (`--time=2:00:00`, `--mem=8G`, `--account=x`).
    pub sbatch_args: Vec<String>,
    /// How often `scontrol` is asked where a job stands.
    pub poll: Duration,
    /// The job name (`--job-name`).
    pub job_name: String,
    /// How long to wait, after `scancel`, for Slurm to let a job go.
    pub cancel_wait: Duration,
}

impl Default for SlurmConfig {
    fn default() -> SlurmConfig {
        SlurmConfig {
            partition: None,
            sbatch_args: Vec::new(),
            poll: Duration::from_secs(1),
            job_name: "mcp-stata".to_owned(),
            cancel_wait: Duration::from_secs(60),
        }
    }
}

/// The Slurm commands the backend runs.
pub const COMMANDS: [&str; 4] = ["sbatch", "scontrol", "scancel", "squeue"];

impl SlurmConfig {
    /// Checks that the Slurm commands are on `PATH`; the first one missing, if any.
    pub fn check(&self) -> Result<(), String> {
        let path = std::env::var_os("PATH").unwrap_or_default();
        for command in COMMANDS {
            let found = std::env::split_paths(&path).any(|dir| dir.join(command).is_file());
            if !found {
                return Err(format!(
                    "`{command}` is not on PATH: the Slurm backend runs {} (install the Slurm client, or use --backend local)",
                    COMMANDS.join(", ")
                ));
            }
        }
        Ok(())
    }
}

/// How long one Slurm command may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// What a Slurm command printed, or why it failed.
pub(crate) async fn slurm(
    program: &str,
    args: &[OsString],
    env: &[(String, String)],
) -> Result<String, String> {
    let mut command = Command::new(program);
    command
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let output = match tokio::time::timeout(COMMAND_TIMEOUT, command.output()).await {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => return Err(format!("cannot run {program}: {e}")),
        Err(_) => {
            return Err(format!(
                "{program} did not answer within {} s",
                COMMAND_TIMEOUT.as_secs()
            ));
        }
    };
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(format!(
            "{program} {} failed ({}): {}",
            args.iter()
                .map(|a| a.to_string_lossy())
                .collect::<Vec<_>>()
                .join(" "),
            output.status,
            stderr.trim()
        ))
    }
}

pub(crate) fn arg(text: impl AsRef<OsStr>) -> OsString {
    text.as_ref().to_owned()
}
