//! Every misuse of `#[tool]` and `#[tools]` fails to compile with a message at the user's
//! token. The expected messages are the `.stderr` files beside each case; regenerate them with
//! `TRYBUILD=overwrite cargo test -p mcp-macros --test ui` and read every change.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/fail/*.rs");
}
