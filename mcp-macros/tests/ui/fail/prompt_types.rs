use mcp_core::prompt;

/// Not parsed from text.
struct Opaque;

/// A parameter that does not parse from text.
#[prompt]
async fn not_from_str(value: Opaque) -> String {
    let _ = value;
    String::new()
}

/// A result that is not a prompt's.
#[prompt]
async fn wrong_result() -> u32 {
    3
}

/// An error that cannot be shown.
#[prompt]
async fn error_not_display() -> Result<String, Opaque> {
    Err(Opaque)
}

fn main() {}
