use mcp_core::tool;

fn suggest(_: &str) -> Vec<String> {
    Vec::new()
}

/// Constraints on types they do not apply to.
#[tool]
async fn wrong_types(
    #[arg(min = 1)] text: String,
    #[arg(max_len = 3)] count: u32,
    #[arg(pattern = "^a")] flag: bool,
) -> String {
    format!("{text}{count}{flag}")
}

/// Bounds that no value passes, a pattern that does not compile.
#[tool]
async fn impossible(
    #[arg(min = 10, max = 1)] count: u32,
    #[arg(min_len = 5, max_len = 2)] word: String,
    #[arg(pattern = "(unclosed")] other: String,
) -> String {
    format!("{count}{word}{other}")
}

/// Values of the wrong kind.
#[tool]
async fn wrong_values(
    #[arg(min = "one")] count: u32,
    #[arg(min_len = -1, max_len = 2.5)] word: String,
    #[arg(pattern = 5)] other: String,
    #[arg(complete = suggest)] suggested: String,
) -> String {
    format!("{count}{word}{other}{suggested}")
}

fn main() {}
