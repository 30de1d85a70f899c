//! [`Preread`]: what routing reads from a request's params before its handler runs, in one
//! pass over their text.

use std::ops::Range;

use serde_json::Value;

use crate::jsonrpc::{Index, Payload, Request};
use crate::protocol::methods;

/// What routing reads from a request's params besides the handler's own params, read from
/// the params' member index (made as the message was read, so that finding a member reads
/// nothing else): `_meta` (the handler's context, and whether the request declares a
/// stateless revision) and, for `tools/call`, `task` and the call itself (the tool's name and
/// its arguments, so that the params are not read again to call it). A `_meta` that is not an
/// object counts as absent; one that is stays text (a part of the params' buffer) until
/// something reads it.
pub(super) struct Preread {
    pub(super) meta: Option<Payload>,
    pub(super) task: Option<Value>,
    /// A `tools/call`'s name and arguments, when its params are as the usual call has them
    /// (see [`Preread::call`]); otherwise `None`, and the handler decodes the params whole,
    /// with the errors that gives.
    pub(super) call: Option<ToolCall>,
}

/// The parts of a `tools/call`'s params its handler uses.
pub(super) struct ToolCall {
    name: Name,
    pub(super) arguments: Option<Payload>,
}

/// A tool's name: where it is in the params' text (a name without escapes: no copy), or the
/// name itself.
enum Name {
    At(Range<usize>),
    Owned(String),
}

impl ToolCall {
    /// A call of the tool `name`.
    pub(super) fn new(name: String, arguments: Option<Payload>) -> Self {
        ToolCall {
            name: Name::Owned(name),
            arguments,
        }
    }

    /// The tool's name; `params` are the params it was read from.
    pub(super) fn name<'a>(&'a self, params: Option<&'a Payload>) -> &'a str {
        match &self.name {
            Name::Owned(name) => name,
            Name::At(at) => params
                .and_then(|params| params.text_at(at.clone()))
                .unwrap_or_default(),
        }
    }
}

impl Preread {
    pub(super) fn of(request: &Request) -> Self {
        let nothing = Preread {
            meta: None,
            task: None,
            call: None,
        };
        let Some(params) = request.params.as_ref() else {
            return nothing;
        };
        let is_call = request.method == methods::TOOLS_CALL;
        if let Some((text, index)) = params.indexed() {
            return Preread::indexed(params, text, index, is_call);
        }
        // An object, or text with a member name that holds an escape: read member by member
        // (a call's params are then decoded whole by its handler).
        let [meta, task] = if is_call {
            params.members(["_meta", "task"]).unwrap_or_default()
        } else {
            let [meta] = params.members(["_meta"]).unwrap_or_default();
            [meta, None]
        };
        Preread {
            meta: match meta {
                Some(Value::Object(meta)) => Some(Payload::from(meta)),
                _ => None,
            },
            task,
            call: None,
        }
    }

    /// Reads the members from the index of `params` (whose text is `text`). A call is kept
    /// only when decoding the params as [`CallToolParams`](crate::protocol::CallToolParams)
    /// would give the same and succeed: `name` a string, `arguments` an object or `null` or
    /// absent, `_meta` an object or `null` or absent, none of the three repeated. Anything
    /// else leaves the call to that decoding, so a malformed call is refused with the error
    /// it always was.
    fn indexed(params: &Payload, text: &str, index: &Index, is_call: bool) -> Self {
        let (mut meta, mut task, mut name, mut arguments) = (None, None, None, None);
        let mut repeated = false;
        // A repeated member keeps its last value, as the object would. Names are told apart
        // by their bytes; only the values wanted are taken as text.
        let bytes = text.as_bytes();
        for (member, value) in index.spans() {
            let slot = match bytes.get(member) {
                Some(b"_meta") => &mut meta,
                Some(b"task") if is_call => {
                    task = Some(value);
                    continue;
                }
                Some(b"name") if is_call => &mut name,
                Some(b"arguments") if is_call => &mut arguments,
                _ => continue,
            };
            repeated |= slot.replace(value).is_some();
        }
        let value = |at: Option<std::ops::Range<usize>>| at.and_then(|at| text.get(at));
        let (meta, task) = (value(meta), value(task));
        let (name, arguments) = (value(name), value(arguments));
        // Text from a message's index is JSON: reading a member does not fail.
        let read = |value: Option<&str>| value.and_then(|v| serde_json::from_str(v).ok());
        let call = if is_call && !repeated {
            Preread::call(params, text, meta, name, arguments)
        } else {
            None
        };
        Preread {
            // An object's text, from the message's own buffer: no copy, nothing parsed.
            meta: meta.and_then(|meta| params.part(meta)),
            task: read(task),
            call,
        }
    }

    /// The call, from the text of its members, when it is as the usual call has it.
    fn call(
        params: &Payload,
        text: &str,
        meta: Option<&str>,
        name: Option<&str>,
        arguments: Option<&str>,
    ) -> Option<ToolCall> {
        let meta_ok = match meta {
            None => true,
            Some(meta) => meta == "null" || meta.starts_with('{'),
        };
        let arguments = match arguments {
            None | Some("null") => None,
            Some(arguments) => Some(params.part(arguments)?),
        };
        let name = name?;
        let name = match name.as_bytes() {
            // No escape (its first stop is its closing quote): the name is its text, found
            // where it is.
            [b'"', ..]
                if crate::jsonrpc::plain_string_end(name.as_bytes(), 1) == Some(name.len() - 1) =>
            {
                let start = name.as_ptr() as usize - text.as_ptr() as usize + 1;
                Name::At(start..start + name.len() - 2)
            }
            [b'"', ..] => Name::Owned(serde_json::from_str(name).ok()?),
            _ => return None,
        };
        meta_ok.then_some(ToolCall { name, arguments })
    }

    /// [`is_stateless`](super::caller::is_stateless) from what was read.
    pub(super) fn is_stateless(&self, method: &str) -> bool {
        matches!(
            method,
            methods::SERVER_DISCOVER | methods::SUBSCRIPTIONS_LISTEN
        ) || self.meta.as_ref().is_some_and(super::caller::names_version)
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
            let call = read.call.expect("read from the index");
            let decoded: CallToolParams = request.params.as_ref().unwrap().decode().unwrap();
            assert_eq!(call.name(request.params.as_ref()), decoded.name);
            let arguments = call.arguments;
            assert_eq!(
                arguments.map(|a| a.into_object()),
                decoded.arguments.map(|a| a.into_object())
            );
            assert_eq!(
                read.meta.map(Payload::into_object),
                decoded.meta,
                "{params}"
            );
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
