//! Reading Stata's log line by line: which lines belong to the user's do-file, how many of its
//! commands have run, whether it ended with `r(N);` (and the message before it), which graphs it
//! exported. Fed one complete line at a time; holds a bounded amount of state.
//!
//! The format (text log, batch or console): each command is echoed as `. cmd`, after a blank
//! line; continuation lines start with `> `; a loop's body is echoed once as `  2. cmd`,
//! `  3. }`; `do` starts a nested level that ends with `end of do-file`; an error prints its
//! message, then `r(N);`, then for every level it unwinds a blank line, `end of do-file` and
//! `r(N);` again.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use crate::dofile;

/// The markup of the log being read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// A plain-text log.
    Text,
    /// An SMCL log: markup is removed before reading.
    Smcl,
}

/// An error Stata reported: `r(code);` and the message printed before it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StataError {
    /// The return code `N` of `r(N);`.
    pub code: i32,
    /// The message line(s) printed before the first `r(N);` (may be empty).
    pub message: String,
}

/// A graph file the run reported writing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphFile {
    /// Its path (made absolute with the directory Stata was in).
    pub path: PathBuf,
    /// The format Stata named (`PNG`, `SVG`, ...).
    pub format: String,
}

/// What the parser learnt from one line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineInfo {
    /// The line belongs to the user's do-file (or a do-file it ran), not to the wrapper.
    pub visible: bool,
}

/// At most this many lines of an error message are kept.
const MESSAGE_LINES: usize = 10;
/// At most this many characters of one message line are kept.
const MESSAGE_CHARS: usize = 1000;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Last {
    Blank,
    Echo,
    Output,
}

struct EchoGroup {
    text: String,
    counted: bool,
    at_user_depth: bool,
}

/// The incremental log reader.
pub struct LogParser {
    format: LogFormat,
    depth: usize,
    user_depth: usize,
    preamble: bool,
    last: Last,
    echo: Option<EchoGroup>,
    executed: usize,
    recent: VecDeque<String>,
    candidate: Option<StataError>,
    final_rc: Option<i32>,
    graphs: Vec<GraphFile>,
    cwd: PathBuf,
    expect_cwd: bool,
}

impl LogParser {
    /// A parser for a batch log whose do-file is a wrapper that `do`es the user's file: the
    /// wrapper's own lines are not visible, the user's file's commands are counted.
    pub fn batch(cwd: &Path) -> LogParser {
        LogParser::new(cwd, 1, 2, false)
    }

    /// A parser for the console output of one `do "file"` command (its echo, if any, and the
    /// prompt are skipped), up to but not including the end-of-command sentinel.
    pub fn console(cwd: &Path) -> LogParser {
        LogParser::new(cwd, 1, 1, true)
    }

    /// A parser for a log of the user's do-file itself (no wrapper).
    pub fn plain(cwd: &Path) -> LogParser {
        LogParser::new(cwd, 1, 1, false)
    }

    fn new(cwd: &Path, depth: usize, user_depth: usize, preamble: bool) -> LogParser {
        LogParser {
            format: LogFormat::Text,
            depth,
            user_depth,
            preamble,
            last: Last::Blank,
            echo: None,
            executed: 0,
            recent: VecDeque::new(),
            candidate: None,
            final_rc: None,
            graphs: Vec::new(),
            cwd: cwd.to_path_buf(),
            expect_cwd: false,
        }
    }

    /// Reads SMCL instead of text.
    pub fn with_format(mut self, format: LogFormat) -> LogParser {
        self.format = format;
        self
    }

    /// Commands of the user's do-file echoed so far.
    pub fn executed(&self) -> usize {
        self.executed
    }

    /// The error the log ended with, if it ended with `r(N);`.
    pub fn error(&self) -> Option<StataError> {
        let code = self.final_rc?;
        let message = match &self.candidate {
            Some(c) if c.code == code => c.message.clone(),
            _ => String::new(),
        };
        Some(StataError { code, message })
    }

    /// The graph files the log reported writing, in order (each path once).
    pub fn graphs(&self) -> &[GraphFile] {
        &self.graphs
    }

    /// The directory Stata was last seen in (followed through `cd`).
    pub fn cwd(&self) -> &Path {
        &self.cwd
    }

    /// Reads one complete line (without its newline).
    pub fn feed(&mut self, raw: &str) -> LineInfo {
        let stripped;
        let line = match self.format {
            LogFormat::Text => raw,
            LogFormat::Smcl => {
                stripped = strip_smcl(raw);
                stripped.as_str()
            }
        };
        let line = line.strip_suffix('\r').unwrap_or(line);
        if self.preamble {
            // The console's own `do` echo (with its `> ` continuations) and the prompt, up to
            // the blank line a do-file starts with.
            if line.trim_end().is_empty() || line.trim_end() == "." {
                self.preamble = false;
                self.last = Last::Blank;
            } else {
                self.observe_rc(line.trim());
            }
            return LineInfo { visible: false };
        }
        let visible = self.depth >= self.user_depth;
        let trimmed = line.trim();
        if trimmed.is_empty() {
            self.last = Last::Blank;
            self.recent.clear();
            self.echo = None;
            return LineInfo { visible };
        }
        // A comment or blank line of a do-file is echoed without a blank line after it.
        let after_comment = self.last == Last::Echo
            && self
                .echo
                .as_ref()
                .is_some_and(|g| !dofile::is_command(&g.text));
        if let Some(rest) = echo_start(line).filter(|_| self.last == Last::Blank || after_comment) {
            self.start_echo(rest);
        } else if let Some(rest) = line.strip_prefix("> ").filter(|_| self.last == Last::Echo) {
            self.continue_echo(rest);
        } else if let Some(rest) = loop_line(line).filter(|_| self.last == Last::Echo) {
            self.echo = None;
            self.start_echo(rest);
        } else if trimmed == "end of do-file" {
            self.last = Last::Output;
            self.depth = self.depth.saturating_sub(1);
            self.echo = None;
        } else {
            self.output(trimmed);
        }
        LineInfo { visible }
    }

