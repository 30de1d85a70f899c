use mcp_core::tools;

struct Server;

#[tools]
impl Server {
    /// First.
    #[tool(name = "same")]
    async fn first(&self) -> String {
        String::new()
    }

    /// Second.
    #[tool(name = "same")]
    async fn second(&self) -> String {
        String::new()
    }
}

fn main() {}
