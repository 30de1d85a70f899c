//! The JSON-RPC 2.0 envelope that every MCP message travels in.
//!
//! A transport turns bytes into a [`Message`] with [`Message::parse`]; when the bytes are not a
//! valid message, the error it returns already is the [`ErrorResponse`] to send back
//! (`-32700` for malformed JSON, `-32600` for JSON that is not a JSON-RPC message).

use std::fmt;
use std::sync::Arc;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::error::RpcError;

mod batch;
mod envelope;
mod fast;
mod frame;
mod index;
mod method;
mod payload;
mod shared;

pub use batch::Incoming;
pub(crate) use fast::plain_string_end;
pub(crate) use index::{Index, entries};
pub use method::Method;
pub(crate) use payload::Members;
pub use payload::{Payload, PayloadError};

/// A JSON object, as used for `params`, `result` and tool arguments.
pub type JsonObject = Map<String, Value>;

/// The `jsonrpc` member: always the string `"2.0"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Version2;

impl Serialize for Version2 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("2.0")
    }
}

impl<'de> Deserialize<'de> for Version2 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s: std::borrow::Cow<'de, str> = Deserialize::deserialize(d)?;
        if s == "2.0" {
            Ok(Version2)
        } else {
            Err(D::Error::custom(format!(
                "jsonrpc must be \"2.0\", got {s:?}"
            )))
        }
    }
}

/// A request id: a string or an integer (MCP forbids `null`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RequestId {
    /// A numeric id.
    Number(i64),
    /// A string id.
    String(Arc<str>),
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestId::Number(n) => write!(f, "{n}"),
            RequestId::String(s) => write!(f, "{s:?}"),
        }
    }
}

impl From<i64> for RequestId {
    fn from(n: i64) -> Self {
        RequestId::Number(n)
    }
}

impl From<&str> for RequestId {
    fn from(s: &str) -> Self {
        RequestId::String(s.into())
    }
}

/// A request: a method call that expects exactly one response with the same id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// Always `"2.0"`.
    pub jsonrpc: Version2,
    /// The id the response will carry.
    pub id: RequestId,
    /// The method name, such as `tools/call` (held without allocating when MCP defines it).
    pub method: Method,
    /// The parameters, if any: as read from the wire, the object's text, which the handler
    /// decodes into its typed params ([`Payload::decode`]) with no `Value` in between.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Payload>,
}

impl Request {
    /// A request with the given id, method and params.
    pub fn new(id: RequestId, method: impl Into<Method>, params: Option<JsonObject>) -> Self {
        Request {
            jsonrpc: Version2,
            id,
            method: method.into(),
            params: params.map(Payload::from),
        }
    }
}

/// A notification: a one-way message that gets no response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// Always `"2.0"`.
    pub jsonrpc: Version2,
    /// The method name, such as `notifications/progress` (held without allocating when MCP
    /// defines it).
    pub method: Method,
    /// The parameters, if any: an object, or its JSON text when the sender encoded it once
    /// (as a server does for progress reports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Payload>,
}

impl Notification {
    /// A notification with the given method and params.
    pub fn new(method: impl Into<Method>, params: Option<JsonObject>) -> Self {
        Notification {
            jsonrpc: Version2,
            method: method.into(),
            params: params.map(Payload::from),
        }
    }

    /// A notification whose params are already a [`Payload`] (for instance encoded once with
    /// [`Payload::encode`]).
    pub fn with_payload(method: impl Into<Method>, params: Payload) -> Self {
        Notification {
            jsonrpc: Version2,
            method: method.into(),
            params: Some(params),
        }
    }
}

/// A successful response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// Always `"2.0"`.
    pub jsonrpc: Version2,
    /// The id of the request this answers.
    pub id: RequestId,
    /// The result object: an object, or its JSON text when the sender encoded it once (as a
    /// server does for a tool's result).
    pub result: Payload,
}

