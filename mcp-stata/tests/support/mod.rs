//! Helpers for the tool tests: a server with the Stata tools (the stand-in as Stata) and an
//! in-memory client, reading a call's events with a patience bound, and finding the Stata
//! processes a test started (by a marker in their environment) to prove they are gone.

#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::time::Duration;

use mcp_core::protocol::ProgressParams;
use mcp_core::{CallEvent, CallToolResult, Client, Server, ToolCall};
use mcp_stata::{StataTools, ToolsConfig};
use serde_json::{Map, Value};

use crate::common::{Fixture, PATIENCE};

/// The environment variable that marks the Stata processes of one test.
pub const MARK: &str = "MCP_STATA_TEST_MARK";

/// A server with the Stata tools and a client connected to it.
pub struct Harness {
    pub fx: Fixture,
    pub tools: Arc<StataTools>,
    pub server: Server,
    pub client: Client,
    /// The value of [`MARK`] in this harness's Stata processes.
    pub mark: String,
}

/// A harness whose Stata (the stand-in) gets the `env` switches; runs start in `work/`.
pub async fn harness(env: &[(&str, &str)]) -> Harness {
    harness_with(env, |config| config).await
}

/// [`harness`], with the tools' settings adjusted by `adjust`.
pub async fn harness_with(
    env: &[(&str, &str)],
    adjust: impl FnOnce(ToolsConfig) -> ToolsConfig,
) -> Harness {
    let mut fx = Fixture::new(env);
    let mark = format!("{}", fx.tmp.path().display());
    fx.config.env.push((MARK.to_owned(), mark.clone()));
    let config = adjust(ToolsConfig::new(fx.config.clone()).working_dir(fx.dir("work")));
    let tools = Arc::new(StataTools::new(config));
    let server = Server::builder("mcp-stata-test", "1")
        .tools_shared(Arc::clone(&tools))
        .build()
        .unwrap();
    let client = mcp_core::memory::connect(&server).await.unwrap();
    Harness {
        fx,
        tools,
        server,
        client,
        mark,
    }
}

impl Harness {
    /// Starts a streaming call.
    pub async fn call(&self, tool: &str, args: Value) -> ToolCall {
        self.client.call_tool_streaming(tool, args).await.unwrap()
    }

    /// Calls a tool and waits for its result, collecting its progress.
    pub async fn run(&self, tool: &str, args: Value) -> Finished {
        let mut call = self.call(tool, args).await;
        finish(&mut call).await
    }

    /// Live Stata (stand-in) processes of this harness.
    pub fn stata_pids(&self) -> Vec<u32> {
        marked_stata(&self.mark)
    }

    /// Every live process this harness's Stata runs started: Stata, and the keepers beside it.
    pub fn all_pids(&self) -> Vec<u32> {
        marked_pids(&self.mark)
    }
}

/// What a call produced.
pub struct Finished {
    pub progress: Vec<ProgressParams>,
    pub result: CallToolResult,
}

impl Finished {
    /// Every line that arrived as progress, in order.
    pub fn lines(&self) -> Vec<String> {
        progress_lines(&self.progress)
    }

    /// The text of the result.
    pub fn text(&self) -> String {
        self.result.text()
    }

    /// The structured content of the result.
    pub fn structured(&self) -> &Map<String, Value> {
        self.result
            .structured_content
            .as_ref()
            .unwrap_or_else(|| panic!("no structured content: {:?}", self.result))
    }
}

/// The lines carried by `progress` messages.
pub fn progress_lines(progress: &[ProgressParams]) -> Vec<String> {
    progress
        .iter()
        .flat_map(|p| {
            p.message
                .as_deref()
                .unwrap_or("")
                .split('\n')
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The next event of `call`, within the patience bound.
pub async fn next(call: &mut ToolCall) -> CallEvent {
    tokio::time::timeout(PATIENCE, call.next_event())
        .await
        .expect("no event within the patience bound (buffered or hung)")
        .expect("the call ended without a result")
}

/// Reads progress until a message holds the line `line`; panics if the result comes first.
pub async fn wait_for_line(call: &mut ToolCall, line: &str) -> Vec<ProgressParams> {
    let mut seen = Vec::new();
    loop {
        match next(call).await {
            CallEvent::Progress(p) => {
                let found = p
                    .message
                    .as_deref()
                    .is_some_and(|m| m.split('\n').any(|l| l == line));
                seen.push(p);
                if found {
                    return seen;
                }
            }
            CallEvent::Done(result) => {
                panic!(
                    "the result came before the line {line:?}: {result:?}; lines seen: {:?}",
                    progress_lines(&seen)
                )
            }
        }
    }
}

/// Reads the rest of `call`: its progress and its result.
pub async fn finish(call: &mut ToolCall) -> Finished {
    let mut progress = Vec::new();
    loop {
        match next(call).await {
            CallEvent::Progress(p) => progress.push(p),
            CallEvent::Done(result) => {
                let result = result.expect("the call failed at the protocol level");
                return Finished { progress, result };
            }
        }
    }
}

/// Pids of live (not zombie) processes whose environment holds `MARK=mark`.
pub fn marked_pids(mark: &str) -> Vec<u32> {
    let needle = format!("{MARK}={mark}");
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) else {
            continue;
        };
        let marked = environ
            .split(|&b| b == 0)
            .any(|var| var == needle.as_bytes());
        if marked && is_live(pid) {
            pids.push(pid);
        }
    }
    pids
}

/// Pids of the live stand-in processes whose environment holds `MARK=mark`.
pub fn marked_stata(mark: &str) -> Vec<u32> {
    marked_pids(mark)
        .into_iter()
        .filter(|&pid| crate::common::is_standin(pid))
        .collect()
}

/// Whether `pid` is running and not a zombie.
pub fn is_live(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let Some(close) = stat.rfind(')') else {
        return false;
    };
    !matches!(
        stat[close + 1..].split_whitespace().next(),
        Some("Z") | Some("X")
    )
}

/// Waits (bounded) until none of `pids` lives; panics with the survivors.
pub async fn assert_gone(pids: &[u32]) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let live: Vec<u32> = pids.iter().copied().filter(|&p| is_live(p)).collect();
        if live.is_empty() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "Stata processes left behind: {live:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// `path` as a Stata string literal.
pub fn q(path: &std::path::Path) -> String {
    mcp_stata::quote::quote(path.to_str().unwrap()).unwrap()
}
