//! The builder's state: what `filter_*`, `order_by`, `limit`, `include` and
//! the opt-ins have asked for so far, and the first problem any of them met.
//!
//! Builder methods never fail: a problem (an unknown column, a raw filter
//! without opt-in, an unknown relation) is kept here and returned by the
//! method that runs the query. Column names are checked against the model
//! when the filter is added, so only the model's own column names ever
//! reach SQL text. Turning this state into SQL is `shape.rs`'s job; running
//! it, that of `select.rs`, `stream.rs` and `bulk.rs`.

use std::borrow::Cow;
use std::marker::PhantomData;

use smallvec::SmallVec;

use crate::dialect::SqlDialect;
use crate::eager::EagerOptions;
use crate::executor::Executor;
use crate::meta::ModelMeta;
use crate::model::{Model, Relation};
use crate::sql::{FilterOp, Order};
use crate::value::BindValue;

#[derive(Debug)]
pub(super) struct Filter {
    pub(super) column: u16,
    pub(super) op: FilterOp,
    pub(super) values: SmallVec<[BindValue; 1]>,
}

/// A relation to include: a name, or a typed handle (`User::posts`).
#[derive(Clone, Debug)]
pub struct Include(pub(super) Cow<'static, str>);

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
    pub(super) executor: Executor<'a, DB>,
    pub(super) filters: SmallVec<[Filter; 4]>,
    pub(super) raw_filters: Vec<String>,
    pub(super) allow_raw: bool,
    /// `unsafe_fast()`: update and delete without a filter are allowed.
    pub(super) unfiltered_writes: bool,
    /// `ultra_fast()`: `all()` skips the includes.
    pub(super) skip_includes: bool,
    pub(super) order: SmallVec<[(u16, Order); 2]>,
    pub(super) limit: Option<i64>,
    pub(super) offset: Option<i64>,
    pub(super) includes: SmallVec<[Include; 2]>,
    pub(super) include_deleted: bool,
    pub(super) prepared: bool,
    pub(super) eager: EagerOptions,
    pub(super) problem: Option<sqlx::Error>,
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

    pub(super) fn meta() -> &'static ModelMeta {
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

    pub(super) fn take_problem(&mut self) -> Result<(), sqlx::Error> {
        self.problem.take().map_or(Ok(()), Err)
    }
}
