use mcp_core::{prompt, tools};

struct Library;

#[tools]
impl Library {
    /// A name-value attribute.
    #[prompt = "ask"]
    async fn ask(&self) -> String {
        String::new()
    }

    /// The same attribute twice.
    #[resource("library://a")]
    #[resource("library://b")]
    async fn twice(&self) -> String {
        String::new()
    }
}

/// A bare `#[arg]`.
#[prompt]
async fn bare(#[arg] word: String) -> String {
    word
}

fn main() {}
