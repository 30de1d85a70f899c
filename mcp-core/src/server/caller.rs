//! [`Caller`]: what a request needs to know about who sent it, in one value per request.
//!
//! The stateful era (up to 2025-11-25) learns it once per session, from `initialize` and
//! `logging/setLevel`; the stateless era (2026-07-28) reads it from every request's `_meta`.
//! Routing and [`Context`](crate::Context) read only a `Caller`, so the dispatcher has one
//! path for both eras, and work that outlives its request (a task) can carry it along.

use std::sync::Arc;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::SessionState;
use crate::error::RpcError;
use crate::jsonrpc::Members;
use crate::jsonrpc::{Payload, Request};
use crate::protocol::{
    CLIENT_CAPABILITIES_KEY, CLIENT_INFO_KEY, ClientCapabilities, Implementation, LOG_LEVEL_KEY,
    LoggingLevel, PROTOCOL_VERSION_KEY, ProtocolVersion, methods,
};

/// The era a request belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Era {
    /// `initialize` opened a session (revisions 2024-11-05 to 2025-11-25): the session holds
    /// the caller's version, capabilities and log level, and the server may send requests to
    /// the client.
    Stateful,
    /// The request carries its own `_meta` (revision 2026-07-28): no session, and input from
    /// the client comes back on a retry of the request (`input_required`).
    Stateless,
}

/// The `_meta` of a stateless request, read and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestMeta {
    version: String,
    capabilities: ClientCapabilities,
    client_info: Option<Implementation>,
    log_level: Option<LoggingLevel>,
}

impl RequestMeta {
    /// Reads the per-request fields of `params._meta`. A missing `_meta`, a missing or
    /// malformed protocol version or client capabilities, or a malformed client info or log
    /// level is `-32602` (the revision's rule for a malformed request).
    pub fn read(params: Option<&Payload>) -> Result<RequestMeta, RpcError> {
        // Only `_meta` is read, and in it only the members below, from the params' text
        // when they are held as text.
        let meta = params
            .map(|p| p.member::<MetaFields>("_meta"))
            .transpose()
            .map_err(|_| RpcError::invalid_params("`_meta` must be an object"))?
            .flatten()
            .ok_or_else(|| RpcError::invalid_params("the request has no `_meta`: a 2026-07-28 request carries `_meta` with `io.modelcontextprotocol/protocolVersion` and `io.modelcontextprotocol/clientCapabilities`"))?;
        Self::checked(meta.0)
    }

    /// [`read`](Self::read) from a `_meta` object already located (its text, or the object).
    pub(crate) fn from_meta(meta: &Payload) -> Result<RequestMeta, RpcError> {
        match meta.encoded() {
            // Text from a message: it reads (it is an object), the other members skipped.
            Some(_) => Self::checked(meta.decode::<MetaFields>().map(|m| m.0).unwrap_or_default()),
            None => Self::checked(META_FIELDS.map(|name| meta.get(name).cloned())),
        }
    }

    /// The fields read from `_meta` ([`META_FIELDS`], in that order), checked.
    fn checked(fields: [Option<Value>; 4]) -> Result<RequestMeta, RpcError> {
        let [version, capabilities, client_info, log_level] = fields;
        let version = match version {
            Some(Value::String(v)) => v,
            Some(_) => {
                return Err(RpcError::invalid_params(format!(
                    "`_meta.{PROTOCOL_VERSION_KEY}` must be a string"
                )));
            }
            None => {
                return Err(RpcError::invalid_params(format!(
                    "`_meta` lacks `{PROTOCOL_VERSION_KEY}`"
                )));
            }
        };
        let capabilities = match capabilities {
            Some(v @ Value::Object(_)) => serde_json::from_value(v).map_err(|e| {
                RpcError::invalid_params(format!("`_meta.{CLIENT_CAPABILITIES_KEY}`: {e}"))
            })?,
            Some(_) => {
                return Err(RpcError::invalid_params(format!(
                    "`_meta.{CLIENT_CAPABILITIES_KEY}` must be an object"
                )));
            }
            None => {
                return Err(RpcError::invalid_params(format!(
                    "`_meta` lacks `{CLIENT_CAPABILITIES_KEY}`"
                )));
            }
        };
        let client_info = client_info
            .map(|v| {
                serde_json::from_value(v).map_err(|e| {
                    RpcError::invalid_params(format!("`_meta.{CLIENT_INFO_KEY}`: {e}"))
                })
            })
            .transpose()?;
        let log_level = log_level
            .map(|v| {
                serde_json::from_value(v.clone()).map_err(|_| {
                    RpcError::invalid_params(format!(
                        "`_meta.{LOG_LEVEL_KEY}` must be one of debug, info, notice, warning, error, critical, alert, emergency; got {v}"
                    ))
                })
            })
            .transpose()?;
        Ok(RequestMeta {
            version,
            capabilities,
            client_info,
            log_level,
        })
    }

