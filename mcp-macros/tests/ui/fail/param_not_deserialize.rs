use mcp_core::tool;

struct Opaque;

/// Takes a type that cannot be decoded from JSON.
#[tool]
async fn opaque(value: Opaque) -> String {
    let _ = value;
    String::new()
}

fn main() {}
