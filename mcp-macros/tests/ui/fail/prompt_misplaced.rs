use mcp_core::{prompt, resource};

/// On a struct.
#[prompt]
struct NotAFunction;

struct Server;

impl Server {
    /// A method in an impl block without `#[tools]`.
    #[prompt]
    async fn method(&self) -> String {
        String::new()
    }

    /// Likewise.
    #[resource("docs://method")]
    async fn resource_method(&self) -> String {
        String::new()
    }
}

fn main() {}
