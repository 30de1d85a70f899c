use mcp_core::tool;

/// Unknown keys everywhere.
#[tool(nmae = "typo", readonly)]
async fn typo(
    #[arg(defualt = 3)] n: u32,
) -> u32 {
    n
}

fn main() {}
