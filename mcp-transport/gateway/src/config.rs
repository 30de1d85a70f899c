//! The gateway's config file: which servers to mount, how to reach each, under what prefix.
//!
//! ```toml
//! [servers.demo]
//! command = ["streaming-demo", "--transport", "stdio"]
//!
//! [servers.remote]
//! url = "http://127.0.0.1:9000/mcp"
//! ```
//!
//! Each `[servers.NAME]` table mounts one server: `command` (a program and its arguments,
//! spoken to over stdio, restarted with back-off when it dies) or `url` (streamable HTTP, or
//! the legacy HTTP+SSE transport), never both. It is mounted as a plugin under the prefix
//! `NAME`: its tools and prompts appear as `NAME_tool`, its resources as
//! `scheme://NAME/rest`; `prefix = "x"` chooses another prefix (`x_tool`), and `prefix = ""`
//! mounts the server unprefixed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::upstream::{HttpTransport, Upstream};

/// A parsed, checked config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayConfig {
    /// The gateway's own identity.
    #[serde(default)]
    pub gateway: GatewaySection,
    /// The servers to mount, by name (sorted: the order tools are listed in).
    #[serde(default)]
    pub servers: BTreeMap<String, ServerConfig>,
}

/// The `[gateway]` table: who the gateway says it is.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewaySection {
    /// The name in `serverInfo` (default `mcp-gateway`).
    #[serde(default = "default_name")]
    pub name: String,
    /// Instructions of its own, before those of the mounted servers.
    #[serde(default)]
    pub instructions: Option<String>,
}

impl Default for GatewaySection {
    fn default() -> Self {
        GatewaySection {
            name: default_name(),
            instructions: None,
        }
    }
}

fn default_name() -> String {
    "mcp-gateway".to_owned()
}

/// One `[servers.NAME]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// A program and its arguments, started as a stdio server.
    #[serde(default)]
    pub command: Option<Vec<String>>,
    /// Environment variables set for `command`.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The working directory of `command` (default: the gateway's).
    #[serde(default)]
    pub cwd: Option<PathBuf>,
    /// The URL of an HTTP server.
    #[serde(default)]
    pub url: Option<String>,
    /// How to speak to `url`: `auto` (streamable HTTP, falling back to legacy HTTP+SSE as the
    /// spec says), `streamable` or `sse` (legacy; the URL is its SSE endpoint).
    #[serde(default)]
    pub transport: Option<HttpTransport>,
    /// A bearer token sent to `url`.
    #[serde(default)]
    pub bearer_token: Option<String>,
    /// The prefix of its names (default: the server's name, so `count` becomes `NAME_count`;
    /// `""` mounts it unprefixed).
    #[serde(default)]
    pub prefix: Option<String>,
}

/// Why a config file was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML, or has a key or value the gateway does not know.
    #[error("{path}: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message: what, and where (line and column).
        message: String,
    },
    /// A server table is wrong.
    #[error("{path}: [servers.{server}]: {why}")]
    Server {
        /// The file.
        path: PathBuf,
        /// The server's name.
        server: String,
        /// What is wrong.
        why: String,
    },
    /// No server is configured.
    #[error("{path}: no [servers.NAME] table: nothing to serve")]
    Empty {
        /// The file.
        path: PathBuf,
    },
}

/// A server to mount, as the config says: its name, how to reach it, its prefix.
#[derive(Debug, Clone)]
pub struct Mount {
    /// The server's name (its table's).
    pub name: String,
    /// How to reach it.
    pub upstream: Upstream,
    /// The prefix of its names (the plugin prefix: tools become `prefix_tool`).
    pub prefix: String,
}

