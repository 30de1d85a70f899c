//! Validation of emitted messages against the official MCP JSON Schema.

use std::sync::OnceLock;

use serde_json::Value;

/// The protocol revision whose schema the stdio tests check against.
pub const SCHEMA_VERSION: &str = "2025-11-25";

/// The revision of the stateless era, whose schema checks the messages of its requests.
pub const STATELESS_SCHEMA_VERSION: &str = "2026-07-28";

fn compile(version: &str) -> jsonschema::Validator {
    let path = format!(
        "{}/../testdata/mcp-schema/{version}/schema.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut schema: Value = serde_json::from_str(&text).expect("the schema is JSON");
    // Validate against the `JSONRPCMessage` definition; `$defs` stay where they are.
    schema["$ref"] = "#/$defs/JSONRPCMessage".into();
    jsonschema::draft202012::new(&schema).expect("the official schema compiles")
}

fn validator_for(version: &str) -> &'static jsonschema::Validator {
    static STATEFUL: OnceLock<jsonschema::Validator> = OnceLock::new();
    static STATELESS: OnceLock<jsonschema::Validator> = OnceLock::new();
    if version == STATELESS_SCHEMA_VERSION {
        STATELESS.get_or_init(|| compile(STATELESS_SCHEMA_VERSION))
    } else {
        STATEFUL.get_or_init(|| compile(SCHEMA_VERSION))
    }
}

fn validator() -> &'static jsonschema::Validator {
    validator_for(SCHEMA_VERSION)
}

/// Panics unless `message` is a valid `JSONRPCMessage` of revision [`SCHEMA_VERSION`].
pub fn assert_valid(message: &Value) {
    assert_valid_in(SCHEMA_VERSION, message);
}

/// Panics unless `message` is a valid `JSONRPCMessage` of `version` ([`SCHEMA_VERSION`] or
/// [`STATELESS_SCHEMA_VERSION`]).
pub fn assert_valid_in(version: &str, message: &Value) {
    let errors: Vec<String> = validator_for(version)
        .iter_errors(message)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "message does not match the {version} schema:\n{message:#}\n{}",
        errors.join("\n")
    );
}

/// Whether `message` is a valid `JSONRPCMessage` (for tests of the validator itself).
pub fn is_valid(message: &Value) -> bool {
    validator().is_valid(message)
}
