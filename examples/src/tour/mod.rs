//! The tools of the guide's chapter "Writing streaming tools": each shape of parameter and
//! result, constraints, progress, logs, cancellation, a server type whose methods are tools,
//! (for the chapter on the two protocol eras) a tool that asks the user, and (for the
//! chapter on tasks) a tool that may run as a task with the client code that runs it, and (for
//! the chapter on replicas) how one replica of several serves. `tests/tour.rs` calls every one of them through a client. Each file is one of the
//! chapter's listings, imports included.

mod content;
mod greet;
mod measure;
mod notebook;
mod repeat;
mod replica;
mod report;
mod report_client;
mod report_follow;
mod summarize;
mod trip;
mod wait;

pub use content::{always_fails, pixel};
pub use greet::greet;
pub use measure::measure_files;
pub use notebook::Notebook;
pub use repeat::repeat;
pub use replica::serve_replica;
pub use report::build_report;
pub use report_client::report_as_task;
pub use report_follow::follow_report;
pub use summarize::{Summary, summarize};
pub use trip::plan_trip;
pub use wait::wait;

// ANCHOR: server
use mcp_core::{BuildError, Server};

/// The server of the tour: every tool above.
pub fn server() -> Result<Server, BuildError> {
    Server::builder("tour", "1.0")
        .tool(greet)
        .tool(summarize)
        .tool(repeat)
        .tool(measure_files)
        .tool(wait)
        .tool(build_report)
        .tool(pixel)
        .tool(always_fails)
        .tool(plan_trip)
        .tools(Notebook::default())
        .build()
}
// ANCHOR_END: server
