//! Macro expansion of a command line: `` `local' ``, `$global`, `${global}`, the escapes `\$` and
//! `` \` ``, and compound quotes `` `"..."' `` left alone.

/// A macro reference found while expanding.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum MacroRef<'a> {
    /// `` `name' `` (also `` `c(pwd)' `` and numbered arguments).
    Local(&'a str),
    /// `$name` or `${name}`.
    Global(&'a str),
}

/// Expands every macro in `text`; unknown macros expand to nothing, as in Stata.
pub(crate) fn expand(text: &str, lookup: &dyn Fn(MacroRef<'_>) -> String) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            '\\' if matches!(next, Some('$') | Some('`')) => {
                out.push(next.unwrap_or('\\'));
                i += 2;
            }
            '`' if next == Some('"') => {
                out.push_str("`\"");
                i += 2;
            }
            '`' => match matching_quote(&chars, i) {
                Some(end) => {
                    let inner: String = chars[i + 1..end].iter().collect();
                    let name = expand(&inner, lookup);
                    out.push_str(&lookup(MacroRef::Local(name.trim())));
                    i = end + 1;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            },
            '$' if next == Some('{') => match chars[i + 2..].iter().position(|&c| c == '}') {
                Some(len) => {
                    let name: String = chars[i + 2..i + 2 + len].iter().collect();
                    out.push_str(&lookup(MacroRef::Global(&name)));
                    i += len + 3;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            },
            '$' if next.is_some_and(|n| n.is_ascii_alphabetic() || n == '_') => {
                let len = chars[i + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                    .count();
                let name: String = chars[i + 1..i + 1 + len].iter().collect();
                out.push_str(&lookup(MacroRef::Global(&name)));
                i += len + 1;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// The index of the `'` closing the macro opened by the backquote at `open`.
fn matching_quote(chars: &[char], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    while i < chars.len() {
        match chars[i] {
            '`' if chars.get(i + 1) != Some(&'"') => depth += 1,
            '\'' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(r: MacroRef<'_>) -> String {
        match r {
            MacroRef::Local("i") => "3".into(),
            MacroRef::Local("name3") => "deep".into(),
            MacroRef::Local(other) => format!("<L:{other}>"),
            MacroRef::Global("g") => "G".into(),
            MacroRef::Global(_) => String::new(),
        }
    }

    #[test]
    fn locals_globals_escapes_and_compound_quotes() {
        assert_eq!(expand("display `i'", &lookup), "display 3");
        assert_eq!(expand("di `name`i''", &lookup), "di deep");
        assert_eq!(expand("di $g ${g}x $nope.", &lookup), "di G Gx .");
        assert_eq!(
            expand(r#"cd `"/a \$x \`b'"'"#, &lookup),
            "cd `\"/a $x `b'\"'"
        );
        assert_eq!(expand("di `c(pwd)'", &lookup), "di <L:c(pwd)>");
        assert_eq!(expand("di \"it's\" $5", &lookup), "di \"it's\" $5");
    }
}
