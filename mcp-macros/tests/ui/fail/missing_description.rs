use mcp_core::tool;

#[tool]
async fn undocumented(n: u32) -> u32 {
    n
}

fn main() {}