    /// The protocol version the request declares, as sent.
    pub fn protocol_version(&self) -> &str {
        &self.version
    }

    /// The client's capabilities for this request.
    pub fn capabilities(&self) -> &ClientCapabilities {
        &self.capabilities
    }

    /// The client's identity, if it sent one.
    pub fn client_info(&self) -> Option<&Implementation> {
        self.client_info.as_ref()
    }

    /// The log level the request asks for, if any.
    pub fn log_level(&self) -> Option<LoggingLevel> {
        self.log_level
    }
}

/// The members of `_meta` a stateless request's caller is read from: read in one pass over
/// `_meta`, the others skipped without being built.
struct MetaFields([Option<Value>; 4]);

/// The members of `_meta` a stateless request's caller is read from.
const META_FIELDS: [&str; 4] = [
    PROTOCOL_VERSION_KEY,
    CLIENT_CAPABILITIES_KEY,
    CLIENT_INFO_KEY,
    LOG_LEVEL_KEY,
];

impl<'de> Deserialize<'de> for MetaFields {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(Members(META_FIELDS)).map(MetaFields)
    }
}

/// Whether `_meta` names a protocol version (whatever its value), read without building it.
struct NamesVersion(bool);

impl<'de> Deserialize<'de> for NamesVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let [version] = d.deserialize_map(Members([PROTOCOL_VERSION_KEY]))?;
        Ok(NamesVersion(version.is_some()))
    }
}

/// Whether the `_meta` object `meta` names a protocol version (whatever its value), read
/// from its text without building it when it is held as text.
pub(crate) fn names_version(meta: &Payload) -> bool {
    match meta.encoded() {
        Some(_) => meta.decode::<NamesVersion>().is_ok_and(|names| names.0),
        None => meta.contains_key(PROTOCOL_VERSION_KEY),
    }
}

/// Whether `request` belongs to the stateless era: its `_meta` names a protocol version, or
/// its method exists only there (`server/discover`, `subscriptions/listen`).
pub fn is_stateless(request: &Request) -> bool {
    matches!(
        request.method.as_str(),
        methods::SERVER_DISCOVER | methods::SUBSCRIPTIONS_LISTEN
    ) || request
        .params
        .as_ref()
        .and_then(|p| p.member::<NamesVersion>("_meta").ok().flatten())
        .is_some_and(|names| names.0)
}

#[derive(Debug, Clone)]
enum Source {
    Session(Arc<SessionState>),
    Request {
        version: ProtocolVersion,
        meta: Arc<RequestMeta>,
    },
}

/// Who sent a request, as the request's handler sees it: era, protocol version, client
/// capabilities and identity, and the log level. Cheap to clone.
///
/// In the stateful era it reads the session (so a `logging/setLevel` applies to calls already
/// running, as before); in the stateless era it is what the request's `_meta` said.
#[derive(Debug, Clone)]
pub struct Caller {
    source: Source,
}

impl Caller {
    pub(crate) fn session(state: Arc<SessionState>) -> Self {
        Caller {
            source: Source::Session(state),
        }
    }

    pub(crate) fn request(version: ProtocolVersion, meta: RequestMeta) -> Self {
        Caller {
            source: Source::Request {
                version,
                meta: Arc::new(meta),
            },
        }
    }

    /// The era of the request.
    pub fn era(&self) -> Era {
        match self.source {
            Source::Session(_) => Era::Stateful,
            Source::Request { .. } => Era::Stateless,
        }
    }

    /// The protocol revision: negotiated by the session, or declared by the request.
    pub fn protocol_version(&self) -> Option<ProtocolVersion> {
        match &self.source {
            Source::Session(s) => s.protocol_version(),
            Source::Request { version, .. } => Some(*version),
        }
    }

    /// What the client declared it can do (in `initialize`, or in this request's `_meta`).
    pub fn client_capabilities(&self) -> Option<&ClientCapabilities> {
        match &self.source {
            Source::Session(s) => s.client().map(|c| &c.capabilities),
            Source::Request { meta, .. } => Some(&meta.capabilities),
        }
    }

    /// Who the client says it is.
    pub fn client_info(&self) -> Option<&Implementation> {
        match &self.source {
            Source::Session(s) => s.client().map(|c| &c.client_info),
            Source::Request { meta, .. } => meta.client_info.as_ref(),
        }
    }

    /// Whether a log message at `level` goes out: in a session, unless `logging/setLevel`
    /// asked for less; for a stateless request, only at or above the level its `_meta` asked
    /// for, and never without one.
    pub fn should_log(&self, level: LoggingLevel) -> bool {
        match &self.source {
            Source::Session(s) => s.should_log(level),
            Source::Request { meta, .. } => meta.log_level.is_some_and(|min| level >= min),
        }
    }

    pub(crate) fn session_state(&self) -> Option<&Arc<SessionState>> {
        match &self.source {
            Source::Session(s) => Some(s),
            Source::Request { .. } => None,
        }
    }
}
