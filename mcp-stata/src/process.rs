//! Stata's process group: started in a group of its own, ended by signalling the whole group
//! (SIGTERM, then SIGKILL after a grace period), so an engine process left behind the pid we hold
//! dies too. A group still armed when dropped gets SIGKILL.
//!
//! # The keeper: no orphans even when the server is killed
//!
//! A server killed with SIGKILL (an assistant host that crashes, `kill -9`, the OOM killer) runs
//! no destructor, so on Unix Stata is started through a *keeper*: `/bin/sh` runs a small script
//! ([`KEEPER`]) that starts a watcher in the background and then `exec`s Stata, so Stata keeps
//! the pid (and the exit status) the server holds and leads the process group. The watcher sits
//! in the same group reading a pipe whose only writer is the server (the keeper's standard
//! input). When the server goes, however it goes, the kernel closes that pipe; the watcher reads
//! end-of-file, signals the whole group with SIGTERM and, after the grace period, SIGKILL. In a
//! session the watcher also relays the server's commands to Stata through a FIFO, so Stata's
//! own standard input is never the pipe the watcher guards. The watcher ignores SIGINT (POSIX
//! gives background jobs of a non-interactive shell that disposition), so a session's break
//! reaches Stata only. On a normal end the server ends the group itself before it closes the
//! pipe, and the watcher dies with it.
//!
//! Why not `PR_SET_PDEATHSIG`: it needs `unsafe` (a `pre_exec` hook; the workspace forbids
//! `unsafe`); it fires when the spawning *thread* exits, and tokio's blocking-pool threads exit
//! when idle, which would kill healthy runs; it signals only the direct child, not the engine
//! processes Stata may leave in its group; and it exists on Linux only. The keeper needs none of
//! that: a POSIX shell, `cat`, `mkfifo` and `kill`, on Linux and macOS alike.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

use tokio::process::{Child, Command};
use tokio::time::Instant;

/// How a Stata process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExitInfo {
    /// The exit code; 128+N when killed by signal N.
    pub code: i32,
    /// The signal that killed it, if one did.
    pub signal: Option<i32>,
}

impl ExitInfo {
    /// Reads an [`ExitStatus`].
    pub fn from_status(status: ExitStatus) -> ExitInfo {
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            if let Some(sig) = status.signal() {
                return ExitInfo {
                    code: 128 + sig,
                    signal: Some(sig),
                };
            }
        }
        ExitInfo {
            code: status.code().unwrap_or(-1),
            signal: None,
        }
    }
}

/// Makes `command` start its process as the leader of a new process group.
pub(crate) fn new_group(command: &mut Command) {
    #[cfg(unix)]
    command.process_group(0);
    #[cfg(not(unix))]
    let _ = command;
}

/// The keeper script (see the module's documentation). Arguments: the grace period in whole
/// seconds, the FIFO to create for Stata's standard input (empty: `/dev/null`), then Stata's
/// command line.
pub const KEEPER: &str = r#"g=$1 f=$2; shift 2
exec 3<&0
if [ -n "$f" ]; then
  mkfifo -m 600 "$f" || exit 126
  (cat <&3 >"$f"; trap '' TERM; kill -s TERM 0; sleep "$g"; kill -s KILL 0) >/dev/null 2>&1 &
  exec "$@" 3<&- <"$f"
fi
(cat <&3 >/dev/null; trap '' TERM; kill -s TERM 0; sleep "$g"; kill -s KILL 0) >/dev/null 2>&1 &
exec "$@" 3<&- </dev/null
"#;

/// Where a kept process reads its standard input from.
#[derive(Clone, Debug)]
pub(crate) enum Input {
    /// Nothing (`/dev/null`): batch runs.
    Null,
    /// The server's writes, relayed through a FIFO created at this path: sessions.
    Relay(PathBuf),
}

