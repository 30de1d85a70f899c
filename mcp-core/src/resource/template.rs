//! [`UriTemplate`]: the URI templates of `#[resource]` (RFC 6570 simple and reserved
//! expansion, `{var}` and `{+var}`), matched against the URIs clients read.

use std::fmt;
use std::sync::OnceLock;

use regex::Regex;

/// One part of a [`UriTemplate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplatePart {
    /// Text that the URI holds as it is.
    Literal(&'static str),
    /// `{name}`: one or more characters other than `/`, `?` and `#`, percent-decoded.
    Simple(&'static str),
    /// `{+name}`: one or more characters of any kind (slashes included), percent-decoded.
    Reserved(&'static str),
}

/// A URI template such as `file:///{+path}` or `users://{id}/profile`, matched against URIs.
///
/// `#[resource]` checks the template's syntax at compile time and builds it from its parts;
/// a hand-written provider can do the same.
///
/// ```
/// use mcp_core::resource::{TemplatePart, UriTemplate};
///
/// static USER: UriTemplate = UriTemplate::new(
///     "users://{id}/profile",
///     &[
///         TemplatePart::Literal("users://"),
///         TemplatePart::Simple("id"),
///         TemplatePart::Literal("/profile"),
///     ],
/// );
/// assert_eq!(USER.matches("users://ann%20b/profile"), Some(vec![("id", "ann b".to_owned())]));
/// assert_eq!(USER.matches("users://a/b/profile"), None);
/// ```
pub struct UriTemplate {
    text: &'static str,
    parts: &'static [TemplatePart],
    regex: OnceLock<Option<Regex>>,
}

impl fmt::Debug for UriTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UriTemplate").field(&self.text).finish()
    }
}

impl UriTemplate {
    /// The template `text`, made of `parts` (which must spell `text`).
    pub const fn new(text: &'static str, parts: &'static [TemplatePart]) -> Self {
        UriTemplate {
            text,
            parts,
            regex: OnceLock::new(),
        }
    }

    /// The template as written.
    pub fn as_str(&self) -> &'static str {
        self.text
    }

    /// The names of its variables, in order.
    pub fn variables(&self) -> impl Iterator<Item = &'static str> {
        self.parts.iter().filter_map(|p| match p {
            TemplatePart::Literal(_) => None,
            TemplatePart::Simple(name) | TemplatePart::Reserved(name) => Some(*name),
        })
    }

    /// The variables' values when `uri` matches the template, each percent-decoded; `None`
    /// when it does not match (or a value does not decode to UTF-8).
    pub fn matches(&self, uri: &str) -> Option<Vec<(&'static str, String)>> {
        let regex = self.regex.get_or_init(|| Regex::new(&self.pattern()).ok());
        let captures = regex.as_ref()?.captures(uri)?;
        self.variables()
            .zip(captures.iter().skip(1))
            .map(|(name, value)| Some((name, percent_decode(value?.as_str())?)))
            .collect()
    }

    fn pattern(&self) -> String {
        let mut pattern = String::from("^");
        for part in self.parts {
            match part {
                TemplatePart::Literal(text) => pattern.push_str(&regex::escape(text)),
                TemplatePart::Simple(_) => pattern.push_str("([^/?#]+)"),
                TemplatePart::Reserved(_) => pattern.push_str("(.+)"),
            }
        }
        pattern.push('$');
        pattern
    }
}

/// Decodes `%XX` escapes; `None` when one is malformed or the result is not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    if !text.contains('%') {
        return Some(text.to_owned());
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    static FILE: UriTemplate = UriTemplate::new(
        "file:///{+path}",
        &[
            TemplatePart::Literal("file:///"),
            TemplatePart::Reserved("path"),
        ],
    );

    static DATA: UriTemplate = UriTemplate::new(
        "test://template/{id}/data",
        &[
            TemplatePart::Literal("test://template/"),
            TemplatePart::Simple("id"),
            TemplatePart::Literal("/data"),
        ],
    );

    #[test]
    fn simple_variables_stop_at_slashes() {
        assert_eq!(
            DATA.matches("test://template/123/data"),
            Some(vec![("id", "123".into())])
        );
        assert_eq!(DATA.matches("test://template/1/2/data"), None);
        assert_eq!(DATA.matches("test://template//data"), None);
        assert_eq!(DATA.matches("test://template/123/data/more"), None);
        assert_eq!(DATA.matches("xtest://template/123/data"), None);
    }

    #[test]
    fn reserved_variables_take_slashes() {
        assert_eq!(
            FILE.matches("file:///home/ann/notes.txt"),
            Some(vec![("path", "home/ann/notes.txt".into())])
        );
        assert_eq!(FILE.variables().collect::<Vec<_>>(), ["path"]);
    }

    #[test]
    fn values_are_percent_decoded() {
        assert_eq!(
            DATA.matches("test://template/a%20b%C3%A9/data"),
            Some(vec![("id", "a bé".into())])
        );
        assert_eq!(DATA.matches("test://template/a%2/data"), None);
        assert_eq!(DATA.matches("test://template/%FF/data"), None);
    }

    #[test]
    fn literals_are_not_patterns() {
        static DOTS: UriTemplate = UriTemplate::new(
            "a.b://{x}",
            &[TemplatePart::Literal("a.b://"), TemplatePart::Simple("x")],
        );
        assert!(DOTS.matches("a.b://1").is_some());
        assert!(DOTS.matches("aXb://1").is_none());
    }
}
