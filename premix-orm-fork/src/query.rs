//! `QueryBuilder`: filters, paging, eager loading, and the select / update /
//! delete that run them.
//!
//! Builder methods never fail: a problem (an unknown column, a raw filter
//! without opt-in, an unknown relation) is kept and returned by the method
//! that runs the query. Column names are checked against the model when the
//! filter is added, so only the model's own column names ever reach SQL
//! text; values, LIMIT and OFFSET are always bound.

use std::borrow::Cow;
use std::marker::PhantomData;

use futures_core::Stream;
use futures_util::StreamExt;
use smallvec::SmallVec;

use crate::dialect::{DbQuery, SqlDialect};
use crate::eager::{self, EagerOptions};
use crate::executor::{Conn, Executor};
use crate::meta::{CachedSql, ModelMeta, SqlLookup};
use crate::model::{Model, Relation};
use crate::observe::{self, Op, StmtId};
use crate::sql::{self, FilterOp, FilterShape, Shape, Statement, padded_arity};
use crate::value::BindValue;

/// Column indexes an UPDATE sets, in order.
type SetColumns = SmallVec<[u16; 8]>;

#[derive(Debug)]
struct Filter {
    column: u16,
    op: FilterOp,
    values: SmallVec<[BindValue; 1]>,
}

/// A relation to include: a name, or a typed handle (`User::posts`).
#[derive(Clone, Debug)]
pub struct Include(Cow<'static, str>);

impl From<&'static str> for Include {
    fn from(name: &'static str) -> Self {
        Self(Cow::Borrowed(name))
    }
}

impl From<String> for Include {
    fn from(name: String) -> Self {
        Self(Cow::Owned(name))
    }
}

impl<T> From<Relation<T>> for Include {
    fn from(relation: Relation<T>) -> Self {
        Self(Cow::Borrowed(relation.name()))
    }
}

/// A select, update or delete on model `T`, built fluently.
///
/// ```no_run
/// # use premix_orm_fork::prelude::*;
/// # #[derive(Model)] struct User { id: i32, name: String, age: i32 }
/// # async fn demo(pool: &sqlx::SqlitePool) -> Result<(), sqlx::Error> {
/// let adults = User::find_in_pool(pool)
///     .filter_gte("age", 18)
///     .filter_like("name", "A%")
///     .limit(20)
///     .offset(40)
///     .all()
///     .await?;
/// # Ok(()) }
/// ```
#[must_use = "a query builder does nothing until `all`, `stream`, `update` or `delete` runs it"]
pub struct QueryBuilder<'a, T, DB: sqlx::Database> {
    executor: Executor<'a, DB>,
    filters: SmallVec<[Filter; 4]>,
    raw_filters: Vec<String>,
    allow_raw: bool,
    limit: Option<i64>,
    offset: Option<i64>,
    includes: SmallVec<[Include; 2]>,
    include_deleted: bool,
    prepared: bool,
    eager: EagerOptions,
    problem: Option<sqlx::Error>,
    _model: PhantomData<fn() -> T>,
}

impl<T, DB: sqlx::Database> std::fmt::Debug for QueryBuilder<'_, T, DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryBuilder")
            .field("filters", &self.filters)
            .field("raw_filters", &self.raw_filters)
            .field("limit", &self.limit)
            .field("offset", &self.offset)
            .field("includes", &self.includes)
            .field("include_deleted", &self.include_deleted)
            .field("prepared", &self.prepared)
            .finish_non_exhaustive()
    }
}

impl<'a, T: Model<DB>, DB: SqlDialect> QueryBuilder<'a, T, DB> {
    /// A builder that runs on `executor`.
    pub fn new(executor: Executor<'a, DB>) -> Self {
        Self {
            executor,
            filters: SmallVec::new(),
            raw_filters: Vec::new(),
            allow_raw: false,
            limit: None,
            offset: None,
            includes: SmallVec::new(),
            include_deleted: false,
            prepared: true,
            eager: EagerOptions::default(),
            problem: None,
            _model: PhantomData,
        }
    }

