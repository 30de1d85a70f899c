//! How a stateless (2026-07-28) result is finished: `resultType`, the server's identity in
//! `_meta`, and the caching hints of list and read methods.
//!
//! A result held as JSON text (a tool's result, encoded once) that sets none of these members
//! itself gets them written in front of its own members, into one new text: it is not parsed
//! into an object and encoded again. Anything else goes through the object.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

use super::Server;
use crate::jsonrpc::{JsonObject, Payload, entries};
use crate::protocol::{CacheHint, RESULT_COMPLETE, SERVER_INFO_KEY, methods};

/// Which caching hint a stateless result carries, if any.
#[derive(Debug, Clone, Copy)]
pub(super) enum Cacheable {
    No,
    List,
    Resource,
}

impl Cacheable {
    pub(super) fn of(method: &str) -> Self {
        match method {
            methods::SERVER_DISCOVER
            | methods::TOOLS_LIST
            | methods::PROMPTS_LIST
            | methods::RESOURCES_TEMPLATES_LIST => Cacheable::List,
            methods::RESOURCES_LIST | methods::RESOURCES_READ => Cacheable::Resource,
            _ => Cacheable::No,
        }
    }

    fn hint(self, server: &Server) -> Option<CacheHint> {
        match self {
            Cacheable::List => Some(server.inner.list_cache),
            Cacheable::Resource => Some(server.inner.resource_cache),
            Cacheable::No => None,
        }
    }
}

/// The members a stateless result gets; a result that sets one itself keeps its own.
const FINISHING: [&str; 4] = ["resultType", "_meta", "ttlMs", "cacheScope"];

/// A stateless result: `resultType`, `_meta.serverInfo`, and caching hints where the revision
/// asks for them (complete results of list and read methods only).
pub(super) fn stateless_result(server: &Server, cacheable: Cacheable, payload: Payload) -> Payload {
    let hint = cacheable.hint(server);
    match payload
        .encoded()
        .and_then(|text| spliced(server, hint, text))
    {
        Some(finished) => finished,
        None => through_object(server, hint, payload),
    }
}

/// The finished text of a result held as `text`, when it sets none of [`FINISHING`]: the
/// new members first, then the result's own (their text copied as it is), written once.
///
/// Written by serializing the members, never re-read: every piece is JSON already (the
/// server's identity encoded at build time, the result's members as they were read).
fn spliced(server: &Server, hint: Option<CacheHint>, text: &str) -> Option<Payload> {
    if let Some(finished) = prefixed(server, hint, text) {
        return Some(finished);
    }
    // `None` as well for a member name with an escape (rare): that goes through the object.
    let own = entries(text)?;
    if own.iter().any(|(name, _)| FINISHING.contains(name)) {
        return None;
    }
    let finished = Finished {
        info: &server.inner.info_json,
        hint,
        own,
    };
    Payload::encode_exact(&finished).ok()
}

