use mcp_core::tool;

/// Not a function.
#[tool]
struct NotAFunction;

fn main() {}
