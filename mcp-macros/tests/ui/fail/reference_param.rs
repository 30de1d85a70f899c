use mcp_core::tool;

/// Borrows its text.
#[tool]
async fn borrow_str(text: &str) -> String {
    text.to_owned()
}

/// Borrows a slice and a number.
#[tool]
async fn borrow_more(values: &[u32], n: &u32) -> u32 {
    values.len() as u32 + n
}

fn main() {}
