use std::path::Path;

use super::*;

fn feed_all(parser: &mut LogParser, log: &str) -> Vec<String> {
    log.lines()
        .filter(|&line| parser.feed(line).visible)
        .map(str::to_owned)
        .collect()
}

/// One fixture of `testdata/logs` (see its README for the sources).
struct Case {
    name: &'static str,
    do_command: &'static str,
    executed: usize,
    error: Option<(i32, &'static str)>,
    failed_at: Option<usize>,
    started: bool,
    completed: bool,
}

fn fixture(name: &str, ext: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/logs")
        .join(format!("{name}.{ext}"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const CASES: [Case; 5] = [
    Case {
        name: "stata18-banner",
        do_command: "do \"/work/dir/analysis.do\"",
        executed: 3,
        error: None,
        failed_at: None,
        started: true,
        completed: true,
    },
    Case {
        name: "quiet-noblank-error",
        do_command: "do \"/work/dir/analysis.do\"",
        executed: 3,
        error: Some((111, "bad_var not found")),
        failed_at: Some(3),
        started: true,
        completed: true,
    },
    Case {
        name: "stata15-wrapped",
        do_command: "do \"/work/a very long directory name/that keeps going/for quite a while/project/analysis.do\" \"first arg\" second",
        executed: 6,
        error: None,
        failed_at: None,
        started: true,
        completed: true,
    },
    Case {
        name: "stata18-cd-fails",
        do_command: "do \"/work/gone/analysis.do\"",
        executed: 0,
        error: None,
        failed_at: None,
        started: false,
        completed: false,
    },
    Case {
        name: "licence-expired",
        do_command: "do \"/work/dir/analysis.do\"",
        executed: 0,
        error: None,
        failed_at: None,
        started: false,
        completed: false,
    },
];

/// Every fixture: exactly the user's lines are visible (none dropped, none of the banner or the
/// wrapper's), the counts and the failing command are right.
#[test]
fn every_log_shape_keeps_every_user_line_and_counts_right() {
    for case in &CASES {
        let commands = dofile::commands(&fixture(case.name, "do"));
        let mut p = LogParser::batch(Path::new("/work/dir"), case.do_command)
            .with_commands(commands.clone());
        let visible = feed_all(&mut p, &fixture(case.name, "log"));
        let expected: Vec<String> = fixture(case.name, "user")
            .lines()
            .map(str::to_owned)
            .collect();
        assert_eq!(visible, expected, "{}", case.name);
        assert_eq!(p.executed(), case.executed, "{}", case.name);
        assert_eq!(p.started(), case.started, "{}", case.name);
        assert_eq!(p.completed(), case.completed, "{}", case.name);
        let error = p.error().map(|e| (e.code, e.message));
        assert_eq!(
            error,
            case.error.map(|(c, m)| (c, m.to_owned())),
            "{}",
            case.name
        );
        if case.error.is_some() {
            assert_eq!(
                p.last_command().map(|(n, _)| n),
                case.failed_at,
                "{}",
                case.name
            );
        }
        assert!(p.executed() <= commands.len(), "{}", case.name);
    }
}

#[test]
fn a_wrapper_command_that_fails_is_an_error_before_the_do_file() {
    let mut p = LogParser::batch(Path::new("/w"), "do \"/work/gone/analysis.do\"");
    feed_all(&mut p, &fixture("stata18-cd-fails", "log"));
    assert_eq!(
        p.preamble_error(),
        Some(&StataError {
            code: 170,
            message: "unable to change to /work/gone".into()
        })
    );
    assert_eq!(p.error(), None, "the user's do-file never ran");
}

/// The failing command is named only while the log matches the do-file's commands.
#[test]
fn the_failing_command_is_named_with_its_line() {
    let src = "set obs 3\n* note\ngen y = bad_var + 1\ndisplay 1\n";
    let log = ". do \"/w/a.do\"\n\n. set obs 3\nNumber of observations (_N) was 0, now 3.\n\n. * note\n. gen y = bad_var + 1\nbad_var not found\nr(111);\n\nend of do-file\nr(111);\n";
    let mut p =
        LogParser::batch(Path::new("/w"), "do \"/w/a.do\"").with_commands(dofile::commands(src));
    feed_all(&mut p, log);
    let (number, command) = p.last_command().unwrap();
    assert_eq!(
        (number, command.line, command.code.as_str()),
        (2, 3, "gen y = bad_var + 1")
    );
    // An echo the do-file does not hold (macros expanded by hand, say): no claim at all.
    let other = log.replace(". set obs 3", ". set obs 4");
    let mut p =
        LogParser::batch(Path::new("/w"), "do \"/w/a.do\"").with_commands(dofile::commands(src));
    feed_all(&mut p, &other);
    assert_eq!(p.last_command(), None);
    assert_eq!(p.error().unwrap().code, 111);
}

/// Without a blank line anywhere between commands, the do-file's own commands are still told
/// apart from output.
#[test]
fn the_next_command_is_recognised_without_a_blank_line() {
    let src = "display 1\ndisplay 2\n";
    let log = ". do \"/w/a.do\"\n. display 1\n1\n. display 2\n2\n. \nend of do-file\n";
    let mut p =
        LogParser::batch(Path::new("/w"), "do \"/w/a.do\"").with_commands(dofile::commands(src));
    let visible = feed_all(&mut p, log);
    assert_eq!(p.executed(), 2);
    assert!(p.completed());
    assert_eq!(visible.len(), 6);
    // Output that looks like an echo but is not the next command stays output.
    let log = ". do \"/w/a.do\"\n\n. display 1\n. 1\n\n. display 2\n2\n\n. \nend of do-file\n";
    let mut p =
        LogParser::batch(Path::new("/w"), "do \"/w/a.do\"").with_commands(dofile::commands(src));
    feed_all(&mut p, log);
    assert_eq!(p.executed(), 2);
}

#[test]
fn exit_stata_completes_the_do_file() {
    let log = ". do \"/w/a.do\"\n\n. display 1\n1\n\n. exit, clear STATA\n";
    let mut p = LogParser::batch(Path::new("/w"), "do \"/w/a.do\"");
    feed_all(&mut p, log);
    assert!(p.completed());
    let mut p = LogParser::batch(Path::new("/w"), "do \"/w/a.do\"");
    feed_all(
        &mut p,
        &log.replace(". exit, clear STATA\n", ". display 2\n"),
    );
    assert!(!p.completed(), "no end of do-file: the log was cut");
}

const WRAPPED_SUCCESS: &str = "
. cd \"/work/dir\"
/work/dir

. do \"/work/dir/analysis.do\"

. * comment
. set obs 100
Number of observations (_N) was 0, now 100.

. display \"a\" ///
>   \"b\"
ab

. 
end of do-file

. 
end of do-file
";

#[test]
fn success_counts_user_commands_and_hides_the_wrapper() {
    // The wrapper's `cd` is the preamble: the directory comes from the caller.
    let mut p = LogParser::batch(Path::new("/work/dir"), "do \"/work/dir/analysis.do\"");
    let visible = feed_all(&mut p, WRAPPED_SUCCESS);
    assert_eq!(p.executed(), 2, "the comment is not a command");
    assert_eq!(p.error(), None);
    assert_eq!(p.cwd(), Path::new("/work/dir"));
    assert!(!visible.iter().any(|l| l.contains("cd \"/work/dir\"")));
    assert!(!visible.iter().any(|l| l.contains("analysis.do")));
    assert!(visible.contains(&"Number of observations (_N) was 0, now 100.".to_owned()));
    assert!(visible.contains(&">   \"b\"".to_owned()));
    assert_eq!(visible.iter().filter(|l| *l == "end of do-file").count(), 1);
}

const NESTED_ERROR: &str = "
. do \"/w/main.do\"

. display 1
1

. do inner.do

. gen y = bad_var + 1
bad_var not found
r(111);

end of do-file
r(111);

end of do-file
r(111);

end of do-file
r(111);
";

#[test]
fn nested_error_unwinds_to_one_outcome() {
    let mut p = LogParser::batch(Path::new("/w"), "do \"/w/main.do\"");
    let visible = feed_all(&mut p, NESTED_ERROR);
    assert_eq!(
        p.error(),
        Some(StataError {
            code: 111,
            message: "bad_var not found".into()
        })
    );
    assert_eq!(p.executed(), 2, "display and do at the user's level");
    assert!(visible.contains(&". gen y = bad_var + 1".to_owned()));
    // The inner error, the user's `do inner.do` failing, and the r(111); that ends the user's
    // file (as a log of it alone would show); the last two belong to the wrapper.
    assert_eq!(visible.iter().filter(|l| *l == "r(111);").count(), 3);
    assert!(p.completed());
}

#[test]
fn spec_example_single_level() {
    let log = "
. * comment
. set obs 100
Number of observations (_N) was 0, now 100.

. gen y = bad_var + 1
bad_var not found
r(111);

end of do-file
r(111);
";
    let mut p = LogParser::plain(Path::new("/w"));
    feed_all(&mut p, log);
    assert_eq!(p.executed(), 2);
    let err = p.error().unwrap();
    assert_eq!((err.code, err.message.as_str()), (111, "bad_var not found"));
}

#[test]
fn captured_error_then_success_is_success() {
    let log = "
. capture noisily error 198
invalid syntax

. display \"r(198);\"
r(198);

. display 2
2

. 
end of do-file
";
    let mut p = LogParser::plain(Path::new("/w"));
    feed_all(&mut p, log);
    assert_eq!(p.error(), None);
    assert_eq!(p.executed(), 3);
}

#[test]
fn multi_line_message_and_break() {
    let log = "
. sleep 100000
--Break--
r(1);

end of do-file
r(1);
";
    let mut p = LogParser::plain(Path::new("/w"));
    feed_all(&mut p, log);
    assert_eq!(
        p.error(),
        Some(StataError {
            code: 1,
            message: "--Break--".into()
        })
    );
    let log = "
. regress y x
no observations
first line of detail
r(2000);

end of do-file
r(2000);
";
    let mut p = LogParser::plain(Path::new("/w"));
    feed_all(&mut p, log);
    let err = p.error().unwrap();
    assert_eq!(err.code, 2000);
    assert_eq!(err.message, "no observations\nfirst line of detail");
}

#[test]
fn loops_count_body_lines_once() {
    let log = "
. forvalues i = 1/3 {
  2.     display `i'
  3.     * a comment
  4. }
1
2
3

. 
end of do-file
";
    let mut p = LogParser::plain(Path::new("/w"));
    feed_all(&mut p, log);
    assert_eq!(
        p.executed(),
        2,
        "header and display; the comment and the brace are not commands"
    );
}

#[test]
fn wrapped_echo_and_block_comment_echo() {
    let log = "
. display \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
> aaaa\"
aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa

. /* a comment
>    still */ display 2
2

. /* only
> a comment */
";
    let mut p = LogParser::plain(Path::new("/w"));
    feed_all(&mut p, log);
    assert_eq!(p.executed(), 2);
}

#[test]
fn graphs_new_old_and_absolute_follow_cd() {
    let log = "
. graph export \"g 1.png\", replace
file g 1.png saved as PNG format

. cd \"/data/out\"
/data/out

. graph export old.png
(file old.png written in PNG format)

. graph export /abs/x.png
file /abs/x.png saved as PNG format

. graph export \"g 1.png\", replace
file g 1.png saved as PNG format
";
    let mut p = LogParser::plain(Path::new("/start dir"));
    feed_all(&mut p, log);
    let paths: Vec<&Path> = p.graphs().iter().map(|g| g.path.as_path()).collect();
    assert_eq!(
        paths,
        [
            Path::new("/start dir/g 1.png"),
            Path::new("/data/out/old.png"),
            Path::new("/abs/x.png"),
            Path::new("/data/out/g 1.png"),
        ]
    );
    assert!(p.graphs().iter().all(|g| g.format == "PNG"));
}

#[test]
fn console_preamble_with_and_without_echo() {
    // Echo on: our own `do` line (wrapped) and the do-file's opening blank line are skipped.
    let echoed = ". do \"/tmp/session/cmd_1.do\"
> 

. display 5
5

. 
end of do-file

";
    let mut p = LogParser::console(Path::new("/tmp"), "do \"/tmp/session/cmd_1.do\"");
    let visible = feed_all(&mut p, echoed);
    assert_eq!(p.executed(), 1);
    assert!(!visible.iter().any(|l| l.contains("cmd_1.do")));
    // Echo off: the prompt `. ` sits in front of the do-file's opening blank line.
    let prompt = ". 
. display 5
5

. gen x = q
q not found
r(111);

end of do-file
r(111);

";
    let mut p = LogParser::console(Path::new("/tmp"), "do \"/tmp/session/cmd_1.do\"");
    feed_all(&mut p, prompt);
    assert_eq!(p.executed(), 2);
    assert_eq!(p.error().unwrap().message, "q not found");
}

#[test]
fn smcl_markup_is_removed() {
    assert_eq!(strip_smcl("{com}. display 5+5"), ". display 5+5");
    assert_eq!(strip_smcl("{res}10"), "10");
    assert_eq!(
        strip_smcl("{err}variable {bf}x{sf} not found"),
        "variable x not found"
    );
    assert_eq!(strip_smcl("{txt}{search r(111), local:r(111);}"), "r(111);");
    assert_eq!(strip_smcl("{c -(}braces{c )-}"), "{braces}");
    assert_eq!(strip_smcl("{smcl}"), "");
    let log = "{smcl}
{txt}
{com}. display 5+5
{res}10
{txt}
{com}. gen y = bad
{err}bad not found
{txt}{search r(111), local:r(111);}
";
    let mut p = LogParser::plain(Path::new("/w")).with_format(LogFormat::Smcl);
    feed_all(&mut p, log);
    assert_eq!(p.executed(), 2);
    assert_eq!(
        p.error(),
        Some(StataError {
            code: 111,
            message: "bad not found".into()
        })
    );
}

#[test]
fn rc_lines() {
    assert_eq!(rc_line("r(111);"), Some(111));
    assert_eq!(rc_line("r(1);"), Some(1));
    assert_eq!(rc_line("r(x);"), None);
    assert_eq!(rc_line("(r(111);)"), None);
}
