use mcp_core::{Context, resource};

/// A parameter the URI does not have.
#[resource("docs://chapters/{number}")]
async fn extra(number: u32, page: u32, ctx: Context) -> String {
    let _ = ctx;
    format!("{number}{page}")
}

/// A parameter of a URI without variables.
#[resource("docs://readme")]
async fn fixed(lang: String) -> String {
    lang
}

/// A variable without its parameter.
#[resource("users://{org}/{user}")]
async fn missing(org: String) -> String {
    org
}

/// Argument keys that do not apply to a resource.
#[resource("items://{id}")]
async fn keys(#[arg(default = 1, rename = "key", max = 3)] id: u32) -> String {
    id.to_string()
}

/// Streams, which resources do not.
#[resource("docs://streaming")]
async fn streams() -> String {
    yield_!("step");
    String::new()
}

/// Not async.
#[resource("docs://sync")]
fn not_async() -> String {
    String::new()
}

fn main() {}
