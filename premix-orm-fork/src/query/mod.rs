//! `QueryBuilder`: filters, paging, eager loading, and the select / update /
//! delete that run them.
//!
//! One file per job: `builder.rs` holds what the fluent methods collect,
//! `shape.rs` turns it into SQL (via the model's shape cache) and binds it,
//! `raw.rs` splices raw conditions into that SQL, and the terminal methods
//! run it: `select.rs` (`all`, with eager loads), `stream.rs` (`stream`)
//! and `bulk.rs` (`update`, `delete`).

mod builder;
mod bulk;
mod raw;
mod select;
mod shape;
mod stream;

pub use builder::{Include, QueryBuilder};
