//! The guide's configuration reference names every flag and environment variable that the
//! binaries' `--help` shows, and the binaries describe themselves (not their package).

use std::process::Command;

const DEMO: &str = env!("CARGO_BIN_EXE_streaming-demo");

fn help(program: &str) -> String {
    let output = Command::new(program)
        .arg("--help")
        .output()
        .expect("--help runs");
    assert!(output.status.success());
    String::from_utf8(output.stdout).expect("UTF-8")
}

#[test]
fn the_configuration_reference_names_every_serving_flag() {
    let page = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../book/src/configuration.md"
    ))
    .expect("the page");
    let help = help(DEMO);
    let mut checked = 0;
    for word in help.split(|c: char| c.is_whitespace() || c == ',') {
        let word =
            word.trim_matches(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        let is_flag =
            word.starts_with("--") && word.len() > 2 && !["--help", "--version"].contains(&word);
        let is_env = word.starts_with("MCP_") || word == "RUST_LOG";
        if is_flag || is_env {
            checked += 1;
            assert!(
                page.contains(&format!("`{word}")),
                "the configuration reference lacks {word}"
            );
        }
    }
    assert!(
        checked >= 28,
        "only {checked} flags and variables found in:\n{help}"
    );
}

#[test]
fn each_binary_says_what_it_does() {
    for (program, says) in [
        (DEMO, "A streaming MCP server with one tool"),
        (
            env!("CARGO_BIN_EXE_streaming-client"),
            "Calls `count` on a streaming-demo server",
        ),
        (
            env!("CARGO_BIN_EXE_fixture-server"),
            "A server whose tools exist to be tested",
        ),
    ] {
        let help = help(program);
        assert!(help.starts_with(says), "{program}: {help}");
        assert!(!help.contains("double as the guide"), "{program}: {help}");
    }
}
