//! Where output goes: the batch log or standard output (with the flush policy), plus any logs the
//! do-file opened with `log using`.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

use crate::userlog::UserLog;

/// When written text reaches the file (`STANDIN_FLUSH`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FlushPolicy {
    /// After every line.
    Line,
    /// In blocks of [`BLOCK`] bytes, which may end in the middle of a line.
    Block,
    /// Only when the program ends.
    Exit,
}

/// The block size of [`FlushPolicy::Block`].
pub(crate) const BLOCK: usize = 4096;

/// Lines between two `--more--` prompts when paging is on.
const PAGE: usize = 10;

/// How a line is shown (SMCL logs mark it up; text logs do not).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Style {
    Command,
    Result,
    Text,
    Error,
}

impl Style {
    /// The SMCL tag for this style.
    pub(crate) fn smcl_tag(self) -> &'static str {
        match self {
            Style::Command => "{com}",
            Style::Result => "{res}",
            Style::Text => "{txt}",
            Style::Error => "{err}",
        }
    }
}

enum Sink {
    File(File),
    Stdout,
}

impl Sink {
    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Sink::File(file) => file.write_all(bytes),
            Sink::Stdout => {
                let mut out = io::stdout().lock();
                out.write_all(bytes)?;
                out.flush()
            }
        }
    }
}

/// All output of one run.
pub(crate) struct Output {
    sink: Sink,
    policy: FlushPolicy,
    pending: Vec<u8>,
    smcl: bool,
    user_logs: Vec<UserLog>,
    /// Width at which lines wrap (`set linesize`).
    pub(crate) linesize: usize,
    /// Whether `--more--` paging is on (console only).
    pub(crate) more: bool,
    lines_since_input: usize,
}

impl Output {
    /// Output to the batch log at `path` (created or truncated).
    pub(crate) fn batch_log(path: &Path, policy: FlushPolicy, smcl: bool) -> io::Result<Output> {
        let file = File::create(path)?;
        let mut out = Output::new(Sink::File(file), policy, smcl);
        if smcl {
            out.emit("{smcl}\n");
        }
        Ok(out)
    }

    /// Output to standard output (console mode); `exit` flushing is treated as `block`.
    pub(crate) fn console(policy: FlushPolicy) -> Output {
        let policy = match policy {
            FlushPolicy::Exit => FlushPolicy::Block,
            other => other,
        };
        Output::new(Sink::Stdout, policy, false)
    }

    fn new(sink: Sink, policy: FlushPolicy, smcl: bool) -> Output {
        Output {
            sink,
            policy,
            pending: Vec::new(),
            smcl,
            user_logs: Vec::new(),
            linesize: 80,
            more: false,
            lines_since_input: 0,
        }
    }

    /// Writes raw text (no newline added) under the flush policy.
    fn emit(&mut self, text: &str) {
        self.pending.extend_from_slice(text.as_bytes());
        match self.policy {
            FlushPolicy::Line => self.flush(),
            FlushPolicy::Block => {
                while self.pending.len() >= BLOCK {
                    let block: Vec<u8> = self.pending.drain(..BLOCK).collect();
                    let _ = self.sink.write(&block);
                }
            }
            FlushPolicy::Exit => {}
        }
    }

    /// Writes everything pending.
    pub(crate) fn flush(&mut self) {
        if !self.pending.is_empty() {
            let bytes = std::mem::take(&mut self.pending);
            let _ = self.sink.write(&bytes);
        }
    }

    /// One physical line in `style`.
    fn physical(&mut self, style: Style, text: &str) {
        let line = if self.smcl {
            format!("{}{text}\n", style.smcl_tag())
        } else {
            format!("{text}\n")
        };
        self.emit(&line);
        for log in &mut self.user_logs {
            log.line(style, text);
        }
        self.page();
    }

    fn page(&mut self) {
        if !self.more {
            return;
        }
        self.lines_since_input += 1;
        if self.lines_since_input >= PAGE {
            self.emit("--more--");
            self.flush();
            let mut answer = String::new();
            let _ = io::stdin().read_line(&mut answer);
            self.lines_since_input = 0;
        }
    }

    /// An output line, wrapped at the line size.
    pub(crate) fn line(&mut self, style: Style, text: &str) {
        let chars: Vec<char> = text.chars().collect();
        if chars.len() <= self.linesize {
            self.physical(style, text);
            return;
        }
        for chunk in chars.chunks(self.linesize.max(1)) {
            let piece: String = chunk.iter().collect();
            self.physical(style, &piece);
        }
    }

    /// One output line, however long (no wrapping at the line size).
    pub(crate) fn unwrapped(&mut self, text: &str) {
        self.physical(Style::Result, text);
    }

    /// The echo of one command line: `prefix` then `text`, wrapped at linesize-1 with `> `.
    pub(crate) fn echo(&mut self, prefix: &str, text: &str) {
        let width = self.linesize.saturating_sub(1).max(prefix.len() + 1);
        let mut rest: Vec<char> = text.chars().collect();
        let mut lead = prefix.to_owned();
        loop {
            let room = width.saturating_sub(lead.chars().count()).max(1);
            if rest.len() <= room {
                let tail: String = rest.iter().collect();
                self.physical(Style::Command, &format!("{lead}{tail}"));
                return;
            }
            let head: String = rest[..room].iter().collect();
            self.physical(Style::Command, &format!("{lead}{head}"));
            rest.drain(..room);
            lead = "> ".to_owned();
        }
    }

    /// The `r(N);` line of an error.
    pub(crate) fn rc_line(&mut self, code: i32) {
        let text = format!("r({code});");
        if self.smcl {
            self.emit(&format!("{{txt}}{{search r({code}), local:{text}}}\n"));
        } else {
            self.emit(&format!("{text}\n"));
        }
        for log in &mut self.user_logs {
            log.rc_line(code);
        }
        self.page();
    }

    /// A blank line.
    pub(crate) fn blank(&mut self) {
        self.physical(Style::Text, "");
    }

    /// Text without a newline (the console prompt).
    pub(crate) fn partial(&mut self, text: &str) {
        self.emit(text);
    }

    /// The program is about to wait for input: everything written so far goes out.
    pub(crate) fn waiting_for_input(&mut self) {
        self.flush();
        self.lines_since_input = 0;
    }

    /// Opens a user log (`log using`).
    pub(crate) fn open_user_log(&mut self, log: UserLog) {
        self.user_logs.push(log);
    }

    /// Whether a user log is open.
    pub(crate) fn has_user_log(&self) -> bool {
        !self.user_logs.is_empty()
    }

    /// The opening (`closing` false) or closing header of the open user log, if any.
    pub(crate) fn user_log_header(&self, closing: bool) -> Option<Vec<String>> {
        self.user_logs.first().map(|log| log.header(closing))
    }

    /// Closes the user logs (`log close`); false when none was open.
    pub(crate) fn close_user_logs(&mut self) -> bool {
        let any = !self.user_logs.is_empty();
        for log in self.user_logs.drain(..) {
            log.close();
        }
        any
    }

    /// The program ends: close logs, write everything.
    pub(crate) fn finish(&mut self) {
        self.close_user_logs();
        self.flush();
    }
}
