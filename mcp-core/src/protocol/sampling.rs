//! Sampling: the server asks the client's model for a completion (`sampling/createMessage`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Content, Meta, Role};

/// The content of a sampling message: one block, several blocks (revision 2025-11-25), or a
/// block this crate does not model (such as a `tool_use` block), kept as raw JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SamplingContent {
    /// A single text, image or audio block.
    One(Content),
    /// Several blocks (revision 2025-11-25 and later).
    Many(Vec<Content>),
    /// Anything else, as sent.
    Other(Value),
}

impl SamplingContent {
    /// The text of the text blocks, joined by newlines; empty when there is none.
    pub fn text(&self) -> String {
        match self {
            SamplingContent::One(c) => c.as_text().unwrap_or_default().to_owned(),
            SamplingContent::Many(blocks) => blocks
                .iter()
                .filter_map(Content::as_text)
                .collect::<Vec<_>>()
                .join("\n"),
            SamplingContent::Other(_) => String::new(),
        }
    }
}

impl From<Content> for SamplingContent {
    fn from(content: Content) -> Self {
        SamplingContent::One(content)
    }
}

/// One message of the conversation sent for sampling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SamplingMessage {
    /// Who says it.
    pub role: Role,
    /// What is said.
    pub content: SamplingContent,
    /// Extra metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

impl SamplingMessage {
    /// A user message.
    pub fn user(content: impl Into<Content>) -> Self {
        SamplingMessage {
            role: Role::User,
            content: SamplingContent::One(content.into()),
            meta: None,
        }
    }

    /// An assistant message.
    pub fn assistant(content: impl Into<Content>) -> Self {
        SamplingMessage {
            role: Role::Assistant,
            content: SamplingContent::One(content.into()),
            meta: None,
        }
    }
}

/// A hint for choosing a model: a substring of a model's name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelHint {
    /// Part of a model's name, such as `sonnet`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// What the server prefers in a model; the client may ignore it. Priorities go from 0 to 1.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelPreferences {
    /// Model names to try, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hints: Option<Vec<ModelHint>>,
    /// How much cost matters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_priority: Option<f64>,
    /// How much speed matters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed_priority: Option<f64>,
    /// How much capability matters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intelligence_priority: Option<f64>,
}

/// Params of `sampling/createMessage`.
///
/// ```
/// use mcp_core::protocol::{CreateMessageParams, SamplingMessage};
/// let params = CreateMessageParams::new(vec![SamplingMessage::user("Say hello")], 100)
///     .system_prompt("Be brief.");
/// assert_eq!(params.max_tokens, 100);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateMessageParams {
    /// The conversation so far.
    pub messages: Vec<SamplingMessage>,
    /// Preferences for choosing the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_preferences: Option<ModelPreferences>,
    /// A system prompt the client may use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
    /// `none`, `thisServer` or `allServers` (the last two soft-deprecated in 2025-11-25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_context: Option<String>,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// The most tokens to sample.
    pub max_tokens: u64,
    /// Sequences that stop sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_sequences: Option<Vec<String>>,
    /// Provider-specific metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Meta>,
    /// Extra metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

impl CreateMessageParams {
    /// A request to continue `messages` with at most `max_tokens` tokens.
    pub fn new(messages: Vec<SamplingMessage>, max_tokens: u64) -> Self {
        CreateMessageParams {
            messages,
            model_preferences: None,
            system_prompt: None,
            include_context: None,
            temperature: None,
            max_tokens,
            stop_sequences: None,
            metadata: None,
            meta: None,
        }
    }

    /// Sets the system prompt.
    #[must_use]
    pub fn system_prompt(mut self, prompt: impl Into<String>) -> Self {
        self.system_prompt = Some(prompt.into());
        self
    }

    /// Sets the temperature.
    #[must_use]
    pub fn temperature(mut self, temperature: f64) -> Self {
        self.temperature = Some(temperature);
        self
    }

    /// Sets the model preferences.
    #[must_use]
    pub fn model_preferences(mut self, preferences: ModelPreferences) -> Self {
        self.model_preferences = Some(preferences);
        self
    }
}

/// Result of `sampling/createMessage`: the sampled message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateMessageResult {
    /// Who says it (normally the assistant).
    pub role: Role,
    /// What the model said.
    pub content: SamplingContent,
    /// The model that produced it.
    pub model: String,
    /// Why sampling stopped: `endTurn`, `stopSequence`, `maxTokens`, `toolUse` or another
    /// provider-specific reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<String>,
    /// Extra metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

impl CreateMessageResult {
    /// The text the model produced (its text blocks, joined by newlines).
    pub fn text(&self) -> String {
        self.content.text()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn content_is_one_block_several_or_raw() {
        let one: SamplingContent =
            serde_json::from_value(json!({"type": "text", "text": "hi"})).unwrap();
        assert_eq!(one, SamplingContent::One(Content::text("hi")));
        let many: SamplingContent = serde_json::from_value(json!([
            {"type": "text", "text": "a"},
            {"type": "text", "text": "b"}
        ]))
        .unwrap();
        assert_eq!(many.text(), "a\nb");
        let tool_use = json!({"type": "tool_use", "id": "1", "name": "f", "input": {}});
        let other: SamplingContent = serde_json::from_value(tool_use.clone()).unwrap();
        assert_eq!(other, SamplingContent::Other(tool_use.clone()));
        assert_eq!(other.text(), "");
        assert_eq!(serde_json::to_value(&other).unwrap(), tool_use);
    }

    #[test]
    fn params_skip_what_is_unset() {
        let params = CreateMessageParams::new(vec![SamplingMessage::user("x")], 10);
        assert_eq!(
            serde_json::to_value(&params).unwrap(),
            json!({"messages": [{"role": "user", "content": {"type": "text", "text": "x"}}], "maxTokens": 10})
        );
    }
}
