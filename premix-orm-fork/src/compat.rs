//! The rest of premix's model API, for programs written against it: the
//! `_fast` and `_ultra` write paths, `raw_sql`, `all` and `update_by_id`.
//! A blanket trait over every [`Model`], in the prelude, so that
//! `user.save_fast(&pool)` reads as it does with premix.
//!
//! premix's fast paths skip its logging and metrics; here the
//! instrumentation is the point, so they are counted like the others, and
//! they differ from the plain methods only where premix's do: `save_fast`
//! runs no hooks, `save_ultra` only inserts.

use std::future::Future;

use crate::dialect::SqlDialect;
use crate::executor::IntoExecutor;
use crate::model::{Model, UpdateResult, write_methods};
use crate::ops;

/// premix's extra model methods. Implemented for every [`Model`].
pub trait ModelCompat<DB: SqlDialect>: Model<DB> {
    write_methods! {
        /// [`save`](Model::save) without the hooks.
        ///
        /// # Errors
        /// As `save`.
        fn save_fast -> () = ops::save(ops::Hooks::Skip);

        /// Inserts, never updates (a row with this id already there is the
        /// database's unique-key error); no hooks. The new id is stored when
        /// `id` is 0.
        ///
        /// # Errors
        /// Validation failures as `sqlx::Error::InvalidArgument`; database errors
        /// as sqlx reports them.
        fn save_ultra -> () = ops::insert_only();

        /// [`update`](Model::update).
        ///
        /// # Errors
        /// As `update`.
        fn update_fast -> UpdateResult = ops::update();

        /// [`update`](Model::update).
        ///
        /// # Errors
        /// As `update`.
        fn update_ultra -> UpdateResult = ops::update();

        /// [`delete`](Model::delete).
        ///
        /// # Errors
        /// As `delete`.
        fn delete_fast -> () = ops::delete();

        /// [`delete`](Model::delete).
        ///
        /// # Errors
        /// As `delete`.
        fn delete_ultra -> () = ops::delete();
    }

    /// Your own SQL, decoded into the model by column name: sqlx's
    /// `query_as`, to `.bind(...)` and fetch. Not instrumented: the fork
    /// does not run it.
    fn raw_sql(
        sql: &str,
    ) -> sqlx::query::QueryAs<'_, DB, Self, <DB as sqlx::Database>::Arguments<'_>>
    where
        Self: for<'r> sqlx::FromRow<'r, DB::Row>,
    {
        sqlx::query_as(sql)
    }

    /// Every row (not soft-deleted): `find(executor).all()`.
    ///
    /// # Errors
    /// What the database reports.
    fn all<'a, E>(executor: E) -> impl Future<Output = Result<Vec<Self>, sqlx::Error>> + Send
    where
        E: IntoExecutor<'a, DB = DB>,
    {
        Self::find(executor).all()
    }

    /// Sets the columns of `patch` (a JSON object) on the row with this id;
    /// returns the rows changed.
    ///
    /// # Errors
    /// As [`QueryBuilder::update`](crate::QueryBuilder::update).
    fn update_by_id<'a, E>(
        executor: E,
        id: impl Into<i64>,
        patch: serde_json::Value,
    ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send
    where
        E: IntoExecutor<'a, DB = DB>,
    {
        let meta = Self::__meta();
        Self::find(executor)
            .filter_eq(meta.columns[meta.id_index].name, id.into())
            .update(patch)
    }
}

impl<DB: SqlDialect, T: Model<DB>> ModelCompat<DB> for T {}
