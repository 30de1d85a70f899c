use mcp_core::{Context, tool};

/// Two contexts.
#[tool]
async fn twice(first: Context, n: u32, second: &Context) -> String {
    let _ = (first, second);
    n.to_string()
}

/// A mutable context.
#[tool]
async fn mutable(ctx: &mut Context) -> String {
    let _ = ctx;
    String::new()
}

fn main() {}
