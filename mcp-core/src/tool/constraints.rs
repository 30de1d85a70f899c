//! Constraints on tool arguments (`#[arg(min = .., max = .., min_len = .., max_len = ..,
//! pattern = "..")]`): written into the input schema, and checked before the tool's body runs.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use regex::Regex;
use serde_json::Value;

use crate::jsonrpc::JsonObject;
use crate::protocol::CallToolResult;
use crate::sync::lock;

/// The constraints on one argument. `#[arg(..)]` builds these; a hand-written tool can too.
///
/// ```
/// use mcp_core::tool::ArgConstraints;
///
/// static CHECKS: [ArgConstraints; 2] = [
///     ArgConstraints { min: Some(1.0), max: Some(100.0), ..ArgConstraints::new("to") },
///     ArgConstraints { pattern: Some("^[a-z]+$"), ..ArgConstraints::new("label") },
/// ];
/// let args = serde_json::json!({"to": 500, "label": "ok"});
/// let error = mcp_core::tool::check_constraints("count", args.as_object().unwrap(), &CHECKS)
///     .unwrap_err();
/// assert_eq!(error.text(), "Invalid arguments for tool `count`: `to` must be at most 100 (got 500)");
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ArgConstraints {
    /// The argument's name on the wire.
    pub name: &'static str,
    /// The smallest number allowed (`minimum`).
    pub min: Option<f64>,
    /// The largest number allowed (`maximum`).
    pub max: Option<f64>,
    /// The fewest characters of a string (`minLength`) or items of an array (`minItems`).
    pub min_len: Option<u64>,
    /// The most characters of a string (`maxLength`) or items of an array (`maxItems`).
    pub max_len: Option<u64>,
    /// A regular expression a string must match somewhere (`pattern`; anchor it with `^` and
    /// `$` to match the whole string). The syntax is the `regex` crate's, which covers the
    /// JSON Schema patterns in common use; `#[arg(pattern)]` checks it at compile time.
    pub pattern: Option<&'static str>,
}

impl ArgConstraints {
    /// No constraint on the argument `name`: the base for `..ArgConstraints::new(name)`.
    pub const fn new(name: &'static str) -> Self {
        ArgConstraints {
            name,
            min: None,
            max: None,
            min_len: None,
            max_len: None,
            pattern: None,
        }
    }
}

/// Whether `text` matches `pattern` somewhere (`None` when the pattern does not compile).
/// Patterns are compiled once and kept.
fn is_match(pattern: &'static str, text: &str) -> Option<bool> {
    static COMPILED: OnceLock<Mutex<HashMap<&'static str, Option<Regex>>>> = OnceLock::new();
    let regex = lock(COMPILED.get_or_init(Default::default))
        .entry(pattern)
        .or_insert_with(|| Regex::new(pattern).ok())
        .clone();
    regex.map(|r| r.is_match(text))
}

/// Writes the constraints into the properties of an input schema: `minimum`/`maximum`, and
/// `minLength`/`maxLength`/`pattern` for strings or `minItems`/`maxItems` for arrays (both
/// kinds when the property's type is not spelled out).
pub fn apply_constraints(schema: &mut JsonObject, constraints: &[ArgConstraints]) {
    let Some(Value::Object(properties)) = schema.get_mut("properties") else {
        return;
    };
    for c in constraints {
        let Some(Value::Object(property)) = properties.get_mut(c.name) else {
            continue;
        };
        let types = declared_types(property);
        let strings = types.as_ref().is_none_or(|t| t.contains(&"string"));
        let arrays = types.as_ref().is_none_or(|t| t.contains(&"array"));
        let mut set = |key: &str, value: Value| {
            property.insert(key.to_owned(), value);
        };
        if let Some(min) = c.min {
            set("minimum", number(min));
        }
        if let Some(max) = c.max {
            set("maximum", number(max));
        }
        let lengths = [
            (strings, "minLength", c.min_len),
            (strings, "maxLength", c.max_len),
            (arrays, "minItems", c.min_len),
            (arrays, "maxItems", c.max_len),
        ];
        for (applies, key, value) in lengths {
            if let (true, Some(n)) = (applies, value) {
                set(key, n.into());
            }
        }
        if let (true, Some(p)) = (strings, c.pattern) {
            set("pattern", p.into());
        }
    }
}

