//! [`Payload`]: a JSON object that may travel already encoded.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::OnceLock;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

use super::JsonObject;

/// A message's `result` or `params` object: either a [`JsonObject`] or the object's JSON text,
/// encoded once.
///
/// A server builds what it sends from typed values (a tool's result, a progress report): it
/// encodes them straight to JSON text with [`Payload::encode`], and a transport copies that
/// text into its frame as it is, with no `serde_json::Value` map built in between and no second
/// encoding. A payload read from the wire, or built from a [`JsonObject`], holds the object.
///
/// Either way it reads as a [`JsonObject`] (it dereferences to one, so `result["content"]` and
/// `params.get("name")` work): an encoded payload is parsed on its first read, once, and a
/// mutable borrow turns it into an object for good. To read it as a type, use
/// [`Payload::decode`], which parses the text directly.
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

#[derive(Clone)]
enum Repr {
    Object(JsonObject),
    Encoded {
        text: Box<RawValue>,
        parsed: OnceLock<JsonObject>,
    },
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
        let text = serde_json::value::to_raw_value(value)?;
        if !text.get().starts_with('{') {
            return Err(PayloadError::NotAnObject(text.get().to_owned()));
        }
        Ok(Payload {
            repr: Repr::Encoded {
                text,
                parsed: OnceLock::new(),
            },
        })
    }

    /// The JSON text, when the payload was built encoded.
    pub fn encoded(&self) -> Option<&str> {
        match &self.repr {
            Repr::Encoded { text, .. } => Some(text.get()),
            Repr::Object(_) => None,
        }
    }

    /// Reads the payload as a `T`: from its text when it is encoded (no [`JsonObject`] in
    /// between), otherwise from the object.
    pub fn decode<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        match &self.repr {
            Repr::Encoded { text, .. } => serde_json::from_str(text.get()),
            Repr::Object(o) => T::deserialize(o),
        }
    }

    /// The object, parsed from the text if the payload was built encoded.
    pub fn into_object(self) -> JsonObject {
        match self.repr {
            Repr::Object(o) => o,
            Repr::Encoded { text, parsed } => parsed.into_inner().unwrap_or_else(|| parse(&text)),
        }
    }
}

/// The object of JSON text known to be an object (encoded by [`Payload::encode`]).
fn parse(text: &RawValue) -> JsonObject {
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
            Repr::Encoded { text, parsed } => parsed.get_or_init(|| parse(text)),
        }
    }
}

impl DerefMut for Payload {
    fn deref_mut(&mut self) -> &mut JsonObject {
        if let Repr::Encoded { text, parsed } = &mut self.repr {
            let object = parsed.take().unwrap_or_else(|| parse(text));
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
            Repr::Encoded { text, .. } => text.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        JsonObject::deserialize(d).map(Payload::from)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

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
        let wrapped = serde_json::to_string(&json!({"x": 1})).unwrap();
        assert_eq!(wrapped, r#"{"x":1}"#);
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
    fn only_objects_are_payloads() {
        assert!(matches!(
            Payload::encode(&[1, 2]),
            Err(PayloadError::NotAnObject(t)) if t == "[1,2]"
        ));
        assert!(Payload::encode(&json!({})).is_ok());
    }
}
