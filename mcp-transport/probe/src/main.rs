//! `mcp-probe`: a command-line client for any MCP server. It lists what the server offers,
//! calls a tool with arguments from flags or JSON, shows each progress event the moment it
//! arrives (a progress bar, and a line per event with its arrival time), prints the result,
//! and says whether the progress arrived live or was held back until the end.
//!
//! ```text
//! mcp-probe call count --args '{"to":5}' --url http://127.0.0.1:8000/mcp
//! mcp-probe call count -a to=5 --require-live -- ./target/release/streaming-demo
//! mcp-probe list --url http://127.0.0.1:8000/sse
//! ```
//!
//! The server is a URL (streamable HTTP; a path ending in `/sse` speaks legacy HTTP+SSE) or a
//! command after `--`, started and spoken to over stdio. Exit status: 0 done, 1 failed
//! (connection, JSON-RPC error, bad arguments), 2 wrong usage, 3 the tool answered with
//! `isError`, 4 `--require-live` and the progress was not live, 141 stdout's reader went away.

mod arguments;
mod call;
mod inspect;
mod output;
mod target;
mod verdict;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use output::Exit;

/// A command-line MCP client: lists what a server offers, calls any tool, shows its progress
/// live and tells whether it streamed.
#[derive(Debug, Parser)]
#[command(version, after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

const AFTER_HELP: &str = "\
The server: --url http://HOST:PORT/mcp (streamable HTTP), --url http://HOST:PORT/sse (legacy
HTTP+SSE), or a command after `--`, started and spoken to over stdio.

Exit status: 0 done; 1 failed (connection, JSON-RPC error, bad arguments); 2 wrong usage;
3 the tool answered with isError; 4 --require-live and the progress was not live; 141 stdout
was closed by its reader (as with SIGPIPE).";

#[derive(Debug, Subcommand)]
enum Command {
    /// Call a tool and show its progress as it arrives, then the result and whether the
    /// progress was live.
    Call(call::CallArgs),
    /// List the tools, prompts, resources and resource templates.
    List(inspect::ListArgs),
    /// Show who the server is: name, version, protocol revision, capabilities.
    Info(inspect::ListArgs),
    /// Get a prompt with its arguments.
    Prompt(inspect::PromptArgs),
    /// Read a resource.
    Read(inspect::ReadArgs),
}

// One thread: the task that reads the connection and the one that times the events share it,
// so a burst that came in one read is taken, and timed, before the reader can be preempted
// between two of its events. With a worker per core, a reader descheduled for a few
// milliseconds on a busy machine (CI's, tests in parallel) between handing over the first
// event and the result made a buffered burst look spread out, and judged live.
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Call(args) => call::run(args).await,
        Command::List(args) => inspect::list(args).await,
        Command::Info(args) => inspect::info(args).await,
        Command::Prompt(args) => inspect::prompt(args).await,
        Command::Read(args) => inspect::read(args).await,
    };
    match outcome {
        Ok(exit) => exit.into(),
        Err(message) => {
            eprintln!("mcp-probe: {message}");
            Exit::Failed.into()
        }
    }
}
