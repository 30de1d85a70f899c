//! Constraints on arguments: in the schema, and checked before the body runs.

// ANCHOR: all
use mcp_core::tool;

/// Repeats a word, reporting each repetition.
#[tool]
pub async fn repeat(
    /// The word: 1 to 20 lowercase letters.
    #[arg(min_len = 1, max_len = 20, pattern = "^[a-z]+$")]
    word: String,
    /// How many times, from 1 to 10.
    #[arg(min = 1, max = 10)]
    times: u32,
) -> String {
    // Never reached with `times: 11` or `word: "Hello"`: the call fails before the body runs,
    // with a result (isError: true) that says which argument breaks which constraint.
    for i in 1..=times {
        yield_!(format!("{i} of {times}"));
    }
    vec![word; times as usize].join(" ")
}
// ANCHOR_END: all
