use mcp_core::tool;

/// A name with a space.
#[tool(name = "two words")]
async fn spaced() -> String {
    String::new()
}

fn main() {}
