//! [`Payload`]: a JSON object that may travel already encoded.

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::OnceLock;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

use super::JsonObject;
use super::frame;
use super::index::Index;
use super::shared::SharedText;

/// A message's `result` or `params` object, or a tool's arguments: either a [`JsonObject`] or
/// the object's JSON text.
///
/// A server builds what it sends from typed values (a tool's result, a progress report): it
/// encodes them straight to JSON text with [`Payload::encode`], and a transport copies that
/// text into its frame as it is, with no `serde_json::Value` map built in between and no second
/// encoding. What it receives stays text too: a request's `params` (and a `tools/call`'s
/// `arguments` within them) are kept as the text they arrived as, and decoded from it into the
/// handler's typed params with [`Payload::decode`]. A payload built from a [`JsonObject`]
/// holds the object.
///
/// Either way it reads as a [`JsonObject`] (it dereferences to one, so `result["content"]` and
/// `params.get("name")` work): a payload held as text is parsed on its first such read, once,
/// and a mutable borrow turns it into an object for good. [`Payload::decode`] and
/// [`Payload::member`] read the text directly, without building the object.
///
/// Deserializing a `Payload` keeps the object's text (serde_json's raw values): it needs
/// serde_json's deserializers, as every message of the protocol is read with.
///
/// ```
/// use mcp_core::jsonrpc::Payload;
/// #[derive(serde::Serialize)]
/// struct Report { mean: f64 }
/// let p = Payload::encode(&Report { mean: 2.5 }).unwrap();
/// assert_eq!(p.encoded(), Some(r#"{"mean":2.5}"#));
/// assert_eq!(p["mean"], 2.5);
/// ```
#[derive(Clone)]
pub struct Payload {
    repr: Repr,
}

enum Repr {
    Object(JsonObject),
    Encoded {
        text: Text,
        /// The object, parsed on the first read that needs it (boxed: that read is rare, and
        /// a payload moves with every message that carries one).
        parsed: OnceLock<Box<JsonObject>>,
        /// Where the members are.
        index: Located,
    },
}

/// Where the members of a payload held as text are: found as the message was read (a
/// request's params), or on the first read of a member.
enum Located {
    /// Found as the message was read.
    Given(Index),
    /// Found on the first read of a member (`None` inside when the text cannot have an
    /// index: see [`Index::of`]); boxed, as it is rare and a payload moves with every message.
    Lazy(OnceLock<Option<Box<Index>>>),
}

impl Located {
    fn lazy() -> Self {
        Located::Lazy(OnceLock::new())
    }

    /// The index of `text`, made now if it is not yet.
    fn of(&self, text: &str) -> Option<&Index> {
        match self {
            Located::Given(index) => Some(index),
            Located::Lazy(cell) => cell
                .get_or_init(|| Index::of(text).map(Box::new))
                .as_deref(),
        }
    }
}

impl Clone for Repr {
    fn clone(&self) -> Self {
        match self {
            Repr::Object(o) => Repr::Object(o.clone()),
            // A found index is a cache of reads: a copy makes its own if it is read.
            Repr::Encoded {
                text,
                parsed,
                index,
            } => Repr::Encoded {
                text: text.clone(),
                parsed: parsed.clone(),
                index: match index {
                    Located::Given(index) => Located::Given(index.clone()),
                    Located::Lazy(_) => Located::lazy(),
                },
            },
        }
    }
}

/// The JSON text of a payload held as text.
#[derive(Clone)]
enum Text {
    /// Encoded here, or deserialized as a raw value.
    Raw(Box<RawValue>),
    /// A piece of a buffer that other payloads share: a request's params as the message
    /// carried them, and the members read from them (a `tools/call`'s arguments), with no
    /// copy of their own.
    Shared {
        buf: SharedText,
        start: u32,
        end: u32,
    },
    /// A response's result, encoded within the whole text of the response to request `id`
    /// (see [`Payload::framed`]): the result from the end of the head [`frame::write_head`]
    /// writes for `id` to the response's closing brace.
    Framed { buf: Box<str>, id: i64 },
}

impl Text {
    fn get(&self) -> &str {
        match self {
            Text::Raw(text) => text.get(),
            Text::Shared { buf, start, end } => buf
                .get()
                .get(*start as usize..*end as usize)
                .unwrap_or_default(),
            Text::Framed { buf, id } => buf
                .get(frame::head_len(*id)..buf.len().saturating_sub(1))
                .unwrap_or_default(),
        }
    }
}

