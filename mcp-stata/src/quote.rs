//! Writing paths and arguments into a do-file so that Stata reads them back unchanged.
//!
//! Stata expands macros in every line before running it: `` `name' `` and `$name` would be
//! replaced, so those characters are escaped (`` \` ``, `\$`). A value with a double quote is
//! wrapped in compound quotes `` `"..."' ``, which may hold `"`; one holding the sequence `"'`
//! (which would close them) or a line break cannot be written and is refused. Windows paths are
//! written with forward slashes, which Stata accepts and which cannot act as escapes.

use std::path::Path;

/// The path style of the machine Stata runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathStyle {
    /// `/`-separated; a backslash is an ordinary character.
    Unix,
    /// `\`-separated; written with `/` instead.
    Windows,
}

impl PathStyle {
    /// The style of this machine.
    pub fn current() -> PathStyle {
        if cfg!(windows) {
            PathStyle::Windows
        } else {
            PathStyle::Unix
        }
    }
}

/// A value that cannot be written into a do-file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QuoteError {
    /// A line break, NUL, or the compound-quote end `"'` inside the value.
    #[error("{value:?} cannot be written in a Stata do-file: it contains {what}")]
    Unquotable {
        /// The value.
        value: String,
        /// What makes it impossible.
        what: &'static str,
    },
    /// A path that is not valid UTF-8.
    #[error("the path {0:?} is not valid UTF-8")]
    NotUtf8(std::path::PathBuf),
}

/// `value` as a Stata string literal: `"..."`, or `` `"..."' `` when it holds `"`.
pub fn quote(value: &str) -> Result<String, QuoteError> {
    let refuse = |what| {
        Err(QuoteError::Unquotable {
            value: value.to_owned(),
            what,
        })
    };
    if value.contains(['\n', '\r']) {
        return refuse("a line break");
    }
    if value.contains('\0') {
        return refuse("a NUL character");
    }
    if value.contains("\"'") {
        return refuse("the sequence \"' that ends Stata's compound quotes");
    }
    let mut escaped = String::with_capacity(value.len() + 4);
    for c in value.chars() {
        if c == '$' || c == '`' {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    if value.contains('"') {
        Ok(format!("`\"{escaped}\"'"))
    } else {
        Ok(format!("\"{escaped}\""))
    }
}

/// `path` as a Stata string literal, in `style`.
pub fn quote_path(path: &Path, style: PathStyle) -> Result<String, QuoteError> {
    let text = path
        .to_str()
        .ok_or_else(|| QuoteError::NotUtf8(path.to_path_buf()))?;
    match style {
        PathStyle::Unix => quote(text),
        PathStyle::Windows => quote(&text.replace('\\', "/")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_spaces() {
        assert_eq!(quote("/tmp/a b/c.do").unwrap(), "\"/tmp/a b/c.do\"");
    }

    #[test]
    fn quotes_and_macro_characters() {
        assert_eq!(
            quote("/tmp/say \"hi\"/x.do").unwrap(),
            "`\"/tmp/say \"hi\"/x.do\"'"
        );
        assert_eq!(
            quote("/tmp/$HOME/`x'.do").unwrap(),
            "\"/tmp/\\$HOME/\\`x'.do\""
        );
        assert_eq!(quote("it's").unwrap(), "\"it's\"");
    }

    #[test]
    fn refused_values() {
        assert!(matches!(quote("a\nb"), Err(QuoteError::Unquotable { .. })));
        assert!(matches!(quote("a\"'b"), Err(QuoteError::Unquotable { .. })));
    }

    #[test]
    fn windows_paths_use_forward_slashes() {
        let path = Path::new(r"C:\Users\Ann Lee\My Do-files\run.do");
        assert_eq!(
            quote_path(path, PathStyle::Windows).unwrap(),
            "\"C:/Users/Ann Lee/My Do-files/run.do\""
        );
        assert_eq!(
            quote_path(Path::new(r"C:\data\$tmp"), PathStyle::Windows).unwrap(),
            "\"C:/data/\\$tmp\""
        );
    }
}
