use mcp_core::tool;

/// Yields from a closure.
#[tool]
async fn from_closure(items: Vec<String>) -> String {
    items.iter().for_each(|item| {
        yield_!(item.clone());
    });
    String::new()
}

fn main() {}
