//! The fixed-shape operations: find by id, insert, update, delete. One generic
//! function each, compiled once here for every model, each instrumented when
//! the `instrument` feature is on.
//!
//! An operation's measured window is the statement on its connection; taking
//! a connection from the pool happens just before it, and, with
//! `instrument` on, reading the connection's statement cache just before
//! and after it (see `observe`).

use crate::dialect::SqlDialect;
use crate::executor::Executor;
use crate::meta::{ModelMeta, SqlLookup};
use crate::model::{Model, UpdateResult};
#[cfg(feature = "instrument")]
use crate::observe::{self, StmtWatch};
use crate::sql::{self, FixedSql};
use crate::value::BindValue;

/// The SQL of a fixed-shape statement, built on first use per backend.
fn fixed_sql<DB: SqlDialect>(
    meta: &'static ModelMeta,
    which: FixedSql,
) -> (&'static str, SqlLookup) {
    meta.sql
        .fixed::<DB>(which, || sql::fixed::<DB>(meta, which))
}

pub(crate) async fn find_by_id<DB: SqlDialect, T: Model<DB>>(
    executor: Executor<'_, DB>,
    id: i64,
) -> Result<Option<T>, sqlx::Error> {
    let mut conn = executor.acquire().await?;
    #[cfg(feature = "instrument")]
    let watch = StmtWatch::start::<DB>(&conn, true);
    let found = find_by_id_on::<DB, T>(&mut conn, id).await?;
    #[cfg(feature = "instrument")]
    watch
        .finish::<DB>(&observe::FIND_BY_ID, T::__meta().table, &mut conn, 1)
        .await;
    Ok(found)
}

#[cfg_attr(
    feature = "instrument",
    premix_instrument::instrument(op = "find_by_id", model = <T as Model<DB>>::__meta().table)
)]
async fn find_by_id_on<DB: SqlDialect, T: Model<DB>>(
    conn: &mut DB::Connection,
    id: i64,
) -> Result<Option<T>, sqlx::Error> {
    let (sql, _lookup) = fixed_sql::<DB>(T::__meta(), FixedSql::FindById);
    #[cfg(feature = "instrument")]
    observe::sql_lookup(&observe::FIND_BY_ID, T::__meta().table, _lookup);
    let query = DB::bind_value(sqlx::query(sql), BindValue::Int(id));
    match DB::fetch_optional(conn, query).await? {
        Some(row) => T::__decode(&row).map(Some),
        None => Ok(None),
    }
}

pub(crate) async fn save<DB: SqlDialect, T: Model<DB>>(
    model: &mut T,
    executor: Executor<'_, DB>,
) -> Result<(), sqlx::Error> {
    if let Err(errors) = model.validate() {
        let listed: Vec<String> = errors.iter().map(ToString::to_string).collect();
        return Err(sqlx::Error::InvalidArgument(format!(
            "{} did not validate: {}",
            T::__meta().table,
            listed.join("; ")
        )));
    }
    model.before_save().await?;
    let mut conn = executor.acquire().await?;
    if model.__id() == 0 {
        insert(model, &mut conn, false).await?;
    } else {
        match update_watched(model, &mut conn).await? {
            UpdateResult::Success | UpdateResult::NotImplemented => {}
            UpdateResult::NotFound => insert(model, &mut conn, true).await?,
            UpdateResult::VersionConflict => {
                return Err(sqlx::Error::InvalidArgument(format!(
                    "{} id {}: version conflict, the row was updated by someone else since it was read",
                    T::__meta().table,
                    model.__id()
                )));
            }
        }
    }
    model.after_save().await
}

async fn insert<DB: SqlDialect, T: Model<DB>>(
    model: &mut T,
    conn: &mut DB::Connection,
    with_id: bool,
) -> Result<(), sqlx::Error> {
    #[cfg(feature = "instrument")]
    let watch = StmtWatch::start::<DB>(conn, true);
    insert_on(model, conn, with_id).await?;
    #[cfg(feature = "instrument")]
    watch
        .finish::<DB>(&observe::INSERT, T::__meta().table, conn, 1)
        .await;
    Ok(())
}

#[cfg_attr(
    feature = "instrument",
    premix_instrument::instrument(op = "insert", model = <T as Model<DB>>::__meta().table)
)]
async fn insert_on<DB: SqlDialect, T: Model<DB>>(
    model: &mut T,
    conn: &mut DB::Connection,
    with_id: bool,
) -> Result<(), sqlx::Error> {
    let which = if with_id {
        FixedSql::InsertWithId
    } else {
        FixedSql::Insert
    };
    let (sql, _lookup) = fixed_sql::<DB>(T::__meta(), which);
    #[cfg(feature = "instrument")]
    observe::sql_lookup(&observe::INSERT, T::__meta().table, _lookup);
    let row = {
        let query = model.__bind_insert(sqlx::query(sql), with_id);
        DB::fetch_optional(conn, query).await?
    };
    match row {
        Some(row) => model.__set_id(&row),
        None => Err(sqlx::Error::RowNotFound),
    }
}

