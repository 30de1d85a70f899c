//! The commands the stand-in knows, and their messages and return codes.

use std::path::{Path, PathBuf};

use crate::expr::{self, ExprError, Tok};
use crate::output::Style;
use crate::png;
use crate::state::{Flow, Stata};
use crate::userlog::UserLog;

/// `do` (echoed, `end of do-file`) or `run` (silent).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DoKind {
    Do,
    Run,
}

type Done = Result<(), Flow>;

/// The first word of `code` (ended by a space, `:` `,` or `"`), and the rest.
fn split_command(code: &str) -> (&str, &str) {
    let end = code
        .find(|c: char| c.is_whitespace() || c == ':' || c == ',' || c == '"')
        .unwrap_or(code.len());
    (&code[..end], &code[end..])
}

/// One argument: `"quoted"`, `` `"compound"' `` or a bare word; and what follows it.
pub(crate) fn take_word(text: &str) -> Option<(String, &str)> {
    let text = text.trim_start();
    if text.is_empty() {
        return None;
    }
    if let Some(body) = text.strip_prefix("`\"") {
        let end = body.find("\"'")?;
        return Some((body[..end].to_owned(), &body[end + 2..]));
    }
    if let Some(body) = text.strip_prefix('"') {
        let end = body.find('"')?;
        return Some((body[..end].to_owned(), &body[end + 1..]));
    }
    let end = text.find(char::is_whitespace).unwrap_or(text.len());
    Some((text[..end].to_owned(), &text[end..]))
}

/// `args, options` split at the first comma outside quotes.
fn split_options(text: &str) -> (&str, &str) {
    let mut in_string = false;
    for (i, c) in text.char_indices() {
        match c {
            '"' => in_string = !in_string,
            ',' if !in_string => return (&text[..i], &text[i + 1..]),
            _ => {}
        }
    }
    (text, "")
}

fn has_option(options: &str, name: &str) -> bool {
    options.split_whitespace().any(|o| o == name)
}

/// The standard message of `error N`.
fn standard_message(code: i32) -> &'static str {
    match code {
        1 => "--Break--",
        4 => "no; dataset in memory has changed since last saved",
        9 => "assertion is false",
        109 => "type mismatch",
        110 => "variable already defined",
        111 => "variable not found",
        198 => "invalid syntax",
        199 => "unrecognized command",
        601 => "file not found",
        602 => "file already exists",
        603 => "file could not be opened",
        _ => "",
    }
}

impl Stata {
    /// Runs one statement (macros not yet expanded).
    pub(crate) fn exec(&mut self, code: &str) -> Done {
        let expanded = self.expand(code);
        self.exec_expanded(expanded.trim())
    }

    fn exec_expanded(&mut self, code: &str) -> Done {
        if code.is_empty() || code.starts_with('*') || code.starts_with("//") {
            return Ok(());
        }
        let (name, rest) = split_command(code);
        let after_prefix = rest.trim_start().strip_prefix(':').unwrap_or(rest).trim();
        match name {
            "quietly" | "quietl" | "quiet" | "quie" | "qui" => {
                self.quiet += 1;
                let result = self.exec_expanded(after_prefix);
                self.quiet -= 1;
                result
            }
            "noisily" | "noisil" | "noisi" | "nois" | "noi" | "n" => {
                let saved = (self.quiet, self.captured);
                (self.quiet, self.captured) = (0, 0);
                let result = self.exec_expanded(after_prefix);
                (self.quiet, self.captured) = saved;
                result
            }
            "capture" | "captur" | "captu" | "capt" | "cap" => {
                self.captured += 1;
                let result = self.exec_expanded(after_prefix);
                self.captured -= 1;
                match result {
                    Ok(()) => {
                        self.rc = 0;
                        Ok(())
                    }
                    Err(Flow::Error(1)) => Err(Flow::Error(1)),
                    Err(Flow::Error(code)) => {
                        self.rc = code;
                        Ok(())
                    }
                    Err(other) => Err(other),
                }
            }
            _ => self.command(name, rest.trim()),
        }
    }

