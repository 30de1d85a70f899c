//! `mcp-probe call`: calls a tool, shows each progress event the moment it arrives (a
//! progress bar on a terminal, a line per event with its arrival time), prints the result,
//! and says whether the progress arrived live.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use indicatif::{ProgressBar, ProgressStyle};
use mcp_core::protocol::{CallToolResult, Content, ProgressParams};
use mcp_core::{CallEvent, JsonObject};
use serde_json::{Value, json};

use crate::arguments;
use crate::output::{Exit, describe_content, number, say};
use crate::target::{Connection, Target};
use crate::verdict::{self, Verdict};

/// `mcp-probe call TOOL`.
#[derive(Debug, clap::Args)]
pub(crate) struct CallArgs {
    /// The tool to call.
    tool: String,
    /// The arguments, as a JSON object: `--args '{"to": 5}'`.
    #[arg(long = "args", value_name = "JSON")]
    json_args: Option<String>,
    /// One argument: `key=value` (typed after the tool's input schema) or `key:=json`;
    /// repeat for more. Applied after `--args`.
    #[arg(short = 'a', long = "arg", value_name = "KEY=VALUE")]
    pairs: Vec<String>,
    /// Exit with status 4 unless the progress arrived live (spread over the call, not held
    /// back until the result).
    #[arg(long)]
    require_live: bool,
    /// Print one JSON document (each event with its arrival time, the result, the verdict)
    /// instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    target: Target,
}

/// One progress event and when it arrived.
struct Arrival {
    ms: f64,
    progress: ProgressParams,
}

/// Runs `mcp-probe call`.
pub(crate) async fn run(args: CallArgs) -> Result<Exit, String> {
    let connection = args.target.connect().await?;
    let outcome = call(&args, &connection).await;
    if let Err(e) = &outcome
        && e.contains("closed")
    {
        // The server went away: what it said last explains why.
        let log = connection.server_log();
        if !log.trim().is_empty() {
            eprintln!("the server's stderr:\n{}", log.trim_end());
        }
    }
    connection.close().await;
    outcome
}

async fn call(args: &CallArgs, connection: &Connection) -> Result<Exit, String> {
    let client = &connection.client;
    let tools = client
        .list_tools()
        .await
        .map_err(|e| format!("tools/list failed: {e}"))?;
    let Some(tool) = tools.iter().find(|t| t.name == args.tool) else {
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
        return Err(format!(
            "the server has no tool `{}`; it has: {}",
            args.tool,
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        ));
    };
    let arguments = arguments::build(args.json_args.as_deref(), &args.pairs, &tool.input_schema)?;
    let info = &client.server().server_info;
    if !args.json {
        say!(
            "connected to {} {} over {} (protocol {})",
            info.name,
            info.version,
            connection.transport,
            client.server().protocol_version
        );
        say!("calling {} {}", args.tool, Value::Object(arguments.clone()));
    }

    let bar = progress_bar(args.json);
    let started = Instant::now();
    let mut call = client
        .call_tool_streaming(&args.tool, Value::Object(arguments.clone()))
        .await
        .map_err(|e| format!("tools/call could not be sent: {e}"))?;
    let mut arrivals = Vec::new();
    // Events are timed as they are taken from the connection, and whatever arrived together
    // is taken (and timed) before any of it is shown: printing an event must not make the
    // next one, already here, look later than it came (a buffered burst would look spread
    // out on a busy machine).
    let mut burst = Vec::new();
    let (result, result_ms) = 'call: loop {
        let mut next = Some(call.next_event().await);
        // One time for the whole burst: what was there at once arrived at once, even if this
        // process is preempted while it takes the burst's events one by one.
        let at = millis(started.elapsed());
        while let Some(event) = next.take() {
            let more = matches!(event, Some(CallEvent::Progress(_)));
            burst.push((at, event));
            if more {
                next = call.next_event().now_or_never();
            }
        }
        for (ms, event) in burst.drain(..) {
            match event {
                Some(CallEvent::Progress(progress)) => {
                    show(&bar, args.json, ms, &progress);
                    arrivals.push(Arrival { ms, progress });
                }
                Some(CallEvent::Done(result)) => break 'call (result, ms),
                None => {
                    break 'call (Err(mcp_core::RequestError::Closed(call.id().clone())), ms);
                }
            }
        }
    };
    bar.finish_and_clear();
    let result = result.map_err(|e| format!("tools/call failed: {e}"))?;
    let times: Vec<f64> = arrivals.iter().map(|a| a.ms).collect();
    let verdict = verdict::judge(&times, result_ms);

    if args.json {
        print_json(
            args, connection, &arguments, &arrivals, result_ms, &result, verdict,
        );
    } else {
        print_text(&arrivals, result_ms, &result, verdict);
    }
    Ok(if result.is_error() {
        Exit::ToolError
    } else if args.require_live && verdict != Verdict::Live {
        if !args.json {
            eprintln!("mcp-probe: --require-live: the progress did not arrive live ({verdict})");
        }
        Exit::NotLive
    } else {
        Exit::Success
    })
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A bar on a terminal's stderr; hidden otherwise (and with `--json`).
fn progress_bar(json: bool) -> ProgressBar {
    if json || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.enable_steady_tick(Duration::from_millis(100));
    bar.set_message("waiting for progress");
    bar
}