pub(crate) async fn update<DB: SqlDialect, T: Model<DB>>(
    model: &mut T,
    executor: Executor<'_, DB>,
) -> Result<UpdateResult, sqlx::Error> {
    let mut conn = executor.acquire().await?;
    update_watched(model, &mut conn).await
}

/// `update_on`, with its statements' cache lookups counted: the UPDATE, plus
/// the existence check after a version mismatch.
async fn update_watched<DB: SqlDialect, T: Model<DB>>(
    model: &mut T,
    conn: &mut DB::Connection,
) -> Result<UpdateResult, sqlx::Error> {
    #[cfg(feature = "instrument")]
    let watch = StmtWatch::start::<DB>(conn, true);
    let result = update_on(model, conn).await?;
    #[cfg(feature = "instrument")]
    {
        let checked = result != UpdateResult::Success && T::__meta().version.is_some();
        let lookups = 1 + u64::from(checked);
        watch
            .finish::<DB>(&observe::UPDATE, T::__meta().table, conn, lookups)
            .await;
    }
    Ok(result)
}

#[cfg_attr(
    feature = "instrument",
    premix_instrument::instrument(op = "update", model = <T as Model<DB>>::__meta().table)
)]
async fn update_on<DB: SqlDialect, T: Model<DB>>(
    model: &mut T,
    conn: &mut DB::Connection,
) -> Result<UpdateResult, sqlx::Error> {
    let meta = T::__meta();
    let (sql, _lookup) = fixed_sql::<DB>(meta, FixedSql::Update);
    #[cfg(feature = "instrument")]
    observe::sql_lookup(&observe::UPDATE, meta.table, _lookup);
    let affected = {
        let mut query = model.__bind_update(sqlx::query(sql));
        query = DB::bind_value(query, BindValue::Int(model.__id()));
        if let Some(version) = model.__version() {
            query = DB::bind_value(query, BindValue::Int(version));
        }
        DB::rows_affected(&DB::execute(&mut *conn, query).await?)
    };
    if affected > 0 {
        model.__bump_version();
        return Ok(UpdateResult::Success);
    }
    if meta.version.is_none() {
        return Ok(UpdateResult::NotFound);
    }
    // Zero rows with a version column: tell a stale version from a missing row.
    let (exists_sql, _lookup) = fixed_sql::<DB>(meta, FixedSql::Exists);
    #[cfg(feature = "instrument")]
    observe::sql_lookup(&observe::UPDATE, meta.table, _lookup);
    let exists = DB::bind_value(sqlx::query(exists_sql), BindValue::Int(model.__id()));
    Ok(match DB::fetch_optional(conn, exists).await? {
        Some(_) => UpdateResult::VersionConflict,
        None => UpdateResult::NotFound,
    })
}

pub(crate) async fn delete<DB: SqlDialect, T: Model<DB>>(
    model: &mut T,
    executor: Executor<'_, DB>,
) -> Result<(), sqlx::Error> {
    let mut conn = executor.acquire().await?;
    #[cfg(feature = "instrument")]
    let watch = StmtWatch::start::<DB>(&conn, true);
    delete_on(model, &mut conn).await?;
    #[cfg(feature = "instrument")]
    watch
        .finish::<DB>(&observe::DELETE, T::__meta().table, &mut conn, 1)
        .await;
    Ok(())
}

#[cfg_attr(
    feature = "instrument",
    premix_instrument::instrument(op = "delete", model = <T as Model<DB>>::__meta().table)
)]
async fn delete_on<DB: SqlDialect, T: Model<DB>>(
    model: &mut T,
    conn: &mut DB::Connection,
) -> Result<(), sqlx::Error> {
    let meta = T::__meta();
    let which = if meta.soft_delete.is_some() {
        FixedSql::SoftDelete
    } else {
        FixedSql::Delete
    };
    let (sql, _lookup) = fixed_sql::<DB>(meta, which);
    #[cfg(feature = "instrument")]
    observe::sql_lookup(&observe::DELETE, meta.table, _lookup);
    let query = DB::bind_value(sqlx::query(sql), BindValue::Int(model.__id()));
    DB::execute(conn, query).await?;
    Ok(())
}
