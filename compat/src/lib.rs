//! Programs written against the published `premix-orm` 1.0.9-alpha API, as
//! its documentation shows it, compiled against `premix-orm-fork` through a
//! renamed dependency (`premix-orm = { package = "premix-orm-fork" }` in
//! this crate's manifest). Nothing here names the fork: if these compile and
//! their tests pass, a premix user can switch by editing one line.

// The programs keep premix's documented spelling (`premix_orm::Premix::sync`,
// `premix_orm::sqlx::Sqlite`), qualified paths included: that is the point.
#![allow(unused_qualifications)]

pub mod bulk;
pub mod fast_paths;
pub mod parents;
pub mod quickstart;
pub mod raw;
pub mod relations;