/// A command that runs `program args` in a new process group whose processes all die when the
/// server does. Its standard input is piped: keep the child's `stdin` open for as long as the
/// process may run (in a session, write Stata's commands to it). The caller sets the working
/// directory, the environment, standard output and error.
pub(crate) fn kept_command(
    program: &Path,
    args: &[OsString],
    input: &Input,
    grace: Duration,
) -> Command {
    #[cfg(unix)]
    {
        let mut command = Command::new("/bin/sh");
        let fifo = match input {
            Input::Null => OsString::new(),
            Input::Relay(path) => path.as_os_str().to_owned(),
        };
        command
            .arg("-c")
            .arg(KEEPER)
            .arg("mcp-stata-keeper")
            .arg(grace.as_secs_f64().ceil().max(1.0).to_string())
            .arg(fifo)
            .arg(program)
            .args(args)
            .stdin(std::process::Stdio::piped());
        new_group(&mut command);
        command
    }
    #[cfg(not(unix))]
    {
        let _ = grace;
        let mut command = Command::new(program);
        command.args(args);
        command.stdin(match input {
            Input::Null => std::process::Stdio::null(),
            Input::Relay(_) => std::process::Stdio::piped(),
        });
        command
    }
}

/// Checks that `program` can be started (the keeper would otherwise report it only as exit
/// code 127).
pub(crate) fn check_program(program: &Path) -> std::io::Result<()> {
    let meta = std::fs::metadata(program)?;
    if meta.is_dir() {
        return Err(std::io::Error::other("it is a directory"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o111 == 0 {
            return Err(std::io::Error::from(std::io::ErrorKind::PermissionDenied));
        }
    }
    Ok(())
}

/// The signals the engine sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sig {
    Interrupt,
    Terminate,
    Kill,
}

/// The process group of one Stata process.
#[derive(Debug)]
pub(crate) struct ProcessGroup {
    pgid: Option<u32>,
    armed: bool,
    /// The live members seen last (see [`ProcessGroup::alive`]).
    members: std::sync::Mutex<Vec<u32>>,
}

impl ProcessGroup {
    /// The group `child` leads (it was started with [`new_group`]).
    pub(crate) fn of(child: &Child) -> ProcessGroup {
        ProcessGroup {
            pgid: child.id(),
            armed: true,
            members: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// The group id (the leader's pid).
    pub(crate) fn id(&self) -> Option<u32> {
        self.pgid
    }

    /// Sends `sig` to every process of the group; false if none was there.
    pub(crate) fn signal(&self, sig: Sig) -> bool {
        #[cfg(unix)]
        {
            use nix::sys::signal::{Signal, killpg};
            use nix::unistd::Pid;
            let Some(pgid) = self.pgid else { return false };
            let signal = match sig {
                Sig::Interrupt => Signal::SIGINT,
                Sig::Terminate => Signal::SIGTERM,
                Sig::Kill => Signal::SIGKILL,
            };
            killpg(Pid::from_raw(pgid as i32), signal).is_ok()
        }
        #[cfg(not(unix))]
        {
            let _ = sig;
            false
        }
    }

    /// Whether a live (not zombie) process is still in the group. The members seen last time
    /// are looked at first (a few files); only when they are all gone is the whole process
    /// table read again, in case one of them left a child behind.
    pub(crate) fn alive(&self) -> bool {
        let Some(pgid) = self.pgid else { return false };
        let mut known = self.members.lock().unwrap_or_else(|e| e.into_inner());
        known.retain(|&pid| member_live(pid, pgid));
        if known.is_empty() {
            *known = group_members(pgid);
        }
        !known.is_empty()
    }

    /// Ends the group: SIGTERM, up to `grace` for it to go, then SIGKILL; waits for the leader
    /// and until no process of the group is left.
    pub(crate) async fn terminate(&mut self, child: &mut Child, grace: Duration) -> ExitStatus {
        let deadline = Instant::now() + grace;
        self.signal(Sig::Terminate);
        #[cfg(not(unix))]
        let _ = child.start_kill();
        let mut status = tokio::time::timeout_at(deadline, child.wait())
            .await
            .ok()
            .and_then(Result::ok);
        self.wait_gone_until(deadline).await;
        if status.is_none() || self.alive() {
            self.signal(Sig::Kill);
            let _ = child.start_kill();
        }
        if status.is_none() {
            status = child.wait().await.ok();
        }
        self.wait_empty().await;
        self.armed = false;
        status.unwrap_or_else(killed_status)
    }

    /// The leader has exited: anything it left in the group gets SIGTERM, then SIGKILL.
    pub(crate) async fn reap_leftovers(&mut self, grace: Duration) {
        if self.alive() {
            self.signal(Sig::Terminate);
            self.wait_gone_until(Instant::now() + grace).await;
            if self.alive() {
                self.signal(Sig::Kill);
            }
            self.wait_empty().await;
        }
        self.armed = false;
    }

    /// Waits until no live process is left in the group, or `deadline`. Processes that were
    /// just signalled usually go within a millisecond or two: the pause between looks starts
    /// at 1 ms and doubles up to 10 ms.
    async fn wait_gone_until(&self, deadline: Instant) {
        let mut pause = Duration::from_millis(1);
        while self.alive() && Instant::now() < deadline {
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(10));
        }
    }

    /// Waits (a bounded time) until no live process is left in the group after SIGKILL.
    async fn wait_empty(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut pause = Duration::from_millis(1);
        while self.alive() && Instant::now() < deadline {
            self.signal(Sig::Kill);
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(5));
        }
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        if self.armed {
            self.signal(Sig::Kill);
        }
    }
}

fn killed_status() -> ExitStatus {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        ExitStatus::from_raw(9)
    }
    #[cfg(not(unix))]
    {
        use std::os::windows::process::ExitStatusExt;
        ExitStatus::from_raw(1)
    }
}

