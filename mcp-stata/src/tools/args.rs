//! Argument types whose JSON Schema says exactly what their decoding accepts, in the plain forms
//! assistant hosts handle: an inline `enum` of strings (no `$ref`, no `oneOf`), integer bounds
//! that match the check, array sizes that match the check.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize};

/// Which stored results to show.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ResultKind {
    /// `r()`: results of the last r-class command (`summarize`, `tabulate`, ...).
    R,
    /// `e()`: results of the last estimation command (`regress`, `logit`, ...).
    E,
    /// Both.
    #[default]
    Both,
}

impl<'de> Deserialize<'de> for ResultKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        match text.as_str() {
            "r" => Ok(ResultKind::R),
            "e" => Ok(ResultKind::E),
            "both" => Ok(ResultKind::Both),
            other => Err(serde::de::Error::custom(format!(
                "{other:?} is not one of \"r\", \"e\", \"both\""
            ))),
        }
    }
}

impl JsonSchema for ResultKind {
    fn schema_name() -> Cow<'static, str> {
        "ResultKind".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "enum": ["r", "e", "both"],
        })
    }
}

/// A whole number of at least 1 (an observation number, a count, a width in pixels).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Positive(pub u64);

impl<'de> Deserialize<'de> for Positive {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match u64::deserialize(deserializer)? {
            0 => Err(serde::de::Error::custom("must be at least 1")),
            n => Ok(Positive(n)),
        }
    }
}

impl JsonSchema for Positive {
    fn schema_name() -> Cow<'static, str> {
        "Positive".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "integer",
            "minimum": 1,
        })
    }
}

/// The most parameter sets one array run takes.
pub const MAX_PARAMETER_SETS: usize = 1000;

/// The parameter sets of an array run: 1 to [`MAX_PARAMETER_SETS`] lists of do-file arguments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ParameterSets(pub Vec<Vec<String>>);

impl<'de> Deserialize<'de> for ParameterSets {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let sets = Vec::<Vec<String>>::deserialize(deserializer)?;
        if sets.is_empty() || sets.len() > MAX_PARAMETER_SETS {
            return Err(serde::de::Error::custom(format!(
                "give 1 to {MAX_PARAMETER_SETS} parameter sets (got {})",
                sets.len()
            )));
        }
        Ok(ParameterSets(sets))
    }
}

impl JsonSchema for ParameterSets {
    fn schema_name() -> Cow<'static, str> {
        "ParameterSets".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_PARAMETER_SETS,
            "items": {"type": "array", "items": {"type": "string"}},
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_matches_the_schema() {
        assert_eq!(
            serde_json::from_str::<ResultKind>("\"e\"").unwrap(),
            ResultKind::E
        );
        assert!(serde_json::from_str::<ResultKind>("\"x\"").is_err());
        assert_eq!(serde_json::from_str::<Positive>("1").unwrap(), Positive(1));
        let zero = serde_json::from_str::<Positive>("0").unwrap_err();
        assert!(zero.to_string().contains("at least 1"), "{zero}");
        assert!(serde_json::from_str::<ParameterSets>("[]").is_err());
        assert_eq!(
            serde_json::from_str::<ParameterSets>("[[\"a\"],[]]").unwrap(),
            ParameterSets(vec![vec!["a".into()], vec![]])
        );
    }
}
