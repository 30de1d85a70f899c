use mcp_core::tool;

/// Not async.
#[tool]
fn sync_tool(n: u32) -> u32 {
    n
}

fn main() {}
