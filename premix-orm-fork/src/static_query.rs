//! The runtime half of `premix_query!`: a statement whose shape is fixed at
//! the call site, built once per backend on first use, then only bound and
//! run.
//!
//! The macro sees tokens, not the model's columns, so it checks the
//! statement's form at compile time and leaves column names to this module,
//! which checks them against the model when it first builds the SQL (a
//! returned error, never a panic).

use std::future::Future;
use std::marker::PhantomData;
use std::sync::OnceLock;

use smallvec::SmallVec;

use crate::dialect::{Backend, SqlDialect};
use crate::executor::IntoExecutor;
use crate::meta::{CachedSql, ModelMeta, SqlLookup};
use crate::model::Model;
use crate::observe::{self, Op};
use crate::sql::{self, FilterOp, FilterShape, Shape, Statement};
use crate::value::BindValue;

/// The statement kinds `premix_query!` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryOp {
    /// `SELECT` of every column.
    Select,
    /// `SELECT` with `LIMIT 1`.
    Find,
    /// `INSERT ... RETURNING` every column.
    Insert,
    /// `UPDATE`.
    Update,
    /// `DELETE` (always a hard delete).
    Delete,
}

/// What one `premix_query!` call site asks for; the macro writes it.
#[derive(Debug)]
pub struct QuerySpec {
    /// The statement.
    pub op: QueryOp,
    /// `set("column", value)` columns, in order.
    pub sets: &'static [&'static str],
    /// `filter_*("column", value)` conditions, in order.
    pub filters: &'static [(&'static str, FilterOp)],
    /// `limit(n)` present.
    pub limit: bool,
    /// `offset(n)` present.
    pub offset: bool,
    /// `returning_all()` present (UPDATE and DELETE).
    pub returning_all: bool,
}

/// A call site's SQL per backend (or why it cannot be built).
#[derive(Debug)]
pub struct StaticQuery {
    spec: QuerySpec,
    sql: [OnceLock<Result<&'static CachedSql, String>>; Backend::COUNT],
}

impl StaticQuery {
    /// For the macro's `static`.
    #[must_use]
    pub const fn new(spec: QuerySpec) -> Self {
        Self {
            spec,
            sql: [const { OnceLock::new() }; Backend::COUNT],
        }
    }

    /// The SQL, built on first use, and whether this use built it.
    fn sql<DB: SqlDialect>(
        &self,
        meta: &'static ModelMeta,
    ) -> Result<(&'static CachedSql, SqlLookup), sqlx::Error> {
        let slot = &self.sql[DB::BACKEND as usize];
        let mut lookup = SqlLookup::Hit;
        slot.get_or_init(|| {
            lookup = SqlLookup::Miss;
            build::<DB>(&self.spec, meta).map(CachedSql::leak)
        })
        .as_ref()
        .map(|sql| (*sql, lookup))
        .map_err(|message| sqlx::Error::InvalidArgument(message.clone()))
    }

    /// The call site of its statement's operation.
    fn site(&self) -> &'static observe::Site {
        match self.spec.op {
            QueryOp::Select | QueryOp::Find => &observe::SELECT,
            QueryOp::Insert => &observe::INSERT,
            QueryOp::Update => &observe::UPDATE,
            QueryOp::Delete => &observe::DELETE,
        }
    }
}

fn column(meta: &ModelMeta, name: &str) -> Result<u16, String> {
    meta.column_index(name)
        .and_then(|i| u16::try_from(i).ok())
        .ok_or_else(|| {
            format!(
                "premix_query!: no column `{name}` on model `{}`; its columns are {}",
                meta.table,
                meta.column_names()
            )
        })
}

