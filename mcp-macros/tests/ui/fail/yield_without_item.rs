use mcp_core::tool;

/// Yields nothing, then two things.
#[tool]
async fn empty_yield() -> String {
    yield_!();
    yield_!("a", "b");
    String::new()
}

fn main() {}
