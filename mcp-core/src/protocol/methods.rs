//! Method names, in one place, so no string literal is scattered through the code.

/// `initialize` (client to server).
pub const INITIALIZE: &str = "initialize";
/// `notifications/initialized` (client to server).
pub const INITIALIZED: &str = "notifications/initialized";
/// `ping` (either direction).
pub const PING: &str = "ping";
/// `tools/list`.
pub const TOOLS_LIST: &str = "tools/list";
/// `tools/call`.
pub const TOOLS_CALL: &str = "tools/call";
/// `logging/setLevel`.
pub const LOGGING_SET_LEVEL: &str = "logging/setLevel";
/// `notifications/message` (server to client log message).
pub const LOG_MESSAGE: &str = "notifications/message";
/// `notifications/progress`.
pub const PROGRESS: &str = "notifications/progress";
/// `notifications/cancelled`.
pub const CANCELLED: &str = "notifications/cancelled";
/// `notifications/tools/list_changed`.
pub const TOOLS_LIST_CHANGED: &str = "notifications/tools/list_changed";
/// `prompts/list`.
pub const PROMPTS_LIST: &str = "prompts/list";
/// `prompts/get`.
pub const PROMPTS_GET: &str = "prompts/get";
/// `resources/list`.
pub const RESOURCES_LIST: &str = "resources/list";
/// `resources/templates/list`.
pub const RESOURCES_TEMPLATES_LIST: &str = "resources/templates/list";
/// `resources/read`.
pub const RESOURCES_READ: &str = "resources/read";
/// `resources/subscribe`.
pub const RESOURCES_SUBSCRIBE: &str = "resources/subscribe";
/// `resources/unsubscribe`.
pub const RESOURCES_UNSUBSCRIBE: &str = "resources/unsubscribe";
/// `notifications/resources/updated`.
pub const RESOURCES_UPDATED: &str = "notifications/resources/updated";
/// `completion/complete`.
pub const COMPLETE: &str = "completion/complete";
/// `sampling/createMessage` (server to client).
pub const SAMPLING_CREATE_MESSAGE: &str = "sampling/createMessage";
/// `elicitation/create` (server to client).
pub const ELICITATION_CREATE: &str = "elicitation/create";
/// `roots/list` (server to client).
pub const ROOTS_LIST: &str = "roots/list";
/// `notifications/prompts/list_changed`.
pub const PROMPTS_LIST_CHANGED: &str = "notifications/prompts/list_changed";
/// `notifications/resources/list_changed`.
pub const RESOURCES_LIST_CHANGED: &str = "notifications/resources/list_changed";
/// `server/discover` (2026-07-28): the server's versions, capabilities and identity.
pub const SERVER_DISCOVER: &str = "server/discover";
/// `subscriptions/listen` (2026-07-28): a long-lived stream of change notifications.
pub const SUBSCRIPTIONS_LISTEN: &str = "subscriptions/listen";
/// `notifications/subscriptions/acknowledged` (2026-07-28): the first message of a listen
/// stream.
pub const SUBSCRIPTIONS_ACKNOWLEDGED: &str = "notifications/subscriptions/acknowledged";
/// Reads a task's state (2025-11-25 tasks; the 2026-07-28 tasks extension).
pub const TASKS_GET: &str = "tasks/get";
/// Waits for a task's result (2025-11-25 tasks only).
pub const TASKS_RESULT: &str = "tasks/result";
/// Lists the caller's tasks (2025-11-25 tasks only).
pub const TASKS_LIST: &str = "tasks/list";
/// Cancels a task.
pub const TASKS_CANCEL: &str = "tasks/cancel";
/// Answers a task's input requests (the 2026-07-28 tasks extension).
pub const TASKS_UPDATE: &str = "tasks/update";
/// A task's new state (2025-11-25).
pub const TASKS_STATUS: &str = "notifications/tasks/status";
/// A task's new state (the 2026-07-28 tasks extension, on a `subscriptions/listen` stream).
pub const TASKS_NOTIFICATION: &str = "notifications/tasks";
