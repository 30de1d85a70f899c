//! The lean clients' check of an answer: one JSON-RPC response, for the id asked, holding the
//! tool's result and no error. Parsed with serde into borrowed fields (well under a
//! microsecond for these small messages), so that nothing else can pass for a result.

use serde::Deserialize;
use serde::de::IgnoredAny;

#[derive(Deserialize)]
struct Response<'a> {
    jsonrpc: &'a str,
    id: Option<u64>,
    method: Option<IgnoredAny>,
    #[serde(borrow)]
    result: Option<ToolResult<'a>>,
    error: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct ToolResult<'a> {
    /// Exactly one item (serde rejects more or fewer), and no allocation.
    #[serde(borrow)]
    content: [Content<'a>; 1],
    #[serde(rename = "isError", default)]
    is_error: bool,
}

#[derive(Deserialize)]
struct Content<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    text: Option<&'a str>,
}

/// What a call's answer must be.
pub struct Expect {
    /// The tool's text: `done <steps>`.
    text: String,
    /// The bare hyper server answers every request with the same canned result, whose id
    /// is 1; every other server must echo the request's id.
    echoes_ids: bool,
}

impl Expect {
    /// The answer to `progress {steps}` from a server that echoes ids (or not).
    pub fn done(steps: u64, echoes_ids: bool) -> Expect {
        Expect {
            text: format!("done {steps}"),
            echoes_ids,
        }
    }

    /// Checks `message` is the tool's result for `id`, and returns the id it answers
    /// (`id` itself, or the canned 1 when the server does not echo ids); panics, showing the
    /// message, on anything else.
    pub fn check(&self, message: &[u8], id: Option<u64>) -> u64 {
        let fail = |why: &str| -> ! {
            panic!(
                "not the tool's result ({why}): {}",
                String::from_utf8_lossy(message)
            )
        };
        let r: Response<'_> =
            serde_json::from_slice(message).unwrap_or_else(|e| fail(&e.to_string()));
        if r.jsonrpc != "2.0" || r.method.is_some() || r.error.is_some() {
            fail("not a successful response");
        }
        let got = r.id.unwrap_or_else(|| fail("no id"));
        match (self.echoes_ids, id) {
            (true, Some(want)) if got != want => fail("another id"),
            (false, _) if got != 1 => fail("not the canned id"),
            _ => {}
        }
        let result = r.result.unwrap_or_else(|| fail("no result"));
        let [Content { kind, text }] = result.content;
        let text_ok = kind == "text" && text == Some(self.text.as_str());
        if result.is_error || !text_ok {
            fail("not the tool's text");
        }
        got
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &[u8] =
        br#"{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"done 0"}]}}"#;

    #[test]
    fn the_result_for_the_id_passes() {
        assert_eq!(Expect::done(0, true).check(OK, Some(7)), 7);
        assert_eq!(Expect::done(0, true).check(OK, None), 7);
    }

    #[test]
    #[should_panic(expected = "another id")]
    fn another_id_fails() {
        Expect::done(0, true).check(OK, Some(8));
    }

    #[test]
    #[should_panic(expected = "not a successful response")]
    fn an_error_fails() {
        let e = br#"{"jsonrpc":"2.0","id":7,"error":{"code":-32602,"message":"x"}}"#;
        Expect::done(0, true).check(e, Some(7));
    }

    #[test]
    #[should_panic(expected = "not the tool's text")]
    fn another_text_fails() {
        Expect::done(1, true).check(OK, Some(7));
    }

    #[test]
    #[should_panic(expected = "trailing characters")]
    fn two_items_fail() {
        let two = br#"{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"done 0"},{"type":"text","text":"x"}]}}"#;
        Expect::done(0, true).check(two, Some(7));
    }

    #[test]
    #[should_panic(expected = "not the canned id")]
    fn a_canned_answer_has_id_1() {
        Expect::done(0, false).check(OK, Some(7));
    }
}
