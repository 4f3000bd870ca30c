//! The fixed-shape operations: find by id, insert, update, delete. One generic
//! function each, compiled once here for every model, each instrumented when
//! the `instrument` feature is on.
//!
//! An operation's measured window is the whole operation: taking a
//! connection from the pool (a wait, and a failure, that belong to it) and
//! its statements on that connection, each of which runs through the held
//! connection's helpers ([`Conn`](crate::executor::Conn)), which count its
//! cache lookup.

use std::future::Future;

use crate::dialect::SqlDialect;
use crate::executor::Executor;
use crate::meta::{CachedSql, ModelMeta, SqlLookup};
use crate::model::{Model, UpdateResult};
use crate::observe::{self, Op};
use crate::sql::{self, FixedSql};
use crate::value::BindValue;

/// The counters of `site`'s operation on model `T`.
fn op<DB: SqlDialect, T: Model<DB>>(site: &'static observe::Site) -> Op {
    observe::op::<DB>(site, T::__meta().table)
}

/// The SQL of a fixed-shape statement, built on first use per backend, with
/// its SQL-cache lookup counted.
fn fixed_sql<DB: SqlDialect>(
    meta: &'static ModelMeta,
    which: FixedSql,
    op: Op,
) -> &'static CachedSql {
    let (sql, lookup): (_, SqlLookup) = meta
        .sql
        .fixed::<DB>(which, || sql::fixed::<DB>(meta, which));
    op.sql(lookup);
    sql
}

pub(crate) fn find_by_id<DB: SqlDialect, T: Model<DB>>(
    executor: Executor<'_, DB>,
    id: i64,
) -> impl Future<Output = Result<Option<T>, sqlx::Error>> + Send + '_ {
    find_by_id_as::<DB, T>(op::<DB, T>(&observe::FIND_BY_ID), executor, id)
}

#[cfg_attr(
    feature = "instrument",
    premix_instrument::instrument(target = op.handle, outcome = observe::outcome)
)]
async fn find_by_id_as<DB: SqlDialect, T: Model<DB>>(
    op: Op,
    executor: Executor<'_, DB>,
    id: i64,
) -> Result<Option<T>, sqlx::Error> {
    let meta = T::__meta();
    let mut conn = executor.acquire(op).await?;
    let sql = fixed_sql::<DB>(meta, FixedSql::FindById, op);
    let query = DB::bind_value(sqlx::query(sql.text()), BindValue::Int(id));
    match conn.fetch_optional(op, sql.id(), query).await? {
        Some(row) => T::__decode(&row).map(Some),
        None => Ok(None),
    }
}

/// Whether `save` runs the model's hooks (`save_fast` does not).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hooks {
    Run,
    Skip,
}

fn validated<DB: SqlDialect, T: Model<DB>>(model: &T) -> Result<(), sqlx::Error> {
    model.validate().map_err(|errors| {
        let listed: Vec<String> = errors.iter().map(ToString::to_string).collect();
        sqlx::Error::InvalidArgument(format!(
            "{} did not validate: {}",
            T::__meta().table,
            listed.join("; ")
        ))
    })
}

/// Inserts, never updates (premix's `save_ultra`): with the id when it is
/// not 0, storing the new one when it is.
pub(crate) async fn insert_only<DB: SqlDialect, T: Model<DB>>(
    model: &mut T,
    executor: Executor<'_, DB>,
) -> Result<(), sqlx::Error> {
    validated(model)?;
    let with_id = model.__id() != 0;
    insert(op::<DB, T>(&observe::INSERT), model, executor, with_id).await
}

pub(crate) async fn save<DB: SqlDialect, T: Model<DB>>(
    model: &mut T,
    mut executor: Executor<'_, DB>,
    hooks: Hooks,
) -> Result<(), sqlx::Error> {
    validated(model)?;
    if hooks == Hooks::Run {
        model.before_save().await?;
    }
    let inserting = op::<DB, T>(&observe::INSERT);
    if model.__id() == 0 {
        insert(inserting, model, executor, false).await?;
    } else {
        match update(model, executor.reborrow()).await? {
            UpdateResult::Success | UpdateResult::NotImplemented => {}
            UpdateResult::NotFound => insert(inserting, model, executor, true).await?,
            UpdateResult::VersionConflict => {
                return Err(sqlx::Error::InvalidArgument(format!(
                    "{} id {}: version conflict, the row was updated by someone else since it was read",
                    T::__meta().table,
                    model.__id()
                )));
            }
        }
    }
    if hooks == Hooks::Run {
        model.after_save().await?;
    }
    Ok(())
}