    fn command(&mut self, name: &str, rest: &str) -> Done {
        match name {
            "display" | "displa" | "displ" | "disp" | "dis" | "di" => self.display(rest),
            "sleep" => match rest.parse::<u64>() {
                Ok(ms) => self.sleep(ms),
                Err(_) => Err(self.fail(198, "invalid syntax")),
            },
            "_standin_die" => {
                let code = rest.trim().parse::<u8>().unwrap_or(1);
                self.out.flush();
                eprintln!("stand-in: simulated crash of the Stata engine");
                eprintln!("Traceback (most recent call last):");
                eprintln!("  File \"engine.py\", line 1, in run");
                eprintln!("EngineCrash: the process died (exit status {code})");
                std::process::exit(i32::from(code));
            }
            "_standin_long_line" => match rest.trim().parse::<usize>() {
                Ok(n) => {
                    if self.quiet == 0 && self.captured == 0 {
                        self.out.unwrapped(&format!("{}END", "x".repeat(n)));
                    }
                    Ok(())
                }
                Err(_) => Err(self.fail(198, "invalid syntax")),
            },
            "_standin_wait_file" => match take_word(rest) {
                Some((path, _)) => self.wait_until(|| Path::new(&path).exists()),
                None => Err(self.fail(198, "invalid syntax")),
            },
            "set" => self.set(rest),
            "version" | "vers" => {
                if rest.is_empty() {
                    self.say(Style::Text, "version 18.5");
                }
                Ok(())
            }
            "clear" => {
                self.obs = 0;
                self.vars.clear();
                self.columns.clear();
                self.data_changed = false;
                Ok(())
            }
            "generate" | "generat" | "genera" | "gener" | "gene" | "gen" | "ge" | "g" => {
                self.generate(rest)
            }
            "cd" => self.cd(rest),
            "pwd" => {
                let dir = cwd();
                self.say(Style::Result, &dir);
                Ok(())
            }
            "do" | "run" => {
                let kind = if name == "do" {
                    DoKind::Do
                } else {
                    DoKind::Run
                };
                let Some((file, tail)) = take_word(rest) else {
                    return Err(self.fail(198, "invalid file specification"));
                };
                let mut args = Vec::new();
                let mut rest = tail;
                while let Some((arg, after)) = take_word(rest) {
                    args.push(arg);
                    rest = after;
                }
                self.run_do_file(&file, &args, kind)
            }
            "error" => match rest.trim().parse::<i32>() {
                Ok(0) => Ok(()),
                Ok(code) => Err(self.fail(code, standard_message(code))),
                Err(_) => Err(self.fail(198, "invalid syntax")),
            },
            "exit" => self.exit(rest),
            "log" => self.log(rest),
            "graph" | "gr" => self.graph(rest),
            "local" | "loc" | "global" | "gl" => self.define_macro(name, rest),
            "describe" | "describ" | "descri" | "descr" | "desc" | "des" | "de" | "d" => {
                self.describe(rest)
            }
            "list" | "lis" | "li" | "l" => self.list(rest),
            "summarize" | "summariz" | "summari" | "summar" | "summa" | "summ" | "sum" | "su" => {
                self.summarize(rest)
            }
            "return" | "ereturn" => self.stored_results(name, rest),
            "help" | "hel" | "he" | "h" => self.help(rest),
            _ => Err(self.fail(199, &format!("command {name} is unrecognized"))),
        }
    }