fn build<DB: SqlDialect>(spec: &QuerySpec, meta: &ModelMeta) -> Result<String, String> {
    let filters = spec
        .filters
        .iter()
        .map(|&(name, op)| {
            let arity = u32::from(!matches!(op, FilterOp::IsNull | FilterOp::IsNotNull));
            Ok(FilterShape {
                column: column(meta, name)?,
                op,
                arity,
            })
        })
        .collect::<Result<SmallVec<_>, String>>()?;
    let set = spec
        .sets
        .iter()
        .map(|name| column(meta, name))
        .collect::<Result<SmallVec<_>, String>>()?;
    if spec.op == QueryOp::Insert {
        return Ok(insert::<DB>(meta, &set));
    }
    let statement = match spec.op {
        QueryOp::Select | QueryOp::Find => Statement::Select,
        QueryOp::Update => Statement::Update { set },
        QueryOp::Delete | QueryOp::Insert => Statement::Delete,
    };
    let shape = Shape {
        backend: DB::BACKEND,
        statement,
        filters,
        order: SmallVec::new(),
        limit: spec.limit || spec.op == QueryOp::Find,
        offset: spec.offset,
        include_deleted: matches!(spec.op, QueryOp::Update | QueryOp::Delete),
    };
    let mut text = sql::shaped::<DB>(meta, &shape);
    if spec.returning_all {
        text.push_str(" RETURNING ");
        text.push_str(&all_columns(meta));
    }
    Ok(text)
}

fn all_columns(meta: &ModelMeta) -> String {
    meta.columns
        .iter()
        .map(|c| crate::ident::quoted(c.name))
        .collect::<Vec<_>>()
        .join(", ")
}

fn insert<DB: SqlDialect>(meta: &ModelMeta, set: &[u16]) -> String {
    let mut text = String::from("INSERT INTO ");
    crate::ident::push(&mut text, meta.table);
    text.push_str(" (");
    for (n, column) in set.iter().enumerate() {
        if n > 0 {
            text.push_str(", ");
        }
        crate::ident::push(&mut text, meta.columns[usize::from(*column)].name);
    }
    text.push_str(") VALUES (");
    for n in 0..set.len() {
        if n > 0 {
            text.push_str(", ");
        }
        DB::push_placeholder(&mut text, n + 1);
    }
    text.push_str(") RETURNING ");
    text.push_str(&all_columns(meta));
    text
}

/// What a `premix_query!` with compile errors expands to beside them, so the
/// code around it still type-checks; it is never run, the build fails.
pub static NOT_BUILT: StaticQuery = StaticQuery::new(QuerySpec {
    op: QueryOp::Select,
    sets: &[],
    filters: &[],
    limit: false,
    offset: false,
    returning_all: false,
});

/// A `premix_query!` ready to run: the call site's statement and its values
/// (SET values, filter values, then LIMIT and OFFSET, in that order).
#[must_use = "a query does nothing until it is fetched or executed"]
#[derive(Debug)]
pub struct PremixQuery<T> {
    statement: &'static StaticQuery,
    values: Vec<BindValue>,
    _model: PhantomData<fn() -> T>,
}

impl<T> PremixQuery<T> {
    /// Built by the macro.
    pub const fn new(statement: &'static StaticQuery, values: Vec<BindValue>) -> Self {
        Self {
            statement,
            values,
            _model: PhantomData,
        }
    }

