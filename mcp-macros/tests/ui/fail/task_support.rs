use mcp_core::tool;

/// A misspelt task support.
#[tool(task = "optinal")]
async fn misspelt() -> String {
    String::new()
}

/// Task support as a flag.
#[tool(task)]
async fn flag() -> String {
    String::new()
}

/// Task support as a boolean.
#[tool(task = true)]
async fn boolean() -> String {
    String::new()
}

/// Task support given twice.
#[tool(task = "optional", task = "required")]
async fn twice() -> String {
    String::new()
}

fn main() {}