    fn display(&mut self, rest: &str) -> Done {
        let toks = match expr::tokenize(rest) {
            Ok(toks) => toks,
            Err(_) => return Err(self.fail(132, "too few quotes")),
        };
        let mut lines: Vec<(Style, String)> = Vec::new();
        let mut line = String::new();
        let mut style = Style::Result;
        let mut i = 0;
        while i < toks.len() {
            match &toks[i] {
                Tok::Str(s) => {
                    line.push_str(s);
                    i += 1;
                }
                Tok::Ident(word) if word == "as" || word == "in" => {
                    style = match toks.get(i + 1) {
                        Some(Tok::Ident(s)) if s.starts_with("err") => Style::Error,
                        Some(Tok::Ident(s)) if s.starts_with("res") => Style::Result,
                        Some(Tok::Ident(s)) if s.starts_with("inp") => Style::Command,
                        Some(Tok::Ident(_)) => Style::Text,
                        _ => return Err(self.fail(198, "invalid syntax")),
                    };
                    i += 2;
                }
                Tok::Ident(word)
                    if matches!(
                        word.as_str(),
                        "_n" | "_newline" | "_skip" | "_col" | "_column"
                    ) =>
                {
                    let (count, used) = paren_count(&toks[i + 1..]);
                    match word.as_str() {
                        "_n" | "_newline" => {
                            for _ in 0..count.unwrap_or(1) {
                                lines.push((style, std::mem::take(&mut line)));
                            }
                        }
                        "_skip" => line.push_str(&" ".repeat(count.unwrap_or(1))),
                        _ => {
                            let col = count.unwrap_or(1).saturating_sub(1);
                            let have = line.chars().count();
                            line.push_str(&" ".repeat(col.saturating_sub(have)));
                        }
                    }
                    i += 1 + used;
                }
                _ => {
                    let end = expression_end(&toks, i);
                    let value = expr::eval(&toks[i..end], &|name| self.scalar(name));
                    match value {
                        Ok(v) => line.push_str(&expr::format_number(v)),
                        Err(ExprError::NotFound(name)) => {
                            return Err(self.fail(111, &format!("{name} not found")));
                        }
                        Err(_) => return Err(self.fail(198, "invalid syntax")),
                    }
                    i = end;
                }
            }
        }
        lines.push((style, line));
        for (style, text) in lines {
            self.say(style, &text);
        }
        Ok(())
    }

    fn scalar(&self, name: &str) -> Option<f64> {
        match name {
            "_N" => Some(self.obs as f64),
            "_rc" => Some(f64::from(self.rc)),
            "_pi" | "c_pi" => Some(std::f64::consts::PI),
            _ if self.vars.iter().any(|v| v == name) => Some(1.0),
            _ => None,
        }
    }

    fn set(&mut self, rest: &str) -> Done {
        let mut words = rest.split_whitespace();
        let setting = words.next().unwrap_or("");
        let value = words.next().unwrap_or("");
        match setting {
            "obs" => match value.parse::<u64>() {
                Ok(n) if n >= self.obs => {
                    let was = self.obs;
                    self.obs = n;
                    for column in &mut self.columns {
                        column.resize(n as usize, f64::NAN);
                    }
                    self.data_changed = true;
                    self.say(
                        Style::Text,
                        &format!("Number of observations (_N) was {was}, now {n}."),
                    );
                    Ok(())
                }
                Ok(_) => Err(self.fail(198, "observations may not be reduced")),
                Err(_) => Err(self.fail(198, "invalid syntax")),
            },
            "more" => match value {
                "on" => {
                    self.out.more = true;
                    Ok(())
                }
                "off" => {
                    self.out.more = false;
                    Ok(())
                }
                _ => Err(self.fail(198, "invalid syntax")),
            },
            "linesize" => match value.parse::<usize>() {
                Ok(n) if (40..=255).contains(&n) => {
                    self.out.linesize = n;
                    Ok(())
                }
                _ => Err(self.fail(198, "linesize must be between 40 and 255")),
            },
            "seed" | "trace" | "varabbrev" | "type" => Ok(()),
            _ => Err(self.fail(198, &format!("set {setting} not allowed"))),
        }
    }

