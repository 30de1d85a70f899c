use mcp_core::tool;

/// Values of the wrong kind.
#[tool(name = 5, title, read_only = "yes", crate = mcp_core)]
async fn wrong(
    #[arg(rename = rename_me, description(text))] n: u32,
) -> u32 {
    n
}

fn main() {}
