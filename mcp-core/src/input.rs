//! Multi round-trip input in the stateless era (2026-07-28): how `ctx.elicit(..)`,
//! `ctx.create_message(..)` and `ctx.list_roots()` work without a session.
//!
//! A request that may ask for input (`tools/call`, `prompts/get`, `resources/read`) runs with
//! an [`InputRound`]: the answers the client sent (`inputResponses`) plus those of earlier
//! rounds (carried in `requestState`). The handler runs from the top on every round. A
//! question already answered returns its answer at once; the first unanswered one is
//! recorded and its future never completes. As soon as the handler is stuck on unanswered
//! questions (it returned `Pending` with some recorded), [`Suspendable`] drops it and answers
//! the request with an `input_required` result listing them, and a `requestState` that
//! carries every answer used so far and how many progress reports the handler already sent.
//! Nothing is parked: the retry may reach another process or replica, which needs only the
//! same key to verify the state.
//!
//! On the retry the handler replays: the progress reports it makes before reaching the point
//! where it stopped are counted but not sent again, so a client sees each report once.
//!
//! `requestState` is `base64url(payload) "." base64url(HMAC-SHA256(key, payload))`; the payload
//! binds the state to the request (method, name or URI, and arguments) and an expiry. A state
//! that fails verification, belongs to another request or has expired is refused with
//! `-32602`.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context as TaskContext, Poll, Waker};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::context::Context;
use crate::sync::lock;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::RpcError;
use crate::jsonrpc::{JsonObject, Payload};
use crate::protocol::{InputRequest, InputRequiredResult, RESULT_INPUT_REQUIRED};

type HmacSha256 = Hmac<Sha256>;

/// The secret that signs `requestState`, and how long a state stays valid.
///
/// Replicas that share a deployment must share the key, so that a retry reaching another
/// replica verifies; without one configured, the server makes a random key at start (fine
/// for a single process).
#[derive(Clone)]
pub struct StateKey {
    key: Arc<[u8]>,
    ttl: Duration,
}

impl std::fmt::Debug for StateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateKey")
            .field("key", &"<redacted>")
            .field("ttl", &self.ttl)
            .finish()
    }
}

/// The default lifetime of a `requestState`: long enough for a person to answer a form.
pub const DEFAULT_STATE_TTL: Duration = Duration::from_secs(60 * 60);

impl StateKey {
    /// A key from configured bytes.
    pub fn new(secret: impl AsRef<[u8]>, ttl: Duration) -> Self {
        StateKey {
            key: Arc::from(secret.as_ref()),
            ttl,
        }
    }

    /// How long a state signed with this key stays valid.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A random key from the operating system's generator.
    pub fn random(ttl: Duration) -> Self {
        let mut raw = [0u8; 32];
        if let Err(e) = getrandom::fill(&mut raw) {
            // Without entropy a fixed key would let anyone forge state: refuse every state
            // instead (an empty key is never used to verify, see `verify`).
            tracing::error!(error = %e, "no entropy for the requestState key; multi round-trip requests will fail");
            return StateKey {
                key: Arc::from(&[][..]),
                ttl,
            };
        }
        StateKey::new(raw, ttl)
    }

    fn mac(&self) -> Option<HmacSha256> {
        if self.key.is_empty() {
            return None;
        }
        HmacSha256::new_from_slice(&self.key).ok()
    }

    fn sign(&self, payload: &StatePayload) -> Option<String> {
        let json = serde_json::to_vec(payload).ok()?;
        let mut mac = self.mac()?;
        mac.update(&json);
        let tag = mac.finalize().into_bytes();
        Some(format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&json),
            URL_SAFE_NO_PAD.encode(tag)
        ))
    }

    fn verify(&self, state: &str, binding: &str) -> Result<StatePayload, RpcError> {
        let refuse = |why: &str| RpcError::invalid_params(format!("requestState rejected: {why}"));
        let (payload, tag) = state
            .split_once('.')
            .ok_or_else(|| refuse("it is not a state this server issued"))?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| refuse("it is not a state this server issued"))?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| refuse("it is not a state this server issued"))?;
        let mut mac = self
            .mac()
            .ok_or_else(|| refuse("the server has no key to verify it"))?;
        mac.update(&payload);
        mac.verify_slice(&tag).map_err(|_| {
            refuse("its integrity check failed (tampered, or signed with another key)")
        })?;
        let payload: StatePayload = serde_json::from_slice(&payload)
            .map_err(|_| refuse("its contents are not understood"))?;
        if payload.v != STATE_VERSION {
            return Err(refuse("it comes from another version of the server"));
        }
        if payload.b != binding {
            return Err(refuse(
                "it belongs to another request (method, name or arguments differ)",
            ));
        }
        if payload.e < now_secs() {
            return Err(refuse("it has expired: call again without it"));
        }
        Ok(payload)
    }
}

