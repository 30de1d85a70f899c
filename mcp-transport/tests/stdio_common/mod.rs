//! Helpers shared by the stdio tests (the `examples` crate's tests include this module too).

#![allow(dead_code, unreachable_pub)]

pub mod raw;
pub mod schema;
pub mod tools;
