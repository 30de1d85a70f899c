//! `x-mcp-header`: tool parameters a client mirrors into `Mcp-Param-{name}` HTTP headers
//! (revision 2026-07-28), read from a tool's input schema once, when the server is built.

use serde_json::Value;

use crate::jsonrpc::JsonObject;

/// The JSON type of a mirrored parameter (only these are allowed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderParamType {
    /// A string: the header carries it as is (or Base64-encoded).
    String,
    /// An integer: the header carries its decimal form.
    Integer,
    /// A boolean: `true` or `false`.
    Boolean,
}

/// One tool parameter mirrored into a header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderParam {
    /// The `properties` keys leading from the schema's root to the parameter.
    pub path: Vec<String>,
    /// The header's name without its prefix: the header is `Mcp-Param-{name}`.
    pub name: String,
    /// The parameter's type.
    pub kind: HeaderParamType,
}

impl HeaderParam {
    /// The value at this parameter's path in a call's arguments, if any (`null` is none).
    pub fn value_in<'a>(&self, arguments: &'a JsonObject) -> Option<&'a Value> {
        let (last, parents) = self.path.split_last()?;
        let mut object = arguments;
        for key in parents {
            object = object.get(key)?.as_object()?;
        }
        object.get(last).filter(|v| !v.is_null())
    }
}

fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

impl HeaderParam {
    /// Every `x-mcp-header` parameter of a tool's input schema, or why its annotations break
    /// the revision's rules (a client must then leave the tool out of its list).
    pub fn all_in(input_schema: &JsonObject) -> Result<Vec<HeaderParam>, String> {
        header_params(input_schema)
    }
}

/// Every `x-mcp-header` in `schema`, or why the annotations are invalid.
pub(crate) fn header_params(schema: &JsonObject) -> Result<Vec<HeaderParam>, String> {
    let mut found = Vec::new();
    collect(schema, &mut Vec::new(), &mut found)?;
    let total = count_annotations(&Value::Object(schema.clone()));
    if total != found.len() {
        return Err(
            "`x-mcp-header` may only annotate properties reachable from the root through `properties` alone".into(),
        );
    }
    for (i, p) in found.iter().enumerate() {
        if found[..i]
            .iter()
            .any(|q| q.name.eq_ignore_ascii_case(&p.name))
        {
            return Err(format!(
                "two parameters use the header name `{}` (names are compared case-insensitively)",
                p.name
            ));
        }
    }
    Ok(found)
}

fn collect(
    schema: &JsonObject,
    path: &mut Vec<String>,
    out: &mut Vec<HeaderParam>,
) -> Result<(), String> {
    let Some(Value::Object(props)) = schema.get("properties") else {
        return Ok(());
    };
    for (key, prop) in props {
        let Value::Object(prop) = prop else { continue };
        path.push(key.clone());
        if let Some(name) = prop.get("x-mcp-header") {
            let name = name.as_str().filter(|n| is_token(n)).ok_or_else(|| {
                format!(
                    "`x-mcp-header` of `{}` must be a non-empty HTTP token",
                    path.join(".")
                )
            })?;
            let kind = match prop.get("type").and_then(Value::as_str) {
                Some("string") => HeaderParamType::String,
                Some("integer") => HeaderParamType::Integer,
                Some("boolean") => HeaderParamType::Boolean,
                _ => {
                    return Err(format!(
                        "`x-mcp-header` of `{}` needs a string, integer or boolean parameter",
                        path.join(".")
                    ));
                }
            };
            out.push(HeaderParam {
                path: path.clone(),
                name: name.to_owned(),
                kind,
            });
        }
        collect(prop, path, out)?;
        path.pop();
    }
    Ok(())
}

fn count_annotations(value: &Value) -> usize {
    match value {
        Value::Object(map) => {
            usize::from(map.contains_key("x-mcp-header"))
                + map.values().map(count_annotations).sum::<usize>()
        }
        Value::Array(items) => items.iter().map(count_annotations).sum(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn obj(v: Value) -> JsonObject {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn finds_annotated_properties_and_refuses_bad_ones() {
        let schema = obj(json!({"type": "object", "properties": {
            "region": {"type": "string", "x-mcp-header": "Region"},
            "opts": {"type": "object", "properties": {"n": {"type": "integer", "x-mcp-header": "N"}}},
            "plain": {"type": "string"}
        }}));
        let found = header_params(&schema).unwrap();
        assert_eq!(found.len(), 2);
        let args = obj(json!({"opts": {"n": 4}, "region": null}));
        let n = found.iter().find(|p| p.name == "N").unwrap();
        assert_eq!(n.value_in(&args), Some(&json!(4)));
        let region = found.iter().find(|p| p.name == "Region").unwrap();
        assert_eq!(region.value_in(&args), None, "null means absent");
        for bad in [
            json!({"properties": {"x": {"type": "number", "x-mcp-header": "X"}}}),
            json!({"properties": {"x": {"type": "string", "x-mcp-header": "a b"}}}),
            json!({"properties": {"x": {"type": "array", "items": {"type": "string", "x-mcp-header": "X"}}}}),
            json!({"properties": {"a": {"type": "string", "x-mcp-header": "X"}, "b": {"type": "string", "x-mcp-header": "x"}}}),
        ] {
            assert!(header_params(&obj(bad.clone())).is_err(), "{bad}");
        }
    }
}
