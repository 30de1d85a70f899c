use mcp_core::tool;

struct Server;

impl Server {
    /// A method, but the impl block lacks `#[tools]`.
    #[tool]
    async fn method(&self, n: u32) -> u32 {
        n
    }
}

fn main() {}
