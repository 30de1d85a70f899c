//! The client in the stateless era (2026-07-28): the `server/discover` probe that picks the
//! era, the `_meta` every request carries, and the multi round-trip loop that answers
//! `input_required` results with the same handler that answers server-to-client requests in
//! a session.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::oneshot;

use super::{Client, ClientOptions, ConnectError, lock};
use crate::error::{ErrorCode, RequestError};
use crate::jsonrpc::{JsonObject, Request, RequestId};
use crate::peer::Reply;
use crate::protocol::{
    CLIENT_CAPABILITIES_KEY, CLIENT_INFO_KEY, DiscoverResult, Implementation, InitializeResult,
    InputRequest, LOG_LEVEL_KEY, LoggingLevel, PROTOCOL_VERSION_KEY, ProtocolVersion,
    RESULT_INPUT_REQUIRED, SERVER_INFO_KEY, methods,
};

/// Which era a client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientEra {
    /// Probe with `server/discover` (2026-07-28) and fall back to `initialize` when the
    /// server does not answer it as a 2026-07-28 server would, as the official clients do.
    #[default]
    Auto,
    /// 2026-07-28 only: fail if the server does not offer it.
    Stateless,
    /// `initialize` only (2024-11-05 to 2025-11-25).
    Stateful,
}

/// What a stateless client sends with every request.
#[derive(Debug)]
pub(super) struct StatelessMode {
    version: ProtocolVersion,
    capabilities: Value,
    info: Value,
    /// The log level requests ask for (`set_logging_level`), if any.
    pub(super) log_level: Mutex<Option<LoggingLevel>>,
}

impl StatelessMode {
    pub(super) fn new(options: &ClientOptions) -> Self {
        StatelessMode {
            version: ProtocolVersion::LATEST_MODERN,
            capabilities: serde_json::to_value(&options.capabilities)
                .unwrap_or_else(|_| Value::Object(JsonObject::new())),
            info: serde_json::to_value(&options.info).unwrap_or(Value::Null),
            log_level: Mutex::new(None),
        }
    }

    /// The capabilities every request declares.
    pub(super) fn capabilities(&self) -> Value {
        self.capabilities.clone()
    }

    /// `params` with the per-request `_meta` fields added (keys already there win).
    pub(super) fn with_meta(&self, params: Option<JsonObject>) -> JsonObject {
        let mut params = params.unwrap_or_default();
        let meta = params
            .entry("_meta")
            .or_insert_with(|| Value::Object(JsonObject::new()));
        if let Value::Object(meta) = meta {
            meta.entry(PROTOCOL_VERSION_KEY)
                .or_insert_with(|| self.version.as_str().into());
            meta.entry(CLIENT_CAPABILITIES_KEY)
                .or_insert_with(|| self.capabilities.clone());
            meta.entry(CLIENT_INFO_KEY)
                .or_insert_with(|| self.info.clone());
            if let Some(level) = *lock(&self.log_level) {
                meta.entry(LOG_LEVEL_KEY)
                    .or_insert_with(|| serde_json::to_value(level).unwrap_or(Value::Null));
            }
        }
        params
    }
}

/// What the probe found.
pub(super) enum Probe {
    /// A 2026-07-28 server: its description, as the client reports it.
    Stateless(Box<InitializeResult>),
    /// Not a 2026-07-28 server: fall back to `initialize`.
    Legacy,
}

