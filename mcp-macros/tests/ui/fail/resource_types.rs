use mcp_core::resource;

/// Neither text nor serializable.
struct Opaque;

/// A variable that does not parse from text.
#[resource("items://{id}")]
async fn not_from_str(id: Opaque) -> String {
    let _ = id;
    String::new()
}

/// A borrowed slice is not a resource's contents.
#[resource("docs://slice")]
async fn slice() -> &'static [u8] {
    b"bytes"
}

/// A structured value that does not serialize.
#[resource("docs://opaque")]
async fn opaque() -> Opaque {
    Opaque
}

fn main() {}