    fn generate(&mut self, rest: &str) -> Done {
        let Some((lhs, rhs)) = rest.split_once('=') else {
            return Err(self.fail(198, "invalid syntax"));
        };
        let lhs: Vec<&str> = lhs.split_whitespace().collect();
        let Some(&name) = lhs.last() else {
            return Err(self.fail(198, "invalid syntax"));
        };
        if self.vars.iter().any(|v| v == name) {
            return Err(self.fail(110, &format!("variable {name} already defined")));
        }
        let toks = match expr::tokenize(rhs) {
            Ok(toks) => toks,
            Err(_) => return Err(self.fail(198, "invalid syntax")),
        };
        // Each observation's value; with no observations, one check of the expression.
        let mut values = Vec::new();
        for obs in 1..=self.obs.max(1) {
            let lookup = |id: &str| match id {
                "_n" => Some(obs as f64),
                _ => match self.vars.iter().position(|v| v == id) {
                    Some(j) => self.columns[j].get(obs as usize - 1).copied(),
                    None => self.scalar(id),
                },
            };
            match expr::eval(&toks, &lookup) {
                Ok(value) => values.push(value),
                Err(ExprError::NotFound(id)) => {
                    return Err(self.fail(111, &format!("{id} not found")));
                }
                Err(_) => return Err(self.fail(198, "invalid syntax")),
            }
        }
        values.truncate(self.obs as usize);
        self.vars.push(name.to_owned());
        self.columns.push(values);
        self.data_changed = true;
        Ok(())
    }

    fn cd(&mut self, rest: &str) -> Done {
        let target = match take_word(rest) {
            Some((dir, _)) => PathBuf::from(dir),
            None => PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| "/".into())),
        };
        if std::env::set_current_dir(&target).is_err() {
            return Err(self.fail(170, &format!("unable to change to {}", target.display())));
        }
        let dir = cwd();
        self.say(Style::Result, &dir);
        Ok(())
    }

    fn exit(&mut self, rest: &str) -> Done {
        let (args, options) = split_options(rest);
        let clear = has_option(options, "clear");
        let stata = has_option(options, "STATA");
        if let Ok(code) = args.trim().parse::<i32>()
            && code != 0
            && !stata
        {
            return Err(Flow::Error(code));
        }
        if self.do_depth > 0 && !stata {
            return Err(Flow::ExitDo);
        }
        if self.data_changed && !clear {
            return Err(self.fail(4, standard_message(4)));
        }
        Err(Flow::ExitStata)
    }

    fn log(&mut self, rest: &str) -> Done {
        let (sub, rest) = split_command(rest);
        match sub {
            "using" => {
                let (args, options) = split_options(rest);
                let Some((file, _)) = take_word(args) else {
                    return Err(self.fail(198, "invalid syntax"));
                };
                let mut path = PathBuf::from(&file);
                let ext = path.extension().map(|e| e.to_string_lossy().to_lowercase());
                let smcl = if has_option(options, "text") {
                    false
                } else if has_option(options, "smcl") {
                    true
                } else {
                    ext.as_deref() != Some("log")
                };
                if ext.is_none() {
                    path.set_extension(if smcl { "smcl" } else { "log" });
                }
                if self.out.has_user_log() {
                    return Err(self.fail(604, "log file already open"));
                }
                if path.exists() && !has_option(options, "replace") {
                    return Err(self.fail(602, &format!("file {} already exists", path.display())));
                }
                match UserLog::create(&path, smcl) {
                    Ok(log) => {
                        let header = log.header(false);
                        self.out.open_user_log(log);
                        for line in header {
                            self.say(Style::Text, &line);
                        }
                        Ok(())
                    }
                    Err(_) => {
                        Err(self.fail(603, &format!("file {} could not be opened", path.display())))
                    }
                }
            }
            "close" => match self.out.user_log_header(true) {
                Some(footer) => {
                    self.out.close_user_logs();
                    for line in footer {
                        self.say(Style::Text, &line);
                    }
                    Ok(())
                }
                None => Err(self.fail(606, "no log file open")),
            },
            _ => Err(self.fail(198, "invalid syntax")),
        }
    }

    fn graph(&mut self, rest: &str) -> Done {
        let (sub, rest) = split_command(rest);
        if sub != "export" {
            return Err(self.fail(199, &format!("command graph {sub} is unrecognized")));
        }
        let (args, options) = split_options(rest);
        let Some((file, _)) = take_word(args) else {
            return Err(self.fail(198, "invalid syntax"));
        };
        let path = Path::new(&file);
        let is_png = path
            .extension()
            .is_some_and(|e| e.to_string_lossy().eq_ignore_ascii_case("png"));
        if !is_png {
            return Err(self.fail(198, "this stand-in exports PNG files only"));
        }
        if path.exists() && !has_option(options, "replace") {
            return Err(self.fail(602, &format!("file {file} already exists")));
        }
        if std::fs::write(path, png::graph()).is_err() {
            return Err(self.fail(603, &format!("file {file} could not be opened")));
        }
        let message = match crate::switch("STANDIN_GRAPH_MESSAGE").as_deref() {
            Some("old") => format!("(file {file} written in PNG format)"),
            Some("full") => {
                let full = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
                format!("file {} saved as PNG format", full.display())
            }
            _ => format!("file {file} saved as PNG format"),
        };
        self.say(Style::Text, &message);
        Ok(())
    }

    fn define_macro(&mut self, kind: &str, rest: &str) -> Done {
        let (name, value) = match rest.find(|c: char| c.is_whitespace() || c == '=') {
            Some(at) => (&rest[..at], rest[at..].trim_start()),
            None => (rest, ""),
        };
        if name.is_empty() {
            return Err(self.fail(198, "invalid syntax"));
        }
        let value = if let Some(e) = value.strip_prefix('=') {
            let toks = expr::tokenize(e);
            match toks.map(|t| expr::eval(&t, &|n| self.scalar(n))) {
                Ok(Ok(v)) => expr::format_number(v),
                Ok(Err(ExprError::NotFound(n))) => {
                    return Err(self.fail(111, &format!("{n} not found")));
                }
                _ => return Err(self.fail(198, "invalid syntax")),
            }
        } else {
            match take_word(value) {
                Some((word, tail)) if value.starts_with('"') || value.starts_with("`\"") => {
                    if tail.trim().is_empty() {
                        word
                    } else {
                        value.to_owned()
                    }
                }
                _ => value.to_owned(),
            }
        };
        if kind.starts_with('g') {
            self.globals.insert(name.to_owned(), value);
        } else {
            self.set_local(name, value);
        }
        Ok(())
    }
}

