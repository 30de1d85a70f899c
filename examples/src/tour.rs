//! The tools of the guide's chapter "Writing streaming tools": each shape of parameter and
//! result, progress, logs, cancellation, and a server type whose methods are tools.
//! `tests/tour.rs` calls every one of them through a client.

use std::sync::Mutex;
use std::time::Duration;

use mcp_core::{CallToolResult, Content, Context, Progress, tool, tools};
use schemars::JsonSchema;
use serde::Serialize;

// ANCHOR: parameters
/// Greets someone, optionally several times.
#[tool]
pub async fn greet(
    /// Who to greet.
    name: String,
    /// How many times (default 1).
    #[arg(default = 1)]
    times: u32,
    /// Put before the greeting, if given.
    prefix: Option<String>,
) -> String {
    let prefix = prefix.map(|p| format!("{p} ")).unwrap_or_default();
    vec![format!("{prefix}Hello, {name}!"); times as usize].join("\n")
}
// ANCHOR_END: parameters

// ANCHOR: structured
/// The summary of a list of numbers.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Summary {
    /// How many numbers there were.
    pub count: usize,
    /// Their mean.
    pub mean: f64,
    /// The smallest.
    pub min: f64,
    /// The largest.
    pub max: f64,
}

/// Summarises a list of numbers: count, mean, minimum and maximum.
#[tool(read_only)]
pub async fn summarize(
    /// The numbers to summarise.
    values: Vec<f64>,
) -> Result<Summary, String> {
    if values.is_empty() {
        // An `Err` becomes a result with `isError: true` that the model can read.
        return Err("give at least one number".into());
    }
    let count = values.len();
    let mean = values.iter().sum::<f64>() / count as f64;
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Ok(Summary {
        count,
        mean,
        min,
        max,
    })
}
// ANCHOR_END: structured

// ANCHOR: streaming
/// Reads each file in turn and reports its size as soon as it is known.
#[tool(read_only)]
pub async fn measure_files(
    /// The files to read.
    paths: Vec<String>,
    ctx: Context,
) -> Result<String, std::io::Error> {
    // Every following progress report carries this total.
    ctx.set_total(paths.len() as f64);
    let mut bytes = 0;
    for path in &paths {
        ctx.debug(format!("reading {path}")).await;
        // `?` ends the call with an error result, as in any async fn.
        let size = tokio::fs::read(path).await?.len();
        bytes += size;
        // Sent now, before the next file is opened.
        yield_!(format!("{path}: {size} bytes"));
    }
    Ok(format!("{} files, {bytes} bytes", paths.len()))
}
// ANCHOR_END: streaming

// ANCHOR: cancellation
/// Waits `seconds` seconds, reporting each one; stops early when the client cancels.
#[tool]
pub async fn wait(
    /// How long to wait.
    seconds: u64,
) -> String {
    for i in 1..=seconds {
        // When the client sends `notifications/cancelled`, the session drops this future at
        // its next await: no response is sent, and destructors run as usual.
        tokio::time::sleep(Duration::from_secs(1)).await;
        yield_!(Progress::step(i, seconds, format!("{i} s")));
    }
    format!("waited {seconds} s")
}
// ANCHOR_END: cancellation

// ANCHOR: content
/// Returns a one-pixel PNG as image content, with a caption.
#[tool]
pub async fn pixel() -> Vec<Content> {
    const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
    vec![
        Content::text("a single pixel"),
        Content::image(PNG, "image/png"),
    ]
}

/// Fails on purpose, with a full result of its own making.
#[tool]
pub async fn always_fails() -> CallToolResult {
    CallToolResult::error("this tool always fails")
}
// ANCHOR_END: content

// ANCHOR: methods
/// A notebook whose tools share its notes.
#[derive(Debug, Default)]
pub struct Notebook {
    notes: Mutex<Vec<String>>,
}

#[tools]
impl Notebook {
    /// Adds a note and returns how many there are.
    #[tool]
    async fn add_note(
        &self,
        /// The note's text.
        text: String,
    ) -> String {
        let mut notes = self.notes.lock().unwrap_or_else(|e| e.into_inner());
        notes.push(text);
        format!("{} notes", notes.len())
    }

    /// Lists the notes, one per line.
    #[tool(read_only)]
    async fn list_notes(&self) -> String {
        self.notes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .join("\n")
    }
}
// ANCHOR_END: methods

// ANCHOR: server
/// The server of the tour: every tool above.
pub fn server() -> Result<mcp_core::Server, mcp_core::BuildError> {
    mcp_core::Server::builder("tour", "1.0")
        .tool(greet)
        .tool(summarize)
        .tool(measure_files)
        .tool(wait)
        .tool(pixel)
        .tool(always_fails)
        .tools(Notebook::default())
        .build()
}
// ANCHOR_END: server
