use mcp_core::tools;

struct Library;

#[tools]
impl Library {
    /// Two kinds at once.
    #[tool]
    #[prompt]
    async fn both(&self) -> String {
        String::new()
    }

    /// A prompt.
    #[prompt(name = "ask")]
    async fn ask_one(&self) -> String {
        String::new()
    }

    /// The same prompt name.
    #[prompt(name = "ask")]
    async fn ask_two(&self) -> String {
        String::new()
    }

    /// A resource.
    #[resource("library://catalog")]
    async fn catalog(&self) -> String {
        String::new()
    }

    /// The same URI.
    #[resource("library://catalog")]
    async fn catalog_again(&self) -> String {
        String::new()
    }

    /// Takes `&mut self`.
    #[prompt]
    async fn mutable(&mut self) -> String {
        String::new()
    }

    /// Takes no `self`.
    #[resource("library://stateless")]
    async fn stateless() -> String {
        String::new()
    }
}

fn main() {}
