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
