//! Stateless requests (2026-07-28) over streamable HTTP: one POST each, with the headers that
//! mirror the body (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`, and `Mcp-Param-*` for
//! the parameters a tool marks with `x-mcp-header`), no session. A refusal that carries a
//! JSON-RPC error reaches the client as that error (it is the server's answer, and tells a
//! 2026-07-28 server from an older one); any other HTTP failure is a transport error, on which
//! a client in auto mode falls back to `initialize`.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::Request;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http_body_util::{BodyExt, Full, Limited};
use mcp_core::jsonrpc::{Message, RequestId};
use mcp_core::protocol::{PROTOCOL_VERSION_KEY, methods};
use mcp_core::server::{HeaderParam, HeaderParamType};
use serde_json::Value;

use super::request::{Shared, VERSION_HEADER, is_event_stream};
use crate::sync::lock;

/// What a stateless client learned from `tools/list`: the tools' mirrored parameters.
#[derive(Debug, Default)]
pub(super) struct Mirrors {
    tools: Mutex<HashMap<String, Vec<HeaderParam>>>,
}

impl Mirrors {
    /// Records the `x-mcp-header` parameters of the tools in a `tools/list` result.
    fn learn(&self, result: &serde_json::Map<String, Value>) {
        let Some(Value::Array(tools)) = result.get("tools") else {
            return;
        };
        let mut known = lock(&self.tools);
        for tool in tools {
            let (Some(name), Some(Value::Object(schema))) = (
                tool.get("name").and_then(Value::as_str),
                tool.get("inputSchema"),
            ) else {
                continue;
            };
            match HeaderParam::all_in(schema) {
                Ok(params) if params.is_empty() => {
                    known.remove(name);
                }
                Ok(params) => {
                    known.insert(name.to_owned(), params);
                }
                Err(why) => {
                    tracing::warn!(tool = name, %why, "invalid x-mcp-header annotations");
                }
            }
        }
    }
}

/// A header value as the revision encodes it: as is when it is plain visible ASCII without
/// surrounding spaces, otherwise `=?base64?...?=`.
fn encode(value: &str) -> String {
    let visible = value.bytes().all(|b| (0x20..=0x7e).contains(&b));
    let padded = value.starts_with(' ') || value.ends_with(' ');
    let sentinel_like = value.starts_with("=?base64?") && value.ends_with("?=");
    let plain = !value.is_empty() && visible && !padded && !sentinel_like;
    if plain {
        value.to_owned()
    } else {
        format!("=?base64?{}?=", STANDARD.encode(value))
    }
}

fn param_text(kind: HeaderParamType, value: &Value) -> Option<String> {
    match (kind, value) {
        (HeaderParamType::String, Value::String(s)) => Some(encode(s)),
        (HeaderParamType::Integer, Value::Number(n)) => Some(n.to_string()),
        (HeaderParamType::Boolean, Value::Bool(b)) => Some(b.to_string()),
        _ => None,
    }
}

/// Sends one stateless request and delivers its answer.
pub(super) async fn post(shared: &Shared, request: mcp_core::jsonrpc::Request) {
    let id = request.id.clone();
    let method = request.method.clone();
    let params = request.params.clone().unwrap_or_default();
    let version = params
        .get("_meta")
        .and_then(|m| m.get(PROTOCOL_VERSION_KEY))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let mut builder = Request::post(shared.url.clone())
        .header(CONTENT_TYPE, "application/json")
        .header(ACCEPT, "application/json, text/event-stream")
        .header(VERSION_HEADER, version)
        .header("mcp-method", method.as_str());
    let named = match method.as_str() {
        methods::TOOLS_CALL | methods::PROMPTS_GET => params.get("name"),
        methods::RESOURCES_READ => params.get("uri"),
        // The tasks extension routes a task's requests by its id.
        methods::TASKS_GET | methods::TASKS_UPDATE | methods::TASKS_CANCEL => params.get("taskId"),
        _ => None,
    };
    if let Some(Value::String(name)) = named {
        builder = builder.header("mcp-name", encode(name));
    }
    if method == methods::TOOLS_CALL
        && let Some(Value::String(tool)) = params.get("name")
    {
        let empty = serde_json::Map::new();
        let arguments = params
            .get("arguments")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let known = lock(&shared.mirrors.tools).get(tool).cloned();
        for param in known.unwrap_or_default() {
            if let Some(text) = param
                .value_in(arguments)
                .and_then(|v| param_text(param.kind, v))
            {
                builder = builder.header(format!("mcp-param-{}", param.name), text);
            }
        }
    }
    if let Some(token) = &shared.options.bearer_token {
        builder = builder.header(AUTHORIZATION, format!("Bearer {token}"));
    }
    let body = Bytes::from(Message::Request(request).to_json());
    let Ok(http_request) = builder.body(Full::new(body)) else {
        shared
            .fail(Some(&id), "the request's headers could not be built".into())
            .await;
        return;
    };
    let response = match shared.send(http_request).await {
        Ok(r) => r,
        Err(why) => {
            shared.fail(Some(&id), why).await;
            return;
        }
    };
    let status = response.status();
    if is_event_stream(&response) {
        let end = shared.read_sse(response, Some(&id), None).await;
        if !end.answered && !shared.incoming.is_closed() {
            // No resumption in this era: a broken stream loses the request.
            shared
                .fail(
                    Some(&id),
                    "the response stream ended before the response".into(),
                )
                .await;
        }
        return;
    }
    let body = Limited::new(response.into_body(), 16 * 1024 * 1024)
        .collect()
        .await
        .map(|b| b.to_bytes());
    let message = body.ok().and_then(|b| Message::parse(&b).ok());
    match message {
        Some(Message::Response(r)) if status.is_success() => {
            if method == methods::TOOLS_LIST {
                shared.mirrors.learn(&r.result);
            }
            shared.deliver(Message::Response(r)).await;
        }
        Some(Message::Error(mut e)) => {
            // A refusal the server explains: its answer to the request.
            e.id = Some(e.id.unwrap_or(id));
            shared.deliver(Message::Error(e)).await;
        }
        _ => {
            shared
                .fail(
                    Some(&id),
                    format!("HTTP {status} without a JSON-RPC answer"),
                )
                .await;
        }
    }
}

/// Whether `message` is a stateless request (its `_meta` names a protocol version).
pub(super) fn is_stateless(message: &Message) -> Option<&RequestId> {
    match message {
        Message::Request(r) if mcp_core::server::is_stateless(r) => Some(&r.id),
        _ => None,
    }
}
