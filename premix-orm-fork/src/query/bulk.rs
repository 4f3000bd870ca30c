//! `update()` and `delete()` on every matching row: the JSON object read
//! into SET columns, and the refusal of a write with no filter unless the
//! builder opted in (premix's rule: an unfiltered bulk write is a mistake
//! until said otherwise).

use smallvec::SmallVec;

use crate::dialect::SqlDialect;
use crate::model::Model;
use crate::observe::{self, Op};
use crate::sql::Statement;
use crate::value::BindValue;

use super::builder::QueryBuilder;
use super::shape::Sql;

/// Column indexes an UPDATE sets, in order.
pub(super) type SetColumns = SmallVec<[u16; 8]>;

impl<T: Model<DB>, DB: SqlDialect> QueryBuilder<'_, T, DB> {
    /// Refuses an `update`/`delete` that would touch every row, unless the
    /// builder opted in.
    fn check_filtered(&self, what: &str) -> Result<(), sqlx::Error> {
        if self.filters.is_empty() && self.raw_filters.is_empty() && !self.unfiltered_writes {
            return Err(sqlx::Error::InvalidArgument(format!(
                "{what} without a filter on `{}` would change every row: add a filter, or call \
                 .allow_unsafe() to mean it",
                Self::meta().table
            )));
        }
        Ok(())
    }

    /// The SQL of a bulk write, after the builder's refusals (a bad query
    /// first, then an unfiltered write), counted as the op's SQL lookup.
    fn write_sql(&self, op: Op, statement: Statement, what: &str) -> Result<Sql, sqlx::Error> {
        let sql = self.sql(statement)?;
        self.check_filtered(what)?;
        op.sql(sql.lookup());
        Ok(sql)
    }

    pub(super) fn update_values(
        values: &serde_json::Value,
    ) -> Result<(SetColumns, SmallVec<[BindValue; 8]>), sqlx::Error> {
        let meta = Self::meta();
        let object = values.as_object().ok_or_else(|| {
            sqlx::Error::InvalidArgument(format!(
                "update on `{}` takes a JSON object of column: value, got {values}",
                meta.table
            ))
        })?;
        let mut set = SmallVec::new();
        let mut bound = SmallVec::new();
        for (name, value) in object {
            let index = meta.column_index(name).ok_or_else(|| {
                sqlx::Error::ColumnNotFound(format!(
                    "`{name}` on model `{}`; its columns are {}",
                    meta.table,
                    meta.column_names()
                ))
            })?;
            if index == meta.id_index {
                return Err(sqlx::Error::InvalidArgument(format!(
                    "update on `{}` may not change the primary key `{name}`",
                    meta.table
                )));
            }
            let value = BindValue::from_json(value).ok_or_else(|| {
                sqlx::Error::InvalidArgument(format!(
                    "`{name}` on `{}`: arrays and objects have no column type",
                    meta.table
                ))
            })?;
            set.push(u16::try_from(index).unwrap_or(u16::MAX));
            bound.push(value);
        }
        if set.is_empty() {
            return Err(sqlx::Error::InvalidArgument(format!(
                "update on `{}` with no columns to set",
                meta.table
            )));
        }
        Ok((set, bound))
    }

    /// Sets columns on every matching row, e.g. `json!({"status": "active"})`;
    /// returns the number of rows changed. Without any filter it is refused
    /// unless [`allow_unsafe`](Self::allow_unsafe) says you mean every row.
    ///
    /// # Errors
    /// The builder's first problem, a value that is not a JSON object of
    /// known non-key columns and scalars, or what the database reports.
    pub async fn update(self, values: serde_json::Value) -> Result<u64, sqlx::Error> {
        let op = observe::op::<DB>(&observe::UPDATE, T::__meta().table);
        update_matching(op, self, values).await
    }

    /// premix's name for [`update`](Self::update).
    ///
    /// # Errors
    /// As `update`.
    pub async fn update_all(self, values: serde_json::Value) -> Result<u64, sqlx::Error> {
        self.update(values).await
    }

    /// Deletes every matching row (soft-deletes when the model has
    /// `deleted_at`); returns the number of rows. Without any filter it is
    /// refused unless [`allow_unsafe`](Self::allow_unsafe) says you mean
    /// every row.
    ///
    /// # Errors
    /// The builder's first problem, or what the database reports.
    pub async fn delete(self) -> Result<u64, sqlx::Error> {
        let op = observe::op::<DB>(&observe::DELETE, T::__meta().table);
        delete_matching(op, self).await
    }

    /// premix's name for [`delete`](Self::delete).
    ///
    /// # Errors
    /// As `delete`.
    pub async fn delete_all(self) -> Result<u64, sqlx::Error> {
        self.delete().await
    }
}

#[cfg_attr(
    feature = "instrument",
    premix_instrument::instrument(target = op.handle, outcome = observe::outcome)
)]
async fn update_matching<T: Model<DB>, DB: SqlDialect>(
    op: Op,
    mut builder: QueryBuilder<'_, T, DB>,
    values: serde_json::Value,
) -> Result<u64, sqlx::Error> {
    builder.take_problem()?;
    let (set, bound) = QueryBuilder::<T, DB>::update_values(&values)?;
    let sql = builder.write_sql(op, Statement::Update { set }, "update()")?;
    let mut query = sqlx::query(sql.as_str()).persistent(builder.prepared);
    let set = bound.len();
    for value in bound {
        query = DB::bind_value(query, value);
    }
    let query = builder.bind_filters(query, set);
    let mut conn = builder.executor.acquire(op).await?;
    Ok(DB::rows_affected(&conn.execute(op, sql.id(), query).await?))
}

#[cfg_attr(
    feature = "instrument",
    premix_instrument::instrument(target = op.handle, outcome = observe::outcome)
)]
async fn delete_matching<T: Model<DB>, DB: SqlDialect>(
    op: Op,
    mut builder: QueryBuilder<'_, T, DB>,
) -> Result<u64, sqlx::Error> {
    builder.take_problem()?;
    let sql = builder.write_sql(op, builder.delete_statement(), "delete()")?;
    let query = builder.bind_filters(sqlx::query(sql.as_str()).persistent(builder.prepared), 0);
    let mut conn = builder.executor.acquire(op).await?;
    Ok(DB::rows_affected(&conn.execute(op, sql.id(), query).await?))
}
