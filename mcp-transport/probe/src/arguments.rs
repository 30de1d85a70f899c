//! A tool's arguments from the command line: `--args '{"to":5}'` and `-a key=value`, with
//! values typed after the tool's input schema.

use mcp_core::JsonObject;
use serde_json::Value;

/// Builds the arguments object: `json` (an object) first, then each `key=value` (typed after
/// the property's schema: a number where the schema says number, text where it says string)
/// or `key:=json` (taken as JSON as it is).
pub(crate) fn build(
    json: Option<&str>,
    pairs: &[String],
    schema: &JsonObject,
) -> Result<JsonObject, String> {
    let mut args = match json {
        None => JsonObject::new(),
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(o)) => o,
            Ok(other) => return Err(format!("--args must be a JSON object, not {other}")),
            Err(e) => return Err(format!("--args is not JSON: {e}")),
        },
    };
    for pair in pairs {
        let (key, value) = if let Some((key, raw)) = pair.split_once(":=") {
            let value = serde_json::from_str(raw)
                .map_err(|e| format!("-a {pair}: the value after `:=` is not JSON: {e}"))?;
            (key, value)
        } else if let Some((key, text)) = pair.split_once('=') {
            (
                key,
                typed(text, schema.get("properties").and_then(|p| p.get(key))),
            )
        } else {
            return Err(format!(
                "-a {pair}: write key=value (typed after the tool's schema) or key:=json"
            ));
        };
        if key.is_empty() {
            return Err(format!("-a {pair}: the key is empty"));
        }
        args.insert(key.to_owned(), value);
    }
    Ok(args)
}

/// `text` as the property's schema wants it: JSON for numbers, booleans, lists and objects,
/// text for strings (or when the schema says nothing, or the text is not valid JSON).
fn typed(text: &str, property: Option<&Value>) -> Value {
    let wants_text = match property.and_then(|p| p.get("type")) {
        Some(Value::String(t)) => t == "string",
        Some(Value::Array(types)) => types.iter().any(|t| t == "string"),
        _ => true,
    };
    if wants_text {
        return Value::String(text.to_owned());
    }
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> JsonObject {
        json!({"type": "object", "properties": {
            "to": {"type": "integer"},
            "name": {"type": "string"},
            "tags": {"type": ["array", "null"]},
        }})
        .as_object()
        .cloned()
        .unwrap()
    }

    #[test]
    fn pairs_are_typed_after_the_schema() {
        let pairs = [
            "to=5".to_owned(),
            "name=5".to_owned(),
            "tags=[\"a\"]".to_owned(),
            "other=x".to_owned(),
            "raw:={\"k\":1}".to_owned(),
        ];
        let args = build(Some(r#"{"to": 1, "keep": true}"#), &pairs, &schema()).unwrap();
        assert_eq!(
            Value::Object(args),
            json!({"to": 5, "name": "5", "tags": ["a"], "other": "x", "raw": {"k": 1}, "keep": true})
        );
    }

    #[test]
    fn mistakes_are_explained() {
        assert!(
            build(Some("[1]"), &[], &schema())
                .unwrap_err()
                .contains("JSON object")
        );
        assert!(
            build(Some("{"), &[], &schema())
                .unwrap_err()
                .contains("not JSON")
        );
        assert!(
            build(None, &["novalue".into()], &schema())
                .unwrap_err()
                .contains("key=value")
        );
        assert!(
            build(None, &["a:={".into()], &schema())
                .unwrap_err()
                .contains("not JSON")
        );
    }
}
