//! Reading Stata's log line by line: which lines are the user's do-file (and what it ran), how
//! many of its commands ran and which one failed, whether it ended (`end of do-file`) and with
//! `r(N);` (and the message before it), which graphs it exported. Fed one complete line at a
//! time; holds a bounded amount of state.
//!
//! The format (text log, batch or console): each command is echoed as `. cmd`, usually after a
//! blank line; continuation lines start with `> `; a loop's body is echoed once as `  2. cmd`,
//! `  3. }`; comments and empty lines of a do-file echo as `. * note` and `. ` with no blank line
//! after them; `do` starts a nested level that ends with `end of do-file`; an error prints its
//! message, then `r(N);`, then for every level it unwinds a blank line, `end of do-file` and
//! `r(N);` again.
//!
//! What comes before the user's do-file depends on the Stata version, its settings and how it was
//! started: a banner (or none, with `-q`), the echo of the top-level do-file (`. do "file.do" `),
//! a blank line after it (or none), the commands of a wrapper. The parser does not count on any
//! of that: it is told the `do` command whose echo starts the user's part
//! ([`LogParser::batch`], [`LogParser::console`]) and treats everything before that echo as the
//! preamble, whatever it holds. Command boundaries are recognised by a blank line before the echo,
//! by the start of a do-file level, after a comment's echo, or by the echo being the do-file's
//! next command ([`LogParser::with_commands`]): one missing blank line never hides a command.

mod shapes;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use crate::dofile::{self, Command};
use shapes::{
    echo_start, exits_stata, graph_line, is_unwinding, loop_line, normalized_code, opens_do,
    squeeze,
};
pub use shapes::{rc_line, strip_smcl};

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

/// Which part of the log a line belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Region {
    /// Before the user's do-file: a banner, the echo of the top-level do-file, a wrapper's own
    /// commands, the echo of the `do` that starts the user's file.
    Preamble,
    /// The user's do-file and everything it ran.
    User,
    /// After the user's do-file ended: the unwinding of the levels around it.
    Epilogue,
}

/// What the parser learnt from one line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineInfo {
    /// Where the line belongs.
    pub region: Region,
    /// Whether the line is the user's to see: every line of the user's part, the `r(N);` that
    /// ends it, and any line after it that is not the unwinding of the levels around it.
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
    synced: bool,
    at_user_level: bool,
}

/// What a line before the user's part means.
enum Step {
    /// Part of the awaited echo.
    Hidden,
    /// Something else before the user's part.
    Preamble,
    /// A prompt: the user's part begins after it.
    BeginHidden,
    /// The user's part begins with this line.
    BeginWith,
    /// A prompt and, on the same line, the user's part.
    BeginAfterPrompt,
}

/// How the user's part of the log begins.
enum Start {
    /// After the echo of this command (whitespace removed); `seen` is how much of it the echo
    /// has shown so far. `console` logs may also start without that echo.
    AfterEcho {
        expected: String,
        seen: Option<String>,
        console: bool,
        first: bool,
    },
    /// It has begun.
    Begun,
}

/// The incremental log reader.
pub struct LogParser {
    format: LogFormat,
    start: Start,
    region: Region,
    /// Levels of `do` open in the user's part (1: the user's do-file itself).
    depth: usize,
    last: Last,
    /// A do-file level has just opened: its first command may follow without a blank line.
    fresh: bool,
    echo: Option<EchoGroup>,
    executed: usize,
    commands: Vec<Command>,
    expected: Vec<String>,
    next: usize,
    in_sync: bool,
    current: Option<usize>,
    recent: VecDeque<String>,
    candidate: Option<StataError>,
    final_rc: Option<i32>,
    settled: Option<Option<StataError>>,
    preamble_error: Option<StataError>,
    epilogue_lines: usize,
    exit_stata: bool,
    graphs: Vec<GraphFile>,
    cwd: PathBuf,
    expect_cwd: bool,
}

impl LogParser {
    /// A parser for a batch log whose user part starts after the echo of `do_command` (the
    /// wrapper's `do "file" args` line, as written): the banner, the top-level echo and the
    /// wrapper's own commands before it are the preamble, never counted or shown as the user's.
    pub fn batch(cwd: &Path, do_command: &str) -> LogParser {
        LogParser::new(
            cwd,
            Start::AfterEcho {
                expected: squeeze(do_command),
                seen: None,
                console: false,
                first: true,
            },
        )
    }

    /// A parser for the console output of one `do_command` (the session's `do "file"`): its
    /// echo, if the console echoes, and a prompt are skipped; without them the output is the
    /// user's from its first line.
    pub fn console(cwd: &Path, do_command: &str) -> LogParser {
        LogParser::new(
            cwd,
            Start::AfterEcho {
                expected: squeeze(do_command),
                seen: None,
                console: true,
                first: true,
            },
        )
    }

