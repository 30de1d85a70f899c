//! Helpers shared by mcp-core's integration tests.

#![allow(dead_code, unreachable_pub)]

use std::sync::OnceLock;

use serde_json::Value;

/// Validates `message` against `JSONRPCMessage` of the given revision's official schema.
pub fn assert_valid(version: &str, message: &Value) {
    static VALIDATORS: OnceLock<std::sync::Mutex<Vec<(String, jsonschema::Validator)>>> =
        OnceLock::new();
    let cache = VALIDATORS.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    if !cache.iter().any(|(v, _)| v == version) {
        let path = format!(
            "{}/../testdata/mcp-schema/{version}/schema.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut schema: Value = serde_json::from_str(&text).unwrap();
        // Revisions up to 2025-06-18 are draft-07 (`definitions`), later ones 2020-12 (`$defs`).
        let defs = if schema.get("$defs").is_some() {
            "$defs"
        } else {
            "definitions"
        };
        schema["$ref"] = format!("#/{defs}/JSONRPCMessage").into();
        let validator = jsonschema::validator_for(&schema).expect("schema compiles");
        cache.push((version.to_owned(), validator));
    }
    let (_, validator) = cache.iter().find(|(v, _)| v == version).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(message)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "message does not match the {version} schema:\n{message:#}\n{}",
        errors.join("\n")
    );
}

/// Validates `value` against definition `def` of the given revision's official schema (a
/// result against its typed result, say), beyond the envelope check of [`assert_valid`].
pub fn assert_valid_as(version: &str, def: &str, value: &Value) {
    let path = format!(
        "{}/../testdata/mcp-schema/{version}/schema.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut schema: Value = serde_json::from_str(&text).unwrap();
    schema["$ref"] = format!("#/$defs/{def}").into();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "value does not match {def} of the {version} schema:\n{value:#}\n{}",
        errors.join("\n")
    );
}