/// A value that does not encode as a JSON object (a number, a list, a string...).
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    /// The value could not be serialized.
    #[error("the value could not be serialized: {0}")]
    Serialize(#[from] serde_json::Error),
    /// The value serialized, but not to a JSON object.
    #[error("a payload must be a JSON object, got `{0}`")]
    NotAnObject(String),
}

impl Payload {
    /// An empty object, `{}`.
    pub fn new() -> Self {
        Payload::from(JsonObject::new())
    }

    /// Encodes `value`, which must serialize as a JSON object, to JSON text once.
    pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Self, PayloadError> {
        Payload::from_raw(serde_json::value::to_raw_value(value)?)
            .map_err(|text| PayloadError::NotAnObject(text.get().to_owned()))
    }

    /// Encodes `value` as [`encode`](Self::encode) does, into a buffer of exactly the text's
    /// size: written into this thread's scratch buffer, then copied once (serde_json's own
    /// encoding grows a buffer, then shrinks it with a reallocation). For a response's
    /// result, which a transport writes without serde (written through serde, the text is
    /// checked first).
    pub(crate) fn encode_exact<T: Serialize + ?Sized>(value: &T) -> Result<Self, PayloadError> {
        Payload::written(|out| serde_json::to_writer(out, value).map_err(PayloadError::from))
    }

    /// The payload `write` writes (JSON text that must be an object), into a buffer of
    /// exactly its size, as [`encode_exact`](Self::encode_exact) does.
    pub(crate) fn written(
        write: impl FnOnce(&mut Vec<u8>) -> Result<(), PayloadError>,
    ) -> Result<Self, PayloadError> {
        in_scratch(|out| {
            write(out)?;
            let text = object_text(out)?;
            Ok(Payload::located(text, None))
        })
    }

    /// As [`written`](Self::written), the result of the response to request `id`: the
    /// payload's buffer holds the whole response, the text of the result framed by the rest,
    /// so that [`Message::into_json`](super::Message::into_json) hands that buffer over as
    /// the response's text, without a copy of its own.
    pub(crate) fn framed(
        id: i64,
        write: impl FnOnce(&mut Vec<u8>) -> Result<(), PayloadError>,
    ) -> Result<Self, PayloadError> {
        in_scratch(|out| {
            frame::write_head(out, id);
            // The head is at most 52 bytes (`frame::HEAD_MAX`).
            let start = out.len();
            write(out)?;
            out.push(b'}');
            // Written as JSON text: this check does not fail.
            let text =
                std::str::from_utf8(out).map_err(|e| PayloadError::NotAnObject(e.to_string()))?;
            let result = &text[start..text.len() - 1];
            if !result.starts_with('{') {
                return Err(PayloadError::NotAnObject(result.to_owned()));
            }
            let buf = Box::<str>::from(text);
            Ok(Payload::from_text(
                Text::Framed { buf, id },
                Located::lazy(),
            ))
        })
    }

    /// As [`framed`](Self::framed), for the usual result of a tool, one text block: the
    /// result `{"content":[{"type":"text","text":TEXT}]}` (what encoding a `CallToolResult`
    /// holding only that block writes). Text that needs no escape is written at once into a
    /// buffer of the response's exact size, with no scratch buffer, no copy and no check of
    /// the whole; other text goes through serde_json's escaping as `framed` does.
    pub(crate) fn framed_text(id: i64, text: &str) -> Self {
        if !super::fast::is_plain(text.as_bytes()) {
            let open = &TEXT_OPEN.as_bytes()[..TEXT_OPEN.len() - 1];
            let written = Payload::framed(id, |out| {
                out.extend_from_slice(open);
                serde_json::to_writer(&mut *out, text)?;
                out.extend_from_slice(&TEXT_CLOSE.as_bytes()[1..TEXT_CLOSE.len() - 1]);
                Ok(())
            });
            // Writing into a buffer does not fail.
            return written.unwrap_or_default();
        }
        let mut digits = [0; 20];
        let digits = frame::decimal(id, &mut digits);
        let len = frame::HEAD_TEXT.len() + digits.len() + RESULT_OPEN.len() + text.len();
        let mut out = String::with_capacity(len + TEXT_CLOSE.len());
        out.push_str(frame::HEAD_TEXT);
        // ASCII digits and a sign, each a char of its own (no check of them as UTF-8).
        digits.iter().for_each(|&digit| out.push(char::from(digit)));
        out.push_str(RESULT_OPEN);
        out.push_str(text);
        out.push_str(TEXT_CLOSE);
        let text = Text::Framed {
            buf: out.into_boxed_str(),
            id,
        };
        Payload::from_text(text, Located::lazy())
    }

