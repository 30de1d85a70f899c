use mcp_core::tools;

struct Server;

#[tools]
impl Default for Server {
    fn default() -> Self {
        Server
    }
}

fn main() {}
