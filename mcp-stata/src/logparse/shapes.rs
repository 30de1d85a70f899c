//! The shapes of single log lines: a command's echo, a loop body's echo, `r(N);`, a graph
//! export's message; and SMCL markup removal.

use std::path::Path;

use super::GraphFile;
use crate::dofile;

/// The command text of an echo line `. cmd` (or the bare prompt `.`).
pub(super) fn echo_start(line: &str) -> Option<&str> {
    if line.trim_end() == "." {
        return Some("");
    }
    line.strip_prefix(". ")
}

/// The command text of a loop-body echo line `  2. cmd`.
pub(super) fn loop_line(line: &str) -> Option<&str> {
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
pub(super) fn opens_do(code: &str) -> bool {
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

/// Whether an echoed command is `exit, STATA` (with or without `clear`): Stata itself ends, and
/// no `end of do-file` follows.
pub(super) fn exits_stata(code: &str) -> bool {
    let code = code.trim();
    let Some(rest) = code.strip_prefix("exit") else {
        return false;
    };
    let Some((_, options)) = rest.split_once(',') else {
        return false;
    };
    options.split_whitespace().any(|o| o == "STATA")
}

/// `N` if `trimmed` is `r(N);`.
pub fn rc_line(trimmed: &str) -> Option<i32> {
    trimmed.strip_prefix("r(")?.strip_suffix(");")?.parse().ok()
}

/// A log line the batch wrapper or Stata's own unwinding writes after the user's do-file ended:
/// blank, the last prompt `.`, `end of do-file`, `r(N);`.
pub(super) fn is_unwinding(trimmed: &str) -> bool {
    trimmed.is_empty()
        || trimmed == "."
        || trimmed == "end of do-file"
        || rc_line(trimmed).is_some()
}

/// The code of an echo (its lines joined with `\n`) with comments and all whitespace removed,
/// so that the echo of a command and the command as the do-file holds it compare equal however
/// Stata wrapped the echo.
pub(super) fn normalized_code(echo: &str) -> String {
    let mut out = String::new();
    for command in dofile::commands(echo) {
        out.extend(command.code.chars().filter(|c| !c.is_whitespace()));
    }
    out
}

/// `text` without any whitespace (how the echo of a known command line is compared).
pub(super) fn squeeze(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// A graph-export line: `file X saved as PNG format` or `(file X written in PNG format)`.
pub(super) fn graph_line(trimmed: &str, cwd: &Path) -> Option<GraphFile> {
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
