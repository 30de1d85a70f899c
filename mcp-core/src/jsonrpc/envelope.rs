//! Reading a message in one pass: the members of the envelope into [`Envelope`], then a
//! classification that moves them into the typed message without copying.
//!
//! Every member is read as a loose JSON value, so any JSON object becomes an `Envelope`; only
//! classification can fail, and by then the request's id is known for the error response.

use std::fmt;

use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::index::{self, offsets};
use super::{
    ErrorObject, ErrorResponse, Message, Method, Notification, Payload, Request, RequestId,
    Response, Version2,
};
use crate::error::{ErrorCode, RpcError};

/// The members of a message object, as read. A member that is absent is `None`; one that is
/// `null` is `Some(Value::Null)`. `params` is kept as the text it arrived as: the handler
/// decodes its typed params from it.
#[derive(Default)]
pub(super) struct Envelope {
    jsonrpc: Option<Loose<V2>>,
    id: Option<Value>,
    method: Option<Loose<Method>>,
    params: Option<Params>,
    result: Option<Value>,
    error: Option<Value>,
}

/// The `params` member as read.
enum Params {
    /// Its text, as a raw value (from a `Value`, or from a deserializer that does not lend
    /// its input).
    Raw(Box<RawValue>),
    /// An object read in the message's own pass, its members located as it was read.
    Located(Payload),
    /// `null`.
    Null,
    /// Not an object: its text, for the error.
    Other(String),
}

/// A member read as a `T` when it is a string that `T` takes (read without allocating for
/// the strings `T` knows), or as whatever JSON value it is otherwise: for the error that
/// names it.
enum Loose<T> {
    Str(T),
    Other(Value),
}

/// What a [`Loose`] member makes of a string: `None` keeps the string as a value.
trait FromMember: Sized {
    fn from_member(s: &str) -> Option<Self>;
}

/// The `jsonrpc` member's one valid value, `"2.0"`.
struct V2;

impl FromMember for V2 {
    fn from_member(s: &str) -> Option<V2> {
        (s == "2.0").then_some(V2)
    }
}

impl FromMember for Method {
    fn from_member(s: &str) -> Option<Method> {
        Some(Method::from(s))
    }
}

impl<T: FromMember> Loose<T> {
    fn of(value: Value) -> Self {
        match value {
            Value::String(s) => match T::from_member(&s) {
                Some(t) => Loose::Str(t),
                None => Loose::Other(Value::String(s)),
            },
            other => Loose::Other(other),
        }
    }
}

