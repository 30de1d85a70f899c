//! The "everything" server that the official MCP conformance suite
//! (`@modelcontextprotocol/conformance`) expects to find, for both protocol eras: the
//! stateful 2025-11-25 and the stateless 2026-07-28.
//!
//! `scripts/conformance.sh` serves it over streamable HTTP (binary `conformance-server`) and
//! runs the suite against it; `tests/conformance_server.rs` checks the same behaviour in
//! memory. Names, texts and shapes follow the suite's scenarios:
//!
//! - tools: `test_simple_text`, `test_image_content`, `test_audio_content`,
//!   `test_embedded_resource`, `test_multiple_content_types`, `test_tool_with_logging`,
//!   `test_tool_with_progress`, `test_error_handling`, `test_sampling`, `test_elicitation`,
//!   `test_elicitation_sep1034_defaults`, `test_elicitation_sep1330_enums`,
//!   `json_schema_2020_12_tool`, and `update_watched_resource` (which changes
//!   `test://watched-resource` and notifies its subscribers);
//! - resources: `test://static-text`, `test://static-binary`, the template
//!   `test://template/{id}/data` (with completion of `id`), `test://watched-resource`
//!   (subscribable);
//! - prompts: `test_simple_prompt`, `test_prompt_with_arguments` (with completion of `arg1`),
//!   `test_prompt_with_embedded_resource`, `test_prompt_with_image`;
//! - for the 2026-07-28 scenarios (see `modern`): the `test_input_required_result_*` tools
//!   and prompt (multi round-trip input), `test_missing_capability`,
//!   `test_streaming_elicitation`, `test_logging_tool`, `test_trigger_tool_change` and
//!   `test_custom_header` (an `x-mcp-header` parameter);
//! - for the `tasks-*` scenarios (see `tasks`): `greet`, `slow_compute`, `failing_job`,
//!   `protocol_error_job`, `confirm_delete`, `multi_input` and `test_tool_with_task`.

mod modern;
mod prompts;
mod resources;
mod tasks;
mod tools;

use mcp_core::{BuildError, Server};

/// A 1x1 red PNG, base64.
pub const PNG: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC";

/// Eight samples of silence as a WAV file (8 kHz, mono, 8-bit), base64.
pub const WAV: &str = "UklGRiwAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQgAAACAgICAgICAgA==";

/// The URI of the resource whose changes subscribers hear about.
pub const WATCHED_URI: &str = "test://watched-resource";

/// Builds the conformance server.
pub fn server() -> Result<Server, BuildError> {
    let builder = Server::builder("mcp-streaming-conformance", env!("CARGO_PKG_VERSION"))
        .instructions("The fixture server of the MCP conformance suite.")
        .resource_subscriptions(true);
    let builder = tools::register(builder)
        .prompt(prompts::test_simple_prompt)
        .prompt(prompts::test_prompt_with_arguments)
        .prompt(prompts::test_prompt_with_embedded_resource)
        .prompt(prompts::test_prompt_with_image)
        .resource(resources::static_text)
        .resource(resources::static_binary)
        .resource(resources::template_data)
        .tools(resources::Watched::default());
    tasks::register(modern::register(builder)).build()
}
