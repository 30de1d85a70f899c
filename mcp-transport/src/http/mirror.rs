//! Headers that mirror the body of a 2026-07-28 POST (`MCP-Protocol-Version`, `Mcp-Method`,
//! `Mcp-Name`, `Mcp-Param-*`), checked against it: a mismatch, a missing header or a malformed
//! value is `-32020` (HeaderMismatch) with 400, so that a proxy routing on the headers and the
//! server acting on the body can never disagree.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, HeaderName, HeaderValue};
use mcp_core::error::RpcError;
use mcp_core::jsonrpc::Request;
use mcp_core::protocol::methods;
use mcp_core::server::{HeaderParamType, Server};
use serde_json::Value;

use super::guard::PROTOCOL_VERSION;

const MCP_METHOD: &str = "mcp-method";
const MCP_NAME: &str = "mcp-name";
const PARAM_PREFIX: &str = "mcp-param-";

/// The `mcp-*` headers of a POST, kept when the rest of the request is dropped.
#[derive(Debug, Default)]
pub(crate) struct Mirrored {
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl Mirrored {
    /// Takes the `Mcp-*` headers out of `headers`, which is left empty (its room kept):
    /// moved, not copied. Only a name's first value is kept, the one a check reads.
    pub(crate) fn take(headers: &mut HeaderMap) -> Self {
        Mirrored {
            headers: headers
                .drain()
                .filter_map(|(n, v)| n.map(|n| (n, v)))
                .filter(|(n, _)| n.as_str().starts_with("mcp-"))
                .collect(),
        }
    }

    fn get(&self, name: &str) -> Option<&HeaderValue> {
        self.headers
            .iter()
            .find(|(n, _)| n.as_str() == name)
            .map(|(_, v)| v)
    }

    /// The `MCP-Protocol-Version` header, as sent.
    pub(crate) fn protocol_version(&self) -> Option<Cow<'_, str>> {
        self.get(PROTOCOL_VERSION.as_str())
            .map(|v| match String::from_utf8_lossy(v.as_bytes()) {
                Cow::Borrowed(text) => Cow::Borrowed(text.trim()),
                Cow::Owned(text) => Cow::Owned(text.trim().to_owned()),
            })
    }

    /// Checks the protocol version header against the one `_meta` declares.
    pub(crate) fn check_version(&self, declared: &str) -> Result<(), RpcError> {
        match self.protocol_version() {
            None => Err(RpcError::header_mismatch(
                "the MCP-Protocol-Version header is missing",
            )),
            Some(h) if h == declared => Ok(()),
            Some(h) => Err(RpcError::header_mismatch(format!(
                "MCP-Protocol-Version header {h:?} does not match _meta protocolVersion {declared:?}"
            ))),
        }
    }

