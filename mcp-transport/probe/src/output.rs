//! What the probe prints beside its results, and how it exits.

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
