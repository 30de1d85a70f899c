//! `stata-standin`: a small program that behaves as Stata is documented to behave, so the
//! `mcp-stata` tests can put it where Stata would be. Test equipment only: the plugin never runs
//! it in place of Stata.
//!
//! # Names and editions
//!
//! Copy or symlink the binary under Stata's own names (`stata-mp`, `stata-se`, `stata`,
//! `xstata-mp`, `StataMP-64.exe`, ...). The edition (`MP`, `SE`, `BE`) follows the name it was
//! started under (`argv[0]`), and shows in the banner and in `` `c(edition_real)' ``.
//!
//! # Command line
//!
//! - `-b`, `-e`, `/b`, `/e`: batch mode, `do file [args]` required. The log is written as
//!   `<stem>.log` in the current directory, where `<stem>` is the do-file's name without its
//!   extension, cut at the first space (`foo bar.do` logs to `foo.log`). It starts as public
//!   batch logs of Stata 15-18 do: the banner, then the echo of the top-level do-file
//!   (`. do file.do ` with a trailing space), a blank line, its commands.
//! - `-s`, `/s`: batch mode with an SMCL log, `<stem>.smcl`.
//! - `-q`, `/q`: no banner (see `STANDIN_BANNER`).
//! - no batch flag: console mode, commands read from standard input, output on standard output.
//!
//! A usage error goes to standard error with exit code 198. A completed batch run exits with 0,
//! whatever its do-file did. SIGINT and SIGTERM kill a batch run (exit by signal); in console mode
//! SIGINT is a break: `--Break--`, `r(1);`, and back to the prompt.
//!
//! # Switches (environment variables)
//!
//! | variable | values | effect |
//! | --- | --- | --- |
//! | `STANDIN_FLUSH` | `line` (default), `block`, `exit` | when the batch log (console: standard output) reaches the file: after every line, in 4 KiB blocks that may cut a line in two, or only at exit (console mode treats `exit` as `block`; both also flush when waiting for input) |
//! | `STANDIN_LICENSE_FAIL` | `1` | start-up fails: a licence message on standard error, no log, exit code 1 |
//! | `STANDIN_ORPHAN_ENGINE` | `1` | the work is done by a child process that outlives this one if only this pid is killed; only a process-group kill cleans up |
//! | `STANDIN_ECHO` | `1` (default), `0` | console mode: echo each command read from standard input as `. cmd`, or print only the prompt `. ` (no newline) |
//! | `STANDIN_MORE` | `0` (default), `1` | console mode: start with `set more on`: after every 10 output lines print `--more--` (no newline) and wait for a line on standard input |
//! | `STANDIN_BANNER` | `auto` (default), `always`, `never` | the start-up banner (logo, edition, licence block, notes): unless `-q`, whatever `-q` says, or never (whether `-q` leaves it out of a batch log is unconfirmed) |
//! | `STANDIN_DO_BLANK` | `1` (default), `0` | the blank line after the echo of a `do` (the top-level do-file's included) that public logs show; `0` leaves it out |
//! | `STANDIN_CONSOLE_STALL` | `1` | console mode: print two lines, then never read a command or answer (a console that hangs at start-up) |
//! | `STANDIN_GRAPH_MESSAGE` | `new` (default), `old`, `full` | `graph export` prints `file f.png saved as PNG format`, `(file f.png written in PNG format)`, or the new form with the absolute path |
//!
//! # Commands
//!
//! `display` (strings, compound quotes, numeric expressions, `as error|result|text`, `_n`),
//! `sleep N` (really waits, milliseconds), `set obs|more|linesize|seed`, `version`, `clear`,
//! `generate`, `cd`, `pwd`, `do`/`run` (nested, with arguments), `capture`, `quietly`,
//! `noisily`, `error N`, `exit [N] [, clear STATA]`, `log using|close` (text or SMCL),
//! `graph export f.png[, replace]` (writes a real PNG), `forvalues`, `local`, `global`, comments
//! (`*`, `//`, `/* */`, `///`, `#delimit ;`), `min()` and `max()` in expressions; for the data
//! and results (module `inspect`): `describe [varlist]`, `list [varlist] [in f/l]` (values that
//! `generate` computed per observation; an `if` condition is refused with `r(198)`),
//! `summarize [varlist]` (sets `r(N)`, `r(mean)`, ...), `return list`, `return clear`,
//! `ereturn list` (always empty), `help [topic]` (a few topics; otherwise `help for X not
//! found` and `try help contents or search X`, without an error code, as the console shows it);
//! and one test-only command:
//! `_standin_wait_file "path"` blocks until `path` exists (a break interrupts it), so a test can
//! let the run go on only after its client saw the previous output; `_standin_die N` writes a
//! crash report on standard error and exits at once with status `N`, the log cut where it
//! stands (a Stata that dies mid-run); `_standin_long_line N` prints one line of `N` `x`s and
//! `END`, not wrapped (what a Stata-compatible program may print). Anything else is
//! `command X is unrecognized` / `r(199);`.
//!
//! A UTF-8 byte-order mark at the start of a do-file is kept as part of the first command, which
//! then fails with `r(199)`: what Windows Stata does, and the worst case the plugin must handle.

