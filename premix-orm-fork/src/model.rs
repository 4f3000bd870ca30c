//! The `Model` trait: what `#[derive(Model)]` implements, and what users
//! call.
//!
//! The derive implements only the `__`-prefixed glue (metadata, row decoding
//! by index, binding fields by reference, id and foreign-key access, relation
//! dispatch). Every operation a user calls is a provided method that forwards
//! to one generic library function in `ops`, so the code that runs, and
//! carries the instrumentation, is compiled once in this crate rather than
//! expanded per model.

use std::fmt;
use std::future::Future;

use sqlx::Pool;

use crate::dialect::{DbQuery, SqlDialect};
use crate::eager::EagerOptions;
use crate::executor::{Conn, IntoExecutor};
use crate::meta::ModelMeta;
use crate::query::QueryBuilder;
use crate::{ops, schema};

/// Declares provided methods that write the model through anything that
/// runs queries, each forwarding `self`, the executor and any further
/// arguments to one function of `ops`; shared by [`Model`] and premix's
/// extra names in `compat`.
// Input:  fn save -> () = ops::save(ops::Hooks::Run);
// Output: fn save<'a, E>(&'a mut self, executor: E)
//             -> impl Future<Output = Result<(), sqlx::Error>> + Send
//         where E: IntoExecutor<'a, DB = DB>
//         { ops::save(self, executor.into_executor(), ops::Hooks::Run) }
macro_rules! write_methods {
    ($(
        $(#[$attr:meta])*
        fn $name:ident -> $output:ty = $($function:ident)::+ ($($argument:expr),*);
    )+) => {$(
        $(#[$attr])*
        fn $name<'a, E>(
            &'a mut self,
            executor: E,
        ) -> impl Future<Output = Result<$output, sqlx::Error>> + Send
        where
            E: IntoExecutor<'a, DB = DB>,
        {
            $($function)::+(self, executor.into_executor() $(, $argument)*)
        }
    )+};
}
pub(crate) use write_methods;

/// Runs around `save`. The derive implements it with no-op defaults unless
/// the model says `#[premix(custom_hooks)]`, in which case the user does.
pub trait ModelHooks {
    /// Before a model is inserted or updated by `save`.
    fn before_save(&mut self) -> impl Future<Output = Result<(), sqlx::Error>> + Send {
        async { Ok(()) }
    }

    /// After a successful `save`.
    fn after_save(&mut self) -> impl Future<Output = Result<(), sqlx::Error>> + Send {
        async { Ok(()) }
    }
}

/// Checked by `save` before anything is written. The derive implements it
/// accepting everything unless the model says `#[premix(custom_validation)]`.
pub trait ModelValidation {
    /// The problems with this model, if any.
    ///
    /// # Errors
    /// Every field that is not acceptable.
    fn validate(&self) -> Result<(), Vec<ValidationError>> {
        Ok(())
    }
}

/// A field that failed validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationError {
    /// The field.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for ValidationError {}

/// The result of `update`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateResult {
    /// The row was updated.
    Success,
    /// The model has a `version` and the row's was different: someone else
    /// updated it first. Nothing was written.
    VersionConflict,
    /// No row has this id.
    NotFound,
    /// Kept for source compatibility with premix; never returned here.
    NotImplemented,
}

/// A relation of model `T`, for `include(User::posts)`. The derive emits one
/// associated constant per `#[has_many]` field.
#[derive(Debug)]
pub struct Relation<T> {
    name: &'static str,
    _model: std::marker::PhantomData<fn() -> T>,
}

impl<T> Relation<T> {
    /// A relation called `name`.
    #[must_use]
    pub const fn new(name: &'static str) -> Self {
        Self {
            name,
            _model: std::marker::PhantomData,
        }
    }

    /// Its name, as `include("...")` takes it.
    #[must_use]
    pub const fn name(&self) -> &'static str {
        self.name
    }
}

impl<T> Clone for Relation<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Relation<T> {}

