//! A small do-file reader: how many commands a do-file holds, so progress has a real `total`.
//!
//! It knows Stata's comments (`*` at the start of a command, `//` and `///` after a space or at
//! the start of a line, `/* */` spanning lines and nesting), `///` line continuation, `#delimit ;`
//! (commands end at `;`) and `#delimit cr`, simple and compound (`` `"..."' ``) quotes. Blank and
//! comment-only lines, and the `}` closing a block, are not commands; everything else is one.

/// The UTF-8 byte-order mark.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Removes a UTF-8 byte-order mark from the start of `bytes`, if there is one.
pub fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(BOM).unwrap_or(bytes)
}

/// One command of a do-file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    /// The 1-based line where it starts.
    pub line: usize,
    /// Its text without comments, continuation lines joined.
    pub code: String,
}

/// The commands of a do-file's text, in order.
pub fn commands(src: &str) -> Vec<Command> {
    let mut reader = Reader::default();
    for (n, line) in src.lines().enumerate() {
        reader.line(n + 1, line.strip_suffix('\r').unwrap_or(line));
    }
    reader.finish();
    reader.commands
}

/// How many commands a do-file's text holds.
pub fn count_commands(src: &str) -> usize {
    commands(src).len()
}

#[derive(Default)]
struct Reader {
    commands: Vec<Command>,
    semicolon: bool,
    /// Code of the command being read, and the line it started on.
    code: String,
    start: usize,
    /// Depth of `/* */` comments open across lines.
    comment: usize,
    /// The command being read is a `*` comment.
    star: bool,
}

impl Reader {
    fn fresh(&self) -> bool {
        self.code.trim().is_empty() && self.comment == 0 && !self.star
    }

    fn end(&mut self) {
        let code = std::mem::take(&mut self.code).trim().to_owned();
        self.star = false;
        if !code.is_empty() && code != "}" {
            self.commands.push(Command {
                line: self.start,
                code,
            });
        }
        self.start = 0;
    }

    fn line(&mut self, number: usize, line: &str) {
        let trimmed = line.trim_start();
        if self.fresh() && trimmed.starts_with("#d") && is_delimit(trimmed) {
            self.start = number;
            self.code = trimmed.to_owned();
            self.semicolon = delimit_arg(trimmed).starts_with(';');
            self.end();
            return;
        }
        let bytes: Vec<char> = line.chars().collect();
        let mut i = 0;
        let mut quote: Option<usize> = None; // None, or Some(compound depth); 0 = simple string
        let mut continued = false;
        while i < bytes.len() {
            let c = bytes[i];
            let next = bytes.get(i + 1).copied();
            if self.start == 0 && !c.is_whitespace() {
                self.start = number;
            }
            if self.comment > 0 {
                if c == '*' && next == Some('/') {
                    self.comment -= 1;
                    i += 2;
                } else if c == '/' && next == Some('*') {
                    self.comment += 1;
                    i += 2;
                } else {
                    i += 1;
                }
                continue;
            }
            if let Some(depth) = quote {
                if !self.star {
                    self.code.push(c);
                }
                if depth == 0 && c == '"' {
                    quote = None;
                } else if depth > 0 && c == '"' && next == Some('\'') {
                    self.code.push('\'');
                    quote = if depth == 1 { None } else { Some(depth - 1) };
                    i += 1;
                } else if depth > 0 && c == '`' && next == Some('"') {
                    self.code.push('"');
                    quote = Some(depth + 1);
                    i += 1;
                }
                i += 1;
                continue;
            }
            let boundary = i == 0 || bytes[i - 1].is_whitespace();
            if boundary && c == '/' && next == Some('/') {
                continued = bytes.get(i + 2) == Some(&'/');
                break;
            }
            if c == '/' && next == Some('*') {
                self.comment += 1;
                i += 2;
                continue;
            }
            if self.semicolon && c == ';' {
                self.end();
                i += 1;
                continue;
            }
            if c == '*' && self.code.trim().is_empty() {
                self.star = true;
            }
            if !self.star {
                self.code.push(c);
                if c == '"' {
                    quote = Some(0);
                } else if c == '`' && next == Some('"') {
                    self.code.push('"');
                    quote = Some(1);
                    i += 1;
                }
            }
            i += 1;
        }
        if self.semicolon || continued || self.comment > 0 {
            self.code.push(' ');
        } else {
            self.end();
        }
    }

