//! Helpers shared by the engine's integration tests: where the stand-in is, a Stata install in a
//! temporary tree, lockstep event waiting, and a look at the process table.
//!
//! The stand-in binary (`stata-standin`, crate `mcp-stata/standin`) is found beside the test
//! binary's directory (`target/<profile>/stata-standin`), or at `$STATA_STANDIN_BIN`. Cargo
//! builds it whenever the stand-in crate is part of the same `cargo test` (it has integration
//! tests of its own, so `cargo test -p stata-standin -p mcp-stata` and `--workspace` both build
//! it) and in `cargo build --workspace`, which the CI script runs first. A missing stand-in
//! fails the test with this explanation; it never skips.

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use mcp_stata::{
    BatchRun, LogLine, RunError, RunEvent, RunOutcome, SessionRun, StataConfig, StataExecutable,
};

/// Generous bound on any single wait: reaching it means something buffered or hung.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// The stand-in binary.
pub fn standin() -> PathBuf {
    if let Some(path) = std::env::var_os("STATA_STANDIN_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("current_exe");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary lives in target/<profile>/deps");
    let path = profile_dir.join("stata-standin");
    assert!(
        path.exists(),
        "the stand-in is not built at {}: run `cargo build -p stata-standin` (or test it together \
         with this crate: `cargo test -p stata-standin -p mcp-stata`), or set STATA_STANDIN_BIN",
        path.display()
    );
    path
}

/// Installs the stand-in under `name` (a symlink, as a real install path) inside `dir`.
pub fn install(dir: &Path, name: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let link = dir.join(name);
    std::os::unix::fs::symlink(standin(), &link).unwrap();
    link
}

/// A test fixture: a temporary tree with a `stata-mp` install and a jobs directory.
pub struct Fixture {
    pub tmp: tempfile::TempDir,
    pub config: StataConfig,
}

impl Fixture {
    /// A fixture whose Stata gets the `env` switches.
    pub fn new(env: &[(&str, &str)]) -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let exe = install(&tmp.path().join("usr/local/stata18"), "stata-mp");
        let mut config = StataConfig::new(StataExecutable::new(exe));
        config.jobs_dir = tmp.path().join("jobs");
        config.kill_grace = Duration::from_secs(2);
        config.poll_interval = Duration::from_millis(10);
        config.env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Fixture { tmp, config }
    }

    /// A directory inside the fixture (created).
    pub fn dir(&self, rel: &str) -> PathBuf {
        let dir = self.tmp.path().join(rel);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Writes a do-file.
    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.tmp.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    /// A path for a lockstep signal file (not created).
    pub fn signal(&self, name: &str) -> PathBuf {
        self.tmp.path().join("signals").join(name)
    }
}

/// Creates a lockstep signal file.
pub fn release(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, b"go").unwrap();
}

/// The flush policies of the stand-in.
pub const FLUSH_POLICIES: [&str; 3] = ["line", "block", "exit"];

/// Something that yields run events.
pub trait Events {
    fn next(&mut self) -> impl std::future::Future<Output = Option<RunEvent>> + Send;
}

impl Events for BatchRun {
    async fn next(&mut self) -> Option<RunEvent> {
        self.next_event().await
    }
}

impl Events for mcp_stata::SlurmRun {
    async fn next(&mut self) -> Option<RunEvent> {
        self.next_event().await
    }
}

impl Events for SessionRun {
    async fn next(&mut self) -> Option<RunEvent> {
        self.next_event().await
    }
}

/// What came out of a run.
pub struct Collected {
    pub lines: Vec<LogLine>,
    pub result: Result<RunOutcome, RunError>,
}

impl Collected {
    pub fn texts(&self) -> Vec<&str> {
        self.lines.iter().map(|l| l.text.as_str()).collect()
    }

    pub fn outcome(&self) -> &RunOutcome {
        match &self.result {
            Ok(outcome) => outcome,
            Err(e) => panic!("the run failed: {e}"),
        }
    }
}

/// Reads events until `Finished`; `on_line` sees each line as it arrives.
pub async fn collect(run: &mut impl Events, mut on_line: impl FnMut(&LogLine)) -> Collected {
    let mut lines = Vec::new();
    loop {
        let event = tokio::time::timeout(PATIENCE, run.next())
            .await
            .expect("no event within the patience bound (buffered or hung)")
            .expect("the event stream ended without Finished");
        match event {
            RunEvent::Line(line) => {
                on_line(&line);
                lines.push(line);
            }
            RunEvent::Finished(result) => return Collected { lines, result },
            RunEvent::Status(_) => {}
        }
    }
}

/// Waits for the line `text` (panics on `Finished` first); returns the lines seen so far.
pub async fn wait_for_line(run: &mut impl Events, text: &str) -> Vec<LogLine> {
    let mut seen = Vec::new();
    loop {
        let event = tokio::time::timeout(PATIENCE, run.next())
            .await
            .unwrap_or_else(|_| panic!("line {text:?} did not arrive (buffered or hung)"))
            .expect("stream ended");
        match event {
            RunEvent::Line(line) => {
                let done = line.text == text;
                seen.push(line);
                if done {
                    return seen;
                }
            }
            RunEvent::Finished(result) => {
                panic!("finished before line {text:?}: {result:?}; saw {seen:?}")
            }
            RunEvent::Status(_) => {}
        }
    }
}

/// Pids of the live (not zombie) processes in process group `pgid`, from `/proc`.
pub fn live_in_group(pgid: u32) -> Vec<u32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        if fields.len() > 2 && fields[2] == pgid.to_string() && fields[0] != "Z" {
            pids.push(pid);
        }
    }
    pids
}

/// Whether `pid` runs the stand-in (rather than the keeper's shell or `cat`).
pub fn is_standin(pid: u32) -> bool {
    let Ok(exe) = std::fs::read_link(format!("/proc/{pid}/exe")) else {
        return false;
    };
    let standin = std::fs::canonicalize(standin()).unwrap_or_else(|_| standin());
    exe == standin
}

/// Pids of the live stand-in ("Stata") processes in process group `pgid`; the keeper's
/// processes share the group but are not counted.
pub fn stata_in_group(pgid: u32) -> Vec<u32> {
    live_in_group(pgid)
        .into_iter()
        .filter(|&pid| is_standin(pid))
        .collect()
}

/// Waits (bounded) until group `pgid` has no live process; panics with the survivors if not.
pub async fn assert_group_gone(pgid: u32) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let live = live_in_group(pgid);
        if live.is_empty() {
            return;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("processes left in group {pgid}: {live:?}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
