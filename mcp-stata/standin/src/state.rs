//! The interpreter's state and the do-file executor: echo, blocks, nesting, error unwinding.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::cli::{Cli, Edition};
use crate::commands::DoKind;
use crate::dofile::{self, Statement};
use crate::macros::{self, MacroRef};
use crate::output::{Output, Style};

/// How a command ended, when not normally.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    /// An error with its return code (the message is already printed).
    Error(i32),
    /// `exit` inside a do-file: that do-file ends, without error.
    ExitDo,
    /// Stata itself ends (`exit, clear STATA`).
    ExitStata,
}

/// Everything the interpreter knows.
pub(crate) struct Stata {
    pub(crate) out: Output,
    pub(crate) edition: Edition,
    pub(crate) obs: u64,
    pub(crate) vars: Vec<String>,
    /// The values of each variable (same order as `vars`), one per observation; `NaN` is
    /// missing (`.`).
    pub(crate) columns: Vec<Vec<f64>>,
    /// r-class scalars of the last r-class command (`summarize`), in `return list` order.
    pub(crate) r_scalars: Vec<(String, f64)>,
    pub(crate) data_changed: bool,
    /// `_rc`, set by `capture`.
    pub(crate) rc: i32,
    /// Nesting of `quietly` (output hidden, `r(N);` still shown).
    pub(crate) quiet: usize,
    /// Nesting of `capture` (everything hidden).
    pub(crate) captured: usize,
    /// Nesting of running do-files.
    pub(crate) do_depth: usize,
    frames: Vec<HashMap<String, String>>,
    pub(crate) globals: HashMap<String, String>,
    brk: Option<Arc<AtomicBool>>,
}

impl Stata {
    /// A fresh Stata writing to `out`; `brk` is the break flag (console mode).
    pub(crate) fn new(cli: &Cli, out: Output, brk: Option<Arc<AtomicBool>>) -> Stata {
        Stata {
            out,
            edition: cli.edition,
            obs: 0,
            vars: Vec::new(),
            columns: Vec::new(),
            r_scalars: Vec::new(),
            data_changed: false,
            rc: 0,
            quiet: 0,
            captured: 0,
            do_depth: 0,
            frames: vec![HashMap::new()],
            globals: HashMap::new(),
            brk,
        }
    }

    /// The start-up banner, shaped as Stata 15-18 print it (a logo, the version and edition, a
    /// licence block, numbered notes), with the stand-in's own words. `batch` adds the batch
    /// note.
    pub(crate) fn banner(&mut self, batch: bool) {
        let edition = match self.edition {
            Edition::Mp => "MP\u{2014}Parallel Edition",
            Edition::Se => "SE\u{2014}Standard Edition",
            Edition::Be => "BE\u{2014}Basic Edition",
        };
        let mut lines = vec![
            String::new(),
            "  ___  ____  ____  ____  ____ (R)".to_owned(),
            " /__    /   ____/   /   ____/      18.5".to_owned(),
            format!("___/   /   /___/   /   /___/       {edition}"),
            String::new(),
            " Statistics and Data Science       stata-standin: test equipment, not Stata"
                .to_owned(),
            String::new(),
            "Stata license: stand-in for the mcp-stata tests".to_owned(),
            "Serial number: 000000000000".to_owned(),
            "  Licensed to: mcp-stata tests".to_owned(),
            "               (no licence: this program is not Stata)".to_owned(),
            String::new(),
            "Notes:".to_owned(),
        ];
        let mut notes = Vec::new();
        if batch {
            notes.push("Stata is running in batch mode.");
        }
        notes.push("Unicode is supported; see help unicode_advice.");
        for (n, note) in notes.iter().enumerate() {
            lines.push(format!("      {}. {note}", n + 1));
        }
        lines.push(String::new());
        for line in lines {
            self.out.line(Style::Text, &line);
        }
    }

    /// Whether a do-file's echo is followed by a blank line (`STANDIN_DO_BLANK`, default 1).
    fn do_blank() -> bool {
        crate::switch("STANDIN_DO_BLANK").as_deref() != Some("0")
    }

    /// Writes everything and closes the logs.
    pub(crate) fn finish(&mut self) {
        self.out.finish();
    }

    fn visible(&self) -> bool {
        self.quiet == 0 && self.captured == 0
    }

    /// Prints a line unless `quietly` or `capture` hides it.
    pub(crate) fn say(&mut self, style: Style, text: &str) {
        if self.visible() {
            self.out.line(style, text);
        }
    }