/// Where an expression that starts at `from` ends: at the next string or `display` directive.
fn expression_end(toks: &[Tok], from: usize) -> usize {
    let mut depth = 0i32;
    let mut i = from;
    while i < toks.len() {
        match &toks[i] {
            Tok::LParen => depth += 1,
            Tok::RParen => depth -= 1,
            Tok::Str(_) if depth == 0 => break,
            Tok::Ident(w)
                if depth == 0
                    && i > from
                    && matches!(
                        w.as_str(),
                        "as" | "in" | "_n" | "_newline" | "_skip" | "_col" | "_column"
                    ) =>
            {
                break;
            }
            _ => {}
        }
        i += 1;
    }
    i.max(from + 1)
}

/// `(k)` after a directive: the count and how many tokens it used.
fn paren_count(toks: &[Tok]) -> (Option<usize>, usize) {
    match toks {
        [Tok::LParen, Tok::Num(n), Tok::RParen, ..] => (Some(*n as usize), 3),
        _ => (None, 0),
    }
}

fn cwd() -> String {
    std::env::current_dir()
        .map(|d| d.display().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_options() {
        assert_eq!(
            take_word(r#" "a b/c.do" x"#),
            Some(("a b/c.do".to_owned(), " x"))
        );
        assert_eq!(
            take_word(r#"`"it's "q".do"' y"#),
            Some(("it's \"q\".do".to_owned(), " y"))
        );
        assert_eq!(take_word("plain.do"), Some(("plain.do".to_owned(), "")));
        assert_eq!(
            split_options(r#""a,b.png", replace"#),
            (r#""a,b.png""#, " replace")
        );
        assert_eq!(split_command("quietly: di 1"), ("quietly", ": di 1"));
    }
}