    /// Checks `Mcp-Method`, `Mcp-Name` and, for `tools/call`, the tool's `Mcp-Param-*`.
    pub(crate) fn check_request(&self, server: &Server, request: &Request) -> Result<(), RpcError> {
        let method = self
            .get(MCP_METHOD)
            .ok_or_else(|| RpcError::header_mismatch("the Mcp-Method header is missing"))
            .and_then(|v| text(v, "Mcp-Method"))?;
        if method != request.method {
            return Err(RpcError::header_mismatch(format!(
                "Mcp-Method header {method:?} does not match the body's method {:?}",
                request.method
            )));
        }
        let params = request.params.as_ref();
        let field = match request.method.as_str() {
            methods::TOOLS_CALL | methods::PROMPTS_GET => Some("name"),
            methods::RESOURCES_READ => Some("uri"),
            // The tasks extension routes a task's requests by its id.
            methods::TASKS_GET | methods::TASKS_UPDATE | methods::TASKS_CANCEL => Some("taskId"),
            _ => None,
        };
        // Read from the params' text, skipping the rest: the params are not parsed whole.
        let member = |name: &str| params.and_then(|p| p.member::<Value>(name).ok().flatten());
        let named = field.and_then(member);
        if let Some(Value::String(body)) = &named {
            let header = self
                .get(MCP_NAME)
                .ok_or_else(|| RpcError::header_mismatch("the Mcp-Name header is missing"))
                .and_then(|v| decoded(v, "Mcp-Name"))?;
            if header != *body {
                return Err(RpcError::header_mismatch(format!(
                    "Mcp-Name header {header:?} does not match the body's value {body:?}"
                )));
            }
        }
        if request.method == methods::TOOLS_CALL
            && let Some(Value::String(tool)) = &named
        {
            let header_params = server.header_params(tool);
            // Read only for a tool that has header parameters.
            let arguments = match header_params.is_empty() {
                true => serde_json::Map::new(),
                false => match member("arguments") {
                    Some(Value::Object(arguments)) => arguments,
                    _ => serde_json::Map::new(),
                },
            };
            for param in header_params {
                let name = format!("{PARAM_PREFIX}{}", param.name.to_ascii_lowercase());
                let header = self.get(&name);
                let label = format!("Mcp-Param-{}", param.name);
                match (param.value_in(&arguments), header) {
                    (None, None) => {}
                    (None, Some(_)) => {
                        return Err(RpcError::header_mismatch(format!(
                            "{label} is sent but the arguments hold no value for it"
                        )));
                    }
                    (Some(_), None) => {
                        return Err(RpcError::header_mismatch(format!(
                            "{label} is missing: the arguments hold a value for it"
                        )));
                    }
                    (Some(body), Some(value)) => {
                        let header = decoded(value, &label)?;
                        if !same_value(param.kind, &header, body) {
                            return Err(RpcError::header_mismatch(format!(
                                "{label} header {header:?} does not match the argument {body}"
                            )));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// A header's text: visible ASCII, spaces and tabs only, with the optional whitespace around it
/// removed (RFC 9110, section 5.5).
fn text<'a>(value: &'a HeaderValue, label: &str) -> Result<&'a str, RpcError> {
    let bytes = value.as_bytes();
    if !bytes
        .iter()
        .all(|&b| b == b'\t' || (0x20..=0x7e).contains(&b))
    {
        return Err(RpcError::header_mismatch(format!(
            "{label} holds characters a header value may not carry: encode it as =?base64?...?="
        )));
    }
    // Visible ASCII, spaces and tabs: UTF-8 as it is.
    let text = std::str::from_utf8(bytes).unwrap_or_default();
    Ok(text.trim_matches([' ', '\t']))
}

/// A header's value, Base64-decoded when it carries the `=?base64?...?=` sentinel (strict:
/// the standard alphabet with its padding).
fn decoded<'a>(value: &'a HeaderValue, label: &str) -> Result<Cow<'a, str>, RpcError> {
    let text = text(value, label)?;
    let Some(inner) = text
        .strip_prefix("=?base64?")
        .and_then(|rest| rest.strip_suffix("?="))
    else {
        return Ok(Cow::Borrowed(text));
    };
    let bytes = STANDARD
        .decode(inner)
        .map_err(|e| RpcError::header_mismatch(format!("{label} holds invalid Base64 ({e})")))?;
    String::from_utf8(bytes)
        .map(Cow::Owned)
        .map_err(|_| RpcError::header_mismatch(format!("{label} decodes to invalid UTF-8")))
}

/// Whether a header's text stands for the argument's value: strings as they are, integers
/// numerically (`42.0` is `42`), booleans as `true`/`false`.
fn same_value(kind: HeaderParamType, header: &str, body: &Value) -> bool {
    match (kind, body) {
        (HeaderParamType::String, Value::String(s)) => header == s,
        (HeaderParamType::Integer, Value::Number(n)) => header
            .parse::<f64>()
            .ok()
            .zip(n.as_f64())
            .is_some_and(|(h, b)| h == b),
        (HeaderParamType::Boolean, Value::Bool(b)) => header == if *b { "true" } else { "false" },
        // A value of the wrong type: the tool will say so; the header cannot match it.
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_sentinel_is_strict_and_literal_otherwise() {
        let v = |s: &'static str| HeaderValue::from_static(s);
        assert_eq!(decoded(&v("=?base64?SGVsbG8=?="), "x").unwrap(), "Hello");
        assert!(decoded(&v("=?base64?SGVsbG8?="), "x").is_err(), "padding");
        assert!(
            decoded(&v("=?base64?SGVs!!!bG8=?="), "x").is_err(),
            "alphabet"
        );
        assert_eq!(decoded(&v("SGVsbG8="), "x").unwrap(), "SGVsbG8=");
        assert_eq!(
            decoded(&v("=?base64?SGVsbG8="), "x").unwrap(),
            "=?base64?SGVsbG8="
        );
        assert_eq!(decoded(&v("  tool  "), "x").unwrap(), "tool");
        assert!(same_value(
            HeaderParamType::Integer,
            "42.0",
            &serde_json::json!(42)
        ));
        assert!(!same_value(
            HeaderParamType::Boolean,
            "True",
            &serde_json::json!(true)
        ));
    }
}
