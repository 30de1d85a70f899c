use mcp_core::tool;

/// Generic over its argument.
#[tool]
async fn generic<T: Default>(value: T) -> String {
    let _ = value;
    String::new()
}

/// Generic through a where clause.
#[tool]
async fn where_clause(value: u32) -> String
where
    u32: Copy,
{
    value.to_string()
}

fn main() {}
