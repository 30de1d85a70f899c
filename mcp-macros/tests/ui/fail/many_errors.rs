use mcp_core::{Server, tool};

// Every mistake is reported at once, and registering the tool adds no error of its own.
#[tool(title = 1)]
fn many(text: &str, (a, b): (u8, u8)) -> String {
    text.to_owned()
}

fn main() {
    let _ = Server::builder("s", "1").tool(many).build();
}