/// The live (not zombie) processes of group `pgid`: on Linux from `/proc`; elsewhere, by signal
/// 0, the group id itself while any process (zombies included) is in the group.
fn group_members(pgid: u32) -> Vec<u32> {
    #[cfg(unix)]
    {
        // No process at all in the group (not even a zombie): the cheap answer.
        use nix::sys::signal::killpg;
        use nix::unistd::Pid;
        if killpg(Pid::from_raw(pgid as i32), None) == Err(nix::errno::Errno::ESRCH) {
            return Vec::new();
        }
    }
    #[cfg(target_os = "linux")]
    {
        if let Ok(entries) = std::fs::read_dir("/proc") {
            return entries
                .flatten()
                .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
                .filter(|&pid| member_live(pid, pgid))
                .collect();
        }
    }
    #[cfg(unix)]
    {
        vec![pgid]
    }
    #[cfg(not(unix))]
    {
        let _ = pgid;
        Vec::new()
    }
}

/// Whether `pid` is still a live member of group `pgid`.
fn member_live(pid: u32, pgid: u32) -> bool {
    #[cfg(target_os = "linux")]
    {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            return false;
        };
        matches!(parse_stat(&stat), Some((state, group)) if group == pgid && state != 'Z' && state != 'X')
    }
    #[cfg(all(unix, not(target_os = "linux")))]
    {
        let _ = pid;
        use nix::sys::signal::killpg;
        use nix::unistd::Pid;
        killpg(Pid::from_raw(pgid as i32), None).is_ok()
    }
    #[cfg(not(unix))]
    {
        let _ = (pid, pgid);
        false
    }
}

/// The state and process group of a `/proc/<pid>/stat` line.
#[cfg(target_os = "linux")]
fn parse_stat(stat: &str) -> Option<(char, u32)> {
    let after = &stat[stat.rfind(')')? + 1..];
    let mut fields = after.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let _ppid = fields.next()?;
    let pgrp = fields.next()?.parse().ok()?;
    Some((state, pgrp))
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::parse_stat;

    #[test]
    fn stat_lines() {
        assert_eq!(
            parse_stat("1234 (stata mp) (x)) S 1 1234 1234 0 -1"),
            Some(('S', 1234))
        );
        assert_eq!(parse_stat("99 (z) Z 1 50 50"), Some(('Z', 50)));
        assert_eq!(parse_stat("garbage"), None);
    }
}