impl Response {
    /// A response to `id` carrying `result` (a [`JsonObject`] or a [`Payload`]).
    pub fn new(id: RequestId, result: impl Into<Payload>) -> Self {
        Response {
            jsonrpc: Version2,
            id,
            result: result.into(),
        }
    }
}

/// The `error` member of an error response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorObject {
    /// The JSON-RPC error code.
    pub code: i64,
    /// A short description.
    pub message: String,
    /// Extra information, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

/// An error response. Its id is absent only when the request's id could not be read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// Always `"2.0"`.
    pub jsonrpc: Version2,
    /// The id of the request this answers, if it could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<RequestId>,
    /// What went wrong.
    pub error: ErrorObject,
}

impl ErrorResponse {
    /// An error response for `id` built from a typed [`RpcError`].
    pub fn new(id: Option<RequestId>, error: RpcError) -> Self {
        ErrorResponse {
            jsonrpc: Version2,
            id,
            error: error.into_object(),
        }
    }
}

/// Any JSON-RPC message that can travel in either direction.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// A request.
    Request(Request),
    /// A notification.
    Notification(Notification),
    /// A successful response.
    Response(Response),
    /// An error response.
    Error(ErrorResponse),
}

impl Serialize for Message {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Message::Request(m) => m.serialize(s),
            Message::Notification(m) => m.serialize(s),
            Message::Response(m) => m.serialize(s),
            Message::Error(m) => m.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Message {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        envelope::Envelope::deserialize(d)?
            .classify()
            .map_err(|e| D::Error::custom(e.error.message))
    }
}

impl From<Request> for Message {
    fn from(m: Request) -> Self {
        Message::Request(m)
    }
}
impl From<Notification> for Message {
    fn from(m: Notification) -> Self {
        Message::Notification(m)
    }
}
impl From<Response> for Message {
    fn from(m: Response) -> Self {
        Message::Response(m)
    }
}
impl From<ErrorResponse> for Message {
    fn from(m: ErrorResponse) -> Self {
        Message::Error(m)
    }
}

impl Message {
    /// Parses one message from bytes.
    ///
    /// On failure the error is the response to send: `-32700` when the bytes are not JSON,
    /// `-32600` (with the request's id when one could be read) when the JSON is not a valid
    /// JSON-RPC message. JSON-RPC batches (arrays) are rejected with `-32600`: MCP removed them
    /// in revision 2025-06-18.
    pub fn parse(bytes: &[u8]) -> Result<Message, Box<ErrorResponse>> {
        envelope::parse(bytes)
    }

    /// Classifies an already parsed JSON value; see [`Message::parse`].
    pub fn from_value(value: Value) -> Result<Message, Box<ErrorResponse>> {
        match value {
            Value::Object(obj) => envelope::Envelope::from_map(obj).classify(),
            Value::Array(_) => Err(Box::new(ErrorResponse::new(
                None,
                RpcError::invalid_request("JSON-RPC batches are not supported"),
            ))),
            other => Err(Box::new(ErrorResponse::new(
                None,
                RpcError::invalid_request(format!("expected an object, got {other}")),
            ))),
        }
    }

    /// Serializes the message to a compact JSON string (no newlines, as stdio needs).
    pub fn to_json(&self) -> String {
        if let Message::Response(response) = self
            && let Some(result) = response.result.encoded()
        {
            return response_json(&response.id, result);
        }
        // Serializing these types cannot fail: every map key is a string.
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }

    /// As [`to_json`](Self::to_json), consuming the message: a response whose result a
    /// server encoded for it (a tool's result) already holds the whole text in the result's
    /// buffer, which becomes the string as it is, with no copy.
    pub fn into_json(self) -> String {
        match self {
            Message::Response(Response {
                jsonrpc,
                id,
                result,
            }) => match result.into_frame(&id) {
                Ok(text) => text,
                Err(result) => Message::Response(Response {
                    jsonrpc,
                    id,
                    result,
                })
                .to_json(),
            },
            other => other.to_json(),
        }
    }