    fn start_echo(&mut self, text: &str) {
        self.last = Last::Echo;
        self.recent.clear();
        let code = text.trim();
        if !code.is_empty() {
            self.final_rc = None;
        }
        let first = code.split_whitespace().next().unwrap_or("");
        self.expect_cwd = first == "cd" || first == "chdir";
        let group = EchoGroup {
            text: text.to_owned(),
            counted: false,
            at_user_depth: self.depth == self.user_depth,
        };
        self.echo = Some(group);
        self.count_echo();
        if opens_do(code) {
            self.depth += 1;
        }
    }

    fn continue_echo(&mut self, text: &str) {
        if let Some(group) = &mut self.echo
            && group.text.len() < 64 * 1024
        {
            group.text.push('\n');
            group.text.push_str(text);
        }
        self.count_echo();
    }

    fn count_echo(&mut self) {
        if let Some(group) = &mut self.echo
            && group.at_user_depth
            && !group.counted
            && dofile::is_command(&group.text)
        {
            group.counted = true;
            self.executed += 1;
        }
    }

    fn output(&mut self, trimmed: &str) {
        self.last = Last::Output;
        self.echo = None;
        if self.observe_rc(trimmed) {
            return;
        }
        self.final_rc = None;
        if self.expect_cwd {
            self.expect_cwd = false;
            let dir = Path::new(trimmed);
            if dir.is_absolute() {
                self.cwd = dir.to_path_buf();
            }
        }
        if let Some(graph) = graph_line(trimmed, &self.cwd) {
            self.graphs.retain(|g| g.path != graph.path);
            self.graphs.push(graph);
        }
        if self.recent.len() == MESSAGE_LINES {
            self.recent.pop_front();
        }
        self.recent
            .push_back(trimmed.chars().take(MESSAGE_CHARS).collect());
    }

    /// Handles an `r(N);` line; false if `trimmed` is not one.
    fn observe_rc(&mut self, trimmed: &str) -> bool {
        let Some(code) = rc_line(trimmed) else {
            return false;
        };
        if !self.recent.is_empty() {
            let message: Vec<String> = self.recent.drain(..).collect();
            self.candidate = Some(StataError {
                code,
                message: message.join("\n"),
            });
        }
        self.final_rc = Some(code);
        true
    }
}

/// The command text of an echo line `. cmd` (or the bare `.`).
fn echo_start(line: &str) -> Option<&str> {
    if line.trim_end() == "." {
        return Some("");
    }
    line.strip_prefix(". ")
}

/// The command text of a loop-body echo line `  2. cmd`.
fn loop_line(line: &str) -> Option<&str> {
    let rest = line.trim_start();
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let after = &rest[digits..];
    if after.trim_end() == "." {
        return Some("");
    }
    after.strip_prefix(". ")
}

/// Whether an echoed command starts a nested do-file level (`do`, `noisily do`).
fn opens_do(code: &str) -> bool {
    let mut words = code
        .split(|c: char| c.is_whitespace() || c == ':')
        .filter(|w| !w.is_empty());
    loop {
        match words.next() {
            Some("noisily" | "noisil" | "noisi" | "nois" | "noi" | "n") => continue,
            Some("do") => return true,
            _ => return false,
        }
    }
}

/// `N` if `trimmed` is `r(N);`.
pub fn rc_line(trimmed: &str) -> Option<i32> {
    trimmed.strip_prefix("r(")?.strip_suffix(");")?.parse().ok()
}

/// A graph-export line: `file X saved as PNG format` or `(file X written in PNG format)`.
fn graph_line(trimmed: &str, cwd: &Path) -> Option<GraphFile> {
    let (name, format) = if let Some(rest) = trimmed.strip_prefix("(file ") {
        let rest = rest.strip_suffix(" format)")?;
        rest.rsplit_once(" written in ")?
    } else {
        let rest = trimmed.strip_prefix("file ")?.strip_suffix(" format")?;
        rest.rsplit_once(" saved as ")?
    };
    if name.is_empty() || format.contains(' ') {
        return None;
    }
    let path = Path::new(name.trim_matches('"'));
    let path = if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    };
    Some(GraphFile {
        path,
        format: format.to_owned(),
    })
}

/// Removes SMCL markup from one line: `{com}`, `{res}`, `{txt}`, `{err}` and other bare tags
/// vanish, `{tag args:text}` becomes `text`, `{c -(}` and `{c )-}` become braces.
pub fn strip_smcl(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = matching_brace(after) else {
            out.push_str(&rest[open..]);
            return out;
        };
        let tag = &after[..close];
        match tag {
            "c -(" => out.push('{'),
            "c )-" => out.push('}'),
            "smcl" | "sf" | "ul off" | "ul on" | "bf" | "it" => {}
            ".-" | "hline" => out.push_str(&"-".repeat(79)),
            _ => {
                if let Some((_, text)) = tag.split_once(':') {
                    out.push_str(&strip_smcl(text));
                }
            }
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

fn matching_brace(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return Some(i),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
#[path = "logparse_tests.rs"]
mod tests;
