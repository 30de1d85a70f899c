//! [`Index`]: where each member of an object held as JSON text is, found in one pass over the
//! text, so that reading a member after that reads only the member's own text.
//!
//! A request's params are read by several parties before its handler decodes them (the
//! transport's era and header checks, routing, the input round of a stateless request): each
//! of them once skipped over every other member, the arguments included. With the index, the
//! text is passed over once, and each reader parses just the member it wants. A message's
//! params get their index as the message is read (the envelope records each member's place
//! as it skips it, see `envelope.rs`); any other payload held as text makes its own on its
//! first read of a member.

use std::fmt;
use std::ops::Range;

use serde::Deserializer;
use serde::de::{MapAccess, Visitor};
use serde_json::value::RawValue;

/// Where one member's name and value are in the text (byte offsets).
#[derive(Debug, Clone, Copy, Default)]
struct Span {
    name: (u32, u32),
    value: (u32, u32),
}

/// How many members an index holds without an allocation of its own: as many as the params
/// of a usual request have (`name`, `arguments`, and `_meta` or `task`).
const INLINE: usize = 3;

/// The members of one JSON object's text, in order (a repeated member appears each time).
#[derive(Debug, Clone)]
pub(crate) struct Index(Spans);

/// Held in the payload itself (which moves with every message), so kept small: a few
/// members of a text shorter than 64 KiB take 16-bit offsets, inline.
#[derive(Debug, Clone)]
enum Spans {
    Inline(u8, [[u16; 4]; INLINE]),
    Heap(Box<[Span]>),
}

impl Index {
    /// Locates the members of the object `text`. `None` when a member's name holds an escape
    /// (its text is not its name) or the text is too long for the offsets: such an object is
    /// read whole, as without an index.
    pub(super) fn of(text: &str) -> Option<Index> {
        u32::try_from(text.len()).ok()?;
        let mut builder = Builder::at(0);
        for (name, value) in entries(text)? {
            builder.push(offsets(text, name)?, offsets(text, value.get())?);
        }
        Some(builder.finish())
    }

    fn len(&self) -> usize {
        match &self.0 {
            Spans::Inline(len, _) => usize::from(*len),
            Spans::Heap(spans) => spans.len(),
        }
    }

    /// Member `i`'s span (`i` below [`len`](Self::len)).
    fn span(&self, i: usize) -> Span {
        match &self.0 {
            Spans::Inline(_, spans) => {
                let [a, b, c, d] = spans[i].map(u32::from);
                Span {
                    name: (a, b),
                    value: (c, d),
                }
            }
            Spans::Heap(spans) => spans[i],
        }
    }

    /// The text of member `name` in `text` (the object this index was made of): its last
    /// occurrence, as a JSON object keeps the last value of a repeated member.
    pub(super) fn get<'t>(&self, text: &'t str, name: &str) -> Option<&'t str> {
        (0..self.len())
            .rev()
            .map(|i| self.span(i))
            .find(|s| text.get(range(s.name)) == Some(name))
            .and_then(|s| text.get(range(s.value)))
    }

    /// Where each member's name and value are in the text this index was made of (byte
    /// ranges), in order.
    pub(crate) fn spans(&self) -> impl Iterator<Item = (Range<usize>, Range<usize>)> + '_ {
        (0..self.len()).map(|i| {
            let s = self.span(i);
            (range(s.name), range(s.value))
        })
    }

    /// Each member's name and value text in `text` (the object this index was made of), in
    /// order.
    #[cfg(test)]
    pub(crate) fn members<'t>(&self, text: &'t str) -> impl Iterator<Item = (&'t str, &'t str)> {
        (0..self.len()).filter_map(move |i| {
            let s = self.span(i);
            Some((text.get(range(s.name))?, text.get(range(s.value))?))
        })
    }
}

