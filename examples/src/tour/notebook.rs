//! A server type whose methods are tools, sharing its state.

// ANCHOR: all
use std::sync::Mutex;

use mcp_core::tools;

/// A notebook whose tools share its notes.
#[derive(Debug, Default)]
pub struct Notebook {
    notes: Mutex<Vec<String>>,
}

#[tools]
impl Notebook {
    /// Adds a note and returns how many there are.
    #[tool]
    async fn add_note(
        &self,
        /// The note's text.
        text: String,
    ) -> String {
        let mut notes = self.notes.lock().unwrap_or_else(|e| e.into_inner());
        notes.push(text);
        format!("{} notes", notes.len())
    }

    /// Lists the notes, one per line.
    #[tool(read_only)]
    async fn list_notes(&self) -> String {
        self.notes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .join("\n")
    }
}
// ANCHOR_END: all