    fn meta() -> &'static ModelMeta {
        T::__meta()
    }

    fn keep_first_problem(&mut self, problem: sqlx::Error) {
        if self.problem.is_none() {
            self.problem = Some(problem);
        }
    }

    fn column(&mut self, name: &str) -> Option<u16> {
        let meta = Self::meta();
        match meta.column_index(name) {
            Some(index) => u16::try_from(index).ok(),
            None => {
                self.keep_first_problem(sqlx::Error::ColumnNotFound(format!(
                    "`{name}` on model `{}`; its columns are {}",
                    meta.table,
                    meta.column_names()
                )));
                None
            }
        }
    }

    fn push(mut self, column: &str, op: FilterOp, values: SmallVec<[BindValue; 1]>) -> Self {
        if let Some(column) = self.column(column) {
            self.filters.push(Filter { column, op, values });
        }
        self
    }

    fn compare(self, column: &str, op: FilterOp, value: BindValue) -> Self {
        let op = match (op, value.is_null()) {
            (FilterOp::Eq, true) => FilterOp::IsNull,
            (FilterOp::Ne, true) => FilterOp::IsNotNull,
            (op, _) => op,
        };
        let values = if matches!(op, FilterOp::IsNull | FilterOp::IsNotNull) {
            SmallVec::new()
        } else {
            smallvec::smallvec![value]
        };
        self.push(column, op, values)
    }

    /// `column = value` (`IS NULL` for a null value).
    pub fn filter_eq(self, column: impl AsRef<str>, value: impl Into<BindValue>) -> Self {
        self.compare(column.as_ref(), FilterOp::Eq, value.into())
    }

    /// `column <> value` (`IS NOT NULL` for a null value).
    pub fn filter_ne(self, column: impl AsRef<str>, value: impl Into<BindValue>) -> Self {
        self.compare(column.as_ref(), FilterOp::Ne, value.into())
    }

    /// `column < value`.
    pub fn filter_lt(self, column: impl AsRef<str>, value: impl Into<BindValue>) -> Self {
        self.compare(column.as_ref(), FilterOp::Lt, value.into())
    }

    /// `column <= value`.
    pub fn filter_lte(self, column: impl AsRef<str>, value: impl Into<BindValue>) -> Self {
        self.compare(column.as_ref(), FilterOp::Lte, value.into())
    }

    /// `column > value`.
    pub fn filter_gt(self, column: impl AsRef<str>, value: impl Into<BindValue>) -> Self {
        self.compare(column.as_ref(), FilterOp::Gt, value.into())
    }

    /// `column >= value`.
    pub fn filter_gte(self, column: impl AsRef<str>, value: impl Into<BindValue>) -> Self {
        self.compare(column.as_ref(), FilterOp::Gte, value.into())
    }

    /// `column LIKE pattern` (the pattern is bound, `%` and `_` are yours).
    pub fn filter_like(self, column: impl AsRef<str>, pattern: impl Into<BindValue>) -> Self {
        self.compare(column.as_ref(), FilterOp::Like, pattern.into())
    }

    /// `column IN (values...)`; an empty list matches nothing.
    pub fn filter_in<V: Into<BindValue>>(
        self,
        column: impl AsRef<str>,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        let values = values.into_iter().map(Into::into).collect();
        self.push(column.as_ref(), FilterOp::In, values)
    }

    /// `column IS NULL`.
    pub fn filter_is_null(self, column: impl AsRef<str>) -> Self {
        self.push(column.as_ref(), FilterOp::IsNull, SmallVec::new())
    }

    /// `column IS NOT NULL`.
    pub fn filter_is_not_null(self, column: impl AsRef<str>) -> Self {
        self.push(column.as_ref(), FilterOp::IsNotNull, SmallVec::new())
    }

    /// A raw SQL condition, ANDed in as written. Refused when the query runs
    /// unless [`allow_unsafe`](Self::allow_unsafe) was called: raw text is an
    /// injection path, and its statements bypass the SQL cache.
    pub fn filter(mut self, condition: impl Into<String>) -> Self {
        self.raw_filters.push(condition.into());
        self
    }

    /// Same as [`filter`](Self::filter).
    pub fn filter_raw(self, condition: impl Into<String>) -> Self {
        self.filter(condition)
    }

    /// Opts in to raw SQL conditions for this query.
    pub const fn allow_unsafe(mut self) -> Self {
        self.allow_raw = true;
        self
    }

    /// At most `limit` rows (bound as a parameter).
    pub fn limit(mut self, limit: i32) -> Self {
        self.limit = Some(i64::from(limit));
        self
    }

    /// Skips `offset` rows (bound as a parameter).
    pub fn offset(mut self, offset: i32) -> Self {
        self.offset = Some(i64::from(offset));
        self
    }

    /// Eager-loads a relation after the select, by name (`"posts"`) or typed
    /// handle (`User::posts`).
    pub fn include(mut self, relation: impl Into<Include>) -> Self {
        self.includes.push(relation.into());
        self
    }

    /// Eager loading groups children with a sorted `Vec` up to this many
    /// parents and a `HashMap` above it (default
    /// [`DEFAULT_VEC_GROUPING_MAX_PARENTS`](crate::DEFAULT_VEC_GROUPING_MAX_PARENTS)).
    pub const fn vec_grouping_max_parents(mut self, parents: usize) -> Self {
        self.eager.vec_grouping_max_parents = parents;
        self
    }

    /// Includes soft-deleted rows.
    pub const fn with_deleted(mut self) -> Self {
        self.include_deleted = true;
        self
    }

    /// Runs as a prepared statement, cached on the connection (the default).
    pub const fn prepared(mut self) -> Self {
        self.prepared = true;
        self
    }

    /// Runs without caching a prepared statement on the connection.
    pub const fn unprepared(mut self) -> Self {
        self.prepared = false;
        self
    }

    fn shape(&self, statement: Statement) -> Shape {
        Shape {
            backend: DB::BACKEND,
            statement,
            filters: self
                .filters
                .iter()
                .map(|f| FilterShape {
                    column: f.column,
                    op: f.op,
                    arity: u32::try_from(match f.op {
                        FilterOp::In => padded_arity(f.values.len()),
                        _ => f.values.len(),
                    })
                    .unwrap_or(u32::MAX),
                })
                .collect(),
            limit: self.limit.is_some(),
            offset: self.offset.is_some(),
            include_deleted: self.include_deleted,
        }
    }

    /// The SQL text for `statement`: from the shape cache, or built for this
    /// call when raw filters are present.
    fn sql(&self, statement: Statement) -> Result<Sql, sqlx::Error> {
        if !self.raw_filters.is_empty() && !self.allow_raw {
            return Err(sqlx::Error::InvalidArgument(format!(
                "raw SQL filter on model `{}` refused: call .allow_unsafe() to opt in, or use the \
                 filter_* methods, which bind their values",
                Self::meta().table
            )));
        }
        let shape = self.shape(statement);
        let meta = Self::meta();
        if self.raw_filters.is_empty() {
            let (text, lookup) = meta.sql.shape(&shape, || sql::shaped::<DB>(meta, &shape));
            return Ok(Sql::Cached(text, lookup));
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
        if let Some(problem) = &self.problem {
            return Err(sqlx::Error::InvalidArgument(problem.to_string()));
        }
        self.sql(Statement::Select)
            .map(|sql| sql.as_str().to_owned())
    }

    /// The SELECT this builder would run, or the reason it would not run.
    pub fn to_sql(&self) -> String {
        self.try_to_sql()
            .unwrap_or_else(|e| format!("-- not runnable: {e}"))
    }

    /// The DELETE (or soft delete) this builder would run.
    pub fn to_delete_sql(&self) -> String {
        self.sql(self.delete_statement()).map_or_else(
            |e| format!("-- not runnable: {e}"),
            |s| s.as_str().to_owned(),
        )
    }

    /// The UPDATE this builder would run with `values`.
    ///
    /// # Errors
    /// As [`update`](Self::update) would report them.
    pub fn to_update_sql(&self, values: &serde_json::Value) -> Result<String, sqlx::Error> {
        let (set, _) = Self::update_values(values)?;
        self.sql(Statement::Update { set })
            .map(|s| s.as_str().to_owned())
    }

    fn delete_statement(&self) -> Statement {
        if Self::meta().soft_delete.is_some() {
            Statement::SoftDelete
        } else {
            Statement::Delete
        }
    }

    fn bind_filters<'q>(&mut self, mut query: DbQuery<'q, DB>) -> DbQuery<'q, DB> {
        for filter in self.filters.drain(..) {
            let padded = match filter.op {
                FilterOp::In => padded_arity(filter.values.len()),
                _ => filter.values.len(),
            };
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

    fn take_problem(&mut self) -> Result<(), sqlx::Error> {
        self.problem.take().map_or(Ok(()), Err)
    }

    /// Runs the select, then loads every included relation on the same
    /// connection.
    ///
    /// # Errors
    /// The builder's first problem, or what the database reports.
    pub async fn all(mut self) -> Result<Vec<T>, sqlx::Error> {
        let includes = std::mem::take(&mut self.includes);
        let eager_options = self.eager;
        let op = observe::op::<DB>(&observe::SELECT, T::__meta().table);
        let (mut rows, mut conn) = select(op, self, &includes).await?;
        for include in &includes {
            eager::load::<DB, T>(&mut rows, &include.0, &mut conn, eager_options).await?;
        }
        conn.finish();
        Ok(rows)
    }

    /// Streams the selected rows as they arrive. Relations cannot be
    /// included in a stream; raw filters are not supported here either.
    pub fn stream(mut self) -> impl Stream<Item = Result<T, sqlx::Error>> + Send + 'a {
        let refused = self
            .take_problem()
            .and_then(|()| {
                if self.includes.is_empty() {
                    Ok(())
                } else {
                    Err(sqlx::Error::InvalidArgument(
                        "include() needs every parent row: use all() instead of stream()".into(),
                    ))
                }
            })
            .and_then(|()| match self.sql(Statement::Select)? {
                Sql::Cached(text, lookup) => Ok((text, lookup)),
                Sql::Owned(_) => Err(sqlx::Error::InvalidArgument(
                    "stream() does not take raw filters: use all()".into(),
                )),
            });
        let rows = match refused {
            Err(problem) => futures_util::stream::once(async move { Err(problem) }).boxed(),
            Ok((sql, lookup)) => {
                observe::op::<DB>(&observe::SELECT, Self::meta().table).sql(lookup);
                let query = self.bind_filters(sqlx::query(sql.text()).persistent(self.prepared));
                match self.executor {
                    Executor::Pool(pool) => DB::fetch_from_pool(pool, query),
                    Executor::Conn(conn) => DB::fetch(conn, query),
                }
            }
        };
        let decoded = rows.map(|row| row.and_then(|row| T::__decode(&row)));
        #[cfg(feature = "instrument")]
        let decoded = premix_instrument::InstrumentedStream::new(
            observe::op::<DB>(&observe::SELECT, Self::meta().table).handle,
            decoded,
            |item: &Result<T, sqlx::Error>| item.as_ref().err().map(observe::error_kind),
        );
        decoded
    }

    fn update_values(
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
    /// returns the number of rows changed.
    ///
    /// # Errors
    /// The builder's first problem, a value that is not a JSON object of
    /// known non-key columns and scalars, or what the database reports.
    pub async fn update(self, values: serde_json::Value) -> Result<u64, sqlx::Error> {
        let op = observe::op::<DB>(&observe::UPDATE, T::__meta().table);
        update_matching(op, self, values).await
    }

    /// Deletes every matching row (soft-deletes when the model has
    /// `deleted_at`); returns the number of rows.
    ///
    /// # Errors
    /// The builder's first problem, or what the database reports.
    pub async fn delete(self) -> Result<u64, sqlx::Error> {
        let op = observe::op::<DB>(&observe::DELETE, T::__meta().table);
        delete_matching(op, self).await
    }
}

