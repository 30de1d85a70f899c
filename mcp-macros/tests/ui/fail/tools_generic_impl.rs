use mcp_core::tools;

struct Server<T>(T);

#[tools(krate = "mcp_core")]
impl<T: Send + Sync + 'static> Server<T> {
    /// A tool of a generic server.
    #[tool]
    async fn get(&self) -> String {
        String::new()
    }
}

fn main() {}
