//! The servers under test as child processes, and what `/proc` says about them.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// One server binary and how it is started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `ours`: mcp-streaming, default config.
    Ours,
    /// `rmcp-server`: rmcp, default config (`stdio()` on stdio).
    Rmcp,
    /// `rmcp-server stdio pipes`: rmcp's `stdio_pipes()`, stdio only.
    RmcpPipes,
    /// `bare`: hyper answering every POST with a canned result, HTTP only.
    Bare,
    /// `ours` again, called the 2026-07-28 way: stateless requests (per-request `_meta` and
    /// the mirrored `Mcp-*` headers, no session), HTTP only. rmcp has no such path.
    OursStateless,
}

impl Kind {
    /// The column name in the tables.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Ours => "ours",
            Kind::Rmcp => "rmcp",
            Kind::RmcpPipes => "rmcp stdio_pipes",
            Kind::Bare => "bare hyper",
            Kind::OursStateless => "ours stateless",
        }
    }

    fn command(self, http: bool) -> (&'static str, Vec<&'static str>) {
        let mode = if http { "http" } else { "stdio" };
        match self {
            Kind::Ours | Kind::OursStateless => ("ours", vec![mode]),
            Kind::Rmcp => ("rmcp-server", vec![mode]),
            Kind::RmcpPipes => ("rmcp-server", vec![mode, "pipes"]),
            Kind::Bare => ("bare", vec![mode]),
        }
    }

    /// Whether the server keeps sessions (needs `initialize` first).
    pub fn has_sessions(self) -> bool {
        !matches!(self, Kind::Bare | Kind::OursStateless)
    }
}

fn bin_dir() -> PathBuf {
    std::env::current_exe()
        .expect("own path")
        .parent()
        .expect("a directory")
        .to_path_buf()
}

fn command(kind: Kind, http: bool) -> Command {
    let (bin, args) = kind.command(http);
    let mut cmd = Command::new(bin_dir().join(bin));
    cmd.args(args)
        .kill_on_drop(true)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    if std::env::var_os("SIDEBYSIDE_STDERR").is_none() {
        cmd.stderr(Stdio::null());
    }
    cmd
}

/// A server process listening on HTTP.
pub struct HttpServer {
    /// The process, killed when this is dropped.
    _child: Child,
    /// Its process id.
    pub pid: u32,
    /// Where it listens.
    pub addr: SocketAddr,
}

/// Starts `kind` on HTTP and waits for its address.
pub async fn spawn_http(kind: Kind) -> HttpServer {
    let mut child = command(kind, true).spawn().expect("start the server");
    let pid = child.id().expect("pid");
    let out = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(out)
        .read_line(&mut line)
        .await
        .expect("read the address");
    let addr = line.trim().parse().expect("an address on the first line");
    HttpServer {
        _child: child,
        pid,
        addr,
    }
}

/// A server process on stdio (pipes, as MCP hosts start them).
pub struct StdioServer {
    /// The process, killed when this is dropped.
    _child: Child,
    /// Its process id.
    pub pid: u32,
    /// Its stdin.
    pub input: ChildStdin,
    /// Its stdout.
    pub output: ChildStdout,
}

/// Starts `kind` on stdio.
pub fn spawn_stdio(kind: Kind) -> StdioServer {
    let mut child = command(kind, false).spawn().expect("start the server");
    let pid = child.id().expect("pid");
    let input = child.stdin.take().expect("stdin");
    let output = child.stdout.take().expect("stdout");
    StdioServer {
        _child: child,
        pid,
        input,
        output,
    }
}

impl StdioServer {
    /// The same server with blocking pipes, for the lean client's threads.
    pub fn into_blocking(self) -> BlockingStdio {
        let file = |fd: std::io::Result<std::os::fd::OwnedFd>| {
            std::fs::File::from(fd.expect("the pipe, in blocking mode"))
        };
        BlockingStdio {
            pid: self.pid,
            input: file(self.input.into_owned_fd()),
            output: file(self.output.into_owned_fd()),
            _child: self._child,
        }
    }
}

/// A server process on stdio whose pipes are blocking files.
pub struct BlockingStdio {
    /// The process, killed when this is dropped.
    _child: Child,
    /// Its process id.
    pub pid: u32,
    /// Its stdin.
    pub input: std::fs::File,
    /// Its stdout.
    pub output: std::fs::File,
}

/// CPU time (user + system) of a process, in seconds; `None` for this process.
pub fn cpu_secs(pid: Option<u32>) -> f64 {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|v| v.parse::<u64>().ok()))
        .sum();
    ticks as f64 / 100.0
}

/// Context switches of a process, summed over its threads: (voluntary, involuntary). A
/// voluntary one is a thread going to sleep (and, later, being woken); an involuntary one a
/// thread taken off its CPU for another.
pub fn context_switches(pid: u32) -> (u64, u64) {
    let mut sum = (0, 0);
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return sum;
    };
    for task in tasks.flatten() {
        let status = std::fs::read_to_string(task.path().join("status")).unwrap_or_default();
        let (voluntary, involuntary) = switches_in_status(&status);
        sum.0 += voluntary;
        sum.1 += involuntary;
    }
    sum
}

/// The context switches a thread's `/proc/.../status` text gives: (voluntary, involuntary);
/// 0 for a field it lacks.
pub fn switches_in_status(status: &str) -> (u64, u64) {
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    (
        field("voluntary_ctxt_switches:"),
        field("nonvoluntary_ctxt_switches:"),
    )
}

/// Resident memory of a process in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The 1-minute load average.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}
