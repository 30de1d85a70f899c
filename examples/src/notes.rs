//! The guide's chapter "Prompts and resources": a notes server whose tool changes the notes,
//! whose resources read them, and whose prompts ask the model about them.
//! `tests/notes.rs` exercises every one through a client; `notes-server` serves them.

// ANCHOR: all
use std::sync::Mutex;

use mcp_core::protocol::{Completion, PromptMessage};
use mcp_core::{BuildError, Context, RpcError, Server, prompt, resource, tools};
use serde::Serialize;

/// The styles `summarize` offers while the user types.
const STYLES: [&str; 3] = ["brief", "detailed", "bullet points"];

fn styles(typed: &str) -> Completion {
    Completion::matching(STYLES, typed)
}

/// Asks the model to summarize a text in a given style.
#[prompt(title = "Summarize")]
pub async fn summarize(
    /// The text to summarize.
    text: String,
    /// How: brief, detailed or bullet points.
    #[arg(default = "brief".to_owned(), complete = styles)]
    style: String,
) -> Vec<PromptMessage> {
    vec![
        PromptMessage::user(format!("Summarize this text ({style}):\n\n{text}")),
        PromptMessage::assistant("Here is the summary:"),
    ]
}

/// How to use this server.
#[resource("notes://guide", mime_type = "text/markdown")]
pub async fn guide() -> &'static str {
    "# Notes\n\nAdd notes with `add_note`; read them at `notes://all` or `notes://{number}`."
}

/// A notebook: a tool changes it, resources read it, a prompt asks about it.
#[derive(Debug, Default)]
pub struct Notes {
    notes: Mutex<Vec<String>>,
}

/// What `notes://all` holds (sent as JSON).
#[derive(Debug, Serialize)]
pub struct Listing {
    /// How many notes there are.
    pub count: usize,
    /// The notes, oldest first.
    pub notes: Vec<String>,
}

#[tools]
impl Notes {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        self.notes.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a note and tells the clients subscribed to `notes://all`.
    #[tool]
    async fn add_note(
        &self,
        /// The note's text.
        #[arg(min_len = 1)]
        text: String,
        ctx: Context,
    ) -> String {
        let count = {
            let mut notes = self.lock();
            notes.push(text);
            notes.len()
        };
        ctx.notify_resource_updated("notes://all").await;
        format!("{count} notes")
    }

    /// Every note.
    #[resource("notes://all")]
    async fn all(&self) -> Listing {
        let notes = self.lock().clone();
        Listing {
            count: notes.len(),
            notes,
        }
    }

    /// One note, by its number (from 1).
    #[resource("notes://{number}")]
    async fn note(&self, number: usize) -> Result<String, RpcError> {
        let notes = self.lock();
        match number.checked_sub(1).and_then(|i| notes.get(i)) {
            Some(note) => Ok(note.clone()),
            None => Err(RpcError::resource_not_found(&format!("notes://{number}"))),
        }
    }

    /// Asks the model to review the notes taken so far.
    #[prompt]
    async fn review(&self) -> String {
        format!("Review these notes:\n\n{}", self.lock().join("\n"))
    }
}

/// The notes server: the prompt and resource functions above, and a shared notebook.
pub fn server() -> Result<Server, BuildError> {
    Server::builder("notes", "1.0")
        .prompt(summarize)
        .resource(guide)
        .tools(Notes::default())
        .resource_subscriptions(true)
        .build()
}
// ANCHOR_END: all