/// The offsets of `part`, a piece of `text`, in it; `None` when it is not a piece of it (or
/// lies past what the offsets hold).
pub(super) fn offsets(text: &str, part: &str) -> Option<(u32, u32)> {
    let start = (part.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
    let end = start.checked_add(part.len())?;
    if end > text.len() {
        return None;
    }
    Some((u32::try_from(start).ok()?, u32::try_from(end).ok()?))
}

/// Collects an [`Index`] member by member, without an allocation for a few members: each
/// member's offsets are taken relative to the object's start (`base`) as they are pushed, and
/// kept as 16-bit offsets while they fit and there are few, so that finishing moves nothing.
pub(super) struct Builder {
    base: u32,
    len: usize,
    inline: [[u16; 4]; INLINE],
    /// Every member, once there are more than [`INLINE`] or one does not fit 16 bits.
    heap: Vec<Span>,
}

impl Builder {
    /// A builder for the members of an object that starts at offset `base` of the text the
    /// members' offsets are given in.
    pub(super) fn at(base: u32) -> Self {
        Builder {
            base,
            len: 0,
            inline: [[0; 4]; INLINE],
            heap: Vec::new(),
        }
    }

    /// Adds a member whose name and value are at these offsets (at or past `base`).
    #[inline(always)]
    pub(super) fn push(&mut self, name: (u32, u32), value: (u32, u32)) {
        let by = self.base;
        let span = Span {
            name: (name.0 - by, name.1 - by),
            value: (value.0 - by, value.1 - by),
        };
        // The end of the value is the largest offset.
        if self.heap.is_empty() && self.len < INLINE && span.value.1 <= u32::from(u16::MAX) {
            // Each offset is at most the value's end: they fit.
            self.inline[self.len] =
                [span.name.0, span.name.1, span.value.0, span.value.1].map(|offset| offset as u16);
        } else {
            if self.heap.is_empty() {
                self.heap.extend(self.inline[..self.len].iter().map(|s| {
                    let [a, b, c, d] = s.map(u32::from);
                    Span {
                        name: (a, b),
                        value: (c, d),
                    }
                }));
            }
            self.heap.push(span);
        }
        self.len += 1;
    }

    /// The index.
    pub(super) fn finish(self) -> Index {
        if self.heap.is_empty() {
            // At most INLINE members: the length fits.
            Index(Spans::Inline(self.len as u8, self.inline))
        } else {
            Index(Spans::Heap(self.heap.into_boxed_slice()))
        }
    }
}

fn range((start, end): (u32, u32)) -> Range<usize> {
    start as usize..end as usize
}

/// The members of the JSON object `text`, in order, each name and value borrowed from it;
/// `None` when the text is not an object or a name holds an escape (its text is not its
/// name).
pub(crate) fn entries(text: &str) -> Option<Vec<(&str, &RawValue)>> {
    let mut d = serde_json::Deserializer::from_str(text);
    (&mut d).deserialize_map(Entries).ok()
}

/// Reads an object's members as borrowed names and raw values.
struct Entries;

impl<'de> Visitor<'de> for Entries {
    type Value = Vec<(&'de str, &'de RawValue)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries = Vec::with_capacity(4);
        // A name with an escape cannot be borrowed: the read fails.
        while let Some(name) = map.next_key::<&'de str>()? {
            entries.push((name, map.next_value::<&'de RawValue>()?));
        }
        Ok(entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_found_where_they_are() {
        let text = r#" { "a" : [1, {"b": "}"}] ,"c":"d", "a":null , "e":{} } "#.trim();
        let index = Index::of(text).unwrap();
        assert_eq!(
            index.get(text, "a"),
            Some("null"),
            "the last of a repeated member"
        );
        assert_eq!(index.get(text, "c"), Some(r#""d""#));
        assert_eq!(index.get(text, "e"), Some("{}"));
        assert_eq!(index.get(text, "b"), None, "only the object's own members");
        let empty = Index::of("{}").unwrap();
        assert_eq!(empty.get("{}", "a"), None);
    }

    #[test]
    fn a_name_with_an_escape_leaves_no_index() {
        assert!(Index::of(r#"{"na\u006de":1}"#).is_none());
        assert!(Index::of("[1]").is_none());
    }
}