    fn bind<DB: SqlDialect>(self, sql: &'static CachedSql) -> crate::DbQuery<'static, DB> {
        let find_without_limit =
            self.statement.spec.op == QueryOp::Find && !self.statement.spec.limit;
        let mut query = sqlx::query(sql.text());
        for value in self.values {
            query = DB::bind_value(query, value);
        }
        if find_without_limit {
            query = DB::bind_value(query, BindValue::Int(1));
        }
        query
    }

    /// Exactly one row.
    ///
    /// # Errors
    /// `RowNotFound` when there is none; an unknown column; database errors.
    pub async fn fetch_one<'a, E>(self, executor: E) -> Result<T, sqlx::Error>
    where
        E: IntoExecutor<'a>,
        E::DB: SqlDialect,
        T: Model<E::DB>,
    {
        match self
            .run::<E::DB>(executor.into_executor(), Want::One)
            .await?
        {
            Ran::Rows(mut rows) => rows.pop().ok_or(sqlx::Error::RowNotFound),
            Ran::Done(_) => Err(sqlx::Error::RowNotFound),
        }
    }

    /// At most one row.
    ///
    /// # Errors
    /// An unknown column; database errors.
    pub async fn fetch_optional<'a, E>(self, executor: E) -> Result<Option<T>, sqlx::Error>
    where
        E: IntoExecutor<'a>,
        E::DB: SqlDialect,
        T: Model<E::DB>,
    {
        match self
            .run::<E::DB>(executor.into_executor(), Want::Optional)
            .await?
        {
            Ran::Rows(mut rows) => Ok(rows.pop()),
            Ran::Done(_) => Ok(None),
        }
    }

    /// Every row.
    ///
    /// # Errors
    /// An unknown column; database errors.
    pub async fn fetch_all<'a, E>(self, executor: E) -> Result<Vec<T>, sqlx::Error>
    where
        E: IntoExecutor<'a>,
        E::DB: SqlDialect,
        T: Model<E::DB>,
    {
        match self
            .run::<E::DB>(executor.into_executor(), Want::All)
            .await?
        {
            Ran::Rows(rows) => Ok(rows),
            Ran::Done(_) => Ok(Vec::new()),
        }
    }

    /// Runs the statement; returns the driver's result, as sqlx's
    /// `execute` does (`.rows_affected()`). A SELECT run this way answers an
    /// empty result.
    ///
    /// # Errors
    /// An unknown column; database errors.
    pub async fn execute<'a, E>(
        self,
        executor: E,
    ) -> Result<<E::DB as sqlx::Database>::QueryResult, sqlx::Error>
    where
        E: IntoExecutor<'a>,
        E::DB: SqlDialect,
        T: Model<E::DB>,
    {
        match self
            .run::<E::DB>(executor.into_executor(), Want::Changed)
            .await?
        {
            Ran::Done(result) => Ok(result),
            Ran::Rows(_) => Ok(Default::default()),
        }
    }

    /// Runs the query as a call of its statement's operation.
    fn run<'a, DB: SqlDialect>(
        self,
        executor: crate::Executor<'a, DB>,
        want: Want,
    ) -> impl Future<Output = Result<Ran<T, DB::QueryResult>, sqlx::Error>> + Send + 'a
    where
        T: Model<DB>,
    {
        let op = observe::op::<DB>(self.statement.site(), T::__meta().table);
        run(op, self, executor, want)
    }
}

/// What a caller of [`run`] wants back.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    One,
    Optional,
    All,
    Changed,
}

/// What [`run`] returns.
enum Ran<T, R> {
    Rows(Vec<T>),
    Done(R),
}

/// Runs a `premix_query!`, counted as a call of its statement's operation
/// (`select`, `insert`, `update`, `delete`) like the builder's and the
/// model's own.
#[cfg_attr(
    feature = "instrument",
    premix_instrument::instrument(target = op.handle, outcome = observe::outcome)
)]
async fn run<DB: SqlDialect, T: Model<DB>>(
    op: Op,
    query: PremixQuery<T>,
    executor: crate::Executor<'_, DB>,
    want: Want,
) -> Result<Ran<T, DB::QueryResult>, sqlx::Error> {
    let (sql, lookup) = query.statement.sql::<DB>(T::__meta())?;
    op.sql(lookup);
    let bound = query.bind::<DB>(sql);
    let mut conn = executor.acquire(op).await?;
    match want {
        Want::One | Want::Optional => {
            let row = conn.fetch_optional(op, sql.id(), bound).await?;
            match row {
                Some(row) => Ok(Ran::Rows(vec![T::__decode(&row)?])),
                None if want == Want::One => Err(sqlx::Error::RowNotFound),
                None => Ok(Ran::Rows(Vec::new())),
            }
        }
        Want::All => {
            let mut rows = Vec::new();
            conn.for_each_row(op, sql.id(), bound, |row| {
                rows.push(T::__decode(&row)?);
                Ok(())
            })
            .await?;
            Ok(Ran::Rows(rows))
        }
        Want::Changed => Ok(Ran::Done(conn.execute(op, sql.id(), bound).await?)),
    }
}
