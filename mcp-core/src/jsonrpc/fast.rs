//! A hand-written reader for the usual request or notification:
//! `{"jsonrpc":"2.0","id":<integer or string>,"method":"...","params":{...}}`, its members
//! in any order, with JSON whitespace anywhere between tokens.
//!
//! It reads only what it fully understands, and gives up (`None`) on anything else, for the
//! serde reader (`envelope.rs`) to read as it always did, with the same result and the same
//! errors: so it never accepts what that reader refuses, nor reads a message differently.
//! It gives up on any escape or control character in a string, a member of the envelope
//! other than those four or one repeated, a `jsonrpc` other than `"2.0"`, an id that is not
//! a string or an integer of at most 18 digits (`-0` included: serde_json reads it as a
//! float), `params` that are not an object, a number with an exponent, nesting deeper than
//! [`MAX_DEPTH`], anything after the object but whitespace, and bytes that are not UTF-8.
//! What it accepts, it builds as the serde reader does: the params held as their text, their
//! members located.
//!
//! It reads bytes, and checks as UTF-8 only the parts that may hold other than ASCII: the
//! params, the method and a string id. Everything else it takes (the member names, `"2.0"`,
//! numbers, punctuation, whitespace) it has matched byte by byte as ASCII, so a message it
//! takes is UTF-8 as a whole, without a pass over the whole to say so.

use super::index::Builder;
use super::{Message, Method, Payload, RequestId};
use crate::protocol::methods;

/// How deep values within the params may nest (well within serde_json's own limit).
const MAX_DEPTH: u32 = 64;

/// The most digits an integer id may have here: any such integer fits an `i64`.
const MAX_ID_DIGITS: usize = 18;

/// Reads `bytes` as the usual request or notification; `None` for anything else.
pub(super) fn parse(bytes: &[u8]) -> Option<Message> {
    // Offsets are held as `u32`.
    u32::try_from(bytes.len()).ok()?;
    let mut s = Scan { bytes, at: 0 };
    let (mut jsonrpc, mut id, mut method, mut params) = (false, None, None, None);
    if !s.sep(b'{') {
        return None;
    }
    if !s.sep(b'}') {
        loop {
            if !s.sep(b'"') {
                return None;
            }
            let member = s.member()?;
            if !s.sep(b':') {
                return None;
            }
            match member {
                Member::Jsonrpc if !jsonrpc => {
                    s.version()?;
                    jsonrpc = true;
                }
                Member::Id if id.is_none() => id = Some(s.id()?),
                Member::Method if method.is_none() => {
                    if !s.sep(b'"') {
                        return None;
                    }
                    let (start, end) = s.string()?;
                    let name = &bytes[start..end];
                    // The usual method is known by its bytes: no check of them as UTF-8.
                    method = Some(if name == methods::TOOLS_CALL.as_bytes() {
                        Method::from_static(methods::TOOLS_CALL)
                    } else {
                        Method::from(utf8(name)?)
                    });
                }
                Member::Params if params.is_none() => params = Some(s.params()?),
                _ => return None,
            }
            if s.sep(b',') {
                continue;
            }
            if !s.sep(b'}') {
                return None;
            }
            break;
        }
    }
    s.ws();
    if s.at != bytes.len() || !jsonrpc {
        return None;
    }
    let method = method?;
    let params = match params {
        Some((start, end, index)) => Some(Payload::located(
            utf8(&bytes[start..end])?,
            Some(index.finish()),
        )),
        None => None,
    };
    Some(super::envelope::call(id, method, params))
}

/// `bytes` as text, when they are UTF-8.
fn utf8(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes).ok()
}

/// The members of the envelope this reader takes.
enum Member {
    Jsonrpc,
    Id,
    Method,
    Params,
}

/// A position in the message's bytes.
struct Scan<'t> {
    bytes: &'t [u8],
    at: usize,
}

