//! The stand-in's data and results commands: `describe`, `list`, `summarize`, `return list`,
//! `ereturn list`, `help`, and `min()`/`max()` in expressions.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_stata-standin");

/// Runs `code` as a batch do-file; the log.
fn run(code: &str) -> String {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("t.do"), code).unwrap();
    let status = Command::new(BIN)
        .args(["-b", "-q", "do", "t.do"])
        .current_dir(tmp.path())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    std::fs::read_to_string(tmp.path().join("t.log")).unwrap()
}

/// The output lines of the command echoed as `. echo` (up to the next blank line).
fn output_of<'a>(log: &'a str, echo: &str) -> Vec<&'a str> {
    let mut lines = log.lines().skip_while(|l| *l != format!(". {echo}"));
    assert!(lines.next().is_some(), "no `. {echo}` in:\n{log}");
    let mut out: Vec<&str> = lines.take_while(|l| !l.starts_with(". ")).collect();
    while out.last() == Some(&"") {
        out.pop();
    }
    out
}

#[test]
fn generate_stores_values_that_list_shows() {
    let log = run("set obs 4\ngen y = _n * 2\ngen x = y + 1\nlist in 2/3\nlist x\n");
    assert_eq!(
        output_of(&log, "list in 2/3"),
        [
            "",
            "     +-------+",
            "     | y   x |",
            "     |-------|",
            "  2. | 4   5 |",
            "  3. | 6   7 |",
            "     +-------+",
        ]
    );
    assert_eq!(output_of(&log, "list x").len(), 1 + 3 + 4 + 1);
}

#[test]
fn list_out_of_range_and_if_are_errors() {
    let log = run("set obs 2\ngen y = 1\nlist y in 1/5\n");
    assert!(log.contains("Obs. nos. out of range\nr(198);"), "{log}");
    let log = run("set obs 2\ngen y = 1\nlist y if y > 0\n");
    assert!(log.contains("r(198);"), "{log}");
    let log = run("set obs 2\nlist nothing\n");
    assert!(log.contains("variable nothing not found\nr(111);"), "{log}");
}

#[test]
fn describe_counts_observations_and_variables() {
    let log = run("set obs 7\ngen a = 1\ngen b = 2\ndescribe\n");
    let out = output_of(&log, "describe");
    assert_eq!(out[1], "Contains data");
    assert_eq!(out[2], " Observations:             7");
    assert_eq!(out[3], "    Variables:             2");
    assert!(out.iter().any(|l| l.starts_with("a               float")));
    assert_eq!(
        out.last(),
        Some(&"     Note: Dataset has changed since last saved.")
    );
}

#[test]
fn summarize_sets_r_and_return_list_shows_it() {
    let log = run("set obs 4\ngen y = _n\nsummarize y\nreturn list\nereturn list\n");
    let table = output_of(&log, "summarize y");
    assert_eq!(
        table[3],
        "           y |          4         2.5    1.2909944          1          4"
    );
    let results = output_of(&log, "return list");
    assert_eq!(results[1], "scalars:");
    assert_eq!(results[2], "                  r(N) =  4");
    assert!(results.contains(&"               r(mean) =  2.5"));
    assert!(results.contains(&"                r(sum) =  10"));
    assert!(output_of(&log, "ereturn list").is_empty());
}

#[test]
fn help_shows_a_known_topic_and_says_when_there_is_none() {
    let log = run("help summarize\nhelp no_such_thing\ndisplay min(3, 9) + max(1, 2)\n");
    assert_eq!(
        output_of(&log, "help summarize")[0],
        "[R] summarize -- Summary statistics"
    );
    assert_eq!(
        output_of(&log, "help no_such_thing"),
        [
            "help for no_such_thing not found",
            "try help contents or search no_such_thing"
        ]
    );
    assert_eq!(output_of(&log, "display min(3, 9) + max(1, 2)"), ["5"]);
    assert!(!log.contains("r(1"), "help without a topic is not an error");
}