    /// The text of the response to request `id` whose result this payload is, when the
    /// payload was [`framed`](Self::framed) for that request: its buffer, as it is. The
    /// payload back otherwise.
    pub(crate) fn into_frame(self, id: &super::RequestId) -> Result<String, Payload> {
        match self.repr {
            Repr::Encoded {
                text: Text::Framed { buf, id: framed },
                ..
            } if *id == super::RequestId::Number(framed) => Ok(String::from(buf)),
            repr => Err(Payload { repr }),
        }
    }

    /// The JSON text, when the payload was built encoded.
    pub fn encoded(&self) -> Option<&str> {
        match &self.repr {
            Repr::Encoded { text, .. } => Some(text.get()),
            Repr::Object(_) => None,
        }
    }

    /// Reads the payload as a `T`: from its text when it is held as text (no [`JsonObject`]
    /// in between), otherwise from the object.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        match &self.repr {
            Repr::Encoded { text, .. } => serde_json::from_str(text.get()),
            // Through a `Value`: a `T` holding payloads needs serde_json's own deserializer.
            Repr::Object(o) => T::deserialize(serde_json::Value::Object(o.clone())),
        }
    }

    /// Reads one member as a `T`, or `None` when it is absent: from the text, skipping the
    /// other members without building them, when the payload is held as text.
    ///
    /// The first such read of a payload held as text locates all its members in one pass;
    /// later reads (of this or other members) parse only the member's own text.
    pub fn member<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, serde_json::Error> {
        if let Some((text, index)) = self.indexed() {
            return index.get(text, name).map(serde_json::from_str).transpose();
        }
        match &self.repr {
            Repr::Encoded { text, .. } => {
                let mut d = serde_json::Deserializer::from_str(text.get());
                Member::<T>(name, PhantomData).deserialize(&mut d)
            }
            Repr::Object(o) => o.get(name).map(T::deserialize).transpose(),
        }
    }

    /// Reads the members `names` as `Value`s in one pass (absent ones are `None`): from the
    /// text, skipping the other members without building them, when the payload is held as
    /// text.
    pub(crate) fn members<const N: usize>(
        &self,
        names: [&str; N],
    ) -> Result<[Option<serde_json::Value>; N], serde_json::Error> {
        if let Some((text, index)) = self.indexed() {
            let mut found = [const { None }; N];
            for (slot, name) in found.iter_mut().zip(names) {
                *slot = index
                    .get(text, name)
                    .map(serde_json::from_str)
                    .transpose()?;
            }
            return Ok(found);
        }
        match &self.repr {
            Repr::Encoded { text, .. } => Payload::members_of(text.get(), names),
            Repr::Object(o) => Ok(names.map(|name| o.get(name).cloned())),
        }
    }

    /// The text and the member index of a payload held as text, the index made now if it is
    /// not yet; `None` for an object, or text that cannot be indexed.
    pub(crate) fn indexed(&self) -> Option<(&str, &Index)> {
        match &self.repr {
            Repr::Encoded { text, index, .. } => {
                let text = text.get();
                index.of(text).map(|index| (text, index))
            }
            Repr::Object(_) => None,
        }
    }

    /// Reads the members `names` of the JSON object `text` in one pass, as
    /// [`members`](Self::members) does.
    pub(crate) fn members_of<const N: usize>(
        text: &str,
        names: [&str; N],
    ) -> Result<[Option<serde_json::Value>; N], serde_json::Error> {
        let mut d = serde_json::Deserializer::from_str(text);
        (&mut d).deserialize_map(Members(names))
    }

    /// A payload of JSON text known to hold an object (a raw value whose text starts with
    /// `{`).
    fn from_text(text: Text, index: Located) -> Self {
        Payload {
            repr: Repr::Encoded {
                text,
                parsed: OnceLock::new(),
                index,
            },
        }
    }

    /// The payload of `text`, an object's JSON text read from a message (its members located
    /// already, when `index` is given), held in a buffer that the payloads of its members
    /// ([`part`](Self::part)) share: this thread's spare one when it has one (see
    /// [`SharedText`]).
    pub(crate) fn located(text: &str, index: Option<Index>) -> Self {
        let Ok(end) = u32::try_from(text.len()) else {
            // Past what the offsets hold (no message is that long): a copy of its own.
            return serde_json::from_str::<Box<RawValue>>(text)
                .ok()
                .and_then(|text| Payload::from_raw(text).ok())
                .unwrap_or_default();
        };
        let index = index.map_or_else(Located::lazy, Located::Given);
        let buf = SharedText::of(text);
        Payload::from_text(Text::Shared { buf, start: 0, end }, index)
    }

    /// The payload of `part`, an object's text within this payload's text (a member's value
    /// read from its [`Index`]): sharing this payload's buffer when it has one, else a copy.
    /// `None` when `part` is not an object, or not a piece of this payload's text.
    pub(crate) fn part(&self, part: &str) -> Option<Payload> {
        let Repr::Encoded { text, .. } = &self.repr else {
            return None;
        };
        if !part.starts_with('{') {
            return None;
        }
        let text = match text {
            // Located in the shared buffer itself (no slicing of this payload's text first),
            // and within this payload's piece of it.
            Text::Shared { buf, start, end } => {
                let (from, to) = super::index::offsets(buf.get(), part)?;
                if from < *start || to > *end {
                    return None;
                }
                Text::Shared {
                    buf: buf.clone(),
                    start: from,
                    end: to,
                }
            }
            Text::Raw(_) | Text::Framed { .. } => {
                let (start, end) = super::index::offsets(text.get(), part)?;
                Text::Shared {
                    buf: SharedText::of(part),
                    start: 0,
                    end: end - start,
                }
            }
        };
        Some(Payload::from_text(text, Located::lazy()))
    }

    /// The piece `at` (byte offsets) of this payload's text, when it is held as text: read
    /// from the shared buffer without slicing the payload's text first.
    pub(crate) fn text_at(&self, at: std::ops::Range<usize>) -> Option<&str> {
        match &self.repr {
            Repr::Encoded {
                text: Text::Shared { buf, start, end },
                ..
            } => {
                let start = *start as usize;
                if at.end > *end as usize - start {
                    return None;
                }
                buf.get().get(start + at.start..start + at.end)
            }
            Repr::Encoded { text, .. } => text.get().get(at),
            Repr::Object(_) => None,
        }
    }

    /// The payload of a raw value read from a message, or what the value is instead of an
    /// object.
    pub(crate) fn from_raw(text: Box<RawValue>) -> Result<Self, Box<RawValue>> {
        if text.get().starts_with('{') {
            Ok(Payload::from_text(Text::Raw(text), Located::lazy()))
        } else {
            Err(text)
        }
    }

    /// The object, parsed from the text if the payload was built encoded.
    pub fn into_object(self) -> JsonObject {
        match self.repr {
            Repr::Object(o) => o,
            Repr::Encoded { text, parsed, .. } => parsed
                .into_inner()
                .map_or_else(|| parse(&text), |parsed| *parsed),
        }
    }
}

