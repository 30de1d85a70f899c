//! What the probe prints beside its results, and how it exits.

use std::fmt;
use std::io::{self, Write};
use std::process::ExitCode;

use mcp_core::protocol::{Content, ResourceContents};

/// The exit statuses, for scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// Done.
    Success = 0,
    /// Could not connect, a JSON-RPC error, or bad arguments.
    Failed = 1,
    /// The tool answered with `isError: true`.
    ToolError = 3,
    /// `--require-live`, and the progress did not arrive live.
    NotLive = 4,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}

/// Exit status when stdout's reader has gone away: what a shell reports for a program ended
/// by `SIGPIPE` (128 + 13).
const STDOUT_CLOSED: i32 = 141;

/// Prints one line on stdout, like `println!`, without its panic when the reader has gone
/// away (`mcp-probe list | head -3`; Rust ignores `SIGPIPE`, so the write fails instead):
/// the program then ends at once with status 141, as the default `SIGPIPE` action ends a C
/// program. A server started over stdio sees its input close and stops; an HTTP server sees
/// the connection close.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::output::write_line(::std::format_args!($($arg)*))
    };
}
pub(crate) use say;

/// The function behind [`say!`].
pub(crate) fn write_line(line: fmt::Arguments<'_>) {
    let mut out = io::stdout().lock();
    let written = out
        .write_fmt(line)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    match written {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => std::process::exit(STDOUT_CLOSED),
        Err(e) => {
            eprintln!("mcp-probe: cannot write to stdout: {e}");
            std::process::exit(Exit::Failed as i32)
        }
    }
}

/// A number without a needless `.0`.
pub(crate) fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// One line for a content block that is not text.
pub(crate) fn describe_content(content: &Content) -> String {
    match content {
        Content::Text(t) => t.text.clone(),
        Content::Image(i) => format!("[image {}, {} bytes of base64]", i.mime_type, i.data.len()),
        Content::Audio(a) => format!("[audio {}, {} bytes of base64]", a.mime_type, a.data.len()),
        Content::ResourceLink(l) => format!("[link to {} ({})]", l.uri, l.name),
        Content::Resource(r) => describe_contents(&r.resource),
    }
}

/// The text of resource contents, or a line describing a blob.
pub(crate) fn describe_contents(contents: &ResourceContents) -> String {
    match contents {
        ResourceContents::Text(t) => t.text.clone(),
        ResourceContents::Blob(b) => format!(
            "[blob {} of {}, {} bytes of base64]",
            b.mime_type.as_deref().unwrap_or("without a MIME type"),
            b.uri,
            b.blob.len()
        ),
    }
}
