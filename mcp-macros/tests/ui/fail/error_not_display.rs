use mcp_core::tool;

#[derive(Debug)]
struct Failure;

/// Fails with an error that has no text.
#[tool]
async fn fails() -> Result<String, Failure> {
    Err(Failure)
}

fn main() {}