    /// A parser for a log of the user's do-file itself (no wrapper, no preamble).
    pub fn plain(cwd: &Path) -> LogParser {
        let mut parser = LogParser::new(cwd, Start::Begun);
        parser.begin();
        parser
    }

    fn new(cwd: &Path, start: Start) -> LogParser {
        LogParser {
            format: LogFormat::Text,
            start,
            region: Region::Preamble,
            depth: 0,
            last: Last::Blank,
            fresh: false,
            echo: None,
            executed: 0,
            commands: Vec::new(),
            expected: Vec::new(),
            next: 0,
            in_sync: false,
            current: None,
            recent: VecDeque::new(),
            candidate: None,
            final_rc: None,
            settled: None,
            preamble_error: None,
            epilogue_lines: 0,
            exit_stata: false,
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

    /// The commands of the user's do-file, in order: an echo that is the next of them starts a
    /// command even without a blank line before it, and while every echo matches the next
    /// command, [`last_command`](Self::last_command) can name the one that failed.
    pub fn with_commands(mut self, commands: Vec<Command>) -> LogParser {
        self.expected = commands.iter().map(|c| squeeze(&c.code)).collect();
        self.commands = commands;
        self.in_sync = true;
        self
    }

    /// Commands of the user's do-file echoed so far.
    pub fn executed(&self) -> usize {
        self.executed
    }

    /// Whether the user's part of the log has begun.
    pub fn started(&self) -> bool {
        self.region != Region::Preamble
    }

    /// Whether the user's do-file reached its end: its `end of do-file` (after success or an
    /// error), or `exit, STATA`.
    pub fn completed(&self) -> bool {
        self.settled.is_some() || (self.region == Region::User && self.exit_stata)
    }

    /// The error the user's do-file ended with, if it ended with `r(N);` (or, when the log was
    /// cut short, the `r(N);` it stopped at).
    pub fn error(&self) -> Option<StataError> {
        match &self.settled {
            Some(settled) => settled.clone(),
            None if self.started() => self.current_error(),
            None => None,
        }
    }

    /// An error before the user's do-file started (the wrapper's `cd`, a missing file).
    pub fn preamble_error(&self) -> Option<&StataError> {
        self.preamble_error.as_ref()
    }

    /// The command of the user's do-file that ran last (the one that failed, after an error),
    /// when every echo so far matched the do-file's commands in order.
    pub fn last_command(&self) -> Option<(usize, &Command)> {
        if !self.in_sync {
            return None;
        }
        let index = self.current?;
        Some((index + 1, self.commands.get(index)?))
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
        match self.region {
            Region::Preamble => self.feed_preamble(line),
            Region::User => self.feed_user(line),
            Region::Epilogue => self.feed_epilogue(line),
        }
    }

    fn info(region: Region, visible: bool) -> LineInfo {
        LineInfo { region, visible }
    }

    fn begin(&mut self) {
        self.start = Start::Begun;
        self.region = Region::User;
        self.depth = 1;
        self.fresh = true;
        self.last = Last::Blank;
        self.recent.clear();
    }

    fn feed_preamble(&mut self, line: &str) -> LineInfo {
        match self.preamble_step(line) {
            Step::Hidden => LogParser::info(Region::Preamble, false),
            Step::Preamble => {
                self.observe_preamble(line.trim());
                LogParser::info(Region::Preamble, false)
            }
            Step::BeginHidden => {
                self.begin();
                LogParser::info(Region::Preamble, false)
            }
            Step::BeginWith => {
                self.begin();
                self.feed_user(line)
            }
            Step::BeginAfterPrompt => {
                // The prompt, then the first command's echo on the same line.
                self.begin();
                self.feed_user(&line[2..])
            }
        }
    }

    /// What a preamble line means.
    fn preamble_step(&mut self, line: &str) -> Step {
        let Start::AfterEcho {
            expected,
            seen,
            console,
            first,
        } = &mut self.start
        else {
            return Step::BeginWith;
        };
        let first_line = std::mem::take(first);
        // The awaited echo, possibly wrapped over `> ` lines.
        if let Some(so_far) = seen.as_mut() {
            if let Some(rest) = line.strip_prefix('>') {
                so_far.push_str(&squeeze(rest));
                if !expected.starts_with(so_far.as_str()) {
                    *seen = None;
                }
                return Step::Hidden;
            }
            let complete = *so_far == *expected;
            *seen = None;
            if complete {
                return Step::BeginWith;
            }
        }
        if let Some(rest) = echo_start(line) {
            let text = squeeze(rest);
            if !text.is_empty() && expected.starts_with(&text) {
                *seen = Some(text);
                return Step::Hidden;
            }
        }
        if *console && first_line {
            // No echo of our command: this console does not echo. A bare prompt may come first.
            if line.trim_end() == "." {
                return Step::BeginHidden;
            }
            if line.strip_prefix(". ").is_some_and(|r| r.starts_with('.')) {
                return Step::BeginAfterPrompt;
            }
            return Step::BeginWith;
        }
        Step::Preamble
    }

    fn observe_preamble(&mut self, trimmed: &str) {
        if trimmed.is_empty() || echo_start(trimmed).is_some() {
            self.recent.clear();
            return;
        }
        if let Some(code) = rc_line(trimmed) {
            if self.preamble_error.is_none() {
                let message: Vec<String> = self.recent.drain(..).collect();
                self.preamble_error = Some(StataError {
                    code,
                    message: message.join("\n"),
                });
            }
            return;
        }
        self.push_recent(trimmed);
    }

    fn feed_user(&mut self, line: &str) -> LineInfo {
        let user = LogParser::info(Region::User, true);
        let trimmed = line.trim();
        let fresh = std::mem::take(&mut self.fresh);
        if trimmed.is_empty() {
            self.finish_echo();
            self.echo = None;
            self.last = Last::Blank;
            self.recent.clear();
            return user;
        }
        if self.last == Last::Echo
            && let Some(rest) = line.strip_prefix("> ").or(line.strip_prefix('>'))
        {
            self.continue_echo(rest);
            self.fresh = fresh;
            return user;
        }
        let after_comment = self.last == Last::Echo
            && self
                .echo
                .as_ref()
                .is_some_and(|g| !dofile::is_command(&g.text));
        if let Some(rest) = echo_start(line)
            && (self.last == Last::Blank || fresh || after_comment || self.is_next(rest))
        {
            self.start_echo(rest);
            return user;
        }
        if self.last == Last::Echo
            && let Some(rest) = loop_line(line)
        {
            self.start_echo(rest);
            return user;
        }
        if trimmed == "end of do-file" {
            self.close_level();
            return user;
        }
        self.output(trimmed);
        user
    }

    fn feed_epilogue(&mut self, line: &str) -> LineInfo {
        let trimmed = line.trim();
        let first = self.epilogue_lines == 0;
        self.epilogue_lines += 1;
        let visible = (first && rc_line(trimmed).is_some()) || !is_unwinding(trimmed);
        LogParser::info(Region::Epilogue, visible)
    }

    /// Whether `rest` (an echo's text) is the user's do-file's next command, at its own level.
    fn is_next(&self, rest: &str) -> bool {
        if self.depth != 1 || !self.in_sync {
            return false;
        }
        let code = normalized_code(rest);
        !code.is_empty()
            && self
                .expected
                .get(self.next)
                .is_some_and(|next| next.starts_with(&code))
    }

    fn start_echo(&mut self, text: &str) {
        self.finish_echo();
        self.last = Last::Echo;
        self.recent.clear();
        let code = text.trim();
        if !code.is_empty() {
            self.final_rc = None;
        }
        let first = code.split_whitespace().next().unwrap_or("");
        self.expect_cwd = first == "cd" || first == "chdir";
        self.exit_stata = exits_stata(code);
        self.echo = Some(EchoGroup {
            text: text.to_owned(),
            counted: false,
            synced: false,
            at_user_level: self.depth == 1,
        });
        self.count_echo();
        if opens_do(code) {
            self.depth += 1;
            self.fresh = true;
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
            && group.at_user_level
            && !group.counted
            && dofile::is_command(&group.text)
        {
            group.counted = true;
            self.executed += 1;
        }
    }

    /// The echo group is complete: match it against the do-file's next command.
    fn finish_echo(&mut self) {
        let Some(group) = &mut self.echo else { return };
        if !group.counted || !group.at_user_level || group.synced {
            return;
        }
        group.synced = true;
        let code = normalized_code(&group.text);
        if self.in_sync && self.expected.get(self.next) == Some(&code) {
            self.current = Some(self.next);
            self.next += 1;
        } else {
            self.in_sync = false;
            self.current = None;
        }
    }

    fn close_level(&mut self) {
        self.finish_echo();
        self.echo = None;
        self.last = Last::Output;
        self.exit_stata = false;
        self.depth = self.depth.saturating_sub(1);
        if self.depth == 0 {
            self.settled = Some(self.current_error());
            self.region = Region::Epilogue;
        }
    }

    fn current_error(&self) -> Option<StataError> {
        let code = self.final_rc?;
        let message = match &self.candidate {
            Some(c) if c.code == code => c.message.clone(),
            _ => String::new(),
        };
        Some(StataError { code, message })
    }

    fn output(&mut self, trimmed: &str) {
        self.finish_echo();
        self.last = Last::Output;
        self.echo = None;
        self.exit_stata = false;
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
        self.push_recent(trimmed);
    }

    fn push_recent(&mut self, trimmed: &str) {
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

#[cfg(test)]
mod tests;
