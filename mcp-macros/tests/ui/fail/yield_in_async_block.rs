use mcp_core::tool;

/// Yields from an async block.
#[tool]
async fn from_async_block() -> String {
    let task = async {
        yield_!("inside");
    };
    task.await;
    String::new()
}

fn main() {}
