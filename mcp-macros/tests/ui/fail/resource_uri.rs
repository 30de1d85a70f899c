use mcp_core::resource;

/// No URI.
#[resource]
async fn missing() -> String {
    String::new()
}

/// Two URIs.
#[resource("docs://a", uri = "docs://b")]
async fn twice() -> String {
    String::new()
}

/// A URI of the wrong kind.
#[resource(uri = 5)]
async fn number() -> String {
    String::new()
}

/// No scheme.
#[resource("readme")]
async fn no_scheme() -> String {
    String::new()
}

/// Unclosed.
#[resource("docs://{id")]
async fn unclosed(id: String) -> String {
    id
}

/// A closing brace alone.
#[resource("docs://id}")]
async fn stray() -> String {
    String::new()
}

/// An empty variable.
#[resource("docs://{}")]
async fn empty() -> String {
    String::new()
}

/// An operator.
#[resource("docs://search{?q}")]
async fn operator(q: String) -> String {
    q
}

/// A list of variables.
#[resource("docs://{a,b}")]
async fn list(a: String, b: String) -> String {
    a + &b
}

/// A name that is not an identifier.
#[resource("docs://{my-id}")]
async fn dashed() -> String {
    String::new()
}

/// A variable twice.
#[resource("docs://{id}/{id}")]
async fn repeated(id: String) -> String {
    id
}

/// Two variables side by side.
#[resource("docs://{a}{b}")]
async fn adjacent(a: String, b: String) -> String {
    a + &b
}

/// Keys of tools.
#[resource("docs://keys", read_only, mime = "text/plain")]
async fn keys() -> String {
    String::new()
}

fn main() {}
