//! Validation of emitted messages against the official MCP JSON Schema.

use std::sync::OnceLock;

use serde_json::Value;

/// The protocol revision whose schema the stdio tests check against.
pub const SCHEMA_VERSION: &str = "2025-11-25";

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../testdata/mcp-schema/2025-11-25/schema.json"
        );
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut schema: Value = serde_json::from_str(&text).expect("the schema is JSON");
        // Validate against the `JSONRPCMessage` definition; `$defs` stay where they are.
        schema["$ref"] = "#/$defs/JSONRPCMessage".into();
        jsonschema::draft202012::new(&schema).expect("the official schema compiles")
    })
}

/// Panics unless `message` is a valid `JSONRPCMessage` of revision [`SCHEMA_VERSION`].
pub fn assert_valid(message: &Value) {
    let errors: Vec<String> = validator()
        .iter_errors(message)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "message does not match the {SCHEMA_VERSION} schema:\n{message:#}\n{}",
        errors.join("\n")
    );
}

/// Whether `message` is a valid `JSONRPCMessage` (for tests of the validator itself).
pub fn is_valid(message: &Value) -> bool {
    validator().is_valid(message)
}