const STATE_VERSION: u8 = 1;

/// What `requestState` carries.
#[derive(Debug, Serialize, Deserialize)]
struct StatePayload {
    /// Format version.
    v: u8,
    /// The request it belongs to: hex SHA-256 of method, name or URI, and arguments.
    b: String,
    /// Expiry, in seconds since the Unix epoch.
    e: u64,
    /// Answers so far, by input key.
    #[serde(default)]
    a: BTreeMap<String, Value>,
    /// Progress reports the handler made before it stopped (sent already).
    #[serde(default)]
    p: u64,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// JSON with object keys sorted, so that equal values digest equally.
fn canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                canonical(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(v, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The digest that binds a state to its request (`params` read as an object).
fn binding_of(method: &str, params: Option<&Payload>) -> String {
    let empty = JsonObject::new();
    let params: &JsonObject = params.map_or(&empty, |p| p);
    let mut text = String::from(method);
    for field in ["name", "uri", "arguments"] {
        text.push('\0');
        if let Some(v) = params.get(field) {
            canonical(v, &mut text);
        }
    }
    crate::hex::lower_hex(&Sha256::digest(text.as_bytes()))
}

/// Why a handler stopped short of its result.
enum Stop {
    /// It waits for answers: these questions.
    Asked,
    /// It cannot go on: answer with this error.
    Failed(RpcError),
}

#[derive(Default)]
struct RoundState {
    /// Answers the handler used in this run, to carry forward.
    used: BTreeMap<String, Value>,
    /// Questions it asked and got no answer to.
    asked: BTreeMap<String, InputRequest>,
    failed: Option<RpcError>,
    next_key: u64,
    waker: Option<Waker>,
}

/// One run of a request that may ask the client for input.
pub(crate) struct InputRound {
    key: StateKey,
    /// The digest that binds a state to this request: computed when a state arrives to be
    /// verified, otherwise only when the run stops to ask (most runs never ask, and never
    /// pay for the canonical text of their arguments).
    binding: OnceLock<String>,
    /// What the binding is computed from, until it is: the method and the params.
    request: Option<(&'static str, Payload)>,
    /// The answers available to this run.
    answers: BTreeMap<String, Value>,
    /// How many progress reports earlier runs already sent.
    sent_before: u64,
    reported: AtomicU64,
    state: Mutex<RoundState>,
}

impl std::fmt::Debug for InputRound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InputRound")
            .field("answers", &self.answers.keys().collect::<Vec<_>>())
            .field("sent_before", &self.sent_before)
            .finish_non_exhaustive()
    }
}

impl InputRound {
    /// Reads `inputResponses` and `requestState` from a request's params (from the text,
    /// skipping the other members, when the params are held as text).
    pub(crate) fn start(
        key: &StateKey,
        method: &'static str,
        params: Option<&Payload>,
    ) -> Result<InputRound, RpcError> {
        // One pass over the params' text for both members.
        let [state, responses] = match params {
            Some(p) => p
                .members(["requestState", "inputResponses"])
                .map_err(RpcError::invalid_params)?,
            None => [None, None],
        };
        let mut answers = BTreeMap::new();
        let mut sent_before = 0;
        let binding = OnceLock::new();
        match state {
            None => {}
            Some(Value::String(state)) => {
                let bound = binding_of(method, params);
                let payload = key.verify(&state, &bound)?;
                let _ = binding.set(bound);
                answers = payload.a;
                sent_before = payload.p;
            }
            Some(_) => {
                return Err(RpcError::invalid_params(
                    "requestState must be the string the server sent",
                ));
            }
        }
        match responses {
            None => {}
            Some(Value::Object(responses)) => {
                for (k, v) in responses {
                    if !v.is_object() {
                        return Err(RpcError::invalid_params(format!(
                            "inputResponses.{k} must be an object (the result of the request asked under that key), got {v}"
                        )));
                    }
                    answers.insert(k, v);
                }
            }
            Some(other) => {
                return Err(RpcError::invalid_params(format!(
                    "inputResponses must be an object mapping input keys to results, got {other}"
                )));
            }
        }
        let request = match binding.get() {
            Some(_) => None,
            None => Some((method, params.cloned().unwrap_or_default())),
        };
        Ok(InputRound {
            key: key.clone(),
            binding,
            request,
            answers,
            sent_before,
            reported: AtomicU64::new(0),
            state: Mutex::new(RoundState::default()),
        })
    }

    /// The digest that binds a state to this request.
    fn binding(&self) -> &str {
        self.binding.get_or_init(|| {
            let (method, params) = self
                .request
                .as_ref()
                .map_or(("", None), |(m, p)| (*m, Some(p)));
            binding_of(method, params)
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, RoundState> {
        lock(&self.state)
    }

    /// A key for a question the handler did not name: `<kind>-<n>`, numbered in the order
    /// the handler asks (the same order on every replay of a deterministic handler).
    pub(crate) fn auto_key(&self, kind: &str) -> String {
        let mut state = self.lock();
        state.next_key += 1;
        format!("{kind}-{}", state.next_key)
    }

    /// The answer to `key`, if the client gave one (now or in an earlier round).
    pub(crate) fn answer(&self, key: &str) -> Option<JsonObject> {
        let value = self.answers.get(key)?;
        self.lock().used.insert(key.to_owned(), value.clone());
        value.as_object().cloned()
    }

    /// Records a question without an answer; the run ends with `input_required`.
    pub(crate) fn ask(&self, key: String, request: InputRequest) {
        let mut state = self.lock();
        state.asked.insert(key, request);
        if let Some(w) = state.waker.take() {
            w.wake();
        }
    }

    /// Ends the run with an error (a missing capability, an unreadable answer).
    pub(crate) fn fail(&self, error: RpcError) {
        let mut state = self.lock();
        state.failed.get_or_insert(error);
        if let Some(w) = state.waker.take() {
            w.wake();
        }
    }

    /// Whether the run asked a question it has no answer to, or failed: it is about to stop.
    pub(crate) fn waits(&self) -> bool {
        let state = self.lock();
        !state.asked.is_empty() || state.failed.is_some()
    }

    /// Counts one progress report; `false` when an earlier round already sent it.
    pub(crate) fn report_progress(&self) -> bool {
        self.reported.fetch_add(1, Ordering::Relaxed) >= self.sent_before
    }

    fn stop(&self, waker: &Waker) -> Option<Stop> {
        let mut state = self.lock();
        if let Some(error) = state.failed.take() {
            return Some(Stop::Failed(error));
        }
        if !state.asked.is_empty() {
            return Some(Stop::Asked);
        }
        state.waker = Some(waker.clone());
        None
    }

    /// The `input_required` result of a stopped run.
    fn input_required(&self) -> Result<JsonObject, RpcError> {
        let mut state = self.lock();
        let payload = StatePayload {
            v: STATE_VERSION,
            b: self.binding().to_owned(),
            e: now_secs().saturating_add(self.key.ttl.as_secs()),
            a: std::mem::take(&mut state.used),
            p: self.reported.load(Ordering::Relaxed),
        };
        let request_state = self
            .key
            .sign(&payload)
            .ok_or_else(|| RpcError::internal("the server cannot sign requestState"))?;
        let result = InputRequiredResult {
            result_type: RESULT_INPUT_REQUIRED.to_owned(),
            input_requests: Some(std::mem::take(&mut state.asked)),
            request_state: Some(request_state),
            meta: None,
        };
        match serde_json::to_value(result) {
            Ok(Value::Object(o)) => Ok(o),
            _ => Err(RpcError::internal(
                "the input_required result could not be built",
            )),
        }
    }
}

/// A request's answer future that stops as soon as it waits for input it does not have.
pub(crate) struct Suspendable<F> {
    /// The handler's future (already boxed: it is not boxed again here).
    inner: Option<F>,
    round: Arc<InputRound>,
    /// The request's context, cancelled when the handler is stopped.
    ctx: Context,
}

impl<F> Suspendable<F> {
    pub(crate) fn new(inner: F, round: Arc<InputRound>, ctx: Context) -> Self {
        Suspendable {
            inner: Some(inner),
            round,
            ctx,
        }
    }
}

impl<F> Future for Suspendable<F>
where
    F: Future<Output = Result<Payload, RpcError>> + Unpin,
{
    type Output = Result<Payload, RpcError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Pending;
        };
        if let Poll::Ready(answer) = Pin::new(inner).poll(cx) {
            this.inner = None;
            return Poll::Ready(answer);
        }
        let Some(stop) = this.round.stop(cx.waker()) else {
            return Poll::Pending;
        };
        // No parked futures: the handler is dropped now, and whatever it handed to other
        // tasks sees its request cancelled.
        this.inner = None;
        this.ctx.cancel();
        Poll::Ready(match stop {
            Stop::Failed(error) => Err(error),
            Stop::Asked => this.round.input_required().map(Payload::from),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn params(v: Value) -> Payload {
        match v {
            Value::Object(o) => Payload::from(o),
            _ => unreachable!(),
        }
    }

    /// The params as a request carries them: JSON text, read member by member.
    fn text(v: Value) -> Payload {
        serde_json::from_str(&v.to_string()).unwrap()
    }

    #[test]
    fn a_signed_state_verifies_and_a_tampered_one_does_not() {
        let key = StateKey::new(b"replicas share this secret", DEFAULT_STATE_TTL);
        let p = params(json!({"name": "t", "arguments": {"b": 1, "a": [1, {"y": 2, "x": 1}]}}));
        let round = InputRound::start(&key, "tools/call", Some(&p)).unwrap();
        round.ask(
            "q".into(),
            InputRequest {
                method: "roots/list".into(),
                params: JsonObject::new(),
            },
        );
        let result = round.input_required().unwrap();
        let state = result["requestState"].as_str().unwrap().to_owned();
        // Same request, arguments in another key order: the state verifies.
        let mut retry =
            params(json!({"name": "t", "arguments": {"a": [1, {"x": 1, "y": 2}], "b": 1}}));
        retry.insert("requestState".into(), state.clone().into());
        assert!(InputRound::start(&key, "tools/call", Some(&retry)).is_ok());
        // Another replica with the same key accepts it; one with another key does not.
        let other = StateKey::new(b"another secret", DEFAULT_STATE_TTL);
        let e = InputRound::start(&other, "tools/call", Some(&retry)).unwrap_err();
        assert_eq!(e.code.0, -32602);
        // Tampering with either half fails.
        for bad in [
            format!("{state}-TAMPERED"),
            format!("x{state}"),
            "garbage".into(),
        ] {
            retry.insert("requestState".into(), bad.into());
            let e = InputRound::start(&key, "tools/call", Some(&retry)).unwrap_err();
            assert!(e.message.contains("requestState rejected"), "{e}");
        }
        // A state presented on another request is refused.
        let mut foreign = params(json!({"name": "t", "arguments": {"b": 2}}));
        foreign.insert("requestState".into(), state.into());
        let e = InputRound::start(&key, "tools/call", Some(&foreign)).unwrap_err();
        assert!(e.message.contains("another request"), "{e}");
    }

    /// Params held as text (as a request carries them) bind as their object does, though a
    /// run that never asks computes no binding.
    #[test]
    fn params_held_as_text_bind_as_their_object() {
        let key = StateKey::new(b"k", DEFAULT_STATE_TTL);
        let call = json!({"name": "t", "arguments": {"b": 1, "a": [1, {"y": 2}]}});
        let round = InputRound::start(&key, "tools/call", Some(&text(call.clone()))).unwrap();
        assert!(round.binding.get().is_none());
        round.ask(
            "q".into(),
            InputRequest {
                method: "roots/list".into(),
                params: JsonObject::new(),
            },
        );
        let state = round.input_required().unwrap()["requestState"].clone();
        let mut retry = call;
        retry["requestState"] = state;
        retry["inputResponses"] = json!({"q": {"roots": []}});
        let again = InputRound::start(&key, "tools/call", Some(&params(retry.clone()))).unwrap();
        assert!(again.answer("q").is_some());
        let again = InputRound::start(&key, "tools/call", Some(&text(retry))).unwrap();
        assert!(again.answer("q").is_some());
    }

    #[test]
    fn an_expired_state_is_refused() {
        let key = StateKey::new(b"k", Duration::ZERO);
        let payload = StatePayload {
            v: STATE_VERSION,
            b: binding_of("tools/call", None),
            e: now_secs() - 1,
            a: BTreeMap::new(),
            p: 0,
        };
        let state = key.sign(&payload).unwrap();
        let e = key.verify(&state, &payload.b).unwrap_err();
        assert!(e.message.contains("expired"), "{e}");
    }

    #[test]
    fn malformed_responses_are_invalid_params() {
        let key = StateKey::new(b"k", DEFAULT_STATE_TTL);
        for bad in [
            json!({"inputResponses": null}),
            json!({"inputResponses": {"k": 5}}),
            json!({"requestState": 3}),
        ] {
            let e = InputRound::start(&key, "tools/call", Some(&params(bad))).unwrap_err();
            assert_eq!(e.code.0, -32602);
        }
    }
}