/// One event: the bar moves, and a line with its arrival time is printed above it.
fn show(bar: &ProgressBar, json: bool, ms: f64, p: &ProgressParams) {
    if let Some(total) = p.total {
        if bar.length() != Some(total as u64) {
            bar.set_length(total as u64);
            if let Ok(style) =
                ProgressStyle::with_template("{spinner} [{elapsed}] {wide_bar} {pos}/{len} {msg}")
            {
                bar.set_style(style);
            }
        }
        bar.set_position(p.progress as u64);
    }
    let message = p.message.as_deref().unwrap_or("");
    bar.set_message(format!("{message} ({ms:.0} ms)"));
    if !json {
        let line = event_line(ms, p);
        bar.suspend(|| say!("{line}"));
    }
}

/// `[  101.3 ms] 1/5  message`; the further lines of a multi-line message are indented
/// under the first.
fn event_line(ms: f64, p: &ProgressParams) -> String {
    let total = p
        .total
        .map(|t| format!("/{}", number(t)))
        .unwrap_or_default();
    let message = p.message.as_deref().unwrap_or("").trim_matches('\n');
    let head = format!("[{ms:>9.1} ms] {}{total}  ", number(p.progress));
    let indent = " ".repeat(16);
    let mut lines = message.lines();
    let mut text = format!("{head}{}", lines.next().unwrap_or(""));
    for line in lines {
        text.push('\n');
        text.push_str(&indent);
        text.push_str(line);
    }
    text
}

fn print_text(arrivals: &[Arrival], result_ms: f64, result: &CallToolResult, verdict: Verdict) {
    let label = if result.is_error() {
        "result (isError)"
    } else {
        "result"
    };
    say!("[{result_ms:>9.1} ms] {label}:");
    for content in &result.content {
        match content {
            Content::Text(t) => say!("{}", t.text),
            other => say!("{}", describe_content(other)),
        }
    }
    if let Some(structured) = &result.structured_content
        && result.content.is_empty()
    {
        say!("{}", Value::Object(structured.clone()));
    }
    let detail = match (arrivals.first(), arrivals.last()) {
        (Some(first), Some(last)) => format!(
            "{} progress event{} from {:.0} ms to {:.0} ms; the result at {result_ms:.0} ms",
            arrivals.len(),
            if arrivals.len() == 1 { "" } else { "s" },
            first.ms,
            last.ms
        ),
        _ => format!("the result at {result_ms:.0} ms"),
    };
    let meaning = match verdict {
        Verdict::Live => "progress arrived while the tool ran",
        Verdict::Buffered => {
            "every progress event arrived with the result: something buffered the stream"
        }
        Verdict::NoProgress => "the tool sent no progress",
        Verdict::TooFast => "the call was too short to tell; make it last longer",
    };
    say!("verdict: {verdict} ({meaning}; {detail})");
}

fn print_json(
    args: &CallArgs,
    connection: &Connection,
    arguments: &JsonObject,
    arrivals: &[Arrival],
    result_ms: f64,
    result: &CallToolResult,
    verdict: Verdict,
) {
    let server = connection.client.server();
    let events: Vec<Value> = arrivals
        .iter()
        .map(|a| {
            json!({
                "ms": a.ms,
                "progress": a.progress.progress,
                "total": a.progress.total,
                "message": a.progress.message,
            })
        })
        .collect();
    let document = json!({
        "server": {"name": server.server_info.name, "version": server.server_info.version},
        "protocolVersion": server.protocol_version,
        "transport": connection.transport,
        "tool": args.tool,
        "arguments": arguments,
        "events": events,
        "resultMs": result_ms,
        "result": result,
        "verdict": verdict.as_str(),
    });
    say!("{document:#}");
}