/// The finished text of a result whose text holds no escape and names none of
/// [`FINISHING`] anywhere, so that none of its members can be one of them: the new members
/// written in front of the result's own, whose text is copied whole, without reading its
/// members (a usual tool result). `None` for any other result.
///
/// Without an escape, a JSON string cannot hold a quote: a quoted name found in the text is
/// a whole string (a member's name, or a value, which only sends the result the longer way).
fn prefixed(server: &Server, hint: Option<CacheHint>, text: &str) -> Option<Payload> {
    const QUOTED: [&str; 4] = [
        r#""resultType""#,
        r#""_meta""#,
        r#""ttlMs""#,
        r#""cacheScope""#,
    ];
    if text.contains('\\') || QUOTED.iter().any(|name| text.contains(name)) {
        return None;
    }
    // The result's own members and its closing brace.
    let own = text.strip_prefix('{')?;
    let info = server.inner.info_json.get();
    Payload::written(|out| {
        out.extend_from_slice(br#"{"resultType":"#);
        serde_json::to_writer(&mut *out, RESULT_COMPLETE)?;
        out.extend_from_slice(br#","_meta":{"#);
        serde_json::to_writer(&mut *out, SERVER_INFO_KEY)?;
        out.push(b':');
        out.extend_from_slice(info.as_bytes());
        out.push(b'}');
        if let Some(hint) = &hint {
            out.extend_from_slice(br#","ttlMs":"#);
            serde_json::to_writer(&mut *out, &hint.ttl_ms)?;
            out.extend_from_slice(br#","cacheScope":"#);
            serde_json::to_writer(&mut *out, &hint.scope)?;
        }
        if !own.trim_start().starts_with('}') {
            out.push(b',');
        }
        out.extend_from_slice(own.as_bytes());
        Ok(())
    })
    .ok()
}

/// A stateless result's members, written in order: `resultType`, `_meta` with the server's
/// identity, the caching hints if any, then the result's own.
struct Finished<'a> {
    info: &'a RawValue,
    hint: Option<CacheHint>,
    own: Vec<(&'a str, &'a RawValue)>,
}

impl Serialize for Finished<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        /// `{"<SERVER_INFO_KEY>": info}`.
        struct Meta<'a>(&'a RawValue);
        impl Serialize for Meta<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry(SERVER_INFO_KEY, self.0)?;
                map.end()
            }
        }
        let hints = if self.hint.is_some() { 2 } else { 0 };
        let mut map = s.serialize_map(Some(2 + hints + self.own.len()))?;
        map.serialize_entry("resultType", RESULT_COMPLETE)?;
        map.serialize_entry("_meta", &Meta(self.info))?;
        if let Some(hint) = &self.hint {
            map.serialize_entry("ttlMs", &hint.ttl_ms)?;
            map.serialize_entry("cacheScope", &hint.scope)?;
        }
        for (name, value) in &self.own {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// The finished result, through its object.
fn through_object(server: &Server, hint: Option<CacheHint>, mut payload: Payload) -> Payload {
    let result: &mut JsonObject = &mut payload;
    let complete = match result.get("resultType") {
        None => {
            result.insert("resultType".into(), RESULT_COMPLETE.into());
            true
        }
        Some(t) => t == RESULT_COMPLETE,
    };
    let meta = result
        .entry("_meta")
        .or_insert_with(|| Value::Object(JsonObject::new()));
    if let Value::Object(meta) = meta {
        meta.entry(SERVER_INFO_KEY)
            .or_insert_with(|| serde_json::to_value(&server.inner.info).unwrap_or(Value::Null));
    }
    if let (true, Some(hint)) = (complete, hint) {
        result.entry("ttlMs").or_insert(hint.ttl_ms.into());
        result
            .entry("cacheScope")
            .or_insert_with(|| serde_json::to_value(hint.scope).unwrap_or(Value::Null));
    }
    payload
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn server() -> Server {
        Server::builder("finish \"test\"", "1").build().unwrap()
    }

    fn text(v: Value) -> Payload {
        serde_json::from_str(&v.to_string()).unwrap()
    }

    fn object(v: Value) -> Payload {
        match v {
            Value::Object(o) => Payload::from(o),
            _ => unreachable!(),
        }
    }

    /// A result held as text is finished in its text, to the object the object path gives.
    #[test]
    fn a_result_held_as_text_is_spliced_to_what_the_object_path_gives() {
        let server = server();
        for (result, cacheable) in [
            (
                json!({"content": [{"type": "text", "text": "done"}]}),
                Cacheable::No,
            ),
            (json!({}), Cacheable::No),
            (json!({"tools": [], "nextCursor": "x"}), Cacheable::List),
            (json!({"contents": []}), Cacheable::Resource),
            (
                json!({"content": [{"type": "text", "text": "a \"b\" \\"}]}),
                Cacheable::No,
            ),
            (
                json!({"content": [{"type": "text", "text": "resultType"}]}),
                Cacheable::No,
            ),
            (json!({"x": {"_meta": 1}, "y": [1]}), Cacheable::List),
        ] {
            let spliced = stateless_result(&server, cacheable, text(result.clone()));
            let finished = spliced.encoded().expect("spliced into new text");
            let through = stateless_result(&server, cacheable, object(result));
            assert_eq!(
                serde_json::from_str::<Value>(finished).unwrap(),
                Value::Object(through.into_object())
            );
        }
    }

    /// The members written in front of a result's text are what serializing them gives.
    #[test]
    fn a_prefixed_result_is_what_its_members_serialize_to() {
        let server = server();
        for (text, hint) in [
            (r#"{"content":[{"type":"text","text":"done 0"}]}"#, None),
            ("{}", Some(server.inner.list_cache)),
            (
                r#"{"contents":[],"nextCursor":"2"}"#,
                Some(server.inner.resource_cache),
            ),
        ] {
            let prefixed = prefixed(&server, hint, text).expect("prefixed");
            let finished = Finished {
                info: &server.inner.info_json,
                hint,
                own: entries(text).unwrap(),
            };
            assert_eq!(
                prefixed.encoded(),
                Some(serde_json::to_string(&finished).unwrap().as_str())
            );
        }
        assert!(prefixed(&server, None, r#"{"a":"\"_meta\""}"#).is_none());
        assert!(prefixed(&server, None, r#"{"a":1,"ttlMs":2}"#).is_none());
    }

    /// A result that sets a finishing member itself keeps it (through the object).
    #[test]
    fn a_result_that_sets_its_own_members_keeps_them() {
        let server = server();
        let own = json!({"resultType": "input_required", "_meta": {"k": 1}, "ttlMs": 5});
        let finished = stateless_result(&server, Cacheable::List, text(own));
        assert_eq!(finished["resultType"], "input_required");
        assert_eq!(finished["_meta"]["k"], 1);
        assert_eq!(
            finished["_meta"][SERVER_INFO_KEY]["name"],
            "finish \"test\""
        );
        assert_eq!(finished["ttlMs"], 5);
        // Not complete: no hints added.
        assert!(finished.get("cacheScope").is_none());
    }
}