/// The select of [`QueryBuilder::all`]: refusals, SQL, the wait for a
/// connection and the rows, as one `select` call; returns the connection
/// too, for the eager loads that follow.
#[cfg_attr(
    feature = "instrument",
    premix_instrument::instrument(target = op.handle, outcome = observe::outcome)
)]
async fn select<'a, T: Model<DB>, DB: SqlDialect>(
    op: Op,
    mut builder: QueryBuilder<'a, T, DB>,
    includes: &[Include],
) -> Result<(Vec<T>, Conn<'a, DB>), sqlx::Error> {
    builder.take_problem()?;
    check_includes::<T, DB>(includes)?;
    let sql = builder.sql(Statement::Select)?;
    op.sql(sql.lookup());
    let capacity = builder
        .limit
        .map_or(0, |l| usize::try_from(l.clamp(0, 1024)).unwrap_or(0));
    let query = builder.bind_filters(sqlx::query(sql.as_str()).persistent(builder.prepared));
    let mut conn = builder.executor.acquire(op).await?;
    let mut rows = Vec::with_capacity(capacity);
    conn.for_each_row(op, sql.id(), query, |row| {
        rows.push(T::__decode(&row)?);
        Ok(())
    })
    .await?;
    Ok((rows, conn))
}

fn check_includes<T: Model<DB>, DB: SqlDialect>(includes: &[Include]) -> Result<(), sqlx::Error> {
    let meta = T::__meta();
    for include in includes {
        if !meta.relations.contains(&include.0.as_ref()) {
            return Err(sqlx::Error::InvalidArgument(format!(
                "unknown relation `{}` on model `{}`; its relations are [{}]",
                include.0,
                meta.table,
                meta.relations.join(", ")
            )));
        }
    }
    Ok(())
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
    let sql = builder.sql(Statement::Update { set })?;
    op.sql(sql.lookup());
    let mut query = sqlx::query(sql.as_str()).persistent(builder.prepared);
    for value in bound {
        query = DB::bind_value(query, value);
    }
    let query = builder.bind_filters(query);
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
    let sql = builder.sql(builder.delete_statement())?;
    op.sql(sql.lookup());
    let query = builder.bind_filters(sqlx::query(sql.as_str()).persistent(builder.prepared));
    let mut conn = builder.executor.acquire(op).await?;
    Ok(DB::rows_affected(&conn.execute(op, sql.id(), query).await?))
}

