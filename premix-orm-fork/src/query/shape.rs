//! From builder state to SQL: the statement's shape (looked up in the
//! model's SQL cache, so each shape is built once), the refusals only the
//! whole query can tell (raw filters without opt-in, paging on a bulk
//! write), the `to_*sql` previews, and binding the values in the order the
//! shape numbered them.
//!
//! Values, LIMIT and OFFSET are always bound; `IN` lists are padded to a
//! power of two while the bind limit allows, so a few statements cover
//! every list length.

use crate::dialect::{DbQuery, SqlDialect};
use crate::meta::{CachedSql, ShapedSql, SqlLookup};
use crate::model::Model;
use crate::observe::StmtId;
use crate::sql::{self, FilterOp, FilterShape, Shape, Statement, padded_arity};
use crate::value::BindValue;

use super::builder::{Filter, QueryBuilder};
use super::raw::with_raw_conditions;

impl<T: Model<DB>, DB: SqlDialect> QueryBuilder<'_, T, DB> {
    /// Whether `IN` lists are padded (see [`padded_arity`]): only while the
    /// statement's placeholders, `set` SET values included, stay within the
    /// backend's bind limit. Past it a list binds exactly its values, as
    /// hand-written sqlx would.
    fn pads_in_lists(&self, set: usize) -> bool {
        let padded: usize = self
            .filters
            .iter()
            .map(|f| match f.op {
                FilterOp::In => padded_arity(f.values.len()),
                _ => f.values.len(),
            })
            .sum();
        let paging = usize::from(self.limit.is_some()) + usize::from(self.offset.is_some());
        set + padded + paging <= DB::MAX_BIND_PARAMS
    }

    fn arity(filter: &Filter, pad: bool) -> usize {
        match filter.op {
            FilterOp::In if pad => padded_arity(filter.values.len()),
            _ => filter.values.len(),
        }
    }

    fn shape(&self, statement: Statement) -> Shape {
        let set = match &statement {
            Statement::Update { set } => set.len(),
            _ => 0,
        };
        let pad = self.pads_in_lists(set);
        Shape {
            backend: DB::BACKEND,
            statement,
            filters: self
                .filters
                .iter()
                .map(|f| FilterShape {
                    column: f.column,
                    op: f.op,
                    arity: u32::try_from(Self::arity(f, pad)).unwrap_or(u32::MAX),
                })
                .collect(),
            order: self.order.clone(),
            limit: self.limit.is_some(),
            offset: self.offset.is_some(),
            include_deleted: self.include_deleted,
        }
    }

    /// The SQL text for `statement`: from the shape cache, or built for this
    /// call when raw filters are present.
    pub(super) fn sql(&self, statement: Statement) -> Result<Sql, sqlx::Error> {
        if let Some(problem) = &self.problem {
            return Err(sqlx::Error::InvalidArgument(problem.to_string()));
        }
        if statement != Statement::Select
            && (self.limit.is_some() || self.offset.is_some() || !self.order.is_empty())
        {
            return Err(sqlx::Error::InvalidArgument(format!(
                "limit(), offset() and order_by() do not apply to update() or delete() on `{}`: \
                 neither SQLite nor PostgreSQL bounds or orders those statements portably; \
                 filter the rows to change instead",
                Self::meta().table
            )));
        }
        if !self.raw_filters.is_empty() && !self.allow_raw {
            return Err(sqlx::Error::InvalidArgument(format!(
                "raw SQL filter on model `{}` refused: call .allow_unsafe() to opt in, or use the \
                 filter_* methods, which bind their values",
                Self::meta().table
            )));
        }
        for condition in &self.raw_filters {
            if let Some(why) = crate::raw_condition::refusal(condition) {
                return Err(sqlx::Error::InvalidArgument(format!(
                    "raw SQL filter on model `{}` refused: {why}; a raw condition must stay one \
                     condition of this statement",
                    Self::meta().table
                )));
            }
        }
        let shape = self.shape(statement);
        let meta = Self::meta();
        if self.raw_filters.is_empty() {
            return Ok(
                match meta.sql.shape(&shape, || sql::shaped::<DB>(meta, &shape)) {
                    ShapedSql::Kept(text, lookup) => Sql::Cached(text, lookup),
                    ShapedSql::ForThisCall(text) => Sql::Owned(text),
                },
            );
        }
        Ok(Sql::Owned(with_raw_conditions(
            sql::shaped::<DB>(meta, &shape),
            &self.raw_filters,
        )))
    }

    /// The SELECT this builder would run.
    ///
    /// # Errors
    /// The builder's first problem (unknown column, raw filter not allowed).
    pub fn try_to_sql(&self) -> Result<String, sqlx::Error> {
        self.sql(Statement::Select)
            .map(|sql| sql.as_str().to_owned())
    }

    /// The SELECT this builder would run, or the reason it would not run.
    pub fn to_sql(&self) -> String {
        self.try_to_sql()
            .unwrap_or_else(|e| format!("-- not runnable: {e}"))
    }

    /// The DELETE (or soft delete) this builder would run.
    ///
    /// # Errors
    /// As [`delete`](Self::delete) would report them, before running.
    pub fn try_to_delete_sql(&self) -> Result<String, sqlx::Error> {
        self.sql(self.delete_statement())
            .map(|s| s.as_str().to_owned())
    }

    /// The DELETE (or soft delete) this builder would run, or the reason it
    /// would not run.
    pub fn to_delete_sql(&self) -> String {
        self.try_to_delete_sql()
            .unwrap_or_else(|e| format!("-- not runnable: {e}"))
    }

    /// The UPDATE this builder would run with `values`.
    ///
    /// # Errors
    /// As [`update`](Self::update) would report them, before running.
    pub fn to_update_sql(&self, values: &serde_json::Value) -> Result<String, sqlx::Error> {
        if let Some(problem) = &self.problem {
            return Err(sqlx::Error::InvalidArgument(problem.to_string()));
        }
        let (set, _) = Self::update_values(values)?;
        self.sql(Statement::Update { set })
            .map(|s| s.as_str().to_owned())
    }

    pub(super) fn delete_statement(&self) -> Statement {
        if Self::meta().soft_delete.is_some() {
            Statement::SoftDelete
        } else {
            Statement::Delete
        }
    }

    /// Binds the filters' values (after `set` SET values), then LIMIT and
    /// OFFSET, in the order the shape numbered them.
    pub(super) fn bind_filters<'q>(
        &mut self,
        mut query: DbQuery<'q, DB>,
        set: usize,
    ) -> DbQuery<'q, DB> {
        let pad = self.pads_in_lists(set);
        for filter in self.filters.drain(..) {
            let padded = Self::arity(&filter, pad);
            let last = filter.values.last().cloned();
            let extra = padded - filter.values.len();
            for value in filter.values {
                query = DB::bind_value(query, value);
            }
            if let Some(last) = last {
                for _ in 0..extra {
                    query = DB::bind_value(query, last.clone());
                }
            }
        }
        if let Some(limit) = self.limit {
            query = DB::bind_value(query, BindValue::Int(limit));
        }
        if let Some(offset) = self.offset {
            query = DB::bind_value(query, BindValue::Int(offset));
        }
        query
    }
}

/// SQL text for one run.
pub(super) enum Sql {
    Cached(&'static CachedSql, SqlLookup),
    /// Built for this run only (raw conditions, a full shape cache): a
    /// SQL-cache miss.
    Owned(String),
}

impl Sql {
    pub(super) fn as_str(&self) -> &str {
        match self {
            Self::Cached(sql, _) => sql.text(),
            Self::Owned(text) => text,
        }
    }

    pub(super) fn id(&self) -> StmtId {
        match self {
            Self::Cached(sql, _) => sql.id(),
            Self::Owned(text) => StmtId::of(text),
        }
    }

    pub(super) const fn lookup(&self) -> SqlLookup {
        match self {
            Self::Cached(_, lookup) => *lookup,
            Self::Owned(_) => SqlLookup::Miss,
        }
    }
}