    /// Prints an error message (unless hidden) and returns the error.
    pub(crate) fn fail(&mut self, code: i32, message: &str) -> Flow {
        if !message.is_empty() {
            self.say(Style::Error, message);
        }
        Flow::Error(code)
    }

    /// Prints `r(N);` unless `capture` hides it.
    pub(crate) fn rc_line(&mut self, code: i32) {
        if self.captured == 0 {
            self.out.rc_line(code);
        }
    }

    fn blank(&mut self) {
        if self.visible() {
            self.out.blank();
        }
    }

    /// `Err` with `--Break--` printed if a break (SIGINT) arrived.
    pub(crate) fn check_break(&mut self) -> Result<(), Flow> {
        match &self.brk {
            Some(flag) if flag.swap(false, Ordering::SeqCst) => {
                self.out.line(Style::Error, "--Break--");
                Err(Flow::Error(1))
            }
            _ => Ok(()),
        }
    }

    /// Waits until `until` says yes, checking for a break every few milliseconds.
    pub(crate) fn wait_until(&mut self, mut until: impl FnMut() -> bool) -> Result<(), Flow> {
        while !until() {
            self.check_break()?;
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(())
    }

    /// Waits `ms` milliseconds (a break ends the wait early with `r(1)`).
    pub(crate) fn sleep(&mut self, ms: u64) -> Result<(), Flow> {
        let end = Instant::now() + Duration::from_millis(ms);
        self.wait_until(|| Instant::now() >= end)
    }

    /// Expands the macros in `text`.
    pub(crate) fn expand(&self, text: &str) -> String {
        let frame = self.frames.last();
        let lookup = |r: MacroRef<'_>| match r {
            MacroRef::Local(name) => self
                .creturn(name)
                .or_else(|| frame.and_then(|f| f.get(name).cloned()))
                .unwrap_or_default(),
            MacroRef::Global(name) => self.globals.get(name).cloned().unwrap_or_default(),
        };
        macros::expand(text, &lookup)
    }

    fn creturn(&self, name: &str) -> Option<String> {
        let key = name.strip_prefix("c(")?.strip_suffix(')')?;
        Some(match key {
            "pwd" => std::env::current_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_default(),
            "edition_real" | "edition" => self.edition.label().to_owned(),
            "linesize" => self.out.linesize.to_string(),
            "N" => self.obs.to_string(),
            "k" => self.vars.len().to_string(),
            "rc" => self.rc.to_string(),
            "stata_version" => "18.5".to_owned(),
            "more" => if self.out.more { "on" } else { "off" }.to_owned(),
            _ => String::new(),
        })
    }

    /// Sets a local macro in the current do-file's scope.
    pub(crate) fn set_local(&mut self, name: &str, value: String) {
        if let Some(frame) = self.frames.last_mut() {
            frame.insert(name.to_owned(), value);
        }
    }