impl Client {
    /// `server/discover` at 2026-07-28. A result naming 2026-07-28 makes the client stateless;
    /// `-32022` naming no version this client speaks is a real incompatibility; anything else
    /// (another error, silence until `timeout`) means a server of the stateful era.
    pub(super) async fn probe(
        &self,
        mode: StatelessMode,
        timeout: Duration,
    ) -> Result<Probe, ConnectError> {
        let params = mode.with_meta(None);
        let (id, rx) = self.inner.pending.register();
        self.send(
            Request::new(id.clone(), methods::SERVER_DISCOVER, Some(params)).into(),
            &id,
        )
        .await?;
        let reply = match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(reply)) => reply,
            Ok(Err(_)) => return Err(RequestError::Closed(id).into()),
            Err(_) => {
                self.inner.pending.forget(&id);
                return Ok(Probe::Legacy);
            }
        };
        let result = match reply {
            Ok(result) => result,
            Err(e) if e.code == ErrorCode::UNSUPPORTED_PROTOCOL_VERSION => {
                let supported: Vec<String> = e
                    .data
                    .as_ref()
                    .and_then(|d| d.get("supported"))
                    .and_then(|s| serde_json::from_value(s.clone()).ok())
                    .unwrap_or_default();
                let handshake = supported
                    .iter()
                    .filter_map(|v| v.parse::<ProtocolVersion>().ok())
                    .any(|v| !v.is_modern());
                if handshake {
                    return Ok(Probe::Legacy);
                }
                return Err(ConnectError::UnsupportedVersion(supported.join(", ")));
            }
            Err(_) => return Ok(Probe::Legacy),
        };
        let discovered: DiscoverResult = match serde_json::from_value(Value::Object(result)) {
            Ok(d) => d,
            Err(_) => return Ok(Probe::Legacy),
        };
        if !discovered
            .supported_versions
            .iter()
            .any(|v| v == mode.version.as_str())
        {
            return Ok(Probe::Legacy);
        }
        let server_info: Implementation = discovered
            .meta
            .as_ref()
            .and_then(|m| m.get(SERVER_INFO_KEY))
            .and_then(|i| serde_json::from_value(i.clone()).ok())
            .unwrap_or_else(|| Implementation::new("unknown", "unknown"));
        let described = InitializeResult {
            protocol_version: mode.version.as_str().to_owned(),
            capabilities: discovered.capabilities,
            server_info,
            instructions: discovered.instructions,
            meta: discovered.meta,
        };
        let _ = self.inner.stateless.set(mode);
        Ok(Probe::Stateless(Box::new(described)))
    }

    /// The params of a request as this client sends them: with the per-request `_meta` when
    /// it speaks the stateless era.
    pub(super) fn outgoing_params(&self, params: Option<JsonObject>) -> Option<JsonObject> {
        match self.inner.stateless.get() {
            Some(mode) => Some(mode.with_meta(params)),
            None => params,
        }
    }

    /// Waits for the answer to a request already sent as `first`, answering each
    /// `input_required` result by retrying the request (new id, same params) with the
    /// answers and the server's `requestState`. `current` follows the id in use.
    pub(super) async fn rounds(
        &self,
        method: &str,
        mut params: Option<JsonObject>,
        first: (RequestId, oneshot::Receiver<Reply>),
        current: Option<Arc<Mutex<RequestId>>>,
    ) -> Result<(RequestId, JsonObject), RequestError> {
        let (mut id, mut rx) = first;
        loop {
            let reply = rx.await.map_err(|_| RequestError::Closed(id.clone()))?;
            let result = reply.map_err(RequestError::Rpc)?;
            let interim = self.inner.stateless.get().is_some()
                && result.get("resultType").and_then(Value::as_str) == Some(RESULT_INPUT_REQUIRED);
            if !interim {
                return Ok((id, result));
            }
            params = Some(self.answer(params.unwrap_or_default(), result).await?);
            let (next, next_rx) = self.inner.pending.register();
            if let Some(current) = &current {
                *lock(current) = next.clone();
            }
            self.send(
                Request::new(next.clone(), method, params.clone()).into(),
                &next,
            )
            .await?;
            (id, rx) = (next, next_rx);
        }
    }

    /// The retry's params: the original ones, the answer to every input request (from the
    /// handler of server-to-client requests), the server's state echoed.
    pub(super) async fn answer(
        &self,
        params: JsonObject,
        interim: JsonObject,
    ) -> Result<JsonObject, RequestError> {
        let asked: std::collections::BTreeMap<String, InputRequest> = interim
            .get("inputRequests")
            .and_then(|r| serde_json::from_value(r.clone()).ok())
            .unwrap_or_default();
        let mut answers = JsonObject::new();
        if let Some(round) = self.inner.on_input_round.clone() {
            let (keys, requests): (Vec<String>, Vec<Request>) = asked
                .into_iter()
                .map(|(key, ask)| {
                    let id = RequestId::String(key.as_str().into());
                    (key, Request::new(id, ask.method, Some(ask.params)))
                })
                .unzip();
            let replies = round(requests).await;
            if replies.len() != keys.len() {
                return Err(RequestError::Unsupported(format!(
                    "the input handler answered {} of {} input requests",
                    replies.len(),
                    keys.len()
                )));
            }
            for (key, reply) in keys.into_iter().zip(replies) {
                answers.insert(key, Value::Object(reply.map_err(RequestError::Rpc)?));
            }
            return Ok(Self::retry_params(params, answers, &interim));
        }
        let handler = self.inner.on_request.clone();
        for (key, ask) in asked {
            let Some(handler) = &handler else {
                return Err(RequestError::Unsupported(format!(
                    "the server asks `{}` (input `{key}`) and this client has no request handler",
                    ask.method
                )));
            };
            let request = Request::new(
                RequestId::String(key.as_str().into()),
                ask.method,
                Some(ask.params),
            );
            let answer = handler(request).await.map_err(RequestError::Rpc)?;
            answers.insert(key, Value::Object(answer));
        }
        Ok(Self::retry_params(params, answers, &interim))
    }

    /// The original params with the answers and the server's state echoed.
    fn retry_params(
        mut params: JsonObject,
        answers: JsonObject,
        interim: &JsonObject,
    ) -> JsonObject {
        params.insert("inputResponses".into(), Value::Object(answers));
        match interim.get("requestState") {
            Some(state) => {
                params.insert("requestState".into(), state.clone());
            }
            None => {
                params.remove("requestState");
            }
        }
        params
    }
}
