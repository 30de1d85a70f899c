use mcp_core::tool;

/// Keys set twice.
#[tool(name = "one", name = "two", read_only, read_only = false)]
async fn twice(
    #[arg(default = 1)]
    #[arg(default = 2)]
    n: u32,
) -> u32 {
    n
}

fn main() {}