    /// The method of a request or notification.
    pub fn method(&self) -> Option<&str> {
        match self {
            Message::Request(r) => Some(r.method.as_str()),
            Message::Notification(n) => Some(n.method.as_str()),
            _ => None,
        }
    }

    /// The id of a request or response.
    pub fn id(&self) -> Option<&RequestId> {
        match self {
            Message::Request(r) => Some(&r.id),
            Message::Response(r) => Some(&r.id),
            Message::Error(e) => e.id.as_ref(),
            Message::Notification(_) => None,
        }
    }
}

/// The text of a response whose result is already JSON text (a tool's result, encoded once):
/// what serializing the [`Response`] gives, byte for byte, written without serde's serializer
/// (which escapes each member name and the version on every response).
fn response_json(id: &RequestId, result: &str) -> String {
    use frame::{HEAD, RESULT};
    // Room for exactly the text (an id that needs escaping is the rare exception): a
    // transport turning the text into `Bytes` then keeps its buffer, with no allocation.
    let id_room = match id {
        RequestId::Number(n) => {
            let digits = n.unsigned_abs().checked_ilog10().unwrap_or(0) as usize + 1;
            digits + usize::from(*n < 0)
        }
        RequestId::String(s) => s.len() + 2,
    };
    let mut out = Vec::with_capacity(HEAD.len() + id_room + RESULT.len() + result.len() + 1);
    out.extend_from_slice(HEAD);
    // Writing into a Vec cannot fail.
    let _ = match id {
        RequestId::Number(n) => serde_json::to_writer(&mut out, n),
        RequestId::String(s) => serde_json::to_writer(&mut out, &**s),
    };
    out.extend_from_slice(RESULT);
    out.extend_from_slice(result.as_bytes());
    out.push(b'}');
    // Made of UTF-8 text only.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A response whose result is text is written as serde would write it.
    #[test]
    fn an_encoded_response_is_written_as_serde_writes_it() {
        let result =
            Payload::encode(&serde_json::json!({"content": [{"type": "text", "text": "é \"x\""}]}))
                .unwrap();
        for id in [
            RequestId::Number(0),
            RequestId::Number(9),
            RequestId::Number(10),
            RequestId::Number(-42),
            RequestId::Number(i64::MAX),
            RequestId::Number(i64::MIN),
            RequestId::from("a\"b\\c\u{1}é"),
        ] {
            let message = Message::Response(Response::new(id, result.clone()));
            let expected = serde_json::to_string(&message).unwrap();
            let text = message.to_json();
            assert_eq!(text, expected);
            if let Some(RequestId::Number(_)) = message.id() {
                assert_eq!(text.capacity(), text.len(), "no room to spare");
            }
            let back = Message::parse(message.to_json().as_bytes()).unwrap();
            assert_eq!(back.id(), message.id());
        }
    }

    /// A result framed for its response becomes the response's text as it is; framed for
    /// another id, or not framed, it is written around as `to_json` writes it.
    #[test]
    fn a_framed_result_is_its_responses_text() {
        let write = |out: &mut Vec<u8>| {
            out.extend_from_slice(br#"{"content":[{"type":"text","text":"done"}]}"#);
            Ok(())
        };
        for id in [0, 42, -7, 123_456_789_012, i64::MIN] {
            let framed = Payload::framed(id, write).unwrap();
            assert_eq!(
                framed.encoded(),
                Some(r#"{"content":[{"type":"text","text":"done"}]}"#)
            );
            assert_eq!(framed["content"][0]["text"], "done");
            for answered in [
                RequestId::Number(id),
                RequestId::Number(id.wrapping_add(1)),
                RequestId::from(id.to_string().as_str()),
            ] {
                let message = Message::Response(Response::new(answered, framed.clone()));
                let expected = serde_json::to_string(&message).unwrap();
                assert_eq!(message.to_json(), expected);
                assert_eq!(message.into_json(), expected);
            }
        }
        let plain = Payload::written(write).unwrap();
        let message = Message::Response(Response::new(RequestId::Number(1), plain));
        assert_eq!(message.clone().into_json(), message.to_json());
        assert!(
            Payload::framed(1, |out| {
                out.extend_from_slice(b"[1]");
                Ok(())
            })
            .is_err()
        );
    }

    /// A tool's text result framed at once is what encoding its `CallToolResult` writes,
    /// and its response's text is what serde writes, in a buffer of its exact size.
    #[test]
    fn a_text_result_is_framed_as_its_call_result_encodes() {
        use crate::protocol::{CallToolResult, Content};
        for text in [
            "",
            "done 0",
            "é ✓ 𝄞",
            "a\"b",
            "back\\slash",
            "line\nbreak\r\n",
            "\u{1}\u{8}\u{c}\u{1f}\u{7f}",
            "tab\tend",
            "</script>",
        ] {
            let result = CallToolResult::success(vec![Content::text(text)]);
            let mut expected = Vec::new();
            result.write_json(&mut expected).unwrap();
            for id in [0, 7, 10, -42, 123_456_789_012, i64::MAX, i64::MIN] {
                let framed = Payload::framed_text(id, text);
                assert_eq!(framed.encoded().unwrap().as_bytes(), expected, "{text:?}");
                assert_eq!(framed["content"][0]["text"], text);
                let message = Message::Response(Response::new(RequestId::Number(id), framed));
                let serde = serde_json::to_string(&message).unwrap();
                let json = message.into_json();
                assert_eq!(json, serde);
                assert_eq!(json.capacity(), json.len(), "no room to spare");
            }
        }
    }

    #[test]
    fn classifies_each_kind() {
        let m = Message::parse(br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).unwrap();
        assert!(matches!(m, Message::Request(ref r) if r.method == "ping"));
        let m =
            Message::parse(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).unwrap();
        assert!(matches!(m, Message::Notification(_)));
        let m = Message::parse(br#"{"jsonrpc":"2.0","id":"a","result":{}}"#).unwrap();
        assert!(matches!(m, Message::Response(ref r) if r.id == RequestId::from("a")));
        let m = Message::parse(br#"{"jsonrpc":"2.0","id":2,"error":{"code":-1,"message":"x"}}"#)
            .unwrap();
        assert!(matches!(m, Message::Error(_)));
    }

    #[test]
    fn params_are_kept_as_the_text_they_arrived_as() {
        let m = Message::parse(
            br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x", "arguments":{"n":1}}}"#,
        )
        .unwrap();
        let Message::Request(r) = m else {
            panic!("{m:?}")
        };
        let params = r.params.unwrap();
        assert_eq!(
            params.encoded(),
            Some(r#"{"name":"x", "arguments":{"n":1}}"#)
        );
        let call: crate::protocol::CallToolParams = params.decode().unwrap();
        assert_eq!(call.name, "x");
        assert_eq!(call.arguments.unwrap().encoded(), Some(r#"{"n":1}"#));
        let m = Message::parse(br#"{"jsonrpc":"2.0","method":"n","params":null}"#).unwrap();
        assert!(matches!(m, Message::Notification(ref n) if n.params.is_none()));
    }

    /// Params are located in the message's text as it is read, whatever the whitespace and
    /// escapes around and inside them: their text is the object's own, and each member
    /// reads as decoding the object gives.
    #[test]
    fn params_are_located_in_the_text_they_arrived_in() {
        let cases = [
            (
                r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":1,"b":[1,{"c":"}"}]}}"#,
                r#"{"a":1,"b":[1,{"c":"}"}]}"#,
            ),
            (
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\" \t:\r\n { \"a\" : \"x\" ,\"b\":{} \n} }",
                "{ \"a\" : \"x\" ,\"b\":{} \n}",
            ),
            (r#"{"params":{},"jsonrpc":"2.0","id":1,"method":"m"}"#, "{}"),
            (
                r#"{"params":{ },"jsonrpc":"2.0","id":1,"method":"m"}"#,
                "{ }",
            ),
            (
                r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"n\u0061me":"t","z":2}}"#,
                r#"{"n\u0061me":"t","z":2}"#,
            ),
            (
                r#"{"jsonrpc":"2.0","id":1,"method":"m","par\u0061ms":{"a":"\"}"}}"#,
                r#"{"a":"\"}"}"#,
            ),
            (
                r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":1,"b":2,"c":3,"d":4,"a":5}}"#,
                r#"{"a":1,"b":2,"c":3,"d":4,"a":5}"#,
            ),
        ];
        for (message, params) in cases {
            let Message::Request(r) = Message::parse(message.as_bytes()).unwrap() else {
                panic!("{message}")
            };
            let got = r.params.unwrap();
            assert_eq!(got.encoded(), Some(params), "{message}");
            let object: JsonObject = serde_json::from_str(params).unwrap();
            for (name, value) in &object {
                assert_eq!(
                    got.member::<Value>(name).unwrap().as_ref(),
                    Some(value),
                    "{message}"
                );
            }
            assert_eq!(got.member::<Value>("absent").unwrap(), None);
            assert_eq!(*got, object);
            // Written through serde as the text it is.
            assert_eq!(serde_json::to_string(&got).unwrap(), params);
        }
        for bad in [
            r#"{"jsonrpc":"2.0","id":3,"method":"m","params":"x"}"#,
            r#"{"jsonrpc":"2.0","id":3,"method":"m","params":true}"#,
            r#"{"jsonrpc":"2.0","id":3,"method":"m","params":1.5}"#,
            r#"{"jsonrpc":"2.0","id":3,"method":"m","params":[1, {"a":2}]}"#,
        ] {
            let e = Message::parse(bad.as_bytes()).unwrap_err();
            assert_eq!(
                (e.id, e.error.code),
                (Some(RequestId::Number(3)), -32600),
                "{bad}"
            );
            assert!(e.error.message.contains("must be an object"), "{bad}");
        }
    }

    #[test]
    fn malformed_json_is_parse_error() {
        let e = Message::parse(b"{not json").unwrap_err();
        assert_eq!(e.error.code, -32700);
        assert_eq!(e.id, None);
    }

    #[test]
    fn wrong_shape_is_invalid_request_with_id() {
        let e = Message::parse(br#"{"jsonrpc":"1.0","id":5,"method":"ping"}"#).unwrap_err();
        assert_eq!(e.error.code, -32600);
        assert_eq!(e.id, Some(RequestId::Number(5)));
        let e = Message::parse(br#"[{"jsonrpc":"2.0","id":5,"method":"ping"}]"#).unwrap_err();
        assert_eq!(e.error.code, -32600);
        let e =
            Message::parse(br#"{"jsonrpc":"2.0","id":5,"method":"x","params":[1]}"#).unwrap_err();
        assert_eq!(e.error.code, -32600);
    }

    #[test]
    fn round_trips() {
        let r = Message::Request(Request::new(7.into(), "tools/list", None));
        let s = r.to_json();
        assert_eq!(s, r#"{"jsonrpc":"2.0","id":7,"method":"tools/list"}"#);
        assert_eq!(Message::parse(s.as_bytes()).unwrap(), r);
    }

    /// The straightforward classification (a value, then the derived typed deserializers):
    /// the reference the one-pass parser must agree with.
    fn reference(bytes: &[u8]) -> Result<Message, (Option<RequestId>, i64)> {
        let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(bytes) else {
            return Err((None, -32600));
        };
        let id = obj
            .get("id")
            .and_then(|v| serde_json::from_value::<RequestId>(v.clone()).ok());
        let value = Value::Object(obj.clone());
        let has = |k: &str| obj.contains_key(k);
        let typed = if has("method") && has("id") {
            serde_json::from_value(value).map(Message::Request)
        } else if has("method") {
            serde_json::from_value(value).map(Message::Notification)
        } else if has("result") {
            serde_json::from_value(value).map(Message::Response)
        } else if has("error") {
            serde_json::from_value(value).map(Message::Error)
        } else {
            return Err((id, -32600));
        };
        typed.map_err(|_| (id, -32600))
    }

    #[test]
    fn one_pass_parsing_agrees_with_parsing_a_value() {
        let cases: [&[u8]; 21] = [
            br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"a":[1,{"b":null}]}}}"#,
            br#" {"method":"notifications/progress","jsonrpc":"2.0","params":{"progressToken":"t","progress":1.5}} "#,
            br#"{"jsonrpc":"2.0","id":"abc","result":{"content":[]},"extra":{"ignored":true}}"#,
            br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"bad","data":[1]}}"#,
            br#"{"jsonrpc":"2.0","id":3,"method":"ping","params":null}"#,
            br#"{"jsonrpc":"2.0","id":3,"method":"a","method":"b"}"#,
            br#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#,
            br#"{"jsonrpc":"2.0","id":18446744073709551615,"method":"ping"}"#,
            br#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#,
            br#"{"jsonrpc":"2.0","id":4,"method":7}"#,
            br#"{"jsonrpc":"2.0","id":4,"result":null}"#,
            br#"{"jsonrpc":"2.0","result":{}}"#,
            br#"{"jsonrpc":"2.0","id":4,"error":{"code":"x","message":"m"}}"#,
            br#"{"id":9,"method":"ping"}"#,
            br#"{"jsonrpc":2,"id":9,"method":"ping"}"#,
            br#"{"jsonrpc":"2.0","id":9}"#,
            br#"{"jsonrpc":"2.0","id":"\u0041","method":"p\u0069ng"}"#,
            br#"{}"#,
            br#"{"jsonrpc":["2.0"],"id":1,"method":"x"}"#,
            br#"{"jsonrpc":{"v":[1,2]},"id":"k","method":"x"}"#,
            br#"{"jsonrpc":null,"id":2,"result":{}}"#,
        ];
        for bytes in cases {
            let text = String::from_utf8_lossy(bytes);
            let value: Value = serde_json::from_slice(bytes).unwrap();
            for got in [Message::parse(bytes), Message::from_value(value)] {
                match (got, reference(bytes)) {
                    (Ok(a), Ok(b)) => assert_eq!(a, b, "{text}"),
                    (Err(a), Err(b)) => assert_eq!((a.id, a.error.code), b, "{text}"),
                    (a, b) => panic!("{text}: {a:?} vs {b:?}"),
                }
            }
        }
        let m = Message::parse(cases[16]).unwrap();
        assert!(
            matches!(m, Message::Request(ref r) if r.method == "ping" && r.id == RequestId::from("A"))
        );
        let e = Message::parse(cases[6]).unwrap_err();
        assert_eq!(e.id, None, "a fractional id is no id");
    }

    #[test]
    fn malformed_json_after_a_bracket_is_still_a_parse_error() {
        assert_eq!(Message::parse(b"[1,").unwrap_err().error.code, -32700);
        assert_eq!(Message::parse(b"[1] x").unwrap_err().error.code, -32700);
        assert_eq!(Message::parse(b"  [1]").unwrap_err().error.code, -32600);
        assert_eq!(Message::parse(b"\"text\"").unwrap_err().error.code, -32600);
        assert_eq!(Message::parse(b"").unwrap_err().error.code, -32700);
        let e = Message::parse(br#"{"jsonrpc":"2.0","id":2,"method":"x"} trailing"#).unwrap_err();
        assert_eq!(e.error.code, -32700);
    }
}
