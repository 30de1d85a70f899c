use mcp_core::{tool, yield_};

/// Yields inside another macro's arguments, which `#[tool]` does not parse: the stub of
/// mcp-core reports it.
#[tool]
async fn in_println() -> String {
    println!("{:?}", yield_!("inside println"));
    String::new()
}

fn main() {}