mod cli;
mod commands;
mod console;
mod dofile;
mod expr;
mod inspect;
mod macros;
mod output;
mod png;
mod state;
mod userlog;

use std::path::Path;
use std::process::ExitCode;

use crate::cli::{Cli, Mode};
use crate::output::{FlushPolicy, Output};
use crate::state::{Flow, Stata};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let cli = match cli::parse(&args) {
        Ok(cli) => cli,
        Err(usage) => {
            eprintln!("{usage}");
            eprintln!("usage: stata [-b|-e|-s] [-q] [do filename [arguments]]");
            return ExitCode::from(198);
        }
    };
    if switch("STANDIN_LICENSE_FAIL") == Some("1".into()) {
        eprintln!("Cannot find license file");
        eprintln!("Your license could not be verified (stand-in licence failure switch).");
        return ExitCode::from(1);
    }
    if switch("STANDIN_ORPHAN_ENGINE") == Some("1".into())
        && switch("STANDIN_ENGINE_ROLE") != Some("engine".into())
    {
        return run_engine_child(&args, &cli);
    }
    match &cli.mode {
        Mode::Batch {
            do_file,
            args,
            smcl,
        } => run_batch(&cli, do_file, args, *smcl),
        Mode::Console => console::run(&cli),
    }
}

/// Whether to print the banner: `STANDIN_BANNER` `always`, `never`, or `auto` (the default:
/// unless `-q`).
pub(crate) fn banner_wanted(cli: &Cli) -> bool {
    match switch("STANDIN_BANNER").as_deref() {
        Some("always") => true,
        Some("never") => false,
        _ => !cli.quiet,
    }
}

/// Reads one switch from the environment.
pub(crate) fn switch(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The flush policy chosen by `STANDIN_FLUSH`.
pub(crate) fn flush_policy() -> FlushPolicy {
    match switch("STANDIN_FLUSH").as_deref() {
        Some("block") => FlushPolicy::Block,
        Some("exit") => FlushPolicy::Exit,
        _ => FlushPolicy::Line,
    }
}

/// The "orphan engine": the real work runs in a child process (same process group) that keeps
/// running if only this process is killed.
fn run_engine_child(args: &[String], cli: &Cli) -> ExitCode {
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    if matches!(cli.mode, Mode::Console) {
        // A break is meant for the engine; the parent must survive it.
        let ignored = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let _ = signal_hook::flag::register(signal_hook::consts::SIGINT, ignored);
    }
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("cannot start the engine: {e}");
            return ExitCode::from(1);
        }
    };
    let status = std::process::Command::new(exe)
        .arg0(&args[0])
        .args(&args[1..])
        .env("STANDIN_ENGINE_ROLE", "engine")
        .status();
    match status {
        Ok(status) => match (status.code(), status.signal()) {
            (Some(code), _) => ExitCode::from(code as u8),
            (None, Some(sig)) => ExitCode::from((128 + sig) as u8),
            _ => ExitCode::from(1),
        },
        Err(e) => {
            eprintln!("cannot start the engine: {e}");
            ExitCode::from(1)
        }
    }
}

/// Stem of the batch log: the file name without extension, cut at the first space.
fn log_stem(do_file: &str) -> String {
    let name = Path::new(do_file)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| do_file.to_owned());
    let cut = name.split(' ').next().unwrap_or(&name).to_owned();
    match cut.rfind('.') {
        Some(dot) if dot > 0 => cut[..dot].to_owned(),
        _ => cut,
    }
}

fn run_batch(cli: &Cli, do_file: &str, args: &[String], smcl: bool) -> ExitCode {
    let ext = if smcl { "smcl" } else { "log" };
    let log_path = format!("{}.{ext}", log_stem(do_file));
    let output = match Output::batch_log(Path::new(&log_path), flush_policy(), smcl) {
        Ok(output) => output,
        Err(e) => {
            eprintln!("cannot open {log_path}: {e}");
            return ExitCode::from(1);
        }
    };
    let mut stata = Stata::new(cli, output, None);
    if banner_wanted(cli) {
        stata.banner(true);
    }
    // The echo of the top-level do-file, as Stata writes it: the command line, a trailing space.
    let mut echo = String::from("do");
    for word in std::iter::once(do_file).chain(args.iter().map(String::as_str)) {
        echo.push(' ');
        if word.contains(' ') {
            echo.push_str(&format!("\"{word}\""));
        } else {
            echo.push_str(word);
        }
    }
    echo.push(' ');
    stata.out.echo(". ", &echo);
    match stata.run_do_file(do_file, args, commands::DoKind::Do) {
        Ok(()) | Err(Flow::ExitStata) | Err(Flow::ExitDo) => {}
        Err(Flow::Error(code)) => stata.out.rc_line(code),
    }
    stata.finish();
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::log_stem;

    #[test]
    fn log_stem_cuts_at_first_space_and_extension() {
        assert_eq!(log_stem("/a b/foo bar.do"), "foo");
        assert_eq!(log_stem("analysis.do"), "analysis");
        assert_eq!(log_stem("dir/run.v2.do"), "run.v2");
        assert_eq!(log_stem("noext"), "noext");
    }
}