#[cfg_attr(
    feature = "instrument",
    premix_instrument::instrument(target = op.handle, outcome = observe::outcome)
)]
async fn insert<DB: SqlDialect, T: Model<DB>>(
    op: Op,
    model: &mut T,
    executor: Executor<'_, DB>,
    with_id: bool,
) -> Result<(), sqlx::Error> {
    let meta = T::__meta();
    let mut conn = executor.acquire(op).await?;
    let which = if with_id {
        FixedSql::InsertWithId
    } else {
        FixedSql::Insert
    };
    let sql = fixed_sql::<DB>(meta, which, op);
    let query = model.__bind_insert(sqlx::query(sql.text()), with_id);
    if !DB::INSERT_RETURNS_ID {
        let done = conn.execute(op, sql.id(), query).await?;
        return model.__assign_id(DB::last_insert_id(&done));
    }
    match conn.fetch_optional(op, sql.id(), query).await? {
        Some(row) => model.__set_id(&row),
        None => Err(sqlx::Error::RowNotFound),
    }
}

/// Updates every column but the key; with a version column, only when the
/// row's version matches, and then tells a stale version from a missing row.
pub(crate) fn update<'a, DB: SqlDialect, T: Model<DB>>(
    model: &'a mut T,
    executor: Executor<'a, DB>,
) -> impl Future<Output = Result<UpdateResult, sqlx::Error>> + Send + 'a {
    update_as::<DB, T>(op::<DB, T>(&observe::UPDATE), model, executor)
}

#[cfg_attr(
    feature = "instrument",
    premix_instrument::instrument(target = op.handle, outcome = observe::update_outcome)
)]
async fn update_as<DB: SqlDialect, T: Model<DB>>(
    op: Op,
    model: &mut T,
    executor: Executor<'_, DB>,
) -> Result<UpdateResult, sqlx::Error> {
    let meta = T::__meta();
    let mut conn = executor.acquire(op).await?;
    let sql = fixed_sql::<DB>(meta, FixedSql::Update, op);
    let affected = {
        let mut query = model.__bind_update(sqlx::query(sql.text()));
        query = DB::bind_value(query, BindValue::Int(model.__id()));
        if let Some(version) = model.__version() {
            query = DB::bind_value(query, BindValue::Int(version));
        }
        DB::rows_affected(&conn.execute(op, sql.id(), query).await?)
    };
    if affected > 0 {
        model.__bump_version();
        return Ok(UpdateResult::Success);
    }
    if meta.version.is_none() {
        return Ok(UpdateResult::NotFound);
    }
    // Zero rows with a version column: tell a stale version from a missing row.
    let exists_sql = fixed_sql::<DB>(meta, FixedSql::Exists, op);
    let exists = DB::bind_value(sqlx::query(exists_sql.text()), BindValue::Int(model.__id()));
    Ok(
        match conn.fetch_optional(op, exists_sql.id(), exists).await? {
            Some(_) => UpdateResult::VersionConflict,
            None => UpdateResult::NotFound,
        },
    )
}

pub(crate) fn delete<'a, DB: SqlDialect, T: Model<DB>>(
    model: &'a mut T,
    executor: Executor<'a, DB>,
) -> impl Future<Output = Result<(), sqlx::Error>> + Send + 'a {
    delete_as::<DB, T>(op::<DB, T>(&observe::DELETE), model, executor)
}

#[cfg_attr(
    feature = "instrument",
    premix_instrument::instrument(target = op.handle, outcome = observe::outcome)
)]
async fn delete_as<DB: SqlDialect, T: Model<DB>>(
    op: Op,
    model: &mut T,
    executor: Executor<'_, DB>,
) -> Result<(), sqlx::Error> {
    let meta = T::__meta();
    let mut conn = executor.acquire(op).await?;
    let which = if meta.soft_delete.is_some() {
        FixedSql::SoftDelete
    } else {
        FixedSql::Delete
    };
    let sql = fixed_sql::<DB>(meta, which, op);
    let query = DB::bind_value(sqlx::query(sql.text()), BindValue::Int(model.__id()));
    conn.execute(op, sql.id(), query).await?;
    Ok(())
}