impl<'de, T: FromMember> Deserialize<'de> for Loose<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct LooseVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: FromMember> Visitor<'de> for LooseVisitor<T> {
            type Value = Loose<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Loose<T>, E> {
                Ok(match T::from_member(v) {
                    Some(t) => Loose::Str(t),
                    None => Loose::Other(Value::String(v.to_owned())),
                })
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Loose<T>, E> {
                Ok(Loose::Other(Value::Bool(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Loose<T>, E> {
                Ok(Loose::Other(Value::from(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Loose<T>, E> {
                Ok(Loose::Other(Value::from(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Loose<T>, E> {
                Ok(Loose::Other(Value::from(v)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Loose<T>, E> {
                Ok(Loose::Other(Value::Null))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Loose<T>, A::Error> {
                Value::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(Loose::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Loose<T>, A::Error> {
                Value::deserialize(de::value::MapAccessDeserializer::new(map)).map(Loose::Other)
            }
        }
        d.deserialize_any(LooseVisitor(std::marker::PhantomData))
    }
}

/// The member names the envelope keeps; any other member is skipped.
enum Member {
    Jsonrpc,
    Id,
    Method,
    /// `params`, with the offset just past its name's closing quote in the message's text
    /// when the name was read from that text (not through an escape).
    Params(Option<usize>),
    Result,
    Error,
    Other,
}

impl Member {
    fn of(name: &str) -> Member {
        match name {
            "jsonrpc" => Member::Jsonrpc,
            "id" => Member::Id,
            "method" => Member::Method,
            "params" => Member::Params(None),
            "result" => Member::Result,
            "error" => Member::Error,
            _ => Member::Other,
        }
    }
}

/// Reads a member's name; with the message's text, where `params`' name ends in it.
struct MemberSeed<'de>(Option<&'de str>);

impl<'de> DeserializeSeed<'de> for MemberSeed<'de> {
    type Value = Member;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Member, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl<'de> Visitor<'de> for MemberSeed<'de> {
    type Value = Member;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_borrowed_str<E: de::Error>(self, name: &'de str) -> Result<Member, E> {
        Ok(match (Member::of(name), self.0) {
            (Member::Params(_), Some(text)) => {
                // Just past the closing quote of a name borrowed from the text.
                Member::Params(offsets(text, name).map(|(_, end)| end as usize + 1))
            }
            (member, _) => member,
        })
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Member, E> {
        Ok(Member::of(name))
    }
}

/// Reads `params` in the message's own pass: an object is located in the text (`text`, from
/// `after_name`, just past the member's name) and its members indexed as they are skipped,
/// so that nothing reads the params' text again to find a member.
struct LocatedParams<'de> {
    text: &'de str,
    after_name: usize,
}

impl<'de> DeserializeSeed<'de> for LocatedParams<'de> {
    type Value = Params;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Params, D::Error> {
        d.deserialize_any(self)
    }
}

/// Where the byte `want` is in `text`, from `at` on, past JSON whitespace only.
fn after_whitespace(text: &str, mut at: usize, want: u8) -> Option<usize> {
    let bytes = text.as_bytes();
    while let Some(&b) = bytes.get(at) {
        match b {
            b' ' | b'\t' | b'\n' | b'\r' => at += 1,
            _ if b == want => return Some(at),
            _ => return None,
        }
    }
    None
}

/// What a value that is not an object is, for the error that names it.
fn other(value: Value) -> Params {
    Params::Other(value.to_string())
}

impl<'de> Visitor<'de> for LocatedParams<'de> {
    type Value = Params;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Params, A::Error> {
        let text = self.text;
        // The object's text: from its `{` (after the name's `:`) to its `}` (after the last
        // member's value). The parser accepts both, with whitespace only around them.
        let start = after_whitespace(text, self.after_name, b':')
            .and_then(|colon| after_whitespace(text, colon + 1, b'{'));
        let mut index = index::Builder::at(start.unwrap_or(0) as u32);
        // A name with an escape is not its text: such params are read whole, unindexed.
        let mut indexable = start.is_some();
        let mut last_end = None;
        while let Some(name) = map.next_key_seed(BorrowedName)? {
            let value = map.next_value::<&'de RawValue>()?;
            let value_at = offsets(text, value.get());
            last_end = value_at.map(|(_, end)| end as usize);
            match (name.and_then(|name| offsets(text, name)), value_at) {
                (Some(name), Some(value)) if indexable => index.push(name, value),
                _ => indexable = false,
            }
        }
        let end =
            start.and_then(|start| after_whitespace(text, last_end.unwrap_or(start + 1), b'}'));
        let (Some(start), Some(end)) = (start, end) else {
            return Err(de::Error::custom("`params` could not be located"));
        };
        let index = indexable.then(|| index.finish());
        Ok(Params::Located(Payload::located(&text[start..=end], index)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Params, E> {
        Ok(Params::Null)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Params, E> {
        Ok(other(Value::Bool(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Params, E> {
        Ok(other(Value::from(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Params, E> {
        Ok(other(Value::from(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Params, E> {
        Ok(other(Value::from(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Params, E> {
        Ok(other(Value::from(v)))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Params, A::Error> {
        Value::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(other)
    }
}

/// A member name borrowed from the text (`None` when it holds an escape).
struct BorrowedName;

impl<'de> DeserializeSeed<'de> for BorrowedName {
    type Value = Option<&'de str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for BorrowedName {
    type Value = Option<&'de str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_borrowed_str<E: de::Error>(self, name: &'de str) -> Result<Self::Value, E> {
        Ok(Some(name))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
}

impl<'de> Deserialize<'de> for Envelope {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        EnvelopeSeed(None).deserialize(d)
    }
}

/// Reads an [`Envelope`]; given the message's text (which the deserializer reads), its
/// `params` are located in it as they are read ([`LocatedParams`]).
struct EnvelopeSeed<'de>(Option<&'de str>);

impl<'de> DeserializeSeed<'de> for EnvelopeSeed<'de> {
    type Value = Envelope;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Envelope, D::Error> {
        struct EnvelopeVisitor<'de>(Option<&'de str>);
        impl<'de> Visitor<'de> for EnvelopeVisitor<'de> {
            type Value = Envelope;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON-RPC message object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Envelope, A::Error> {
                let mut e = Envelope::default();
                // A repeated member keeps its last value, as a JSON object would.
                while let Some(member) = map.next_key_seed(MemberSeed(self.0))? {
                    let slot = match member {
                        Member::Jsonrpc => {
                            e.jsonrpc = Some(map.next_value()?);
                            continue;
                        }
                        Member::Params(after_name) => {
                            e.params = Some(match (self.0, after_name) {
                                (Some(text), Some(after_name)) => {
                                    map.next_value_seed(LocatedParams { text, after_name })?
                                }
                                _ => Params::Raw(map.next_value()?),
                            });
                            continue;
                        }
                        Member::Method => {
                            e.method = Some(map.next_value()?);
                            continue;
                        }
                        Member::Id => &mut e.id,
                        Member::Result => &mut e.result,
                        Member::Error => &mut e.error,
                        Member::Other => {
                            map.next_value::<IgnoredAny>()?;
                            continue;
                        }
                    };
                    *slot = Some(map.next_value()?);
                }
                Ok(e)
            }
        }
        d.deserialize_map(EnvelopeVisitor(self.0))
    }
}

fn invalid(id: Option<RequestId>, why: impl fmt::Display) -> Box<ErrorResponse> {
    Box::new(ErrorResponse::new(id, RpcError::invalid_request(why)))
}

/// A request id as the untagged `RequestId` reads it: an integer that fits `i64`, or a string.
/// A request with `id`, or a notification without one.
pub(super) fn call(id: Option<RequestId>, method: Method, params: Option<Payload>) -> Message {
    match id {
        Some(id) => Message::Request(Request {
            jsonrpc: Version2,
            id,
            method,
            params,
        }),
        None => Message::Notification(Notification {
            jsonrpc: Version2,
            method,
            params,
        }),
    }
}

fn request_id(value: Value) -> Result<RequestId, String> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .map(RequestId::Number)
            .ok_or_else(|| format!("the id {n} is not an integer")),
        Value::String(s) => Ok(RequestId::String(s.into())),
        other => Err(format!(
            "the id must be a string or an integer, got {other}"
        )),
    }
}

fn peek_id(value: Option<&Value>) -> Option<RequestId> {
    match value? {
        Value::Number(n) => n.as_i64().map(RequestId::Number),
        Value::String(s) => Some(RequestId::String(s.as_str().into())),
        _ => None,
    }
}

/// `params` as read: an object (kept as its text), or absent (`null` too).
fn params(params: Option<Params>) -> Result<Option<Payload>, String> {
    let not_an_object = |what: &str| format!("`params` must be an object, got {what}");
    match params {
        None | Some(Params::Null) => Ok(None),
        Some(Params::Located(payload)) => Ok(Some(payload)),
        Some(Params::Other(what)) => Err(not_an_object(&what)),
        Some(Params::Raw(text)) if text.get() == "null" => Ok(None),
        Some(Params::Raw(text)) => Payload::from_raw(text)
            .map(Some)
            .map_err(|other| not_an_object(other.get())),
    }
}

/// An object member (`result`); `null` counts as absent where `absent_ok`.
fn object(
    name: &str,
    value: Option<Value>,
    absent_ok: bool,
) -> Result<Option<Map<String, Value>>, String> {
    match value {
        Some(Value::Object(o)) => Ok(Some(o)),
        None | Some(Value::Null) if absent_ok => Ok(None),
        None => Err(format!("missing field `{name}`")),
        Some(other) => Err(format!("`{name}` must be an object, got {other}")),
    }
}

impl Envelope {
    /// The members of an already parsed object, moved out of it.
    pub(super) fn from_map(map: Map<String, Value>) -> Self {
        let mut e = Envelope::default();
        for (key, value) in map {
            let slot = match key.as_str() {
                "jsonrpc" => {
                    e.jsonrpc = Some(Loose::of(value));
                    continue;
                }
                "params" => {
                    // Encoding a value cannot fail: every key is a string.
                    e.params = serde_json::value::to_raw_value(&value)
                        .ok()
                        .map(Params::Raw);
                    continue;
                }
                "method" => {
                    e.method = Some(Loose::of(value));
                    continue;
                }
                "id" => &mut e.id,
                "result" => &mut e.result,
                "error" => &mut e.error,
                _ => continue,
            };
            *slot = Some(value);
        }
        e
    }

    /// Decides what kind of message this is and builds it; the error is the response to send.
    pub(super) fn classify(self) -> Result<Message, Box<ErrorResponse>> {
        let id = peek_id(self.id.as_ref());
        self.build().map_err(|why| invalid(id, why))
    }

    fn build(self) -> Result<Message, String> {
        match self.jsonrpc {
            Some(Loose::Str(V2)) => {}
            Some(Loose::Other(other)) => {
                return Err(format!("jsonrpc must be \"2.0\", got {other}"));
            }
            None if self.method.is_none() && self.result.is_none() && self.error.is_none() => {
                return Err("a message needs \"method\", \"result\" or \"error\"".into());
            }
            None => return Err("missing field `jsonrpc`".into()),
        }
        if let Some(method) = self.method {
            let method = match method {
                Loose::Str(method) => method,
                Loose::Other(other) => {
                    return Err(format!("the method must be a string, got {other}"));
                }
            };
            let params = params(self.params)?;
            let id = self.id.map(request_id).transpose()?;
            return Ok(call(id, method, params));
        }
        if self.result.is_some() {
            let id = self.id.ok_or("missing field `id`")?;
            return Ok(Message::Response(Response {
                jsonrpc: Version2,
                id: request_id(id)?,
                result: object("result", self.result, false)?
                    .unwrap_or_default()
                    .into(),
            }));
        }
        if let Some(error) = self.error {
            let id = match self.id {
                None | Some(Value::Null) => None,
                Some(id) => Some(request_id(id)?),
            };
            let error: ErrorObject = serde_json::from_value(error).map_err(|e| e.to_string())?;
            return Ok(Message::Error(ErrorResponse {
                jsonrpc: Version2,
                id,
                error,
            }));
        }
        Err("a message needs \"method\", \"result\" or \"error\"".into())
    }
}

/// Parses `bytes` into a message in one pass; see [`Message::parse`]. The usual request is
/// read by hand (`fast.rs`, which checks what it takes as UTF-8), everything else through
/// serde.
pub(super) fn parse(bytes: &[u8]) -> Result<Message, Box<ErrorResponse>> {
    if let Some(message) = super::fast::parse(bytes) {
        return Ok(message);
    }
    parse_with_serde(bytes)
}

/// Parses `bytes` through serde, as [`parse`] does for what the hand-written reader leaves.
///
/// Text that is valid UTF-8 (every message but a broken one) is checked so once, and read as
/// text: reading bytes, serde_json would check every string it reads again. Other bytes are
/// read as bytes, which fails with the error it always did.
pub(super) fn parse_with_serde(bytes: &[u8]) -> Result<Message, Box<ErrorResponse>> {
    let read = match std::str::from_utf8(bytes) {
        Ok(text) => {
            let mut d = serde_json::Deserializer::from_str(text);
            EnvelopeSeed(Some(text))
                .deserialize(&mut d)
                .and_then(|envelope| d.end().map(|()| envelope))
        }
        Err(_) => serde_json::from_slice::<Envelope>(bytes),
    };
    match read {
        Ok(envelope) => envelope.classify(),
        Err(e) if e.is_data() && serde_json::from_slice::<IgnoredAny>(bytes).is_ok() => {
            // Valid JSON, but not an object.
            let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
            Err(invalid(
                None,
                if first == Some(&b'[') {
                    "JSON-RPC batches are not supported".to_owned()
                } else {
                    format!("expected an object: {e}")
                },
            ))
        }
        Err(e) => Err(Box::new(ErrorResponse::new(
            None,
            RpcError::new(ErrorCode::PARSE_ERROR, format!("Parse error: {e}")),
        ))),
    }
}
