//! What the stateless revision (2026-07-28) adds: per-request `_meta` keys, `server/discover`,
//! multi round-trip results (`input_required`), caching hints and `subscriptions/listen`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Meta, ServerCapabilities};
use crate::jsonrpc::JsonObject;

/// `_meta` key of a request: the protocol version it speaks (required).
pub const PROTOCOL_VERSION_KEY: &str = "io.modelcontextprotocol/protocolVersion";
/// `_meta` key of a request: what the client can do for this request (required).
pub const CLIENT_CAPABILITIES_KEY: &str = "io.modelcontextprotocol/clientCapabilities";
/// `_meta` key of a request: who the client is (optional).
pub const CLIENT_INFO_KEY: &str = "io.modelcontextprotocol/clientInfo";
/// `_meta` key of a request: the least severe log level it wants (optional; without it the
/// server sends no log messages for the request).
pub const LOG_LEVEL_KEY: &str = "io.modelcontextprotocol/logLevel";
/// `_meta` key of a result: who the server is.
pub const SERVER_INFO_KEY: &str = "io.modelcontextprotocol/serverInfo";
/// `_meta` key of a notification on a `subscriptions/listen` stream (and of the result that
/// ends it): the id of the listen request.
pub const SUBSCRIPTION_ID_KEY: &str = "io.modelcontextprotocol/subscriptionId";

/// `resultType` of an ordinary result.
pub const RESULT_COMPLETE: &str = "complete";
/// `resultType` of a multi round-trip interim result.
pub const RESULT_INPUT_REQUIRED: &str = "input_required";

/// Result of `server/discover`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscoverResult {
    /// The protocol versions the server serves.
    pub supported_versions: Vec<String>,
    /// What the server can do.
    pub capabilities: ServerCapabilities,
    /// How to use the server, for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// Extra metadata, with the server's identity under [`SERVER_INFO_KEY`].
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// Who may cache a result (`cacheScope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheScope {
    /// The result holds nothing user-specific: any cache may share it.
    Public,
    /// The result may be reused only within the same authorization context.
    Private,
}

/// A caching hint: `ttlMs` and `cacheScope` on a cacheable result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheHint {
    /// How long, in milliseconds, the client may consider the result fresh.
    pub ttl_ms: u64,
    /// Who may cache it.
    pub scope: CacheScope,
}

impl CacheHint {
    /// Fresh for `ttl_ms`, cacheable by anyone.
    pub const fn public(ttl_ms: u64) -> Self {
        CacheHint {
            ttl_ms,
            scope: CacheScope::Public,
        }
    }

    /// Fresh for `ttl_ms`, cacheable within one authorization context.
    pub const fn private(ttl_ms: u64) -> Self {
        CacheHint {
            ttl_ms,
            scope: CacheScope::Private,
        }
    }
}

/// One request the server needs the client to answer before it can finish (an entry of
/// `inputRequests`): `elicitation/create`, `sampling/createMessage` or `roots/list`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputRequest {
    /// The method, as the stateful era would have sent it as a request.
    pub method: String,
    /// Its params.
    #[serde(default)]
    pub params: JsonObject,
}

/// A multi round-trip interim result: the inputs the server needs, and the state the client
/// echoes when it retries the request with the answers (`inputResponses`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InputRequiredResult {
    /// Always [`RESULT_INPUT_REQUIRED`].
    pub result_type: String,
    /// The requests to answer, by key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_requests: Option<BTreeMap<String, InputRequest>>,
    /// Opaque state to echo on the retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_state: Option<String>,
    /// Extra metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// The notification types a `subscriptions/listen` stream opts in to (and, in the
/// acknowledgement, those the server agreed to).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionFilter {
    /// `notifications/tools/list_changed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools_list_changed: Option<bool>,
    /// `notifications/prompts/list_changed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompts_list_changed: Option<bool>,
    /// `notifications/resources/list_changed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources_list_changed: Option<bool>,
    /// `notifications/resources/updated` for these URIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_subscriptions: Option<Vec<String>>,
    /// `notifications/tasks` for these tasks (the `io.modelcontextprotocol/tasks` extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_ids: Option<Vec<String>>,
}

/// Params of `subscriptions/listen`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListenParams {
    /// What the client opts in to.
    pub notifications: SubscriptionFilter,
    /// The request's metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// A root the client exposes (`roots/list`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Root {
    /// A `file://` URI.
    pub uri: String,
    /// A display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Extra metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// Result of `roots/list`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListRootsResult {
    /// The roots.
    pub roots: Vec<Root>,
    /// Extra metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}