impl Scan<'_> {
    /// The next byte; 0 past the end (a byte that nothing here takes outside a string, and
    /// strings are read by [`plain_string_end`], which stops at it).
    #[inline(always)]
    fn peek(&self) -> u8 {
        self.bytes.get(self.at).copied().unwrap_or(0)
    }

    /// Skips JSON whitespace.
    fn ws(&mut self) {
        let mut at = self.at;
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(at) {
            at += 1;
        }
        self.at = at;
    }

    /// The next byte past JSON whitespace (not stepped over; 0 past the end). Whitespace is
    /// at most a space: any byte above one is the next at once.
    #[inline(always)]
    fn next(&mut self) -> u8 {
        match self.peek() {
            b if b > b' ' => b,
            _ => {
                self.ws();
                self.peek()
            }
        }
    }

    /// Steps over `b` if it is next, past JSON whitespace.
    #[inline(always)]
    fn sep(&mut self, b: u8) -> bool {
        let next = self.next() == b;
        if next {
            self.at += 1;
        }
        next
    }

    /// Steps over `b` if it is the very next byte.
    fn eat(&mut self, b: u8) -> bool {
        let next = self.peek() == b;
        if next {
            self.at += 1;
        }
        next
    }

    /// The next eight bytes as a little-endian word, when there are eight.
    fn word(&self) -> Option<u64> {
        let bytes = self.bytes.get(self.at..self.at + 8)?;
        Some(u64::from_le_bytes(bytes.try_into().ok()?))
    }

    /// An envelope member's name, its opening quote stepped over, with its closing quote:
    /// told apart by the word it starts (`jsonrpc"` is a word whole, the others its first
    /// three or seven bytes), near the end of the text by its bytes. Any other name is
    /// `None`.
    fn member(&mut self) -> Option<Member> {
        /// The low `n` bytes of a word.
        const fn low(n: u32) -> u64 {
            (1 << (8 * n)) - 1
        }
        const JSONRPC: u64 = u64::from_le_bytes(*b"jsonrpc\"");
        const ID: u64 = u64::from_le_bytes(*b"id\"\0\0\0\0\0");
        const METHOD: u64 = u64::from_le_bytes(*b"method\"\0");
        const PARAMS: u64 = u64::from_le_bytes(*b"params\"\0");
        let (member, len) = match self.word() {
            Some(JSONRPC) => (Member::Jsonrpc, 8),
            Some(w) if w & low(3) == ID => (Member::Id, 3),
            Some(w) if w & low(7) == METHOD => (Member::Method, 7),
            Some(w) if w & low(7) == PARAMS => (Member::Params, 7),
            Some(_) => return None,
            None => {
                let (start, end) = self.string()?;
                return match &self.bytes[start..end] {
                    b"jsonrpc" => Some(Member::Jsonrpc),
                    b"id" => Some(Member::Id),
                    b"method" => Some(Member::Method),
                    b"params" => Some(Member::Params),
                    _ => None,
                };
            }
        };
        self.at += len;
        Some(member)
    }

    /// The `jsonrpc` member's value, which must be `"2.0"`.
    fn version(&mut self) -> Option<()> {
        if !self.sep(b'"') {
            return None;
        }
        let next = self.bytes.get(self.at..self.at + 4)?;
        (next == b"2.0\"").then(|| self.at += 4)
    }

    /// A string with neither escapes nor control characters, its opening quote stepped
    /// over: where its content starts and ends (between the quotes).
    #[inline]
    fn string(&mut self) -> Option<(usize, usize)> {
        let start = self.at;
        let end = plain_string_end(self.bytes, start)?;
        self.at = end + 1;
        Some((start, end))
    }

    /// Steps over the digits next; how many.
    fn digits(&mut self) -> usize {
        let start = self.at;
        while let b'0'..=b'9' = self.peek() {
            self.at += 1;
        }
        self.at - start
    }

    /// A request id: a string, or an integer that certainly fits an `i64` (and is not `-0`).
    fn id(&mut self) -> Option<RequestId> {
        let negative = match self.next() {
            b'"' => {
                self.at += 1;
                let (start, end) = self.string()?;
                return Some(RequestId::String(utf8(&self.bytes[start..end])?.into()));
            }
            b'-' => {
                self.at += 1;
                true
            }
            _ => false,
        };
        let first = self.at;
        let mut value: i64 = 0;
        while let digit @ b'0'..=b'9' = self.peek() {
            // At most MAX_ID_DIGITS digits are kept (checked below): no overflow.
            value = value.wrapping_mul(10).wrapping_add(i64::from(digit - b'0'));
            self.at += 1;
        }
        let ok = match self.bytes[first..self.at] {
            [] => false,
            [b'0'] => !negative,
            [b'0', ..] => false,
            ref digits => digits.len() <= MAX_ID_DIGITS,
        };
        // A fraction or an exponent makes it no integer: the serde reader's error.
        if !ok || matches!(self.peek(), b'.' | b'e' | b'E') {
            return None;
        }
        Some(RequestId::Number(if negative { -value } else { value }))
    }

    /// The params object: where its text starts and ends, and its members located.
    fn params(&mut self) -> Option<(usize, usize, Builder)> {
        if self.next() != b'{' {
            return None;
        }
        let start = self.at;
        self.at += 1;
        let mut index = Builder::at(start as u32);
        if !self.sep(b'}') {
            loop {
                if !self.sep(b'"') {
                    return None;
                }
                let (name_start, name_end) = self.string()?;
                if !self.sep(b':') {
                    return None;
                }
                self.next();
                let value_start = self.at;
                self.value(MAX_DEPTH)?;
                index.push(
                    (name_start as u32, name_end as u32),
                    (value_start as u32, self.at as u32),
                );
                if self.sep(b',') {
                    continue;
                }
                if !self.sep(b'}') {
                    return None;
                }
                break;
            }
        }
        Some((start, self.at, index))
    }

    /// Steps over one value (at the next byte: whitespace skipped), nested at most `depth`
    /// deep. A string or a number (most values) is read here; an object or a list by
    /// [`nested`](Self::nested), which calls this for each of its values.
    #[inline(always)]
    fn value(&mut self, depth: u32) -> Option<()> {
        match self.peek() {
            b'"' => {
                self.at += 1;
                self.string().map(drop)
            }
            b'-' | b'0'..=b'9' => self.number(),
            _ => self.nested(depth),
        }
    }

    /// Steps over an object, a list or a literal, nested at most `depth` deep.
    fn nested(&mut self, depth: u32) -> Option<()> {
        match self.peek() {
            b'{' | b'[' if depth == 0 => None,
            b'{' => {
                self.at += 1;
                if self.sep(b'}') {
                    return Some(());
                }
                loop {
                    if !self.sep(b'"') {
                        return None;
                    }
                    self.string()?;
                    if !self.sep(b':') {
                        return None;
                    }
                    self.next();
                    self.value(depth - 1)?;
                    if self.sep(b',') {
                        continue;
                    }
                    return self.sep(b'}').then_some(());
                }
            }
            b'[' => {
                self.at += 1;
                if self.sep(b']') {
                    return Some(());
                }
                loop {
                    self.next();
                    self.value(depth - 1)?;
                    if self.sep(b',') {
                        continue;
                    }
                    return self.sep(b']').then_some(());
                }
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => None,
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let next = self.bytes.get(self.at..self.at + word.len())?;
        (next == word).then(|| self.at += word.len())
    }

    /// A number without an exponent: `-?(0|[1-9][0-9]*)(\.[0-9]+)?`.
    #[inline(always)]
    fn number(&mut self) -> Option<()> {
        self.eat(b'-');
        match self.peek() {
            b'0' => self.at += 1,
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        if self.eat(b'.') && self.digits() == 0 {
            return None;
        }
        (!matches!(self.peek(), b'e' | b'E')).then_some(())
    }
}

/// Where the string whose content starts at `start` in `bytes` ends (its closing quote), when
/// it holds neither an escape nor a control character; `None` otherwise (or when it does not
/// end). Read eight bytes at a time while eight remain (strings are short, and most end within
/// their first word), then byte by byte.
pub(crate) fn plain_string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut end = start;
    while let Some(word) = bytes.get(end..end + 8) {
        let stops = stops(u64::from_le_bytes(word.try_into().ok()?));
        if stops != 0 {
            // The first stop (the lowest byte: the word was read little-endian).
            end += (stops.trailing_zeros() / 8) as usize;
            return (bytes[end] == b'"').then_some(end);
        }
        end += 8;
    }
    loop {
        match *bytes.get(end)? {
            b'"' => return Some(end),
            b'\\' | 0..=0x1f => return None,
            _ => end += 1,
        }
    }
}

/// Whether JSON writes `bytes` inside a string as they are: they hold neither a quote, a
/// backslash nor a control character. Eight bytes at a time, as [`plain_string_end`].
pub(crate) fn is_plain(bytes: &[u8]) -> bool {
    let mut words = bytes.chunks_exact(8);
    // (A chunk of eight is eight bytes: the conversion does not fail.)
    let plain =
        |word: &[u8]| <[u8; 8]>::try_from(word).is_ok_and(|w| stops(u64::from_le_bytes(w)) == 0);
    words.by_ref().all(plain)
        && !words
            .remainder()
            .iter()
            .any(|b| matches!(b, b'"' | b'\\' | 0..=0x1f))
}

/// The bytes of `word` that end a string's plain run (a quote, a backslash, a control
/// character), each marked by its high bit. Only the lowest mark is exact: the borrow of a
/// marked byte may mark bytes above it, never one below.
fn stops(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let quote = word ^ (ONES * u64::from(b'"'));
    let backslash = word ^ (ONES * u64::from(b'\\'));
    // A byte is zero (`x - 1` borrows) or below 0x20 (`x - 0x20` borrows), and had its high
    // bit clear.
    let zero = |x: u64| x.wrapping_sub(ONES) & !x;
    (zero(quote) | zero(backslash) | (word.wrapping_sub(ONES * 0x20) & !word)) & HIGH
}

#[cfg(test)]
mod tests {
    use super::super::envelope::parse_with_serde;
    use super::*;

    /// A quote, a backslash or a control character at any place of a text of any length
    /// (within a word or after the last) makes it not plain; other bytes do not.
    #[test]
    fn a_text_is_plain_without_a_byte_json_escapes() {
        for len in 0..=19 {
            let text = vec![b'a'; len];
            assert!(is_plain(&text), "{len}");
            for at in 0..len {
                for stop in [b'"', b'\\', 0, 0x1f, b'\n'] {
                    let mut text = text.clone();
                    text[at] = stop;
                    assert!(!is_plain(&text), "{len} {at} {stop}");
                }
                for other in [b' ', 0x7f, 0x80, 0xff, b'/'] {
                    let mut text = text.clone();
                    text[at] = other;
                    assert!(is_plain(&text), "{len} {at} {other}");
                }
            }
        }
    }

    /// Each member of the params as located: name and value text.
    fn located(message: &Message) -> Option<Vec<(String, String)>> {
        let params = match message {
            Message::Request(r) => r.params.as_ref(),
            Message::Notification(n) => n.params.as_ref(),
            _ => None,
        }?;
        let (text, index) = params.indexed()?;
        Some(
            index
                .members(text)
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
                .collect(),
        )
    }

    /// Whether the hand-written reader took `text`; when it did, that it read what serde
    /// reads, the params' members located at the same places.
    fn agrees(text: &str) -> bool {
        let Some(fast) = parse(text.as_bytes()) else {
            return false;
        };
        match parse_with_serde(text.as_bytes()) {
            Ok(serde) => {
                assert_eq!(fast, serde, "{text}");
                assert_eq!(located(&fast), located(&serde), "{text}");
                assert_eq!(format!("{fast:?}"), format!("{serde:?}"), "{text}");
            }
            Err(e) => panic!("{text}: taken as {fast:?}, refused by serde: {e:?}"),
        }
        true
    }

    #[test]
    fn the_usual_shapes_are_read_as_serde_reads_them() {
        let taken = [
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"progress","arguments":{"steps":0,"delay_ms":0}}}"#,
            r#"{"method":"tools/call","params":{"name":"p","arguments":{}},"id":123456789012,"jsonrpc":"2.0"}"#,
            r#"{"params":{"_meta":{"progressToken":7},"name":"p"},"jsonrpc":"2.0","method":"tools/call","id":-5}"#,
            " \r\n\t{ \"jsonrpc\" : \"2.0\" ,\n \"id\" : \"a-string id\" , \"method\":\"ping\" }\n ",
            r#"{"jsonrpc":"2.0","id":"","method":""}"#,
            r#"{"jsonrpc":"2.0","id":"é☃𝄞","method":"tools/çall","params":{"ü":"ß","n":[]}}"#,
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"t","progress":1.5,"total":-0.25}}"#,
            r#"{"jsonrpc":"2.0","id":0,"method":"x","params":{}}"#,
            r#"{"jsonrpc":"2.0","id":999999999999999999,"method":"x","params":{ }}"#,
            r#"{"jsonrpc":"2.0","id":-999999999999999999,"method":"x"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"x","params":{"a":[1,[2,[3,{"b":[true,false,null]}]]],"c":{"d":{"e":"f"}},"g":-0,"h":0.5,"i":-10.125}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"x","params":{"a":1,"a":2,"b":{"c":1,"c":2}}}"#,
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"params\":{ \"a\" :\t[ 1 , 2 ] ,\n\"b\" : { } , \"c\" : [ ] }}",
        ];
        for text in taken {
            assert!(agrees(text), "not taken: {text}");
        }
    }

    #[test]
    fn anything_else_is_left_to_serde() {
        let left = [
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a\"b"}}"#,
            r#"{"jsonrpc":"2.0","id":"\u0041","method":"ping"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"p\u0069ng"}"#,
            r#"{"jsonrpc":"2.0","id":1,"meth\u006fd":"ping"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"ping","extra":1}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"a","method":"b"}"#,
            r#"{"jsonrpc":"2.0","id":1,"id":2,"method":"a"}"#,
            r#"{"jsonrpc":"2.0","jsonrpc":"2.0","id":1,"method":"a"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"a","params":{},"params":{}}"#,
            r#"{"jsonrpc":"1.0","id":1,"method":"a"}"#,
            r#"{"jsonrpc":2.0,"id":1,"method":"a"}"#,
            r#"{"id":1,"method":"a"}"#,
            r#"{"jsonrpc":"2.0","id":1}"#,
            r#"{"jsonrpc":"2.0","id":1,"result":{}}"#,
            r#"{"jsonrpc":"2.0","id":-0,"method":"a"}"#,
            r#"{"jsonrpc":"2.0","id":01,"method":"a"}"#,
            r#"{"jsonrpc":"2.0","id":1.0,"method":"a"}"#,
            r#"{"jsonrpc":"2.0","id":1e3,"method":"a"}"#,
            r#"{"jsonrpc":"2.0","id":1234567890123456789,"method":"a"}"#,
            r#"{"jsonrpc":"2.0","id":9223372036854775807,"method":"a"}"#,
            r#"{"jsonrpc":"2.0","id":-9223372036854775808,"method":"a"}"#,
            r#"{"jsonrpc":"2.0","id":null,"method":"a"}"#,
            r#"{"jsonrpc":"2.0","id":true,"method":"a"}"#,
            r#"{"jsonrpc":"2.0","id":[1],"method":"a"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":7}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"a","params":null}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"a","params":[1]}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"a","params":{"n":1e5}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"a","params":{"n":1.}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"a","params":{"n":01}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"a","params":{"n":-}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"a","params":{"n":+1}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"a","params":{"n":.5}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"a","params":{"n":tru}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"a","params":{"n":nulll}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"a","params":{"n":[1,]}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"a","params":{"n":1,}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"a","params":{"n":{"a"}}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"a","params":{"n":"tab	in"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"a","params":{"n":1}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"a",}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"a"} x"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"a"}{}"#,
            r#"{"jsonrpc":"2.0" "id":1,"method":"a"}"#,
            "\u{feff}{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\"}",
            "{\"jsonrpc\":\"2.0\",\u{a0}\"id\":1,\"method\":\"a\"}",
            r#"[{"jsonrpc":"2.0","id":1,"method":"a"}]"#,
            r#"{}"#,
            "",
        ];
        for text in left {
            assert!(parse(text.as_bytes()).is_none(), "taken: {text}");
        }
        let deep = format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"a","params":{{"n":{}1{}}}}}"#,
            "[".repeat(70),
            "]".repeat(70)
        );
        assert!(parse(deep.as_bytes()).is_none());
        let shallow = deep
            .replace(&"[".repeat(10), "")
            .replace(&"]".repeat(10), "");
        assert!(agrees(&shallow));
    }

    /// A byte that is not UTF-8 in any part that may hold other than ASCII (the method, a
    /// string id, the params' names and values) leaves the message to serde, which says what
    /// is wrong with it as it always did.
    #[test]
    fn bytes_that_are_not_utf8_are_left_to_serde() {
        let message =
            r#"{"jsonrpc":"2.0","id":"I","method":"M","params":{"N":"V","a":{"N":["V"]}}}"#;
        assert!(agrees(message));
        for (i, at) in message.match_indices(['I', 'M', 'N', 'V']) {
            for bad in [&[0xff][..], &[0xc3], &[0xe2, 0x98], &[0xed, 0xa0, 0x80]] {
                let bytes = [
                    &message.as_bytes()[..i],
                    bad,
                    &message.as_bytes()[i + at.len()..],
                ]
                .concat();
                assert!(std::str::from_utf8(&bytes).is_err());
                assert!(parse(&bytes).is_none(), "{bytes:?}");
                assert_eq!(
                    super::super::envelope::parse(&bytes),
                    parse_with_serde(&bytes)
                );
            }
        }
    }

    /// The word-at-a-time search finds the first quote, backslash or control character of
    /// any word: each byte value at each place after plain bytes, and words at random.
    #[test]
    fn the_first_stop_in_a_word_is_found() {
        let is_stop = |b: u8| b == b'"' || b == b'\\' || b < 0x20;
        let first = |bytes: [u8; 8]| bytes.iter().position(|&b| is_stop(b));
        let found = |bytes: [u8; 8]| {
            let marks = stops(u64::from_le_bytes(bytes));
            (marks != 0).then(|| (marks.trailing_zeros() / 8) as usize)
        };
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for at in 0..8 {
            for b in 0..=255u8 {
                let mut bytes = (next() | 0x8080_8080_8080_8080).to_le_bytes();
                bytes[..at].fill(b'a');
                bytes[at] = b;
                assert_eq!(found(bytes), first(bytes), "{bytes:?}");
            }
        }
        for _ in 0..200_000 {
            let bytes = next().to_le_bytes();
            assert_eq!(found(bytes), first(bytes), "{bytes:?}");
        }
    }

    /// Seeds changed at random (a fixed seed): whatever the reader takes, serde reads the
    /// same way.
    #[test]
    fn mutated_messages_are_read_as_serde_reads_them_or_left_to_it() {
        let seeds = [
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"progress","arguments":{"steps":0,"delay_ms":0}}}"#,
            r#"{"jsonrpc":"2.0","id":"s","method":"tools/call","params":{"name":"p","arguments":{"a":[1,-2.5,{"b":null}],"c":"é"},"_meta":{"progressToken":3}}}"#,
            r#" { "method" : "x" , "jsonrpc" : "2.0" , "params" : { "a" : [ true , false ] } } "#,
            r#"{"jsonrpc":"2.0","id":"a-rather-long-id-0123456789","method":"notifications/a-long-name","params":{"text":"longer text: spaces, é ü ☃, digits 0123456789abcdef"}}"#,
        ];
        let alphabet: &[u8] = b"{}[]:,\"\\ \t\n-+.0123456789eEtrufalsn\x01\xc3\xa9";
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let (mut taken, mut tried) = (0, 0);
        for seed in seeds {
            for _ in 0..4000 {
                let mut bytes = seed.as_bytes().to_vec();
                for _ in 0..1 + next() % 3 {
                    let at = (next() as usize) % (bytes.len() + 1);
                    let b = alphabet[(next() as usize) % alphabet.len()];
                    match next() % 3 {
                        0 if at < bytes.len() => bytes[at] = b,
                        1 if at < bytes.len() => {
                            bytes.remove(at);
                        }
                        _ => bytes.insert(at, b),
                    }
                }
                let Ok(text) = std::str::from_utf8(&bytes) else {
                    // Not UTF-8: never taken (serde says what is wrong with it).
                    assert!(parse(&bytes).is_none(), "{bytes:?}");
                    continue;
                };
                tried += 1;
                if agrees(text) {
                    taken += 1;
                } else if let Ok(m) = parse_with_serde(text.as_bytes()) {
                    // Left to serde, which reads it: through `Message::parse` too.
                    assert_eq!(super::super::envelope::parse(text.as_bytes()), Ok(m));
                }
            }
        }
        // Both kinds occur: the test exercises the reader, not only its refusals.
        assert!(taken > tried / 20 && taken < tried, "{taken} of {tried}");
    }
}