/// The names in a property's `type` (a string or a list), if it has one.
fn declared_types(property: &JsonObject) -> Option<Vec<&'static str>> {
    const KNOWN: [&str; 7] = [
        "string", "array", "number", "integer", "boolean", "object", "null",
    ];
    let names: Vec<&str> = match property.get("type")? {
        Value::String(s) => vec![s.as_str()],
        Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
        _ => return None,
    };
    Some(KNOWN.into_iter().filter(|k| names.contains(k)).collect())
}

/// A whole number as a JSON integer, anything else as a float.
fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Value::from(n as i64)
    } else {
        Value::from(n)
    }
}

/// Checks the arguments against the constraints; on a violation, the result that explains
/// every one (`isError: true`), so the model can correct itself. Values of another type than
/// a constraint applies to are left to decoding.
pub fn check_constraints(
    tool: &str,
    arguments: &JsonObject,
    constraints: &[ArgConstraints],
) -> Result<(), CallToolResult> {
    let problems: Vec<String> = constraints
        .iter()
        .filter_map(|c| Some((c, arguments.get(c.name)?)))
        .flat_map(|(c, value)| violations(c, value))
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(CallToolResult::error(format!(
            "Invalid arguments for tool `{tool}`: {}",
            problems.join("; ")
        )))
    }
}

fn violations(c: &ArgConstraints, value: &Value) -> Vec<String> {
    let name = c.name;
    let mut out = Vec::new();
    match value {
        Value::Number(n) => {
            let Some(x) = n.as_f64() else { return out };
            if let Some(min) = c.min.filter(|&min| x < min) {
                out.push(format!("`{name}` must be at least {min} (got {n})"));
            }
            if let Some(max) = c.max.filter(|&max| x > max) {
                out.push(format!("`{name}` must be at most {max} (got {n})"));
            }
        }
        Value::String(s) => {
            let len = s.chars().count() as u64;
            length(&mut out, c, len, "character");
            if let Some(p) = c.pattern {
                match is_match(p, s) {
                    Some(true) => {}
                    Some(false) => out.push(format!(
                        "`{name}` must match the pattern `{p}` (got {value})"
                    )),
                    None => out.push(format!("the pattern `{p}` of `{name}` does not compile")),
                }
            }
        }
        Value::Array(items) => length(&mut out, c, items.len() as u64, "item"),
        _ => {}
    }
    out
}

/// Checks a length against `min_len` and `max_len`; `unit` is `item` or `character`.
fn length(out: &mut Vec<String>, c: &ArgConstraints, len: u64, unit: &str) {
    let name = c.name;
    let count = |n: u64| {
        let s = if n == 1 { "" } else { "s" };
        match unit {
            "item" => format!("have {{}} {n} item{s}"),
            _ => format!("be {{}} {n} character{s} long"),
        }
    };
    if let Some(min) = c.min_len.filter(|&min| len < min) {
        let rule = count(min).replace("{}", "at least");
        out.push(format!("`{name}` must {rule} (got {len})"));
    }
    if let Some(max) = c.max_len.filter(|&max| len > max) {
        let rule = count(max).replace("{}", "at most");
        out.push(format!("`{name}` must {rule} (got {len})"));
    }
}

/// An argument type that `#[arg(min, max)]` applies to: a number (or an `Option` of one).
#[diagnostic::on_unimplemented(
    message = "`min` and `max` apply to numbers, and `{Self}` is not a number",
    label = "not a number",
    note = "for the length of a string or a list, write `min_len` and `max_len`"
)]
pub trait NumberArgument {}

