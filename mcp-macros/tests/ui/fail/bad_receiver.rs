use mcp_core::tools;

struct Server;

#[tools]
impl Server {
    /// Mutates the server.
    #[tool]
    async fn mutate(&mut self) -> String {
        String::new()
    }

    /// Consumes the server.
    #[tool]
    async fn consume(self) -> String {
        String::new()
    }

    /// Has no receiver.
    #[tool]
    async fn stateless(n: u32) -> String {
        n.to_string()
    }
}

fn main() {}
