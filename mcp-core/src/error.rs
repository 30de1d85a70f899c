//! Typed errors: the one place where failures become JSON-RPC error codes.

use std::fmt;

use serde_json::Value;

use crate::jsonrpc::{ErrorObject, RequestId};

/// A JSON-RPC error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorCode(pub i64);

impl ErrorCode {
    /// `-32700`: the bytes were not valid JSON.
    pub const PARSE_ERROR: ErrorCode = ErrorCode(-32700);
    /// `-32600`: the JSON was not a valid request.
    pub const INVALID_REQUEST: ErrorCode = ErrorCode(-32600);
    /// `-32601`: the method does not exist or is not offered.
    pub const METHOD_NOT_FOUND: ErrorCode = ErrorCode(-32601);
    /// `-32602`: the params were wrong for the method.
    pub const INVALID_PARAMS: ErrorCode = ErrorCode(-32602);
    /// `-32603`: the server failed while handling a valid request.
    pub const INTERNAL_ERROR: ErrorCode = ErrorCode(-32603);
    /// `-32000`: the server cannot take the request now (too many requests in flight, shutting
    /// down); the message says why, and retrying later may succeed.
    pub const SERVER_ERROR: ErrorCode = ErrorCode(-32000);
    /// `-32002`: the resource was not found (MCP up to 2025-11-25; 2026-07-28 uses `-32602`).
    pub const RESOURCE_NOT_FOUND: ErrorCode = ErrorCode(-32002);
    /// `-32020` (2026-07-28): HTTP headers that mirror the body do not match it, or are
    /// missing or malformed.
    pub const HEADER_MISMATCH: ErrorCode = ErrorCode(-32020);
    /// `-32021` (2026-07-28): the request needs a client capability the request's `_meta` did
    /// not declare; `data.requiredCapabilities` names it.
    pub const MISSING_REQUIRED_CLIENT_CAPABILITY: ErrorCode = ErrorCode(-32021);
    /// `-32022` (2026-07-28): the request's protocol version is not served here;
    /// `data.supported` lists the versions that are, `data.requested` echoes the one asked.
    pub const UNSUPPORTED_PROTOCOL_VERSION: ErrorCode = ErrorCode(-32022);
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An error to answer a request with: code, message and optional data.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message} (JSON-RPC error {code})")]
pub struct RpcError {
    /// The JSON-RPC code.
    pub code: ErrorCode,
    /// A human-readable message.
    pub message: String,
    /// Extra structured information.
    pub data: Option<Value>,
}

impl RpcError {
    /// An error with a code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        RpcError {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// Attaches `data`.
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    /// `-32601` for `method`.
    pub fn method_not_found(method: &str) -> Self {
        RpcError::new(
            ErrorCode::METHOD_NOT_FOUND,
            format!("Method not found: {method}"),
        )
    }

    /// `-32602` with the given explanation.
    pub fn invalid_params(why: impl fmt::Display) -> Self {
        RpcError::new(ErrorCode::INVALID_PARAMS, format!("Invalid params: {why}"))
    }

    /// `-32600` with the given explanation.
    pub fn invalid_request(why: impl fmt::Display) -> Self {
        RpcError::new(
            ErrorCode::INVALID_REQUEST,
            format!("Invalid request: {why}"),
        )
    }

    /// `-32603` with the given explanation.
    pub fn internal(why: impl fmt::Display) -> Self {
        RpcError::new(ErrorCode::INTERNAL_ERROR, format!("Internal error: {why}"))
    }

    /// `-32002`: no resource has `uri` (with the URI as data, as the spec's example shows).
    pub fn resource_not_found(uri: &str) -> Self {
        RpcError::new(
            ErrorCode::RESOURCE_NOT_FOUND,
            format!("Resource not found: {uri}"),
        )
        .with_data(serde_json::json!({ "uri": uri }))
    }

    /// `-32020`: a header that mirrors the body does not match it (or is missing).
    pub fn header_mismatch(why: impl fmt::Display) -> Self {
        RpcError::new(
            ErrorCode::HEADER_MISMATCH,
            format!("Header mismatch: {why}"),
        )
    }

    /// `-32021`: the request needs `capability` (such as `sampling`), which the client did
    /// not declare.
    pub fn missing_capability(capability: &str) -> Self {
        let mut required = serde_json::Map::new();
        required.insert(capability.to_owned(), Value::Object(Default::default()));
        RpcError::new(
            ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY,
            format!(
                "Missing required client capability: this request needs `{capability}`, which the request's clientCapabilities do not declare"
            ),
        )
        .with_data(serde_json::json!({ "requiredCapabilities": required }))
    }

    /// `-32022`: `requested` is not served here; `supported` lists what is.
    pub fn unsupported_version(requested: &str, supported: &[&str]) -> Self {
        RpcError::new(
            ErrorCode::UNSUPPORTED_PROTOCOL_VERSION,
            format!(
                "Unsupported protocol version {requested:?}: this server supports {}",
                supported.join(", ")
            ),
        )
        .with_data(serde_json::json!({ "supported": supported, "requested": requested }))
    }

    /// The HTTP status a stateless (2026-07-28) request answered with this error gets when the
    /// error is all there is to send: 404 for an unknown method, 400 for a malformed request
    /// (bad params or `_meta`, header mismatch, missing capability, unsupported version), 200
    /// otherwise (the JSON-RPC error is the answer).
    pub fn http_status(&self) -> u16 {
        match self.code {
            ErrorCode::METHOD_NOT_FOUND => 404,
            ErrorCode::PARSE_ERROR
            | ErrorCode::INVALID_REQUEST
            | ErrorCode::INVALID_PARAMS
            | ErrorCode::HEADER_MISMATCH
            | ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY
            | ErrorCode::UNSUPPORTED_PROTOCOL_VERSION => 400,
            _ => 200,
        }
    }

    /// Converts to the wire form.
    pub fn into_object(self) -> ErrorObject {
        ErrorObject {
            code: self.code.0,
            message: self.message,
            data: self.data,
        }
    }
}

impl From<ErrorObject> for RpcError {
    fn from(e: ErrorObject) -> Self {
        RpcError {
            code: ErrorCode(e.code),
            message: e.message,
            data: e.data,
        }
    }
}

/// Why a request sent to the peer did not produce a result.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The peer answered with a JSON-RPC error.
    #[error("the peer answered with an error: {0}")]
    Rpc(#[from] RpcError),
    /// The connection closed before the response arrived.
    #[error("the connection closed before request {0} was answered")]
    Closed(RequestId),
    /// The request was cancelled by this side.
    #[error("request {0} was cancelled")]
    Cancelled(RequestId),
    /// No response arrived within the time allowed.
    #[error("request {0} timed out")]
    Timeout(RequestId),
    /// The response's result did not have the expected shape.
    #[error("the response to request {id} had an unexpected shape: {source}")]
    Decode {
        /// The request's id.
        id: RequestId,
        /// The decoding error.
        #[source]
        source: serde_json::Error,
    },
    /// The peer did not offer what the request needs.
    #[error("{0}")]
    Unsupported(String),
}