/// A text result, up to its text's opening quote (see [`Payload::framed_text`]).
const TEXT_OPEN: &str = r#"{"content":[{"type":"text","text":""#;
/// A text result, from its text's closing quote to the response's closing brace.
const TEXT_CLOSE: &str = r#""}]}}"#;
/// What follows a response's id up to a text result's text: [`frame::RESULT_TEXT`], then
/// [`TEXT_OPEN`], written at once.
const RESULT_OPEN: &str = r#","result":{"content":[{"type":"text","text":""#;

/// Runs `f` on this thread's scratch buffer, emptied (on a buffer of its own when the scratch
/// is in use: a value whose encoding encodes another payload).
fn in_scratch<R>(f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    thread_local! {
        static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    /// What the scratch buffer keeps between uses, at most.
    const KEEP: usize = 16 * 1024;
    SCRATCH.with(|scratch| {
        let Ok(mut scratch) = scratch.try_borrow_mut() else {
            return f(&mut Vec::new());
        };
        scratch.clear();
        let result = f(&mut scratch);
        if scratch.capacity() > KEEP {
            *scratch = Vec::new();
        }
        result
    })
}

/// `written` as the text of a JSON object, or what it is instead.
fn object_text(written: &[u8]) -> Result<&str, PayloadError> {
    // Written as JSON text: this check does not fail.
    let text =
        std::str::from_utf8(written).map_err(|e| PayloadError::NotAnObject(e.to_string()))?;
    if text.starts_with('{') {
        Ok(text)
    } else {
        Err(PayloadError::NotAnObject(text.to_owned()))
    }
}

/// The object of JSON text known to be an object (encoded by [`Payload::encode`]).
fn parse(text: &Text) -> JsonObject {
    serde_json::from_str(text.get()).unwrap_or_default()
}

impl Default for Payload {
    fn default() -> Self {
        Payload::new()
    }
}

impl From<JsonObject> for Payload {
    fn from(object: JsonObject) -> Self {
        Payload {
            repr: Repr::Object(object),
        }
    }
}

impl From<Payload> for JsonObject {
    fn from(payload: Payload) -> Self {
        payload.into_object()
    }
}

impl Deref for Payload {
    type Target = JsonObject;

    fn deref(&self) -> &JsonObject {
        match &self.repr {
            Repr::Object(o) => o,
            Repr::Encoded { text, parsed, .. } => parsed.get_or_init(|| Box::new(parse(text))),
        }
    }
}

impl DerefMut for Payload {
    fn deref_mut(&mut self) -> &mut JsonObject {
        if let Repr::Encoded { text, parsed, .. } = &mut self.repr {
            let object = parsed.take().map_or_else(|| parse(text), |parsed| *parsed);
            self.repr = Repr::Object(object);
        }
        match &mut self.repr {
            Repr::Object(o) => o,
            Repr::Encoded { .. } => unreachable!("turned into an object above"),
        }
    }
}

impl PartialEq for Payload {
    fn eq(&self, other: &Payload) -> bool {
        match (self.encoded(), other.encoded()) {
            (Some(a), Some(b)) if a == b => true,
            _ => **self == **other,
        }
    }
}

impl PartialEq<JsonObject> for Payload {
    fn eq(&self, other: &JsonObject) -> bool {
        **self == *other
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Object(o) => o.fmt(f),
            Repr::Encoded { text, .. } => f.debug_tuple("Encoded").field(&text.get()).finish(),
        }
    }
}

