//! [`Preread`]: what routing reads from a request's params before its handler runs, in one
//! pass over their text.

use std::fmt;

use serde::Deserializer;
use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::jsonrpc::{JsonObject, KeyAt, Payload, Request};
use crate::protocol::methods;

/// What routing reads from a request's params besides the handler's own params, read in one
/// pass over their text: `_meta` (the handler's context, and whether the request declares a
/// stateless revision) and, for `tools/call`, `task` and the call itself (the tool's name and
/// its arguments, so that the params are not read again to call it). A `_meta` that is not an
/// object counts as absent.
pub(super) struct Preread {
    pub(super) meta: Option<JsonObject>,
    pub(super) task: Option<Value>,
    /// A `tools/call`'s name and arguments, when its params are as the usual call has them
    /// (see [`CallRead`]); otherwise `None`, and the handler decodes the params whole, with
    /// the errors that gives.
    pub(super) call: Option<ToolCall>,
}

/// The parts of a `tools/call`'s params its handler uses.
pub(super) struct ToolCall {
    pub(super) name: String,
    pub(super) arguments: Option<Payload>,
}

impl Preread {
    pub(super) fn of(request: &Request) -> Self {
        let Some(params) = request.params.as_ref() else {
            return Preread {
                meta: None,
                task: None,
                call: None,
            };
        };
        if request.method == methods::TOOLS_CALL
            && let Some(text) = params.encoded()
        {
            let mut d = serde_json::Deserializer::from_str(text);
            if let Ok(read) = d.deserialize_map(CallRead) {
                return read;
            }
        }
        // Text that came in as a message's params is an object: reading it does not fail.
        let [meta, task] = if request.method == methods::TOOLS_CALL {
            params.members(["_meta", "task"]).unwrap_or_default()
        } else {
            let [meta] = params.members(["_meta"]).unwrap_or_default();
            [meta, None]
        };
        Preread {
            meta: meta_object(meta),
            task,
            call: None,
        }
    }

    /// [`is_stateless`](super::caller::is_stateless) from what was read.
    pub(super) fn is_stateless(&self, method: &str) -> bool {
        matches!(
            method,
            methods::SERVER_DISCOVER | methods::SUBSCRIPTIONS_LISTEN
        ) || self
            .meta
            .as_ref()
            .is_some_and(|m| m.contains_key(crate::protocol::PROTOCOL_VERSION_KEY))
    }
}

fn meta_object(meta: Option<Value>) -> Option<JsonObject> {
    match meta {
        Some(Value::Object(meta)) => Some(meta),
        _ => None,
    }
}

/// Reads a `tools/call`'s params in one pass: `_meta` and `task` as [`Preread::of`] reads
/// them, and `name` and `arguments`. The call is kept only when decoding the params as
/// [`CallToolParams`](crate::protocol::CallToolParams) would give the same and succeed: `name`
/// a string, `arguments` an object or `null` or absent, `_meta` an object or `null` or
/// absent, none of the three repeated. Anything else leaves the call to that decoding, so a
/// malformed call is refused with the error it always was.
struct CallRead;

const META: usize = 0;
const TASK: usize = 1;
const NAME: usize = 2;
const ARGUMENTS: usize = 3;

impl<'de> Visitor<'de> for CallRead {
    type Value = Preread;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Preread, A::Error> {
        let names = ["_meta", "task", "name", "arguments"];
        let (mut meta, mut task, mut name, mut arguments) = (None, None, None, None);
        let mut seen = [0u8; 4];
        // A repeated member keeps its last value, as the object would.
        while let Some(at) = map.next_key_seed(KeyAt(&names))? {
            let Some(at) = at else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            seen[at] = seen[at].saturating_add(1);
            match at {
                META => meta = Some(map.next_value::<Value>()?),
                TASK => task = Some(map.next_value::<Value>()?),
                NAME => name = Some(map.next_value::<Value>()?),
                _ => arguments = Some(map.next_value::<Box<RawValue>>()?),
            }
        }
        let repeated = [META, NAME, ARGUMENTS].iter().any(|&i| seen[i] > 1);
        let meta_ok = matches!(meta, None | Some(Value::Null | Value::Object(_)));
        let arguments = match arguments {
            None => Some(None),
            Some(text) if text.get() == "null" => Some(None),
            Some(text) => Payload::from_raw(text).ok().map(Some),
        };
        let call = match (name, arguments) {
            (Some(Value::String(name)), Some(arguments)) if !repeated && meta_ok => {
                Some(ToolCall { name, arguments })
            }
            _ => None,
        };
        Ok(Preread {
            meta: meta_object(meta),
            task,
            call,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::CallToolParams;

    fn call(params: &str) -> Request {
        serde_json::from_str(&format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{params}}}"#
        ))
        .unwrap()
    }

    /// A usual call is read in the one pass, to what decoding its params gives.
    #[test]
    fn a_usual_call_is_read_with_its_meta() {
        for params in [
            r#"{"name":"t","arguments":{"a":[1,{"b":2}]},"_meta":{"progressToken":3},"task":{"ttl":5}}"#,
            r#"{"_meta":null,"name":"t\u0041","arguments":null}"#,
            r#"{"name":"t","other":[1,2,3]}"#,
        ] {
            let request = call(params);
            let read = Preread::of(&request);
            let ToolCall { name, arguments } = read.call.expect("read in one pass");
            let decoded: CallToolParams = request.params.as_ref().unwrap().decode().unwrap();
            assert_eq!(name, decoded.name);
            assert_eq!(
                arguments.map(|a| a.into_object()),
                decoded.arguments.map(|a| a.into_object())
            );
            assert_eq!(read.meta, decoded.meta, "{params}");
        }
        let read = Preread::of(&call(r#"{"name":"t","task":{"ttl":5}}"#));
        assert_eq!(read.task, Some(serde_json::json!({"ttl": 5})));
    }

    /// Params that decoding would refuse (or read otherwise) are left to the decoding.
    #[test]
    fn an_unusual_call_is_left_to_the_decoding() {
        for params in [
            r#"{"arguments":{}}"#,
            r#"{"name":5}"#,
            r#"{"name":"t","arguments":[1]}"#,
            r#"{"name":"t","_meta":5}"#,
            r#"{"name":"t","name":"u"}"#,
            r#"{"name":"t","arguments":{},"arguments":{}}"#,
            r#"{"name":"t","_meta":{},"_meta":{}}"#,
        ] {
            let read = Preread::of(&call(params));
            assert!(read.call.is_none(), "{params}");
        }
    }
}
