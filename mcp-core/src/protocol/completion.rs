//! Argument completion (`completion/complete`).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::Meta;

/// What is being completed: a prompt's argument or a resource template's variable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum CompletionRef {
    /// `{"type":"ref/prompt","name":...}`
    #[serde(rename = "ref/prompt")]
    Prompt {
        /// The prompt's name.
        name: String,
    },
    /// `{"type":"ref/resource","uri":...}`
    #[serde(rename = "ref/resource")]
    Resource {
        /// The resource template.
        uri: String,
    },
}

/// The argument being typed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompletionArgument {
    /// Its name.
    pub name: String,
    /// What has been typed so far.
    pub value: String,
}

/// Already resolved arguments (2025-06-18 and later).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CompletionContext {
    /// Arguments given so far.
    #[serde(default)]
    pub arguments: HashMap<String, String>,
}

/// Params of `completion/complete`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompleteParams {
    /// What is being completed.
    #[serde(rename = "ref")]
    pub reference: CompletionRef,
    /// The argument.
    pub argument: CompletionArgument,
    /// Other arguments already given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<CompletionContext>,
    /// Extra metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// The suggestions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Completion {
    /// At most 100 values.
    pub values: Vec<String>,
    /// How many exist in all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// Whether more exist than were sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_more: Option<bool>,
}

impl Completion {
    /// The given suggestions (at most 100 are sent; the server notes when there were more).
    pub fn new<I>(values: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        Completion {
            values: values.into_iter().map(Into::into).collect(),
            ..Completion::default()
        }
    }

    /// The candidates that start with `prefix` (what has been typed so far).
    ///
    /// ```
    /// use mcp_core::protocol::Completion;
    /// let c = Completion::matching(["python", "perl", "rust"], "p");
    /// assert_eq!(c.values, ["python", "perl"]);
    /// ```
    pub fn matching<I>(candidates: I, prefix: &str) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        Completion::new(
            candidates
                .into_iter()
                .map(Into::into)
                .filter(|c: &String| c.starts_with(prefix)),
        )
    }
}

impl<S: Into<String>> FromIterator<S> for Completion {
    fn from_iter<I: IntoIterator<Item = S>>(values: I) -> Self {
        Completion::new(values)
    }
}

/// Result of `completion/complete`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CompleteResult {
    /// The suggestions.
    pub completion: Completion,
}