/// An argument type that `#[arg(min_len, max_len)]` applies to: a string or a list (or an
/// `Option` of one).
#[diagnostic::on_unimplemented(
    message = "`min_len` and `max_len` apply to strings and lists, and `{Self}` is neither",
    label = "not a string or a list",
    note = "for the range of a number, write `min` and `max`"
)]
pub trait LengthArgument {}

/// An argument type that `#[arg(pattern)]` applies to: a string (or an `Option` of one).
#[diagnostic::on_unimplemented(
    message = "`pattern` applies to strings, and `{Self}` is not a string",
    label = "not a string"
)]
pub trait PatternArgument {}

macro_rules! mark {
    ($marker:ident: $($ty:ty),*) => {
        $(impl $marker for $ty {})*
    };
}

mark!(NumberArgument: u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64);
mark!(LengthArgument: String, std::path::PathBuf);
impl PatternArgument for String {}
impl PatternArgument for std::path::PathBuf {}
impl<T: NumberArgument> NumberArgument for Option<T> {}
impl<T: LengthArgument> LengthArgument for Option<T> {}
impl<T: PatternArgument> PatternArgument for Option<T> {}
impl<T> LengthArgument for Vec<T> {}
impl<T> LengthArgument for std::collections::VecDeque<T> {}
impl<T, S> LengthArgument for std::collections::HashSet<T, S> {}
impl<T> LengthArgument for std::collections::BTreeSet<T> {}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(v: Value) -> JsonObject {
        v.as_object().cloned().unwrap()
    }

    static CHECKS: [ArgConstraints; 3] = [
        ArgConstraints {
            min: Some(1.0),
            max: Some(10.0),
            ..ArgConstraints::new("n")
        },
        ArgConstraints {
            min_len: Some(2),
            max_len: Some(3),
            pattern: Some("^[a-z]+$"),
            ..ArgConstraints::new("word")
        },
        ArgConstraints {
            min_len: Some(1),
            ..ArgConstraints::new("list")
        },
    ];

    #[test]
    fn values_inside_pass() {
        let args = object(json!({"n": 10, "word": "ab", "list": [1]}));
        assert!(check_constraints("t", &args, &CHECKS).is_ok());
        // Absent and null arguments, and values of other types, are left to decoding.
        assert!(check_constraints("t", &object(json!({"n": null, "word": 3})), &CHECKS).is_ok());
    }

    #[test]
    fn every_violation_is_reported() {
        let args = object(json!({"n": 0.5, "word": "ABCD", "list": []}));
        let text = check_constraints("t", &args, &CHECKS).unwrap_err().text();
        assert_eq!(
            text,
            "Invalid arguments for tool `t`: `n` must be at least 1 (got 0.5); \
             `word` must be at most 3 characters long (got 4); \
             `word` must match the pattern `^[a-z]+$` (got \"ABCD\"); \
             `list` must have at least 1 item (got 0)"
        );
    }

    #[test]
    fn lengths_count_characters() {
        // Four characters, eight bytes.
        let args = object(json!({"word": "éééé"}));
        let text = check_constraints("t", &args, &CHECKS).unwrap_err().text();
        assert!(text.contains("at most 3 characters long (got 4)"), "{text}");
    }

    #[test]
    fn schema_gets_the_keywords_of_each_type() {
        let mut schema = object(json!({"type": "object", "properties": {
            "n": {"type": "integer"},
            "word": {"type": ["string", "null"]},
            "list": {"type": "array"},
        }}));
        apply_constraints(&mut schema, &CHECKS);
        let p = &schema["properties"];
        assert_eq!(
            p["n"],
            json!({"type": "integer", "minimum": 1, "maximum": 10})
        );
        assert_eq!(
            p["word"],
            json!({"type": ["string", "null"], "minLength": 2, "maxLength": 3, "pattern": "^[a-z]+$"})
        );
        assert_eq!(p["list"], json!({"type": "array", "minItems": 1}));
    }
}
