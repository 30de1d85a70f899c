use mcp_core::tools;

/// Not an impl block.
#[tools]
async fn lonely() -> String {
    String::new()
}

fn main() {}
