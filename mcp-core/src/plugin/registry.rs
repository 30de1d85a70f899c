//! The server's live catalog: what its own builder calls and each plugin contribute, merged
//! into one snapshot that requests read, replaced when a plugin's catalog changes.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use super::{Catalog, Plugin, PluginCapabilities, PluginHandle, Prefix, StartError};
use crate::prompt::Prompt;
use crate::resource::ResourceProvider;
use crate::server::{BuildError, HeaderParam, ListChanged, Server, header_params};
use crate::sync::lock;
use crate::tool::Tool;

/// What one request sees: every tool, prompt and resource, named as clients see them.
#[derive(Default)]
pub(crate) struct Snapshot {
    pub(crate) tools: Vec<Arc<dyn Tool>>,
    /// The name of each tool of `tools`, in the same order.
    pub(crate) tool_names: Vec<String>,
    pub(crate) tool_index: HashMap<String, usize>,
    pub(crate) prompts: Vec<Arc<dyn Prompt>>,
    pub(crate) resources: Vec<Arc<dyn ResourceProvider>>,
    pub(crate) header_params: HashMap<String, Vec<HeaderParam>>,
    /// The task support of each tool that may run as a task, by name.
    pub(crate) task_support: HashMap<String, crate::protocol::TaskSupport>,
}

impl Snapshot {
    /// The tool called `name`: among a few tools, found by comparing names (cheaper than
    /// hashing the name); among more, through the index.
    pub(crate) fn tool(&self, name: &str) -> Option<Arc<dyn Tool>> {
        /// Up to how many tools a lookup compares names.
        const COMPARED: usize = 8;
        let at = if self.tool_names.len() <= COMPARED {
            self.tool_names.iter().position(|n| n == name)
        } else {
            self.tool_index.get(name).copied()
        };
        at.map(|i| self.tools[i].clone())
    }

    /// How the tool called `name` may run as a task (without a lookup when no tool may).
    pub(crate) fn task_support(&self, name: &str) -> crate::protocol::TaskSupport {
        if self.task_support.is_empty() {
            return Default::default();
        }
        self.task_support.get(name).copied().unwrap_or_default()
    }
}

/// One source of tools: the server's own builder calls (slot 0) or a plugin.
pub(crate) struct Slot {
    pub(crate) plugin: Option<Arc<dyn Plugin>>,
    pub(crate) name: String,
    pub(crate) prefix: Prefix,
    pub(crate) capabilities: PluginCapabilities,
}

impl Slot {
    fn side(&self) -> String {
        match self.plugin {
            None => format!("server `{}`", self.name),
            Some(_) if self.prefix.as_str().is_empty() => format!("plugin `{}`", self.name),
            Some(_) => format!("plugin `{}` (prefix `{}`)", self.name, self.prefix.as_str()),
        }
    }
}

struct Live {
    /// Each slot's catalog, prefix applied.
    catalogs: Vec<Catalog>,
    instructions: Vec<Option<String>>,
    snapshot: Arc<Snapshot>,
}

pub(crate) struct Registry {
    slots: Vec<Slot>,
    live: RwLock<Live>,
    started: Mutex<bool>,
    shut_down: AtomicBool,
}

impl Registry {
    /// Checks and merges the first catalogs.
    pub(crate) fn new(
        slots: Vec<Slot>,
        catalogs: Vec<Catalog>,
        instructions: Vec<Option<String>>,
    ) -> Result<Self, BuildError> {
        let catalogs: Vec<Catalog> = slots
            .iter()
            .zip(catalogs)
            .map(|(slot, c)| slot.prefix.apply(c))
            .collect();
        let snapshot = Arc::new(merge(&slots, &catalogs)?);
        Ok(Registry {
            slots,
            live: RwLock::new(Live {
                catalogs,
                instructions,
                snapshot,
            }),
            started: Mutex::new(false),
            shut_down: AtomicBool::new(false),
        })
    }

    pub(crate) fn snapshot(&self) -> Arc<Snapshot> {
        self.read().snapshot.clone()
    }

