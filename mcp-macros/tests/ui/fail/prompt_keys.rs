use mcp_core::prompt;

fn suggest(_: &str) -> Vec<String> {
    Vec::new()
}

/// Keys of tools and misspelled keys.
#[prompt(read_only, nmae = "typo")]
async fn tool_keys() -> String {
    String::new()
}

/// Keys set twice and values of the wrong kind.
#[prompt(name = "one", name = "two", title = 5)]
async fn twice() -> String {
    String::new()
}

/// Argument keys that belong to tools, or to nothing.
#[prompt]
async fn arg_keys(
    #[arg(min = 1, pattern = "^a")] count: u32,
    #[arg(completion = suggest)] word: String,
    #[arg(complete = "suggest")] other: String,
) -> String {
    format!("{count}{word}{other}")
}

fn main() {}
