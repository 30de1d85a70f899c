use mcp_core::{Context, prompt};

/// Not async.
#[prompt]
fn not_async() -> String {
    String::new()
}

/// Generic.
#[prompt]
async fn generic<T: std::str::FromStr>(value: T) -> String {
    let _ = value;
    String::new()
}

#[prompt]
async fn no_description() -> String {
    String::new()
}

/// Streams, which prompts do not.
#[prompt]
async fn streams() -> String {
    yield_!("step");
    String::new()
}

/// Two contexts.
#[prompt]
async fn two_contexts(first: Context, second: &Context) -> String {
    let _ = (first, second);
    String::new()
}

/// Borrows its argument.
#[prompt]
async fn borrows(text: &str) -> String {
    text.to_owned()
}

/// Destructures its argument.
#[prompt]
async fn destructures((a, b): (String, String)) -> String {
    a + &b
}

/// Returns an opaque type.
#[prompt]
async fn opaque() -> impl Into<String> {
    "text"
}

fn main() {}