    /// The tool called `name` and how it may run as a task: one look at the current
    /// snapshot, under the lock (no count taken on the snapshot for it).
    pub(crate) fn tool_to_call(
        &self,
        name: &str,
    ) -> Option<(Arc<dyn Tool>, crate::protocol::TaskSupport)> {
        let live = self.read();
        let tool = live.snapshot.tool(name)?;
        Some((tool, live.snapshot.task_support(name)))
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Live> {
        self.live.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Live> {
        self.live.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The capabilities every plugin declared, together.
    pub(crate) fn declared(&self) -> PluginCapabilities {
        let mut all = PluginCapabilities::default();
        for slot in &self.slots {
            let c = slot.capabilities;
            all.prompts |= c.prompts;
            all.resources |= c.resources;
            all.resource_subscriptions |= c.resource_subscriptions;
            all.list_changed |= c.list_changed;
            all.tasks |= c.tasks;
        }
        all
    }

    /// The server's instructions, then each plugin's under its name (a single source's
    /// text as it is).
    pub(crate) fn instructions(&self) -> Option<String> {
        let live = self.read();
        let mut parts = Vec::new();
        let given: Vec<(&Slot, &String)> = self
            .slots
            .iter()
            .zip(&live.instructions)
            .filter_map(|(slot, text)| Some((slot, text.as_ref()?)))
            .collect();
        // One source alone speaks as the server; several each under a heading.
        if let [(_, text)] = given.as_slice() {
            return Some((*text).clone());
        }
        for (slot, text) in given {
            match slot.plugin {
                None => parts.push(text.clone()),
                Some(_) => parts.push(format!("## {}\n\n{text}", slot.name)),
            }
        }
        (!parts.is_empty()).then(|| parts.join("\n\n"))
    }

    pub(crate) fn set_instructions(&self, slot: usize, text: Option<String>) {
        if let Some(i) = self.write().instructions.get_mut(slot) {
            *i = text;
        }
    }

    /// Replaces slot `slot`'s catalog; returns the lists to announce as changed.
    pub(crate) fn replace(
        &self,
        slot: usize,
        catalog: Catalog,
    ) -> Result<Vec<ListChanged>, BuildError> {
        let catalog = self.slots[slot].prefix.apply(catalog);
        let mut live = self.write();
        let mut catalogs = live.catalogs.clone();
        let old = std::mem::replace(&mut catalogs[slot], catalog);
        live.snapshot = Arc::new(merge(&self.slots, &catalogs)?);
        let new = &catalogs[slot];
        let mut changed = Vec::new();
        if !old.tools.is_empty() || !new.tools.is_empty() {
            changed.push(ListChanged::Tools);
        }
        if !old.prompts.is_empty() || !new.prompts.is_empty() {
            changed.push(ListChanged::Prompts);
        }
        if !old.resources.is_empty() || !new.resources.is_empty() {
            changed.push(ListChanged::Resources);
        }
        live.catalogs = catalogs;
        Ok(changed)
    }

    /// Runs every plugin's start hook once, in the order they were added. A plugin that fails
    /// stops the start: the plugins already started are shut down, and the error names it.
    pub(crate) async fn start(&self, server: &Server) -> Result<(), StartError> {
        {
            let mut started = lock(&self.started);
            if *started {
                return Ok(());
            }
            *started = true;
        }
        for (i, slot) in self.slots.iter().enumerate() {
            let Some(plugin) = &slot.plugin else { continue };
            let handle = PluginHandle {
                server: server.downgrade(),
                slot: i,
                prefix: slot.prefix.clone(),
            };
            if let Err(source) = plugin.clone().start(handle).await {
                self.shutdown().await;
                return Err(StartError {
                    plugin: slot.name.clone(),
                    source,
                });
            }
        }
        Ok(())
    }

    /// Runs every plugin's shutdown hook, the last added first; only the first call does.
    pub(crate) async fn shutdown(&self) {
        if self.shut_down.swap(true, Ordering::SeqCst) {
            return;
        }
        for slot in self.slots.iter().rev() {
            if let Some(plugin) = &slot.plugin {
                tracing::debug!(plugin = %slot.name, "shutting the plugin down");
                plugin.clone().shutdown().await;
            }
        }
    }
}

/// Checks names across slots and builds the snapshot: a name twice in one slot is a
/// `Duplicate*` error, in two slots a clash naming both.
fn merge(slots: &[Slot], catalogs: &[Catalog]) -> Result<Snapshot, BuildError> {
    let mut snapshot = Snapshot::default();
    let mut tool_owner: HashMap<String, usize> = HashMap::new();
    let mut prompt_owner: HashMap<String, usize> = HashMap::new();
    let mut uri_owner: HashMap<String, usize> = HashMap::new();
    let clash = |kind: &'static str, name: String, first: usize, second: usize| {
        if first == second {
            match kind {
                "tool" => BuildError::DuplicateTool(name),
                "prompt" => BuildError::DuplicatePrompt(name),
                _ => BuildError::DuplicateResource(name),
            }
        } else {
            BuildError::Clash {
                kind,
                name,
                first: slots[first].side(),
                second: slots[second].side(),
            }
        }
    };
    for (s, catalog) in catalogs.iter().enumerate() {
        for tool in &catalog.tools {
            let definition = tool.definition();
            let support = definition.task_support();
            let name = definition.name;
            let params = header_params(&definition.input_schema).map_err(|why| {
                BuildError::InvalidHeaderAnnotation {
                    tool: name.clone(),
                    why,
                }
            })?;
            let valid = (1..=128).contains(&name.len())
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
            if !valid {
                return Err(BuildError::InvalidToolName(name));
            }
            if let Some(&first) = tool_owner.get(&name) {
                return Err(clash("tool", name, first, s));
            }
            tool_owner.insert(name.clone(), s);
            if !params.is_empty() {
                snapshot.header_params.insert(name.clone(), params);
            }
            if support != crate::protocol::TaskSupport::Forbidden {
                snapshot.task_support.insert(name.clone(), support);
            }
            snapshot
                .tool_index
                .insert(name.clone(), snapshot.tools.len());
            snapshot.tool_names.push(name);
            snapshot.tools.push(tool.clone());
        }
        for prompt in &catalog.prompts {
            let name = prompt.definition().name;
            if let Some(&first) = prompt_owner.get(&name) {
                return Err(clash("prompt", name, first, s));
            }
            prompt_owner.insert(name, s);
            snapshot.prompts.push(prompt.clone());
        }
        for provider in &catalog.resources {
            let mut own = HashSet::new();
            let listed = provider.resources().into_iter().map(|r| r.uri);
            let templates = provider.templates().into_iter().map(|t| t.uri_template);
            for uri in listed.chain(templates) {
                if !own.insert(uri.clone()) {
                    return Err(clash("resource", uri, s, s));
                }
                if let Some(&first) = uri_owner.get(&uri) {
                    return Err(clash("resource", uri, first, s));
                }
                uri_owner.insert(uri, s);
            }
            snapshot.resources.push(provider.clone());
        }
    }
    Ok(snapshot)
}