impl Serialize for Payload {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.repr {
            Repr::Object(o) => o.serialize(s),
            // Written as it is: a JSON serializer copies the text into its output.
            Repr::Encoded {
                text: Text::Raw(text),
                ..
            } => text.serialize(s),
            // Text read from a message is JSON: it is borrowed as a raw value (a check of the
            // text, on this path only: a transport writes a response's result without serde).
            Repr::Encoded { text, .. } => serde_json::from_str::<&RawValue>(text.get())
                .map_err(serde::ser::Error::custom)?
                .serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Payload::from_raw(Box::<RawValue>::deserialize(d)?).map_err(|text| {
            de::Error::custom(format_args!("expected a JSON object, got {}", text.get()))
        })
    }
}

/// Reads the member named `.0` of an object, skipping the others.
struct Member<'a, T>(&'a str, PhantomData<T>);

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for Member<'_, T> {
    type Value = Option<T>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for Member<'_, T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<T>, A::Error> {
        let mut found = None;
        // A repeated member keeps its last value, as the object would.
        while let Some(is_it) = map.next_key_seed(KeyIs(self.0))? {
            if is_it {
                found = Some(map.next_value::<T>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// Reads the members named in `.0` of an object as `Value`s, skipping the others; a
/// repeated member keeps its last value.
pub(crate) struct Members<'a, const N: usize>(pub(crate) [&'a str; N]);

impl<'de, const N: usize> Visitor<'de> for Members<'_, N> {
    type Value = [Option<serde_json::Value>; N];

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = [const { None }; N];
        // A repeated member keeps its last value, as the object would.
        while let Some(at) = map.next_key_seed(KeyAt(&self.0))? {
            match at {
                Some(i) => found[i] = Some(map.next_value()?),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(found)
    }
}

/// Where a member's name is among `.0`, read without allocating.
pub(crate) struct KeyAt<'a, 'b>(pub(crate) &'b [&'a str]);

impl<'de> DeserializeSeed<'de> for KeyAt<'_, '_> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyAt<'_, '_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Option<usize>, E> {
        Ok(self.0.iter().position(|n| *n == name))
    }
}

