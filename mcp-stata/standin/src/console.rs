//! Console mode: commands from standard input, the same echo and output format on standard
//! output, SIGINT as a break, and the `exit` rules.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::cli::Cli;
use crate::dofile;
use crate::output::{Output, Style};
use crate::state::{Flow, Stata};

/// Runs the console until `exit` (or the end of standard input).
pub(crate) fn run(cli: &Cli) -> ExitCode {
    let brk = Arc::new(AtomicBool::new(false));
    if signal_hook::flag::register(signal_hook::consts::SIGINT, Arc::clone(&brk)).is_err() {
        eprintln!("cannot install the break handler");
        return ExitCode::from(1);
    }
    let mut out = Output::console(crate::flush_policy());
    out.more = crate::switch("STANDIN_MORE").as_deref() == Some("1");
    let echo = crate::switch("STANDIN_ECHO").as_deref() != Some("0");
    let mut stata = Stata::new(cli, out, Some(Arc::clone(&brk)));
    if crate::banner_wanted(cli) {
        stata.banner(false);
    }
    if crate::switch("STANDIN_CONSOLE_STALL").as_deref() == Some("1") {
        stata
            .out
            .line(Style::Text, "Checking the licence server...");
        stata.out.line(
            Style::Text,
            "(stand-in: this console stalls and never answers)",
        );
        stata.out.waiting_for_input();
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
    loop {
        if !echo {
            stata.out.partial(". ");
        }
        stata.out.waiting_for_input();
        let mut line = String::new();
        match std::io::stdin().read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        // A break that arrived while waiting for input is spent.
        brk.store(false, Ordering::SeqCst);
        let line = line.trim_end_matches(['\n', '\r']);
        if echo {
            stata.out.echo(". ", line);
        }
        match run_line(&mut stata, line) {
            Ok(()) | Err(Flow::ExitDo) => stata.out.blank(),
            Err(Flow::Error(code)) => {
                stata.out.rc_line(code);
                stata.out.blank();
            }
            Err(Flow::ExitStata) => break,
        }
    }
    stata.finish();
    ExitCode::SUCCESS
}

/// One line typed at the prompt (comments allowed; blocks are not).
fn run_line(stata: &mut Stata, line: &str) -> Result<(), Flow> {
    let code: String = dofile::split(line)
        .into_iter()
        .map(|s| s.code)
        .collect::<Vec<_>>()
        .join(" ");
    if code.trim_end().ends_with('{') {
        stata.out.line(
            Style::Error,
            "program error: { at the prompt needs a do-file",
        );
        return Err(Flow::Error(198));
    }
    stata.exec(&code)
}
