use std::path::Path;

use super::*;

fn feed_all(parser: &mut LogParser, log: &str) -> Vec<String> {
    log.lines()
        .filter(|&line| parser.feed(line).visible)
        .map(str::to_owned)
        .collect()
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
    let mut p = LogParser::batch(Path::new("/tmp"));
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
    let mut p = LogParser::batch(Path::new("/w"));
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
    // The last two r(111); belong to the wrapper and the batch driver.
    assert_eq!(visible.iter().filter(|l| *l == "r(111);").count(), 2);
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
    let mut p = LogParser::console(Path::new("/tmp"));
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
    let mut p = LogParser::console(Path::new("/tmp"));
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
