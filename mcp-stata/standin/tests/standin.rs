//! The stand-in behaves as STATA.md describes: log format, unwinding, flags, switches.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_stata-standin");

/// A temporary directory with the stand-in installed as `name`.
fn setup(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let exe = tmp.path().join(name);
    std::os::unix::fs::symlink(BIN, &exe).unwrap();
    (tmp, exe)
}

fn batch(exe: &Path, dir: &Path, do_file: &str, env: &[(&str, &str)]) -> std::process::Output {
    Command::new(exe)
        .args(["-b", "-q", "do", do_file])
        .current_dir(dir)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// Waits (bounded) until `path` exists: the stand-in made it right before blocking.
fn await_file(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn batch_log_matches_the_documented_format() {
    let (tmp, exe) = setup("stata-mp");
    std::fs::write(
        tmp.path().join("ex.do"),
        "* comment\nset obs 100\ngen y = bad_var + 1\n",
    )
    .unwrap();
    let out = batch(&exe, tmp.path(), "ex.do", &[]);
    assert_eq!(out.status.code(), Some(0), "exit code 0 even on error");
    assert!(out.stdout.is_empty());
    let log = std::fs::read_to_string(tmp.path().join("ex.log")).unwrap();
    assert_eq!(
        log,
        ". do ex.do \n\n. * comment\n. set obs 100\nNumber of observations (_N) was 0, now 100.\n\n\
         . gen y = bad_var + 1\nbad_var not found\nr(111);\n\nend of do-file\nr(111);\n"
    );
}

#[test]
fn success_ends_with_the_final_prompt_and_nesting_unwinds_per_level() {
    let (tmp, exe) = setup("stata");
    std::fs::write(tmp.path().join("ok.do"), "display 5+5\n").unwrap();
    batch(&exe, tmp.path(), "ok.do", &[]);
    let log = std::fs::read_to_string(tmp.path().join("ok.log")).unwrap();
    assert_eq!(
        log,
        ". do ok.do \n\n. display 5+5\n10\n\n. \nend of do-file\n"
    );

    std::fs::write(tmp.path().join("inner.do"), "error 198\n").unwrap();
    std::fs::write(tmp.path().join("outer file.do"), "do inner\n").unwrap();
    batch(&exe, tmp.path(), "outer file.do", &[]);
    let log = std::fs::read_to_string(tmp.path().join("outer.log")).unwrap();
    assert_eq!(
        log,
        ". do \"outer file.do\" \n\n. do inner\n\n. error 198\ninvalid syntax\nr(198);\n\n\
         end of do-file\nr(198);\n\nend of do-file\nr(198);\n"
    );
}

#[test]
fn loops_continuations_and_long_lines() {
    let (tmp, exe) = setup("stata");
    std::fs::write(
        tmp.path().join("l.do"),
        format!(
            "forvalues i = 1/2 {{\n  display \"i`i'\"\n}}\ndisplay \"a\" ///\n  \"b\"\ndisplay \"{}\"\n",
            "z".repeat(90)
        ),
    )
    .unwrap();
    batch(&exe, tmp.path(), "l.do", &[]);
    let log = std::fs::read_to_string(tmp.path().join("l.log")).unwrap();
    assert!(
        log.contains(". forvalues i = 1/2 {\n  2.   display \"i`i'\"\n  3. }\ni1\ni2\n"),
        "{log}"
    );
    assert!(
        log.contains(". display \"a\" ///\n>   \"b\"\nab\n"),
        "{log}"
    );
    assert!(log.lines().all(|l| l.chars().count() <= 80), "{log}");
    assert!(
        log.lines().any(|l| l.starts_with("> zzz")),
        "long echo wraps with '> ': {log}"
    );
}

/// The shapes public logs show and the unconfirmed ones: the banner (with or without `-q`), the
/// top-level echo, the blank line after each `do` echo, or none.
#[test]
fn banner_and_blank_line_switches() {
    let (tmp, exe) = setup("stata-mp");
    std::fs::write(tmp.path().join("s.do"), "display 1\n").unwrap();
    batch(&exe, tmp.path(), "s.do", &[("STANDIN_BANNER", "always")]);
    let log = std::fs::read_to_string(tmp.path().join("s.log")).unwrap();
    let start = log
        .find("\n. do s.do \n\n. display 1\n1\n")
        .unwrap_or_else(|| panic!("{log}"));
    let banner = &log[..start];
    assert!(banner.starts_with("\n  ___  ____"), "{log}");
    assert!(banner.contains("MP\u{2014}Parallel Edition"), "{log}");
    assert!(banner.contains("Serial number:"), "{log}");
    assert!(
        banner.contains("Notes:\n      1. Stata is running in batch mode.\n"),
        "{log}"
    );

    batch(&exe, tmp.path(), "s.do", &[("STANDIN_DO_BLANK", "0")]);
    let log = std::fs::read_to_string(tmp.path().join("s.log")).unwrap();
    assert_eq!(log, ". do s.do \n. display 1\n1\n\n. \nend of do-file\n");
}

#[test]
fn a_crash_cuts_the_log_and_exits_non_zero() {
    let (tmp, exe) = setup("stata-mp");
    std::fs::write(
        tmp.path().join("c.do"),
        "display 1\n_standin_die 3\ndisplay 2\n",
    )
    .unwrap();
    let out = batch(&exe, tmp.path(), "c.do", &[]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Traceback"));
    let log = std::fs::read_to_string(tmp.path().join("c.log")).unwrap();
    assert_eq!(log, ". do c.do \n\n. display 1\n1\n\n. _standin_die 3\n");
}

#[test]
fn usage_and_licence_failures_go_to_stderr_without_a_log() {
    let (tmp, exe) = setup("stata-mp");
    let out = Command::new(&exe)
        .arg("-b")
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage"));

    std::fs::write(tmp.path().join("x.do"), "display 1\n").unwrap();
    let out = batch(&exe, tmp.path(), "x.do", &[("STANDIN_LICENSE_FAIL", "1")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("license"));
    assert!(!tmp.path().join("x.log").exists());
}

#[test]
fn edition_follows_the_program_name() {
    for (name, edition) in [("stata-mp", "MP"), ("stata-se", "SE"), ("stata", "BE")] {
        let (tmp, exe) = setup(name);
        std::fs::write(tmp.path().join("e.do"), "display \"`c(edition_real)'\"\n").unwrap();
        batch(&exe, tmp.path(), "e.do", &[]);
        let log = std::fs::read_to_string(tmp.path().join("e.log")).unwrap();
        assert!(log.contains(&format!("\n{edition}\n")), "{name}: {log}");
    }
}

#[test]
fn byte_order_mark_fails_like_windows_stata() {
    let (tmp, exe) = setup("stata");
    std::fs::write(tmp.path().join("b.do"), "\u{feff}display 1\n").unwrap();
    batch(&exe, tmp.path(), "b.do", &[]);
    let log = std::fs::read_to_string(tmp.path().join("b.log")).unwrap();
    assert!(log.contains("is unrecognized\nr(199);"), "{log}");
}

#[test]
fn smcl_batch_log_and_user_logs() {
    let (tmp, exe) = setup("stata");
    std::fs::write(
        tmp.path().join("s.do"),
        "log using mine.log, text\ndisplay 5+5\nlog close\nlog using other\ngen y = bad\n",
    )
    .unwrap();
    let out = Command::new(&exe)
        .args(["-s", "-q", "do", "s.do"])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let smcl = std::fs::read_to_string(tmp.path().join("s.smcl")).unwrap();
    assert!(smcl.starts_with("{smcl}\n"));
    assert!(smcl.contains("{com}. display 5+5\n{res}10\n"), "{smcl}");
    assert!(smcl.contains("{err}bad not found\n{txt}{search r(111), local:r(111);}\n"));
    let text = std::fs::read_to_string(tmp.path().join("mine.log")).unwrap();
    assert!(text.contains("  log type:  text"), "{text}");
    assert!(text.contains(" opened on:  "));
    assert!(text.contains("\n. display 5+5\n10\n"));
    assert!(text.contains(" closed on:  "));
    let other = std::fs::read_to_string(tmp.path().join("other.smcl")).unwrap();
    assert!(other.contains("{err}bad not found"), "{other}");
}

/// What the log holds while the do-file is blocked, under each flush policy.
#[test]
fn flush_policies() {
    for policy in ["line", "block", "exit"] {
        let (tmp, exe) = setup("stata");
        let go = tmp.path().join("go");
        std::fs::write(
            tmp.path().join("f.do"),
            format!(
                "forvalues i = 1/400 {{\n  display \"line `i' of many\"\n}}\n\
                 graph export reached.png\n_standin_wait_file \"{}\"\n",
                go.display()
            ),
        )
        .unwrap();
        let mut child = Command::new(&exe)
            .args(["-b", "-q", "do", "f.do"])
            .current_dir(tmp.path())
            .env("STANDIN_FLUSH", policy)
            .spawn()
            .unwrap();
        await_file(&tmp.path().join("reached.png"));
        let during = std::fs::read(tmp.path().join("f.log")).unwrap();
        match policy {
            "line" => {
                let text = String::from_utf8_lossy(&during);
                assert!(text.contains("line 400 of many\n"), "{text}");
                assert!(text.ends_with('\n'));
            }
            "block" => {
                assert!(!during.is_empty());
                assert_eq!(during.len() % 4096, 0, "whole blocks only");
            }
            _ => assert!(during.is_empty(), "nothing before exit"),
        }
        std::fs::write(&go, "").unwrap();
        assert!(child.wait().unwrap().success());
        let log = std::fs::read_to_string(tmp.path().join("f.log")).unwrap();
        assert!(log.contains("line 400 of many\n") && log.ends_with("end of do-file\n"));
    }
}

#[test]
fn sigterm_kills_a_batch_run() {
    let (tmp, exe) = setup("stata");
    std::fs::write(
        tmp.path().join("h.do"),
        "graph export r.png\nsleep 600000\n",
    )
    .unwrap();
    let mut child = Command::new(&exe)
        .args(["-b", "-q", "do", "h.do"])
        .current_dir(tmp.path())
        .spawn()
        .unwrap();
    await_file(&tmp.path().join("r.png"));
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert_eq!(child.wait().unwrap().signal(), Some(15));
}

fn live_in_group(pgid: u32) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_string_lossy().parse::<u32>().ok())
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/stat")).ok())
        .filter(|stat| {
            let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 1..]
                .split_whitespace()
                .collect();
            fields[2] == pgid.to_string() && fields[0] != "Z"
        })
        .count()
}

#[test]
fn orphan_engine_survives_its_parent() {
    let (tmp, exe) = setup("stata-mp");
    std::fs::write(
        tmp.path().join("o.do"),
        "graph export r.png\nsleep 600000\n",
    )
    .unwrap();
    let mut child = Command::new(&exe)
        .args(["-b", "-q", "do", "o.do"])
        .current_dir(tmp.path())
        .env("STANDIN_ORPHAN_ENGINE", "1")
        .process_group(0)
        .spawn()
        .unwrap();
    let pgid = child.id();
    await_file(&tmp.path().join("r.png"));
    assert_eq!(live_in_group(pgid), 2);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(live_in_group(pgid), 1, "the engine outlives its parent");
    Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while live_in_group(pgid) > 0 {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Console: echo, errors, the r(4) exit rule, paging, and a break that keeps the session.
#[test]
fn console_session() {
    let (tmp, exe) = setup("stata-mp");
    let mut child = Command::new(&exe)
        .arg("-q")
        .current_dir(tmp.path())
        .env("STANDIN_MORE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // A hung exchange fails the test instead of hanging it.
    let (finished, watchdog) = std::sync::mpsc::channel::<()>();
    let pid = child.id();
    std::thread::spawn(move || {
        if watchdog.recv_timeout(Duration::from_secs(60)).is_err() {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    });
    let mut stdin = child.stdin.take().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut read_until = |want: &str| -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            let mut line = String::new();
            assert!(
                out.read_line(&mut line).unwrap() > 0,
                "EOF before {want:?}: {seen:?}"
            );
            let line = line.trim_end_matches('\n').to_owned();
            let done = line == want;
            seen.push(line);
            if done {
                return seen;
            }
        }
    };
    // Paging is on: after 10 lines, --more-- waits for a key (here: an empty line).
    writeln!(stdin, "forvalues_is_not_here").unwrap();
    writeln!(stdin, "set obs 3").unwrap();
    let seen = read_until("Number of observations (_N) was 0, now 3.");
    assert!(seen.contains(&"command forvalues_is_not_here is unrecognized".to_owned()));
    assert!(seen.contains(&"r(199);".to_owned()));
    // 16 lines: one page break.
    let page: String = (0..4).map(|i| format!("display {i}\n")).collect();
    std::fs::write(tmp.path().join("p.do"), page).unwrap();
    writeln!(stdin, "do p.do").unwrap();
    writeln!(stdin).unwrap();
    writeln!(stdin, "set more off").unwrap();
    let seen = read_until("end of do-file");
    assert_eq!(
        seen.iter().filter(|l| l.starts_with("--more--")).count(),
        1,
        "{seen:?}"
    );

    writeln!(stdin, "exit").unwrap();
    let seen = read_until("r(4);");
    assert!(seen.contains(&"no; dataset in memory has changed since last saved".to_owned()));

    writeln!(stdin, "display \"waiting\"").unwrap();
    writeln!(stdin, "sleep 600000").unwrap();
    read_until("waiting");
    read_until(". sleep 600000");
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let seen = read_until("r(1);");
    assert!(seen.contains(&"--Break--".to_owned()));
    writeln!(stdin, "display _N").unwrap();
    read_until("3");
    writeln!(stdin, "exit, clear STATA").unwrap();
    assert!(child.wait().unwrap().success());
    let _ = finished.send(());
}
