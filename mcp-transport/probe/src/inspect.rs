//! `mcp-probe info`, `list`, `prompt` and `read`: what a server is and offers.

use std::collections::HashMap;

use mcp_core::protocol::{Content, PromptMessage, Role};
use serde_json::{Value, json};

use crate::output::{Exit, describe_content, describe_contents, say};
use crate::target::{Connection, Target};

/// `mcp-probe info`, `mcp-probe list`.
#[derive(Debug, clap::Args)]
pub(crate) struct ListArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    target: Target,
}

/// `mcp-probe prompt NAME`.
#[derive(Debug, clap::Args)]
pub(crate) struct PromptArgs {
    /// The prompt.
    name: String,
    /// One argument, `key=value`; repeat for more.
    #[arg(short = 'a', long = "arg", value_name = "KEY=VALUE")]
    pairs: Vec<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    target: Target,
}

/// `mcp-probe read URI`.
#[derive(Debug, clap::Args)]
pub(crate) struct ReadArgs {
    /// The resource's URI.
    uri: String,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    target: Target,
}

/// Connects, runs `body`, closes.
async fn with_connection<F>(target: &Target, body: F) -> Result<Exit, String>
where
    F: AsyncFnOnce(&Connection) -> Result<Exit, String>,
{
    let connection = target.connect().await?;
    let outcome = body(&connection).await;
    connection.close().await;
    outcome
}

/// Runs `mcp-probe info`.
pub(crate) async fn info(args: ListArgs) -> Result<Exit, String> {
    with_connection(&args.target, async |c: &Connection| {
        let server = c.client.server();
        if args.json {
            let mut document = serde_json::to_value(server).map_err(|e| e.to_string())?;
            document["transport"] = c.transport.into();
            say!("{document:#}");
        } else {
            let info = &server.server_info;
            say!("{} {} over {}", info.name, info.version, c.transport);
            if let Some(title) = &info.title {
                say!("title: {title}");
            }
            say!("protocol: {}", server.protocol_version);
            let capabilities = serde_json::to_value(&server.capabilities).unwrap_or_default();
            say!("capabilities: {capabilities}");
            if let Some(instructions) = &server.instructions {
                say!("instructions: {instructions}");
            }
        }
        Ok(Exit::Success)
    })
    .await
}

/// Runs `mcp-probe list`: tools, prompts, resources and templates (those the server offers).
pub(crate) async fn list(args: ListArgs) -> Result<Exit, String> {
    with_connection(&args.target, async |c: &Connection| {
        let client = &c.client;
        let capabilities = &client.server().capabilities;
        fn failed(what: &'static str) -> impl Fn(mcp_core::RequestError) -> String {
            move |e| format!("{what} failed: {e}")
        }
        let tools = client.list_tools().await.map_err(failed("tools/list"))?;
        let prompts = match capabilities.prompts {
            Some(_) => client
                .list_prompts()
                .await
                .map_err(failed("prompts/list"))?,
            None => Vec::new(),
        };
        let (resources, templates) = match capabilities.resources {
            Some(_) => (
                client
                    .list_resources()
                    .await
                    .map_err(failed("resources/list"))?,
                client
                    .list_resource_templates()
                    .await
                    .map_err(failed("resources/templates/list"))?,
            ),
            None => (Vec::new(), Vec::new()),
        };
        if args.json {
            let document = json!({
                "tools": tools,
                "prompts": prompts,
                "resources": resources,
                "resourceTemplates": templates,
            });
            say!("{document:#}");
            return Ok(Exit::Success);
        }
        say!("tools ({}):", tools.len());
        for tool in &tools {
            let required: Vec<String> = tool
                .input_schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
            let properties: Vec<String> = tool
                .input_schema
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flat_map(|p| p.keys())
                .map(|k| {
                    if required.contains(k) {
                        k.clone()
                    } else {
                        format!("[{k}]")
                    }
                })
                .collect();
            say!("  {}({})", tool.name, properties.join(", "));
            print_description(tool.description.as_deref());
        }
        if capabilities.prompts.is_some() {
            say!("prompts ({}):", prompts.len());
            for prompt in &prompts {
                let arguments: Vec<String> = prompt
                    .arguments
                    .iter()
                    .flatten()
                    .map(|a| {
                        if a.required == Some(true) {
                            a.name.clone()
                        } else {
                            format!("[{}]", a.name)
                        }
                    })
                    .collect();
                say!("  {}({})", prompt.name, arguments.join(", "));
                print_description(prompt.description.as_deref());
            }
        }
        if capabilities.resources.is_some() {
            say!("resources ({}):", resources.len());
            for r in &resources {
                let mime = r.mime_type.as_deref().unwrap_or("-");
                say!("  {} ({}, {mime})", r.uri, r.name);
                print_description(r.description.as_deref());
            }
            say!("resource templates ({}):", templates.len());
            for t in &templates {
                let mime = t.mime_type.as_deref().unwrap_or("-");
                say!("  {} ({}, {mime})", t.uri_template, t.name);
                print_description(t.description.as_deref());
            }
        }
        Ok(Exit::Success)
    })
    .await
}

/// The first line of a description, indented.
fn print_description(description: Option<&str>) {
    if let Some(line) = description.and_then(|d| d.lines().next()) {
        say!("      {line}");
    }
}

/// Runs `mcp-probe prompt`.
pub(crate) async fn prompt(args: PromptArgs) -> Result<Exit, String> {
    let mut arguments = HashMap::new();
    for pair in &args.pairs {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("-a {pair}: write key=value"))?;
        arguments.insert(key.to_owned(), value.to_owned());
    }
    with_connection(&args.target, async |c: &Connection| {
        let result = c
            .client
            .get_prompt(&args.name, arguments)
            .await
            .map_err(|e| format!("prompts/get failed: {e}"))?;
        if args.json {
            let document = serde_json::to_value(&result).map_err(|e| e.to_string())?;
            say!("{document:#}");
            return Ok(Exit::Success);
        }
        if let Some(description) = &result.description {
            say!("{description}");
        }
        for PromptMessage { role, content } in &result.messages {
            let role = match role {
                Role::User => "user",
                Role::Assistant => "assistant",
            };
            let text = match content {
                Content::Text(t) => t.text.clone(),
                other => describe_content(other),
            };
            say!("[{role}] {text}");
        }
        Ok(Exit::Success)
    })
    .await
}

/// Runs `mcp-probe read`.
pub(crate) async fn read(args: ReadArgs) -> Result<Exit, String> {
    with_connection(&args.target, async |c: &Connection| {
        let result = c
            .client
            .read_resource(&args.uri)
            .await
            .map_err(|e| format!("resources/read failed: {e}"))?;
        if args.json {
            let document = serde_json::to_value(&result).map_err(|e| e.to_string())?;
            say!("{document:#}");
            return Ok(Exit::Success);
        }
        for contents in &result.contents {
            say!("{}", describe_contents(contents));
        }
        Ok(Exit::Success)
    })
    .await
}
