//! The guide's chapter "Plugins and middleware": a server that mounts a plugin beside a tool
//! of its own, with a stack of layers, one of them written from scratch ([`QuotaLayer`]).

mod quota;
mod server;

pub use quota::{Quota, QuotaLayer};
pub use server::server;