/// SQL text for one run.
enum Sql {
    Cached(&'static CachedSql, SqlLookup),
    /// Built for this run only (raw conditions): a SQL-cache miss.
    Owned(String),
}

impl Sql {
    fn as_str(&self) -> &str {
        match self {
            Self::Cached(sql, _) => sql.text(),
            Self::Owned(text) => text,
        }
    }

    fn id(&self) -> StmtId {
        match self {
            Self::Cached(sql, _) => sql.id(),
            Self::Owned(text) => StmtId::of(text),
        }
    }

    const fn lookup(&self) -> SqlLookup {
        match self {
            Self::Cached(_, lookup) => *lookup,
            Self::Owned(_) => SqlLookup::Miss,
        }
    }
}

/// Inserts raw conditions before LIMIT/OFFSET. Raw conditions bind nothing,
/// so placeholder numbering is unaffected.
fn with_raw_conditions(sql: String, raw: &[String]) -> String {
    let tail_at = [" LIMIT ", " OFFSET "]
        .iter()
        .filter_map(|k| sql.find(k))
        .min()
        .unwrap_or(sql.len());
    let (head, tail) = sql.split_at(tail_at);
    let mut out = String::with_capacity(sql.len() + raw.iter().map(|r| r.len() + 8).sum::<usize>());
    out.push_str(head);
    for (i, condition) in raw.iter().enumerate() {
        let first = i == 0 && !head.contains(" WHERE ");
        out.push_str(if first { " WHERE (" } else { " AND (" });
        out.push_str(condition);
        out.push(')');
    }
    out.push_str(tail);
    out
}

#[cfg(test)]
mod tests {
    use super::with_raw_conditions;

    #[test]
    fn raw_conditions_go_before_paging() {
        let cases = [
            ("SELECT a FROM t", "SELECT a FROM t WHERE (x > 1)"),
            (
                "SELECT a FROM t WHERE b = ?",
                "SELECT a FROM t WHERE b = ? AND (x > 1)",
            ),
            (
                "SELECT a FROM t LIMIT ? OFFSET ?",
                "SELECT a FROM t WHERE (x > 1) LIMIT ? OFFSET ?",
            ),
        ];
        for (sql, want) in cases {
            assert_eq!(
                with_raw_conditions(sql.to_owned(), &["x > 1".to_owned()]),
                want
            );
        }
    }
}