impl GatewayConfig {
    /// Reads and checks the file at `path`.
    pub fn load(path: &Path) -> Result<GatewayConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        GatewayConfig::parse(&text, path)
    }

    /// Parses and checks `text`; `path` only names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<GatewayConfig, ConfigError> {
        let config: GatewayConfig = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: path.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        if config.servers.is_empty() {
            return Err(ConfigError::Empty {
                path: path.to_owned(),
            });
        }
        for name in config.servers.keys() {
            config.mount(name, path)?;
        }
        Ok(config)
    }

    /// Every server to mount, in name order.
    pub fn mounts(&self) -> Vec<Mount> {
        self.servers
            .keys()
            .filter_map(|name| self.mount(name, Path::new("")).ok())
            .collect()
    }

    fn mount(&self, name: &str, path: &Path) -> Result<Mount, ConfigError> {
        let server = &self.servers[name];
        let bad = |why: String| ConfigError::Server {
            path: path.to_owned(),
            server: name.to_owned(),
            why,
        };
        let valid_name = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !valid_name {
            return Err(bad(
                "a server name is made of A-Z, a-z, 0-9, `_`, `-` and `.` (it becomes the prefix of tool names)".into(),
            ));
        }
        let upstream = match (&server.command, &server.url) {
            (Some(_), Some(_)) => {
                return Err(bad(
                    "both `command` and `url`: give one (a command to start over stdio, or the URL of a running server)".into(),
                ));
            }
            (None, None) => {
                return Err(bad(
                    "neither `command` nor `url`: give one (a command to start over stdio, or the URL of a running server)".into(),
                ));
            }
            (Some(command), None) => {
                let Some((program, args)) = command.split_first() else {
                    return Err(bad(
                        "`command` is empty: give the program and its arguments".into(),
                    ));
                };
                if server.transport.is_some() || server.bearer_token.is_some() {
                    return Err(bad(
                        "`transport` and `bearer_token` go with `url`, not with `command`".into(),
                    ));
                }
                Upstream::Command {
                    program: program.clone(),
                    args: args.to_vec(),
                    env: server.env.clone(),
                    cwd: server.cwd.clone(),
                }
            }
            (None, Some(url)) => {
                if !server.env.is_empty() || server.cwd.is_some() {
                    return Err(bad(
                        "`env` and `cwd` go with `command`, not with `url`".into()
                    ));
                }
                if !url.starts_with("http://") {
                    return Err(bad(format!("url {url:?}: an http:// URL is needed")));
                }
                Upstream::Url {
                    url: url.clone(),
                    transport: server.transport.unwrap_or_default(),
                    bearer_token: server.bearer_token.clone(),
                }
            }
        };
        let prefix = server.prefix.clone().unwrap_or_else(|| name.to_owned());
        if !prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            return Err(bad(format!(
                "prefix {prefix:?}: use A-Z, a-z, 0-9, `_`, `-` and `.` (it goes in front of tool names)"
            )));
        }
        Ok(Mount {
            name: name.to_owned(),
            upstream,
            prefix,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<GatewayConfig, ConfigError> {
        GatewayConfig::parse(text, Path::new("gateway.toml"))
    }

    fn refused(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn the_issue_example_mounts_two_servers_under_their_names() {
        let config = parse(
            "[servers.demo]\ncommand = [\"streaming-demo\", \"--transport\", \"stdio\"]\n\n\
             [servers.remote]\nurl = \"http://127.0.0.1:9000/mcp\"\n",
        )
        .unwrap();
        let mounts = config.mounts();
        assert_eq!(mounts.len(), 2);
        assert_eq!(
            (mounts[0].name.as_str(), mounts[0].prefix.as_str()),
            ("demo", "demo")
        );
        assert!(matches!(
            &mounts[0].upstream,
            Upstream::Command { program, args, .. } if program == "streaming-demo" && args == &["--transport", "stdio"]
        ));
        assert!(matches!(
            &mounts[1].upstream,
            Upstream::Url { url, transport: HttpTransport::Auto, bearer_token: None } if url == "http://127.0.0.1:9000/mcp"
        ));
        let unprefixed = parse("[servers.c]\nurl = \"http://h/mcp\"\nprefix = \"\"\n").unwrap();
        assert_eq!(unprefixed.mounts()[0].prefix, "");
    }

    #[test]
    fn mistakes_are_named_with_their_place() {
        let unknown = refused("[servers.demo]\ncommand = [\"x\"]\ncomand = [\"y\"]\n");
        assert!(
            unknown.starts_with("gateway.toml: TOML parse error at line 3, column 1")
                && unknown.contains("unknown field `comand`, expected one of"),
            "{unknown}"
        );
        let top = refused("[server.demo]\ncommand = [\"x\"]\n");
        assert!(top.contains("unknown field `server`"), "{top}");
        assert_eq!(
            refused("[servers.demo]\ncommand = [\"x\"]\nurl = \"http://h/mcp\"\n"),
            "gateway.toml: [servers.demo]: both `command` and `url`: give one (a command to start over stdio, or the URL of a running server)"
        );
        assert_eq!(
            refused("[servers.demo]\nprefix = \"d\"\n"),
            "gateway.toml: [servers.demo]: neither `command` nor `url`: give one (a command to start over stdio, or the URL of a running server)"
        );
        assert_eq!(
            refused("[servers.demo]\ncommand = []\n"),
            "gateway.toml: [servers.demo]: `command` is empty: give the program and its arguments"
        );
        assert!(
            refused("[servers.demo]\nurl = \"https://h/mcp\"\n")
                .contains("an http:// URL is needed")
        );
        assert!(
            refused("[servers.demo]\nurl = \"http://h\"\nprefix = \"a b\"\n")
                .contains("prefix \"a b\"")
        );
        assert!(
            refused("[servers.demo]\nurl = \"http://h\"\nenv = { A = \"1\" }\n")
                .contains("`env` and `cwd` go with `command`")
        );
        assert!(
            refused("[servers.demo]\ncommand = [\"x\"]\ntransport = \"sse\"\n")
                .contains("go with `url`")
        );
        assert!(
            refused("[servers.demo]\nurl = \"http://h\"\ntransport = \"ws\"\n")
                .contains("unknown variant `ws`")
        );
        assert_eq!(
            refused("# nothing\n"),
            "gateway.toml: no [servers.NAME] table: nothing to serve"
        );
    }
}