/// A table row as a Rust struct. Implement it with `#[derive(Model)]`.
pub trait Model<DB: SqlDialect>:
    Sized + Send + Sync + Unpin + ModelHooks + ModelValidation + 'static
{
    #[doc(hidden)]
    fn __meta() -> &'static ModelMeta;

    /// Decodes a row selected with `meta().columns`, by column index.
    #[doc(hidden)]
    fn __decode(row: &DB::Row) -> Result<Self, sqlx::Error>;

    /// Binds every column except `id` (and `id` last when `with_id`), by
    /// reference, in column order.
    #[doc(hidden)]
    fn __bind_insert<'q>(&'q self, query: DbQuery<'q, DB>, with_id: bool) -> DbQuery<'q, DB>;

    /// Binds the SET values of `UPDATE`: every column except `id` and
    /// `version`, in column order.
    #[doc(hidden)]
    fn __bind_update<'q>(&'q self, query: DbQuery<'q, DB>) -> DbQuery<'q, DB>;

    #[doc(hidden)]
    fn __id(&self) -> i64;

    /// Stores the id a `RETURNING id` row carries.
    #[doc(hidden)]
    fn __set_id(&mut self, row: &DB::Row) -> Result<(), sqlx::Error>;

    /// Stores the id an INSERT assigned (SQLite's last rowid).
    #[doc(hidden)]
    fn __assign_id(&mut self, id: i64) -> Result<(), sqlx::Error>;

    #[doc(hidden)]
    fn __version(&self) -> Option<i64>;

    #[doc(hidden)]
    fn __bump_version(&mut self);

    /// The value of an integer column, for grouping eager-loaded children.
    #[doc(hidden)]
    fn __foreign_key(&self, column: &str) -> Option<i64>;

    /// Loads relation `relation` into `parents` and returns the number of
    /// child queries it ran; `Ok(None)` when the model has no such relation.
    #[doc(hidden)]
    fn __load_relation<'c>(
        parents: &'c mut [Self],
        relation: &'c str,
        conn: &'c mut Conn<'_, DB>,
        options: EagerOptions,
    ) -> impl Future<Output = Result<Option<u64>, sqlx::Error>> + Send + 'c;

    /// The table's name.
    fn table_name() -> &'static str {
        Self::__meta().table
    }

    /// `CREATE TABLE IF NOT EXISTS ...` for this backend.
    fn create_table_sql() -> String {
        schema::create_table_sql::<DB>(Self::__meta())
    }

    /// The persisted columns, in field order.
    fn list_columns() -> Vec<String> {
        Self::__meta()
            .columns
            .iter()
            .map(|c| c.name.to_owned())
            .collect()
    }

    /// Whether `delete` sets `deleted_at` instead of removing the row.
    fn has_soft_delete() -> bool {
        Self::__meta().soft_delete.is_some()
    }

    /// The `#[premix(sensitive)]` columns, whose values the fork never
    /// shows (a builder's `Debug` prints `***` for them).
    fn sensitive_fields() -> &'static [&'static str] {
        Self::__meta().sensitive
    }

    /// The relations `include` accepts.
    fn relation_names() -> &'static [&'static str] {
        Self::__meta().relations
    }

    write_methods! {
        /// Inserts the model when its `id` is 0 (and stores the new id), updates
        /// it otherwise (inserting it with that id when no row has it). Runs
        /// validation and the hooks.
        ///
        /// # Errors
        /// Validation failures and version conflicts as
        /// `sqlx::Error::InvalidArgument`; database errors as sqlx reports them.
        fn save -> () = ops::save(ops::Hooks::Run);

        /// Updates every column but `id` (never rewritten). With a `version`
        /// column, only when the row's version still matches, then bumps it.
        ///
        /// # Errors
        /// Database errors as sqlx reports them.
        fn update -> UpdateResult = ops::update();

        /// Deletes the row, or sets `deleted_at` when the model has it.
        ///
        /// # Errors
        /// Database errors as sqlx reports them.
        fn delete -> () = ops::delete();
    }

    /// The row with this id (not soft-deleted), if any.
    ///
    /// # Errors
    /// Database errors as sqlx reports them.
    fn find_by_id<'a, E>(
        executor: E,
        id: impl Into<i64>,
    ) -> impl Future<Output = Result<Option<Self>, sqlx::Error>> + Send
    where
        E: IntoExecutor<'a, DB = DB>,
    {
        ops::find_by_id(executor.into_executor(), id.into())
    }

    /// A query builder on a pool.
    fn find_in_pool(pool: &Pool<DB>) -> QueryBuilder<'_, Self, DB> {
        QueryBuilder::new(pool.into())
    }

    /// A query builder in a transaction (or on any borrowed connection).
    fn find_in_tx<'a, E>(executor: E) -> QueryBuilder<'a, Self, DB>
    where
        E: IntoExecutor<'a, DB = DB>,
    {
        QueryBuilder::new(executor.into_executor())
    }

    /// A query builder on anything that runs queries.
    fn find<'a, E>(executor: E) -> QueryBuilder<'a, Self, DB>
    where
        E: IntoExecutor<'a, DB = DB>,
    {
        QueryBuilder::new(executor.into_executor())
    }
}

impl<'a, DB: sqlx::Database> From<&'a Pool<DB>> for crate::Executor<'a, DB> {
    fn from(pool: &'a Pool<DB>) -> Self {
        Self::Pool(pool)
    }
}
