//! Tools: their definitions, `tools/list` and `tools/call`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Content, Meta, TextContent};
use crate::jsonrpc::{JsonObject, Payload};

/// Hints about a tool's behaviour (2025-03-26 and later). Hints only: a client must not
/// trust them from an untrusted server.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolAnnotations {
    /// A display title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The tool does not modify its environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only_hint: Option<bool>,
    /// The tool may perform destructive updates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destructive_hint: Option<bool>,
    /// Calling it twice with the same arguments has no additional effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotent_hint: Option<bool>,
    /// The tool interacts with an open world of external entities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_world_hint: Option<bool>,
}

/// The definition of a tool, as listed by `tools/list` (the schema's `Tool`; named apart from
/// the [`Tool`](crate::Tool) trait).
///
/// ```
/// use mcp_core::JsonObject;
/// use mcp_core::protocol::ToolDefinition;
///
/// let mut schema = JsonObject::new();
/// schema.insert("type".into(), "object".into());
/// let definition = ToolDefinition::new("ping_all", schema)
///     .description("Pings every host.")
///     .title("Ping all");
/// assert_eq!(definition.title.as_deref(), Some("Ping all"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolDefinition {
    /// The tool's name, unique within the server.
    pub name: String,
    /// A display title (2025-06-18 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What the tool does, for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON Schema of the arguments (an object schema).
    pub input_schema: JsonObject,
    /// JSON Schema of `structuredContent` (2025-06-18 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<JsonObject>,
    /// Behaviour hints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<ToolAnnotations>,
    /// How the tool may be run: whether it may run as a task (2025-11-25 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution: Option<ToolExecution>,
    /// Extra metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// How a tool may be run (`execution` in a tool's definition).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolExecution {
    /// Whether a call may (or must) run as a task; absent means forbidden.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_support: Option<TaskSupport>,
}

/// Whether a tool runs as a task (`execution.taskSupport`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskSupport {
    /// Never as a task (the default).
    #[default]
    Forbidden,
    /// As a task when the client asks (2025-11-25) or supports tasks (2026-07-28), otherwise
    /// as a plain call.
    Optional,
    /// Only as a task: a client that cannot take a task gets an error.
    Required,
}

impl ToolDefinition {
    /// Whether the tool may run as a task.
    pub fn task_support(&self) -> TaskSupport {
        self.execution
            .as_ref()
            .and_then(|e| e.task_support)
            .unwrap_or_default()
    }
}

impl ToolDefinition {
    /// A tool with a name and an input schema (an object schema), and nothing else.
    pub fn new(name: impl Into<String>, input_schema: JsonObject) -> Self {
        ToolDefinition {
            name: name.into(),
            input_schema,
            ..ToolDefinition::default()
        }
    }
}

setters!(ToolDefinition {
    /// Sets the display title.
    title: String,
    /// Sets the description the model reads.
    description: String,
    /// Sets the schema of `structuredContent`.
    output_schema: JsonObject,
    /// Sets the behaviour hints.
    annotations: ToolAnnotations,
    /// Sets how the tool may be run (task support).
    execution: ToolExecution,
});

/// Params of a paginated list request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PaginatedParams {
    /// Where to continue from: the `nextCursor` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Extra metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// Result of `tools/list`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListToolsResult {
    /// One page of tools.
    pub tools: Vec<ToolDefinition>,
    /// Present when more pages follow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// Extra metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// Params of `tools/call`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallToolParams {
    /// The tool to call.
    pub name: String,
    /// Its arguments: as read from the wire, their text, which the tool decodes into its typed
    /// params.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Payload>,
    /// Extra metadata, including `progressToken`.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// Result of `tools/call`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallToolResult {
    /// Unstructured content blocks.
    pub content: Vec<Content>,
    /// Structured result matching the tool's `outputSchema` (2025-06-18 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured_content: Option<JsonObject>,
    /// `true` when the tool failed; the content then explains why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_error: Option<bool>,
    /// Extra metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

impl CallToolResult {
    /// Writes the result's JSON text, byte for byte what serde writes: directly for the usual
    /// result (text blocks without annotations or `_meta`, no structured content, no
    /// `_meta`), through serde otherwise. The usual result is what most tools return; written
    /// directly, it skips serde's per-member work (and the tagging of each content block).
    pub(crate) fn write_json(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        // Destructured whole, here and for each block: a member added to either type fails
        // to compile until this writing knows it (rather than being silently left out).
        let CallToolResult {
            content,
            structured_content,
            is_error,
            meta,
        } = self;
        let plain_block = |c: &Content| match c {
            Content::Text(TextContent {
                text: _,
                annotations,
                meta,
            }) => annotations.is_none() && meta.is_none(),
            _ => false,
        };
        if structured_content.is_some() || meta.is_some() || !content.iter().all(plain_block) {
            return serde_json::to_writer(out, self);
        }
        out.extend_from_slice(br#"{"content":["#);
        for (i, block) in content.iter().enumerate() {
            if let Content::Text(t) = block {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(br#"{"type":"text","text":"#);
                serde_json::to_writer(&mut *out, &t.text)?;
                out.push(b'}');
            }
        }
        out.push(b']');
        match is_error {
            Some(true) => out.extend_from_slice(br#","isError":true"#),
            Some(false) => out.extend_from_slice(br#","isError":false"#),
            None => {}
        }
        out.push(b'}');
        Ok(())
    }

    /// A successful result with the given content.
    pub fn success(content: Vec<Content>) -> Self {
        CallToolResult {
            content,
            ..Default::default()
        }
    }

    /// A failed result whose text explains why.
    pub fn error(message: impl Into<String>) -> Self {
        CallToolResult {
            content: vec![Content::text(message)],
            is_error: Some(true),
            ..Default::default()
        }
    }

    /// A successful result carrying a structured value and its JSON text as content.
    pub fn structured(value: JsonObject) -> Self {
        let text = Value::Object(value.clone()).to_string();
        CallToolResult {
            content: vec![Content::text(text)],
            structured_content: Some(value),
            ..Default::default()
        }
    }

    /// Whether the tool reported failure.
    pub fn is_error(&self) -> bool {
        self.is_error == Some(true)
    }

    /// The text of all text blocks, joined by newlines.
    pub fn text(&self) -> String {
        self.content
            .iter()
            .filter_map(Content::as_text)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The direct writing of a usual result gives serde's text, byte for byte; any other
    /// result goes through serde.
    #[test]
    fn a_result_is_written_as_serde_writes_it() {
        let mut structured = JsonObject::new();
        structured.insert("n".into(), 1.into());
        let annotated: Content = serde_json::from_value(serde_json::json!(
            {"type": "text", "text": "a", "annotations": {"priority": 0.5}}
        ))
        .unwrap();
        let results = [
            CallToolResult::success(vec![Content::text("done 0")]),
            CallToolResult::success(Vec::new()),
            CallToolResult::success(vec![
                Content::text("é \"quoted\" \\ \n\t\u{1}"),
                Content::text(""),
            ]),
            CallToolResult::error("it failed"),
            CallToolResult {
                is_error: Some(false),
                ..CallToolResult::success(vec![Content::text("x")])
            },
            CallToolResult::structured(structured),
            CallToolResult::success(vec![annotated, Content::image("AAAA", "image/png")]),
        ];
        for result in results {
            let mut written = Vec::new();
            result.write_json(&mut written).unwrap();
            assert_eq!(
                String::from_utf8(written).unwrap(),
                serde_json::to_string(&result).unwrap()
            );
        }
    }
}
