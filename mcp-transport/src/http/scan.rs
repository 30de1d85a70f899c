//! [`Scanned`]: the request headers the service reads on every request, found in one pass
//! over the header map instead of one hash lookup each.

use http::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, HOST, ORIGIN};
use http::{HeaderMap, HeaderValue};

use super::guard::PROTOCOL_VERSION;
use super::respond::SESSION_ID;

/// One header of a request: its first value, and whether it was sent more than once.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Seen<'a> {
    first: Option<&'a HeaderValue>,
    repeated: bool,
}

impl<'a> Seen<'a> {
    fn add(&mut self, value: &'a HeaderValue) {
        match self.first {
            None => self.first = Some(value),
            Some(_) => self.repeated = true,
        }
    }

    /// The first value, as `HeaderMap::get` gives it.
    pub(crate) fn first(&self) -> Option<&'a HeaderValue> {
        self.first
    }

    /// Whether the header came more than once.
    pub(crate) fn repeated(&self) -> bool {
        self.repeated
    }
}

/// The headers routing and a POST read, each found in the one pass: what each reader would
/// find with `get` (the first value), and whether there were more.
#[derive(Debug, Default)]
pub(crate) struct Scanned<'a> {
    pub(crate) host: Seen<'a>,
    pub(crate) origin: Seen<'a>,
    pub(crate) accept: Seen<'a>,
    pub(crate) content_type: Seen<'a>,
    pub(crate) content_length: Seen<'a>,
    pub(crate) protocol_version: Seen<'a>,
    pub(crate) session_id: Seen<'a>,
}

impl<'a> Scanned<'a> {
    /// Reads `headers` once. Comparing names is cheap (a standard header is a small number,
    /// the two `Mcp-*` names short strings); hashing each name for a lookup is not.
    pub(crate) fn of(headers: &'a HeaderMap) -> Self {
        let mut scanned = Scanned::default();
        for (name, value) in headers {
            let seen = if name == HOST {
                &mut scanned.host
            } else if name == ACCEPT {
                &mut scanned.accept
            } else if name == CONTENT_TYPE {
                &mut scanned.content_type
            } else if name == CONTENT_LENGTH {
                &mut scanned.content_length
            } else if name == ORIGIN {
                &mut scanned.origin
            } else if name == SESSION_ID {
                &mut scanned.session_id
            } else if name == PROTOCOL_VERSION {
                &mut scanned.protocol_version
            } else {
                continue;
            };
            seen.add(value);
        }
        scanned
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::test_headers::headers;

    /// Each header is found as `get` finds it, and a repeated one is told apart.
    #[test]
    fn finds_what_get_finds() {
        let map = headers(&[
            ("host", "localhost:1"),
            ("accept", "application/json"),
            ("accept", "text/event-stream"),
            ("content-type", "application/json"),
            ("content-length", "12"),
            ("mcp-protocol-version", "2025-11-25"),
            ("mcp-session-id", "abc"),
            ("x-other", "1"),
        ]);
        let scanned = Scanned::of(&map);
        let pairs = [
            (&scanned.host, HOST),
            (&scanned.origin, ORIGIN),
            (&scanned.accept, ACCEPT),
            (&scanned.content_type, CONTENT_TYPE),
            (&scanned.content_length, CONTENT_LENGTH),
            (&scanned.protocol_version, PROTOCOL_VERSION),
            (&scanned.session_id, SESSION_ID),
        ];
        for (seen, name) in pairs {
            assert_eq!(seen.first(), map.get(&name), "{name}");
            assert_eq!(
                seen.repeated(),
                map.get_all(&name).iter().count() > 1,
                "{name}"
            );
        }
        assert!(scanned.accept.repeated());
        assert!(scanned.origin.first().is_none());
    }
}
