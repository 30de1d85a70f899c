//! [`Index`]: where each member of an object held as JSON text is, found in one pass over the
//! text, so that reading a member after that reads only the member's own text.
//!
//! A request's params are read by several parties before its handler decodes them (the
//! transport's era and header checks, routing, the input round of a stateless request): each
//! of them once skipped over every other member, the arguments included. With the index, the
//! text is passed over once, and each reader parses just the member it wants.

use std::fmt;
use std::ops::Range;

use serde::Deserializer;
use serde::de::{MapAccess, Visitor};
use serde_json::value::RawValue;

/// Where one member's name and value are in the text (byte offsets).
#[derive(Debug, Clone, Copy)]
struct Span {
    name: (u32, u32),
    value: (u32, u32),
}

/// The members of one JSON object's text, in order (a repeated member appears each time).
#[derive(Debug, Clone)]
pub(super) struct Index(Box<[Span]>);

impl Index {
    /// Locates the members of the object `text`. `None` when a member's name holds an escape
    /// (its text is not its name) or the text is too long for the offsets: such an object is
    /// read whole, as without an index.
    pub(super) fn of(text: &str) -> Option<Index> {
        u32::try_from(text.len()).ok()?;
        // Each part borrows from the text: its offset is its distance from the text's start.
        // The text's length fits `u32`: so does every offset in it.
        let at = |part: &str| {
            let start = part.as_ptr() as usize - text.as_ptr() as usize;
            (start as u32, (start + part.len()) as u32)
        };
        let spans = entries(text)?
            .into_iter()
            .map(|(name, value)| Span {
                name: at(name),
                value: at(value.get()),
            })
            .collect();
        Some(Index(spans))
    }

    /// The text of member `name` in `text` (the object this index was made of): its last
    /// occurrence, as a JSON object keeps the last value of a repeated member.
    pub(super) fn get<'t>(&self, text: &'t str, name: &str) -> Option<&'t str> {
        self.0
            .iter()
            .rev()
            .find(|s| &text[range(s.name)] == name)
            .map(|s| &text[range(s.value)])
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
