//! JSON-RPC batches: an array of messages in one body. MCP revision 2025-03-26 defines them
//! (a client may send one, and a server must accept it); 2025-06-18 removed them again. A
//! transport reads with [`Incoming::parse`] and decides, from the session's negotiated
//! revision, whether a batch is welcome.

use serde_json::Value;

use super::{ErrorResponse, Message};
use crate::error::{ErrorCode, RpcError};

/// What one read carried: a single message, or a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// One message (the only form outside revision 2025-03-26).
    Single(Message),
    /// A non-empty batch: each element parsed on its own, so one bad element is answered
    /// with its own error and does not spoil the others.
    Batch(Vec<Result<Message, Box<ErrorResponse>>>),
}

impl Incoming {
    /// Parses one message or one batch from bytes.
    ///
    /// Fails as [`Message::parse`] does (the error is the response to send): `-32700` for
    /// bytes that are not JSON, `-32600` for JSON that is neither a message nor a non-empty
    /// array.
    pub fn parse(bytes: &[u8]) -> Result<Incoming, Box<ErrorResponse>> {
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        if first != Some(&b'[') {
            return Message::parse(bytes).map(Incoming::Single);
        }
        let elements: Vec<Value> = match serde_json::from_slice(bytes) {
            Ok(elements) => elements,
            // An array that is not valid JSON; valid JSON here is always an array.
            Err(_) => return Message::parse(bytes).map(Incoming::Single),
        };
        if elements.is_empty() {
            return Err(Box::new(ErrorResponse::new(
                None,
                RpcError::new(
                    ErrorCode::INVALID_REQUEST,
                    "Invalid request: an empty batch",
                ),
            )));
        }
        Ok(Incoming::Batch(
            elements.into_iter().map(Message::from_value).collect(),
        ))
    }

    /// Whether this is a batch.
    pub fn is_batch(&self) -> bool {
        matches!(self, Incoming::Batch(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn singles_batches_and_broken_ones() {
        let one = Incoming::parse(br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).unwrap();
        assert!(matches!(one, Incoming::Single(Message::Request(_))));
        let batch = Incoming::parse(
            br#" [{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"n"},7]"#,
        )
        .unwrap();
        let Incoming::Batch(items) = batch else {
            panic!("a batch")
        };
        assert_eq!(items.len(), 3);
        assert!(matches!(items[0], Ok(Message::Request(_))));
        assert!(matches!(items[1], Ok(Message::Notification(_))));
        assert_eq!(items[2].as_ref().unwrap_err().error.code, -32600);
        assert_eq!(Incoming::parse(b"[]").unwrap_err().error.code, -32600);
        assert_eq!(Incoming::parse(b"[1,").unwrap_err().error.code, -32700);
        assert_eq!(Incoming::parse(b"").unwrap_err().error.code, -32700);
        assert_eq!(Incoming::parse(b"3").unwrap_err().error.code, -32600);
    }
}
