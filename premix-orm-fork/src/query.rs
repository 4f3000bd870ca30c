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

use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use smallvec::SmallVec;

use crate::dialect::{DbQuery, SqlDialect};
use crate::eager::{self, EagerOptions};
use crate::executor::{Conn, Executor};
use crate::meta::{CachedSql, ModelMeta, ShapedSql, SqlLookup};
use crate::model::{Model, Relation};
use crate::observe::{self, Op, StmtId};
use crate::sql::{self, FilterOp, FilterShape, Order, Shape, Statement, padded_arity};
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
    /// `unsafe_fast()`: update and delete without a filter are allowed.
    unfiltered_writes: bool,
    /// `ultra_fast()`: `all()` skips the includes.
    skip_includes: bool,
    order: SmallVec<[(u16, Order); 2]>,
    limit: Option<i64>,
    offset: Option<i64>,
    includes: SmallVec<[Include; 2]>,
    include_deleted: bool,
    prepared: bool,
    eager: EagerOptions,
    problem: Option<sqlx::Error>,
    _model: PhantomData<fn() -> T>,
}

/// Shows the filters with their values, except for `#[premix(sensitive)]`
/// columns, shown as `***`.
impl<T: Model<DB>, DB: SqlDialect> std::fmt::Debug for QueryBuilder<'_, T, DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let meta = T::__meta();
        let filters: Vec<String> = self
            .filters
            .iter()
            .map(|filter| {
                let column = meta.columns[usize::from(filter.column)].name;
                if meta.sensitive.contains(&column) {
                    format!("{column} {:?} ***", filter.op)
                } else {
                    format!("{column} {:?} {:?}", filter.op, filter.values.as_slice())
                }
            })
            .collect();
        f.debug_struct("QueryBuilder")
            .field("table", &meta.table)
            .field("filters", &filters)
            .field("raw_filters", &self.raw_filters)
            .field("order", &self.order)
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
            unfiltered_writes: false,
            skip_includes: false,
            order: SmallVec::new(),
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

    /// premix's `fast()`: premix skips its logging and metrics there. The
    /// fork has no logging, and its instrumentation (when compiled in) is
    /// what you measure with, so this changes nothing.
    pub const fn fast(self) -> Self {
        self
    }

    /// premix's `unsafe_fast()`: [`allow_unsafe`](Self::allow_unsafe), and
    /// `update`/`delete` without any filter are allowed (they touch every
    /// row).
    pub const fn unsafe_fast(mut self) -> Self {
        self.allow_raw = true;
        self.unfiltered_writes = true;
        self
    }

    /// premix's `ultra_fast()`: [`unsafe_fast`](Self::unsafe_fast), and
    /// `all()` loads no included relation (their fields stay `None`).
    pub const fn ultra_fast(mut self) -> Self {
        self.skip_includes = true;
        self.unsafe_fast()
    }

    /// Opts in to raw SQL conditions for this query, and to `update`/`delete`
    /// without any filter (every row).
    ///
    /// What it still protects: a raw condition stays one condition of this
    /// statement. One that carries a statement separator (`;`), a comment
    /// (`--`, `/*`), an open quote or unbalanced parentheses outside string
    /// literals is refused when the query runs. What it does not: the text is
    /// SQL, not a value. It is not bound, it can name any column and call any
    /// function, and a value spliced into it from user input is an injection.
    /// Use the `filter_*` methods for values.
    pub const fn allow_unsafe(mut self) -> Self {
        self.allow_raw = true;
        self.unfiltered_writes = true;
        self
    }

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

    /// Sorts the rows by `column` (a column of the model, checked like a
    /// filter's), after any earlier `order_by`: what makes `limit` and
    /// `offset` pages the same on every run.
    ///
    /// ```no_run
    /// # use premix_orm_fork::prelude::*;
    /// # use premix_orm_fork::Order;
    /// # #[derive(Model)] struct Post { id: i32, user_id: i32, title: String }
    /// # async fn demo(pool: &sqlx::SqlitePool) -> Result<(), sqlx::Error> {
    /// let third_page = Post::find_in_pool(pool)
    ///     .order_by("id", Order::Asc)
    ///     .limit(20)
    ///     .offset(40)
    ///     .all()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn order_by(mut self, column: impl AsRef<str>, order: Order) -> Self {
        if let Some(column) = self.column(column.as_ref()) {
            self.order.push((column, order));
        }
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
    fn sql(&self, statement: Statement) -> Result<Sql, sqlx::Error> {
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

    fn delete_statement(&self) -> Statement {
        if Self::meta().soft_delete.is_some() {
            Statement::SoftDelete
        } else {
            Statement::Delete
        }
    }

    /// Binds the filters' values (after `set` SET values), then LIMIT and
    /// OFFSET, in the order the shape numbered them.
    fn bind_filters<'q>(&mut self, mut query: DbQuery<'q, DB>, set: usize) -> DbQuery<'q, DB> {
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

    fn take_problem(&mut self) -> Result<(), sqlx::Error> {
        self.problem.take().map_or(Ok(()), Err)
    }

    /// Runs the select, then loads every included relation on the same
    /// connection.
    ///
    /// # Errors
    /// The builder's first problem, or what the database reports.
    pub async fn all(mut self) -> Result<Vec<T>, sqlx::Error> {
        let mut includes = std::mem::take(&mut self.includes);
        if self.skip_includes {
            includes.clear();
        }
        let eager_options = self.eager;
        let op = observe::op::<DB>(&observe::SELECT, T::__meta().table);
        let (mut rows, mut conn) = select(op, self, &includes).await?;
        for include in &includes {
            eager::load::<DB, T>(&mut rows, &include.0, &mut conn, eager_options).await?;
        }
        conn.finish();
        Ok(rows)
    }

    /// Streams the selected rows as they arrive, as premix's `stream()`
    /// does: the builder's problems come back at once, as the outer error.
    /// Relations cannot be included in a stream (`include()` is refused
    /// here), nor raw filters.
    ///
    /// # Errors
    /// The builder's first problem, an `include()`, or raw filters; each
    /// counted as a refused `select`.
    pub fn stream(mut self) -> Result<BoxStream<'a, Result<T, sqlx::Error>>, sqlx::Error> {
        let op = observe::op::<DB>(&observe::SELECT, Self::meta().table);
        let checked = self
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
                Sql::Owned(_) => Err(sqlx::Error::InvalidArgument(format!(
                    "stream() runs only statements whose text is kept: not raw filters, nor a \
                     new shape once `{}` has {} (SqlCache::MAX_SHAPES); use all()",
                    Self::meta().table,
                    crate::SqlCache::MAX_SHAPES
                ))),
            });
        let (sql, lookup) = match checked {
            Ok(checked) => checked,
            Err(problem) => return refused(op, problem).map(|never| match never {}),
        };
        op.sql(lookup);
        let query = self.bind_filters(sqlx::query(sql.text()).persistent(self.prepared), 0);
        let rows = match self.executor {
            Executor::Pool(pool) => DB::fetch_from_pool(pool, query),
            Executor::Conn(conn) => DB::fetch(conn, query),
        };
        let decoded = rows.map(|row| row.and_then(|row| T::__decode(&row)));
        #[cfg(feature = "instrument")]
        let decoded = premix_instrument::InstrumentedStream::new(
            op.handle,
            decoded,
            |item: &Result<T, sqlx::Error>| item.as_ref().err().map(observe::error_kind),
        );
        Ok(decoded.boxed())
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
    let query = builder.bind_filters(sqlx::query(sql.as_str()).persistent(builder.prepared), 0);
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
    builder.check_filtered("update()")?;
    op.sql(sql.lookup());
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
    let sql = builder.sql(builder.delete_statement())?;
    builder.check_filtered("delete()")?;
    op.sql(sql.lookup());
    let query = builder.bind_filters(sqlx::query(sql.as_str()).persistent(builder.prepared), 0);
    let mut conn = builder.executor.acquire(op).await?;
    Ok(DB::rows_affected(&conn.execute(op, sql.id(), query).await?))
}

/// A call refused before it ran (a builder's problem found by a method
/// that is not itself instrumented): counted as one call of `op` that
/// failed.
#[cfg_attr(
    feature = "instrument",
    premix_instrument::instrument(target = op.handle, outcome = observe::outcome)
)]
fn refused(op: Op, problem: sqlx::Error) -> Result<std::convert::Infallible, sqlx::Error> {
    let _ = op;
    Err(problem)
}

/// SQL text for one run.
enum Sql {
    Cached(&'static CachedSql, SqlLookup),
    /// Built for this run only (raw conditions, a full shape cache): a
    /// SQL-cache miss.
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

/// Inserts raw conditions before ORDER BY, LIMIT and OFFSET. Raw conditions bind nothing,
/// so placeholder numbering is unaffected.
fn with_raw_conditions(sql: String, raw: &[String]) -> String {
    let tail_at = [" ORDER BY ", " LIMIT ", " OFFSET "]
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
