//! A premix-compatible async ORM on sqlx 0.8, written to be as fast as
//! hand-written sqlx and to show what it costs.
//!
//! Users of the published `premix-orm` switch by renaming one dependency:
//!
//! ```toml
//! premix-orm = { package = "premix-orm-fork", version = "0.1" }
//! ```
//!
//! ```no_run
//! use premix_orm_fork::prelude::*;
//!
//! #[derive(Model, Debug)]
//! struct User {
//!     id: i32,
//!     name: String,
//!     #[has_many(Post)]
//!     #[premix(ignore)]
//!     posts: Option<Vec<Post>>,
//! }
//!
//! #[derive(Model, Debug)]
//! #[belongs_to(User)]
//! struct Post {
//!     id: i32,
//!     user_id: i32,
//!     title: String,
//! }
//!
//! # async fn demo() -> Result<(), sqlx::Error> {
//! let pool = Premix::smart_sqlite_pool("sqlite::memory:").await?;
//! Premix::sync::<sqlx::Sqlite, User>(&pool).await?;
//! Premix::sync::<sqlx::Sqlite, Post>(&pool).await?;
//! let mut user = User { id: 0, name: "Alice".into(), posts: None };
//! user.save(&pool).await?;
//! let users = User::find_in_pool(&pool).include(User::posts).all().await?;
//! # Ok(()) }
//! ```
//!
//! # Where it differs from premix 1.0.9-alpha, on purpose
//!
//! - One prepared statement per query *shape*: values, LIMIT and OFFSET are
//!   always bound, so paging reuses one statement; `IN` lists are padded to
//!   a power of two for the same reason.
//! - SQL for find-by-id, insert, update and delete is built once per model
//!   and backend, and is correct for each backend in the same process.
//! - Filter columns are checked against the model (an unknown column is an
//!   error, not SQL); raw SQL conditions need `.allow_unsafe()`.
//! - Eager loading is one generic routine with a named, overridable
//!   Vec/HashMap threshold ([`DEFAULT_VEC_GROUPING_MAX_PARENTS`]).
//! - `update` never rewrites the primary key.
//! - Rows are decoded by column index, not by name.
//!
//! Errors are `sqlx::Error` throughout, as in premix: the ORM's own refusals
//! are `InvalidArgument` (validation, raw filters, unknown relations, version
//! conflicts in `save`) and `ColumnNotFound` (unknown columns).
//!
//! # Features
//!
//! `sqlite` (default), `postgres`, and `instrument`: counters on every
//! operation through premix-instrument, which is not compiled at all when the
//! feature is off.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod compat;
mod dialect;
mod eager;
mod executor;
mod ident;
mod meta;
mod model;
mod observe;
mod ops;
mod pool;
mod query;
mod raw_condition;
mod schema;
mod sql;
mod static_query;
mod value;

pub use compat::ModelCompat;
pub use dialect::{Backend, DbQuery, SqlDialect};
pub use eager::{DEFAULT_VEC_GROUPING_MAX_PARENTS, EagerOptions, Grouping};
pub use executor::{Executor, IntoExecutor};
pub use meta::{BelongsToMeta, CachedSql, ColumnMeta, ColumnType, ModelMeta, SqlCache, SqlLookup};
pub use model::{Model, ModelHooks, ModelValidation, Relation, UpdateResult, ValidationError};
#[cfg(feature = "instrument")]
#[cfg_attr(docsrs, doc(cfg(feature = "instrument")))]
pub use observe::set_statement_cache_capacity;
pub use pool::StatementCache;
pub use premix_orm_fork_macros::{Model, premix_query};
pub use query::{Include, QueryBuilder};
pub use schema::Premix;
pub use sql::{FilterOp, Order};
pub use sqlx;
pub use value::BindValue;

/// Everything a model file needs: `use premix_orm_fork::prelude::*;`.
pub mod prelude {
    pub use crate::{
        Executor, IntoExecutor, Model, ModelCompat, ModelHooks, ModelValidation, Premix,
        QueryBuilder, Relation, UpdateResult, ValidationError, premix_query,
    };
}

/// What derived code calls. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::eager::{ParentIndex, load_belongs_to, load_has_many};

    /// The backend a model's `User::create_table_sql()` means when it names
    /// none: the only one compiled in, or SQLite when both are.
    pub trait DefaultBackend<DB> {}

    #[cfg(feature = "sqlite")]
    impl DefaultBackend<sqlx::Sqlite> for () {}

    #[cfg(all(feature = "postgres", not(feature = "sqlite")))]
    impl DefaultBackend<sqlx::Postgres> for () {}
    pub use crate::executor::Conn;
    pub use crate::static_query::{NOT_BUILT, PremixQuery, QueryOp, QuerySpec, StaticQuery};
}