    /// Runs a do-file: `do` echoes its commands and ends with `end of do-file`; `run` is silent.
    pub(crate) fn run_do_file(
        &mut self,
        file: &str,
        args: &[String],
        kind: DoKind,
    ) -> Result<(), Flow> {
        let mut path = file.to_owned();
        if Path::new(&path).extension().is_none() && !Path::new(&path).exists() {
            path.push_str(".do");
        }
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(_) => return Err(self.fail(601, &format!("file {path} not found"))),
        };
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let stmts = dofile::split(&text);
        let mut frame = HashMap::new();
        frame.insert("0".to_owned(), args.join(" "));
        for (i, arg) in args.iter().enumerate() {
            frame.insert((i + 1).to_string(), arg.clone());
        }
        self.frames.push(frame);
        self.do_depth += 1;
        if kind == DoKind::Run {
            self.quiet += 1;
        }
        let result = self.run_do_body(&stmts, kind);
        if kind == DoKind::Run {
            self.quiet -= 1;
        }
        self.do_depth -= 1;
        self.frames.pop();
        result
    }

    fn run_do_body(&mut self, stmts: &[Statement], kind: DoKind) -> Result<(), Flow> {
        if Stata::do_blank() {
            self.blank();
        }
        let result = self.run_statements(stmts, true);
        let end = kind == DoKind::Do;
        match result {
            Ok(()) | Err(Flow::ExitDo) => {
                if end && result.is_ok() && self.visible() {
                    self.out.echo(". ", "");
                }
                if end {
                    self.say(Style::Text, "end of do-file");
                }
                Ok(())
            }
            Err(Flow::Error(code)) => {
                if end {
                    self.blank();
                    self.say(Style::Text, "end of do-file");
                }
                Err(Flow::Error(code))
            }
            Err(Flow::ExitStata) => Err(Flow::ExitStata),
        }
    }

    /// Runs statements; `top` means a do-file's own lines (echoed, `r(N);` printed, blank lines).
    pub(crate) fn run_statements(&mut self, stmts: &[Statement], top: bool) -> Result<(), Flow> {
        let mut i = 0;
        while i < stmts.len() {
            self.check_break().inspect_err(|_| {
                if top {
                    self.rc_line(1);
                }
            })?;
            let stmt = &stmts[i];
            if top && self.visible() {
                for (n, line) in stmt.echo.iter().enumerate() {
                    self.out.echo(if n == 0 { ". " } else { "> " }, line);
                }
            }
            let result = if stmt.code.trim_end().ends_with('{') {
                let end = match block_end(stmts, i) {
                    Some(end) => end,
                    None => {
                        let flow = self.fail(612, "unexpected end of file");
                        if top {
                            self.rc_line(612);
                        }
                        return Err(flow);
                    }
                };
                if top && self.visible() {
                    for (n, body) in (2..).zip(&stmts[i + 1..=end]) {
                        for (k, line) in body.echo.iter().enumerate() {
                            let lead = if k == 0 {
                                format!("{n:>3}. ")
                            } else {
                                "> ".into()
                            };
                            self.out.echo(&lead, line);
                        }
                    }
                }
                let code = stmt.code.clone();
                let body = &stmts[i + 1..end];
                i = end;
                self.run_block(&code, body)
            } else {
                let code = stmt.code.clone();
                self.exec(&code)
            };
            i += 1;
            match result {
                Ok(()) => {
                    // Comments and blank lines get no blank line after them.
                    if top && !stmt.code.trim().is_empty() {
                        self.blank();
                    }
                }
                Err(Flow::Error(code)) => {
                    if top {
                        self.rc_line(code);
                    }
                    return Err(Flow::Error(code));
                }
                Err(other) => return Err(other),
            }
        }
        Ok(())
    }

    /// A block command (`forvalues i = 1/3 {`) with its body.
    fn run_block(&mut self, head: &str, body: &[Statement]) -> Result<(), Flow> {
        let head = self.expand(head);
        let head = head.trim_end().trim_end_matches('{').trim();
        let mut words = head.splitn(2, char::is_whitespace);
        let cmd = words.next().unwrap_or("");
        let rest = words.next().unwrap_or("").trim();
        if !matches!(cmd, "forvalues" | "forval" | "forv") {
            return Err(self.fail(199, &format!("command {cmd} is unrecognized")));
        }
        let Some((name, range)) = rest.split_once('=') else {
            return Err(self.fail(198, "invalid syntax"));
        };
        let name = name.trim().to_owned();
        let Some((from, step, to)) = parse_range(range.trim()) else {
            return Err(self.fail(198, "invalid numlist"));
        };
        let mut value = from;
        while (step > 0 && value <= to) || (step < 0 && value >= to) {
            self.set_local(&name, value.to_string());
            self.run_statements(body, false)?;
            value += step;
        }
        Ok(())
    }
}

/// The index of the `}` that closes the block opened at `open`.
fn block_end(stmts: &[Statement], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, stmt) in stmts.iter().enumerate().skip(open) {
        let code = stmt.code.trim();
        if code.ends_with('{') {
            depth += 1;
        } else if code == "}" {
            depth -= 1;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

/// `1/10` or `1(2)9` as (from, step, to).
fn parse_range(range: &str) -> Option<(i64, i64, i64)> {
    if let Some((a, b)) = range.split_once('/') {
        return Some((a.trim().parse().ok()?, 1, b.trim().parse().ok()?));
    }
    let (a, rest) = range.split_once('(')?;
    let (step, b) = rest.split_once(')')?;
    let step: i64 = step.trim().parse().ok()?;
    (step != 0).then_some(())?;
    Some((a.trim().parse().ok()?, step, b.trim().parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("1/3"), Some((1, 1, 3)));
        assert_eq!(parse_range("10(-5)0"), Some((10, -5, 0)));
        assert_eq!(parse_range("1(0)3"), None);
        assert_eq!(parse_range("a/b"), None);
    }
}
