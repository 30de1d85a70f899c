//! Reading a do-file into statements: comments (`*`, `//`, `/* */`), `///` continuation,
//! `#delimit ;` and back, quotes (simple and compound).

/// One statement of a do-file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Statement {
    /// The text as written (comments included), one entry per physical line: what the echo shows.
    pub(crate) echo: Vec<String>,
    /// What runs: comments removed, continuation lines joined. Empty for blank and comment lines.
    pub(crate) code: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Delimit {
    Cr,
    Semicolon,
}

/// Splits a do-file's text into statements.
pub(crate) fn split(src: &str) -> Vec<Statement> {
    let mut scanner = Scanner::default();
    let lines: Vec<&str> = src.lines().collect();
    for line in lines {
        scanner.line(line.strip_suffix('\r').unwrap_or(line));
    }
    scanner.finish()
}

#[derive(Default)]
struct Scanner {
    out: Vec<Statement>,
    semicolon: bool,
    echo: String,
    code: String,
    comment_depth: usize,
    star_comment: bool,
}

impl Scanner {
    fn delimit(&self) -> Delimit {
        if self.semicolon {
            Delimit::Semicolon
        } else {
            Delimit::Cr
        }
    }

    fn at_statement_start(&self) -> bool {
        self.code.trim().is_empty() && self.comment_depth == 0 && !self.star_comment
    }

    fn end_statement(&mut self) {
        let echo_text = std::mem::take(&mut self.echo);
        let echo_text = if self.semicolon {
            echo_text.trim_start()
        } else {
            echo_text.trim_start_matches('\n')
        };
        let echo = echo_text.split('\n').map(str::to_owned).collect();
        let code = std::mem::take(&mut self.code).trim().to_owned();
        self.star_comment = false;
        self.out.push(Statement { echo, code });
    }

    fn line(&mut self, line: &str) {
        let trimmed = line.trim_start();
        if self.at_statement_start() && self.echo.trim().is_empty() && is_delimit(trimmed) {
            self.echo.clear();
            self.echo.push_str(trimmed);
            self.code = trimmed.to_owned();
            let arg = trimmed.split_whitespace().nth(1).unwrap_or("");
            let arg = trimmed
                .strip_prefix("#delimit")
                .or_else(|| trimmed.strip_prefix("#d"))
                .map(str::trim)
                .unwrap_or(arg);
            self.semicolon = arg.starts_with(';');
            self.end_statement();
            return;
        }
        if !self.echo.is_empty() || self.delimit() == Delimit::Semicolon {
            self.echo.push('\n');
        }
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        let mut continued = false;
        let mut in_string = false;
        let mut compound = 0usize;
        while i < chars.len() {
            let c = chars[i];
            let next = chars.get(i + 1).copied();
            let after_space = i == 0 || chars[i - 1].is_whitespace();
            if self.comment_depth > 0 {
                self.echo.push(c);
                if c == '*' && next == Some('/') {
                    self.comment_depth -= 1;
                    self.echo.push('/');
                    i += 2;
                } else if c == '/' && next == Some('*') {
                    self.comment_depth += 1;
                    self.echo.push('*');
                    i += 2;
                } else {
                    i += 1;
                }
                continue;
            }
            if in_string || compound > 0 {
                self.echo.push(c);
                self.code.push(c);
                if compound > 0 && c == '"' && next == Some('\'') {
                    compound -= 1;
                    self.echo.push('\'');
                    self.code.push('\'');
                    i += 2;
                    continue;
                }
                if compound > 0 && c == '`' && next == Some('"') {
                    compound += 1;
                    self.echo.push('"');
                    self.code.push('"');
                    i += 2;
                    continue;
                }
                if compound == 0 && c == '"' {
                    in_string = false;
                }
                i += 1;
                continue;
            }
            let rest: String = chars[i..].iter().collect();
            if after_space && rest.starts_with("///") {
                self.echo.push_str(&rest);
                continued = true;
                break;
            }
            if after_space && rest.starts_with("//") {
                self.echo.push_str(&rest);
                break;
            }
            if rest.starts_with("/*") {
                self.comment_depth += 1;
                self.echo.push_str("/*");
                i += 2;
                continue;
            }
            if c == '*' && self.code.trim().is_empty() && !self.star_comment {
                self.star_comment = true;
            }
            if self.delimit() == Delimit::Semicolon && c == ';' {
                // Ends a statement (a `*` comment statement too).
                self.echo.push(';');
                self.end_statement();
                i += 1;
                continue;
            }
            self.echo.push(c);
            if !self.star_comment {
                self.code.push(c);
                if c == '"' {
                    in_string = true;
                } else if c == '`' && next == Some('"') {
                    compound += 1;
                    self.echo.push('"');
                    self.code.push('"');
                    i += 1;
                }
            }
            i += 1;
        }
        if self.delimit() == Delimit::Cr {
            if continued || self.comment_depth > 0 {
                self.code.push(' ');
            } else {
                self.end_statement();
            }
        } else {
            self.code.push(' ');
        }
    }

    fn finish(mut self) -> Vec<Statement> {
        if !self.echo.trim().is_empty() || !self.code.trim().is_empty() {
            self.end_statement();
        }
        self.out
    }
}

fn is_delimit(trimmed: &str) -> bool {
    trimmed.starts_with("#delimit") || trimmed.starts_with("#d ") || trimmed.starts_with("#d;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(src: &str) -> Vec<String> {
        split(src).into_iter().map(|s| s.code).collect()
    }

    #[test]
    fn comments_and_blank_lines_are_empty_statements() {
        let src = "* note\ndisplay 1 // trailing\n\n/* block\n still */ display 2\n";
        assert_eq!(codes(src), ["", "display 1", "", "display 2"]);
        let stmts = split(src);
        assert_eq!(stmts[3].echo, ["/* block", " still */ display 2"]);
    }

    #[test]
    fn continuation_and_strings() {
        let src = "display \"a // not a comment\" ///\n   \"b\"\ndisplay `\"say \"x\"\"'\n";
        let stmts = split(src);
        assert_eq!(stmts.len(), 2);
        assert_eq!(stmts[0].code, "display \"a // not a comment\"     \"b\"");
        assert_eq!(stmts[0].echo.len(), 2);
        assert_eq!(stmts[1].code, "display `\"say \"x\"\"'");
    }

    #[test]
    fn delimit_semicolon_mode() {
        let src = "#delimit ;\ndisplay 1\n  + 1;\ndi 2; di 3;\n* star comment\n over lines;\n#delimit cr\ndi 4\n";
        let stmts = split(src);
        let codes: Vec<&str> = stmts.iter().map(|s| s.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "#delimit ;",
                "display 1   + 1",
                "di 2",
                "di 3",
                "",
                "#delimit cr",
                "di 4"
            ]
        );
        assert_eq!(stmts[1].echo, ["display 1", "  + 1;"]);
    }
}