/// Whether a member's name is `.0`, read without allocating.
struct KeyIs<'a>(&'a str);

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyIs<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<bool, E> {
        Ok(name == self.0)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A payload moves with every message that carries one (a request's params, a tool's
    /// arguments, a result): it stays small. (88 bytes before a message's index was held
    /// without a `OnceLock`.)
    #[test]
    fn the_text_result_is_opened_at_once() {
        assert_eq!(RESULT_OPEN, [frame::RESULT_TEXT, TEXT_OPEN].concat());
    }

    #[test]
    fn a_payload_is_small() {
        assert!(size_of::<Payload>() <= 80, "{}", size_of::<Payload>());
    }

    #[derive(Serialize)]
    struct Report<'a> {
        name: &'a str,
        values: [u32; 2],
    }

    #[test]
    fn encoded_text_is_written_as_it_is() {
        let p = Payload::encode(&Report {
            name: "a\"b",
            values: [1, 2],
        })
        .unwrap();
        assert_eq!(p.encoded(), Some(r#"{"name":"a\"b","values":[1,2]}"#));
        let mut out = Vec::new();
        serde_json::to_writer(&mut out, &p).unwrap();
        assert_eq!(out, p.encoded().unwrap().as_bytes());
    }

    #[test]
    fn an_encoded_payload_reads_as_its_object() {
        let p = Payload::encode(&json!({"a": [1, {"b": null}], "c": "d"})).unwrap();
        assert_eq!(p["c"], "d");
        assert_eq!(p.get("a"), Some(&json!([1, {"b": null}])));
        let object = match json!({"a": [1, {"b": null}], "c": "d"}) {
            serde_json::Value::Object(o) => o,
            _ => unreachable!(),
        };
        assert_eq!(p, Payload::from(object.clone()));
        assert_eq!(p, object);
        assert_eq!(p.clone().into_object(), object);
        let decoded: std::collections::BTreeMap<String, serde_json::Value> = p.decode().unwrap();
        assert_eq!(decoded.len(), 2);
    }

    #[test]
    fn a_mutated_payload_is_written_from_its_object() {
        let mut p = Payload::encode(&json!({"a": 1})).unwrap();
        p.insert("b".into(), json!(2));
        assert_eq!(p.encoded(), None);
        assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"a":1,"b":2}"#);
    }

    #[test]
    fn text_read_from_a_message_is_kept_and_decoded_from() {
        let p: Payload =
            serde_json::from_str(r#"{"name":"x","arguments":{"n":1},"na\u006de":"y"}"#).unwrap();
        assert!(p.encoded().is_some());
        assert_eq!(p.member::<String>("name").unwrap().as_deref(), Some("y"));
        assert_eq!(p.member::<String>("absent").unwrap(), None);
        assert!(p.member::<u64>("name").is_err());
        #[derive(serde::Deserialize)]
        struct Call {
            arguments: Payload,
        }
        let call: Call = p.decode().unwrap();
        assert_eq!(call.arguments.encoded(), Some(r#"{"n":1}"#));
        let from_object: Call = Payload::from(p.clone().into_object()).decode().unwrap();
        assert_eq!(from_object.arguments["n"], 1);
        assert!(serde_json::from_str::<Payload>("[1]").is_err());
        let value: Payload = serde_json::from_value(json!({"a": 1})).unwrap();
        assert_eq!(value.encoded(), Some(r#"{"a":1}"#));
    }

    /// A member read from a message's params shares their text, and reads as itself.
    #[test]
    fn a_part_shares_the_text_it_was_read_from() {
        let text = r#"{"name":"t","arguments":{"n":[1,2],"s":"\u00e9"}}"#;
        for params in [
            Payload::located(text, None),
            serde_json::from_str::<Payload>(text).unwrap(),
        ] {
            let (whole, index) = params.indexed().unwrap();
            let arguments = index.get(whole, "arguments").unwrap();
            let part = params.part(arguments).unwrap();
            assert_eq!(part.encoded(), Some(r#"{"n":[1,2],"s":"\u00e9"}"#));
            assert_eq!(part["s"], "é");
            assert_eq!(serde_json::to_string(&part).unwrap(), arguments);
            let decoded: std::collections::BTreeMap<String, serde_json::Value> =
                part.decode().unwrap();
            assert_eq!(decoded.len(), 2);
            assert!(
                params.part(index.get(whole, "name").unwrap()).is_none(),
                "not an object"
            );
            assert!(params.part("{}").is_none(), "not a piece of the text");
        }
    }

    #[test]
    fn only_objects_are_payloads() {
        assert!(matches!(
            Payload::encode(&[1, 2]),
            Err(PayloadError::NotAnObject(t)) if t == "[1,2]"
        ));
        assert!(Payload::encode(&json!({})).is_ok());
    }
}
