use mcp_core::tool;

/// Yields from a nested function.
#[tool]
async fn nested() -> String {
    fn helper() {
        yield_!("from a nested fn");
    }
    helper();
    String::new()
}

fn main() {}
