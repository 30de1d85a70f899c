//! [`ResourceBody`]: what the body of a `#[resource]` function may return.

use std::fmt::Display;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;

use crate::error::RpcError;
use crate::protocol::{ReadResourceResult, ResourceContents};
use crate::tool::Json;

/// What a resource's body may return, and the MIME type that goes with it.
///
/// | returned | contents | default MIME type |
/// | --- | --- | --- |
/// | `String`, `&'static str` | text | `text/plain` |
/// | `Vec<u8>` | a blob (base64) | `application/octet-stream` |
/// | [`Json<T>`] (or, under `#[resource]`, any other `T: Serialize`) | its JSON text | `application/json` |
/// | `ResourceContents`, `Vec<ResourceContents>`, `ReadResourceResult` | as they are | none |
/// | `Result<T, E>` | `T` as above; `Err(e)` answers with a JSON-RPC error | `T`'s |
///
/// `#[resource(mime_type = "..")]` replaces the default.
#[diagnostic::on_unimplemented(
    message = "a resource returns text (`String`), bytes (`Vec<u8>`), `Json<T>`, `ResourceContents` or a `ReadResourceResult` (or a `Result` of one), not `{Self}`",
    label = "not a resource's contents"
)]
pub trait ResourceBody {
    /// The MIME type listed and sent when the resource declares none.
    fn default_mime_type() -> Option<&'static str> {
        None
    }

    /// Converts into the result of `resources/read` for `uri`, with `mime_type` on contents
    /// that this conversion creates.
    fn into_read_result(
        self,
        uri: &str,
        mime_type: Option<&str>,
    ) -> Result<ReadResourceResult, RpcError>;
}

fn tagged(contents: ResourceContents, mime_type: Option<&str>) -> ReadResourceResult {
    match mime_type {
        Some(mime) => contents.mime_type(mime),
        None => contents,
    }
    .into()
}

impl ResourceBody for String {
    fn default_mime_type() -> Option<&'static str> {
        Some("text/plain")
    }

    fn into_read_result(
        self,
        uri: &str,
        mime_type: Option<&str>,
    ) -> Result<ReadResourceResult, RpcError> {
        Ok(tagged(ResourceContents::text(uri, self), mime_type))
    }
}

impl ResourceBody for &'static str {
    fn default_mime_type() -> Option<&'static str> {
        Some("text/plain")
    }

    fn into_read_result(
        self,
        uri: &str,
        mime_type: Option<&str>,
    ) -> Result<ReadResourceResult, RpcError> {
        self.to_owned().into_read_result(uri, mime_type)
    }
}

impl ResourceBody for Vec<u8> {
    fn default_mime_type() -> Option<&'static str> {
        Some("application/octet-stream")
    }

    fn into_read_result(
        self,
        uri: &str,
        mime_type: Option<&str>,
    ) -> Result<ReadResourceResult, RpcError> {
        Ok(tagged(
            ResourceContents::blob(uri, STANDARD.encode(&self)),
            mime_type,
        ))
    }
}

impl<T: Serialize> ResourceBody for Json<T> {
    fn default_mime_type() -> Option<&'static str> {
        Some("application/json")
    }

    fn into_read_result(
        self,
        uri: &str,
        mime_type: Option<&str>,
    ) -> Result<ReadResourceResult, RpcError> {
        let text = serde_json::to_string(&self.0).map_err(|e| {
            RpcError::internal(format!("the resource {uri} could not be serialized: {e}"))
        })?;
        Ok(tagged(ResourceContents::text(uri, text), mime_type))
    }
}

impl ResourceBody for ResourceContents {
    fn into_read_result(self, _: &str, _: Option<&str>) -> Result<ReadResourceResult, RpcError> {
        Ok(self.into())
    }
}

impl ResourceBody for Vec<ResourceContents> {
    fn into_read_result(self, _: &str, _: Option<&str>) -> Result<ReadResourceResult, RpcError> {
        Ok(self.into())
    }
}

impl ResourceBody for ReadResourceResult {
    fn into_read_result(self, _: &str, _: Option<&str>) -> Result<ReadResourceResult, RpcError> {
        Ok(self)
    }
}

/// `Err(e)` answers `resources/read` with a JSON-RPC internal error (`-32603`) whose message is
/// the text of `e`. (`#[resource]` passes an `RpcError` through as it is, code included: use
/// [`RpcError::resource_not_found`] for a URI that names nothing.)
impl<T: ResourceBody, E: Display> ResourceBody for Result<T, E> {
    fn default_mime_type() -> Option<&'static str> {
        T::default_mime_type()
    }

    fn into_read_result(
        self,
        uri: &str,
        mime_type: Option<&str>,
    ) -> Result<ReadResourceResult, RpcError> {
        match self {
            Ok(body) => body.into_read_result(uri, mime_type),
            Err(e) => Err(RpcError::internal(format!("{e:#}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_become_contents() {
        let r = String::from("hi")
            .into_read_result("x://a", Some("text/markdown"))
            .unwrap();
        assert_eq!(
            r.contents,
            [ResourceContents::text("x://a", "hi").mime_type("text/markdown")]
        );
        let r = vec![0u8, 255].into_read_result("x://b", None).unwrap();
        assert_eq!(r.contents, [ResourceContents::blob("x://b", "AP8=")]);
        let r = Json(serde_json::json!({"a": 1}))
            .into_read_result("x://c", Some("application/json"))
            .unwrap();
        assert_eq!(r.contents[0].as_text(), Some(r#"{"a":1}"#));
        let r: Result<String, &str> = Err("gone");
        let e = r.into_read_result("x://d", None).unwrap_err();
        assert!(e.message.contains("gone"));
    }
}