    fn finish(&mut self) {
        self.end();
    }
}

fn is_delimit(trimmed: &str) -> bool {
    let rest = trimmed
        .strip_prefix("#delimit")
        .or_else(|| trimmed.strip_prefix("#delimi"))
        .or_else(|| trimmed.strip_prefix("#delim"))
        .or_else(|| trimmed.strip_prefix("#deli"))
        .or_else(|| trimmed.strip_prefix("#del"))
        .or_else(|| trimmed.strip_prefix("#de"))
        .or_else(|| trimmed.strip_prefix("#d"));
    rest.is_some_and(|r| r.is_empty() || r.starts_with([' ', '\t', ';']))
}

fn delimit_arg(trimmed: &str) -> &str {
    let after = trimmed.trim_start_matches(|c: char| c == '#' || c.is_ascii_alphabetic());
    after.trim()
}

/// Whether the text of one echoed command (its lines joined with `\n`) holds a command, as
/// opposed to a blank line, a comment or a closing `}`.
pub fn is_command(echo: &str) -> bool {
    !commands(echo).is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(src: &str) -> Vec<String> {
        commands(src).into_iter().map(|c| c.code).collect()
    }

    #[test]
    fn comments_are_not_commands() {
        let src = "* a note\n\n// another\ndisplay 1 // trailing\n/* block\n   still */ display 2\n  * indented note\ndisplay 3 /* inline */ + 1\n";
        assert_eq!(codes(src), ["display 1", "display 2", "display 3  + 1"]);
        assert_eq!(commands(src)[1].line, 5);
    }

    #[test]
    fn comment_markers_inside_strings_and_without_space() {
        let src = "display \"http://x.org // no\"\ndisplay 6*7\ndisplay \"a\"//b\n";
        assert_eq!(
            codes(src),
            [
                "display \"http://x.org // no\"",
                "display 6*7",
                "display \"a\"//b"
            ]
        );
        let compound = "display `\"say \"hi\" // still a string\"'\n";
        assert_eq!(count_commands(compound), 1);
        assert_eq!(
            codes(compound)[0],
            "display `\"say \"hi\" // still a string\"'"
        );
    }

    #[test]
    fn continuation_joins_lines() {
        let src =
            "regress y x1 ///\n   x2 /// more\n   x3\ndisplay 1\n* comment ///\n  continues\n";
        let cmds = commands(src);
        assert_eq!(cmds.len(), 2);
        assert_eq!(cmds[0].code, "regress y x1     x2     x3");
        assert_eq!(cmds[1].line, 4);
    }

    #[test]
    fn nested_block_comments() {
        let src = "/* outer /* inner */ still outer */ display 1\n/*\n*/\n";
        assert_eq!(codes(src), ["display 1"]);
    }

    #[test]
    fn delimit_semicolon_and_back() {
        let src = "#delimit ;\ndisplay 1\n   + 1;\ndi 2; di 3;\n* star\n  comment;\n#delimit cr\ndi 4\n#d;\ndi 5;\n";
        assert_eq!(
            codes(src),
            [
                "#delimit ;",
                "display 1    + 1",
                "di 2",
                "di 3",
                "#delimit cr",
                "di 4",
                "#d;",
                "di 5"
            ]
        );
    }

    #[test]
    fn blocks_count_their_lines_but_not_the_closing_brace() {
        let src = "forvalues i = 1/3 {\n    display `i'\n}\n";
        assert_eq!(count_commands(src), 2);
    }

    #[test]
    fn bom_and_crlf() {
        let bytes = b"\xEF\xBB\xBFdisplay 1\r\ndisplay 2\r\n";
        let text = std::str::from_utf8(strip_bom(bytes)).unwrap();
        assert_eq!(codes(text), ["display 1", "display 2"]);
        assert_eq!(strip_bom(b"abc"), b"abc");
    }

    #[test]
    fn echoes_classified() {
        assert!(is_command("display 1"));
        assert!(is_command("display 1 ///\n> 2"));
        assert!(!is_command(""));
        assert!(!is_command("* note"));
        assert!(!is_command("}"));
        assert!(!is_command("/* start of a comment"));
        assert!(is_command("/* comment\n*/ display 2"));
    }
}
