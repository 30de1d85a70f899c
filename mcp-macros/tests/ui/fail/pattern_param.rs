use mcp_core::tool;

/// Destructures a tuple.
#[tool]
async fn pair((a, b): (u32, u32), _: String) -> u32 {
    a + b
}

fn main() {}
