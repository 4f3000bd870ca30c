//! What differs between SQL backends, in one trait.
//!
//! Generic code over sqlx databases usually drowns in higher-ranked bounds
//! (`for<'c> &'c mut DB::Connection: Executor<'c>`, ...). Here the set of
//! backends is closed, so each one implements [`SqlDialect`] concretely,
//! execution included, and everything else in the crate needs only
//! `DB: SqlDialect`. Execution methods return `impl Future + Send` rather
//! than boxed futures, so the ORM adds no allocation of its own around sqlx.

use std::future::Future;

use futures_core::stream::BoxStream;
use sqlx::{Database, Pool};

use crate::meta::ColumnType;
use crate::value::BindValue;

/// A query with its arguments, as sqlx builds it.
pub type DbQuery<'q, DB> = sqlx::query::Query<'q, DB, <DB as Database>::Arguments<'q>>;

/// The backends compiled into this crate; used to index per-backend caches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    /// SQLite (feature `sqlite`).
    Sqlite = 0,
    /// PostgreSQL (feature `postgres`).
    Postgres = 1,
}

impl Backend {
    /// How many backends there are.
    pub const COUNT: usize = 2;

    /// Lower-case name, for messages.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }

    /// The `backend` label of its metrics: `sqlite` or `postgresql`.
    #[must_use]
    pub const fn label(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgresql",
        }
    }
}

/// A database the ORM can run on. Implemented for `sqlx::Sqlite` and
/// `sqlx::Postgres`; not meant to be implemented outside this crate.
pub trait SqlDialect: Database + sqlx::database::HasStatementCache {
    /// Which backend this is.
    const BACKEND: Backend;

    /// The most bind parameters one statement may carry.
    const MAX_BIND_PARAMS: usize;

    /// Whether an INSERT reads the new id back with `RETURNING` (PostgreSQL)
    /// rather than from the statement's result (SQLite's last rowid, which
    /// is what users of SQLite write by hand, and cheaper).
    const INSERT_RETURNS_ID: bool;

    /// The id the last INSERT assigned, from its result; only asked where
    /// `INSERT_RETURNS_ID` is false.
    fn last_insert_id(result: &Self::QueryResult) -> i64;

    /// Whether the driver updates a connection's statement-cache size only
    /// after it has sent a statement's rows (SQLite's worker thread does), so
    /// that the size is settled once the rows are read to their end, and not
    /// when a single-row fetch returns.
    const CACHE_SIZE_SETTLES_AFTER_ROWS: bool;

    /// Appends the placeholder for the `index`-th parameter (1-based).
    fn push_placeholder(sql: &mut String, index: usize);

    /// The SQL type of a column, `None` when the ORM cannot name one.
    fn column_sql_type(ty: ColumnType) -> Option<&'static str>;

    /// The column definition of an auto-incrementing integer primary key.
    fn primary_key_sql(ty: ColumnType) -> &'static str;

    /// Binds one dynamic value.
    fn bind_value<'q>(query: DbQuery<'q, Self>, value: BindValue) -> DbQuery<'q, Self>;

    /// Rows changed by a statement.
    fn rows_affected(result: &Self::QueryResult) -> u64;

    /// Whether a query will be prepared and cached on its connection.
    fn is_persistent(query: &DbQuery<'_, Self>) -> bool;

    /// Runs a statement.
    fn execute<'c, 'q: 'c>(
        conn: &'c mut Self::Connection,
        query: DbQuery<'q, Self>,
    ) -> impl Future<Output = Result<Self::QueryResult, sqlx::Error>> + Send + 'c;

    /// Runs a query for at most one row.
    fn fetch_optional<'c, 'q: 'c>(
        conn: &'c mut Self::Connection,
        query: DbQuery<'q, Self>,
    ) -> impl Future<Output = Result<Option<Self::Row>, sqlx::Error>> + Send + 'c;

    /// Streams a query's rows from one connection.
    fn fetch<'c, 'q: 'c>(
        conn: &'c mut Self::Connection,
        query: DbQuery<'q, Self>,
    ) -> BoxStream<'c, Result<Self::Row, sqlx::Error>>;

    /// The thread the driver does a connection's work on, when it has one of
    /// its own (SQLite's worker thread): learned once per connection by
    /// running a statement whose collation callback reports where it runs
    /// (and, there, joins [`premix_instrument::serial`] when it is on).
    /// PostgreSQL works on the polling task: `None`.
    #[cfg(feature = "instrument")]
    fn driver_thread<'c>(
        conn: &'c mut Self::Connection,
    ) -> impl Future<Output = Result<Option<premix_instrument::ThreadSlot>, sqlx::Error>> + Send + 'c;

    /// The database's own identity for the connection (SQLite's handle,
    /// PostgreSQL's backend process id): one round trip, that fails on a dead
    /// connection. Used by pools built for exact statement accounting.
    #[cfg(feature = "instrument")]
    fn identify_connection<'c>(
        conn: &'c mut Self::Connection,
    ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send + 'c;

    /// Streams a query's rows from a pool (a connection is held for the
    /// stream's lifetime).
    fn fetch_from_pool<'p, 'q: 'p>(
        pool: &'p Pool<Self>,
        query: DbQuery<'q, Self>,
    ) -> BoxStream<'p, Result<Self::Row, sqlx::Error>>;
}

/// Implements the execution half of [`SqlDialect`] for a concrete backend,
/// where sqlx's own bounds hold without being restated.
macro_rules! concrete_execution {
    ($db:ty) => {
        fn execute<'c, 'q: 'c>(
            conn: &'c mut <$db as Database>::Connection,
            query: DbQuery<'q, $db>,
        ) -> impl Future<Output = Result<<$db as Database>::QueryResult, sqlx::Error>> + Send + 'c {
            query.execute(conn)
        }

        fn fetch_optional<'c, 'q: 'c>(
            conn: &'c mut <$db as Database>::Connection,
            query: DbQuery<'q, $db>,
        ) -> impl Future<Output = Result<Option<<$db as Database>::Row>, sqlx::Error>> + Send + 'c {
            query.fetch_optional(conn)
        }

        fn fetch<'c, 'q: 'c>(
            conn: &'c mut <$db as Database>::Connection,
            query: DbQuery<'q, $db>,
        ) -> BoxStream<'c, Result<<$db as Database>::Row, sqlx::Error>> {
            query.fetch(conn)
        }

        fn fetch_from_pool<'p, 'q: 'p>(
            pool: &'p Pool<$db>,
            query: DbQuery<'q, $db>,
        ) -> BoxStream<'p, Result<<$db as Database>::Row, sqlx::Error>> {
            query.fetch(pool)
        }

        fn is_persistent(query: &DbQuery<'_, $db>) -> bool {
            sqlx::Execute::persistent(query)
        }

        fn bind_value<'q>(query: DbQuery<'q, $db>, value: BindValue) -> DbQuery<'q, $db> {
            match value {
                BindValue::Null => query.bind(None::<i64>),
                BindValue::Bool(v) => query.bind(v),
                BindValue::Int(v) => query.bind(v),
                BindValue::Float(v) => query.bind(v),
                BindValue::Text(v) => query.bind(v),
                BindValue::Bytes(v) => query.bind(v),
            }
        }
    };
}

#[cfg(feature = "sqlite")]
impl SqlDialect for sqlx::Sqlite {
    const BACKEND: Backend = Backend::Sqlite;
    // SQLITE_MAX_VARIABLE_NUMBER's default since SQLite 3.32.
    const MAX_BIND_PARAMS: usize = 32_766;
    const CACHE_SIZE_SETTLES_AFTER_ROWS: bool = true;
    const INSERT_RETURNS_ID: bool = false;

    fn push_placeholder(sql: &mut String, _index: usize) {
        sql.push('?');
    }

    fn column_sql_type(ty: ColumnType) -> Option<&'static str> {
        Some(match ty {
            ColumnType::SmallInt | ColumnType::Integer | ColumnType::BigInt => "INTEGER",
            ColumnType::Boolean => "BOOLEAN",
            ColumnType::Real | ColumnType::Double => "REAL",
            ColumnType::Text => "TEXT",
            ColumnType::Bytes => "BLOB",
            ColumnType::Custom(sql) => sql,
            ColumnType::Unknown => return None,
        })
    }

    fn primary_key_sql(_ty: ColumnType) -> &'static str {
        // An alias of the rowid: auto-assigned, 64-bit.
        "INTEGER PRIMARY KEY"
    }

    fn rows_affected(result: &sqlx::sqlite::SqliteQueryResult) -> u64 {
        result.rows_affected()
    }

    fn last_insert_id(result: &sqlx::sqlite::SqliteQueryResult) -> i64 {
        result.last_insert_rowid()
    }

    #[cfg(feature = "instrument")]
    async fn identify_connection(conn: &mut sqlx::SqliteConnection) -> Result<u64, sqlx::Error> {
        let mut handle = conn.lock_handle().await?;
        Ok(handle.as_raw_handle().addr().get() as u64)
    }

    #[cfg(feature = "instrument")]
    async fn driver_thread(
        conn: &mut sqlx::SqliteConnection,
    ) -> Result<Option<premix_instrument::ThreadSlot>, sqlx::Error> {
        use std::sync::{Arc, OnceLock};
        let found: Arc<OnceLock<Option<premix_instrument::ThreadSlot>>> = Arc::default();
        let reported = Arc::clone(&found);
        conn.lock_handle().await?.create_collation(
            "premix_driver_thread",
            move |a: &str, b: &str| {
                if reported
                    .set(premix_instrument::ThreadSlot::current())
                    .is_ok()
                {
                    #[cfg(unix)]
                    premix_instrument::serial::serialize_driver_thread();
                }
                a.cmp(b)
            },
        )?;
        sqlx::Executor::execute(
            &mut *conn,
            sqlx::raw_sql("SELECT 'a' < 'b' COLLATE premix_driver_thread"),
        )
        .await?;
        Ok(found.get().copied().flatten())
    }

    concrete_execution!(sqlx::Sqlite);
}

#[cfg(feature = "postgres")]
impl SqlDialect for sqlx::Postgres {
    const BACKEND: Backend = Backend::Postgres;
    const MAX_BIND_PARAMS: usize = 65_535;
    const CACHE_SIZE_SETTLES_AFTER_ROWS: bool = false;
    const INSERT_RETURNS_ID: bool = true;

    fn push_placeholder(sql: &mut String, index: usize) {
        use std::fmt::Write as _;
        let _ = write!(sql, "${index}");
    }

    fn column_sql_type(ty: ColumnType) -> Option<&'static str> {
        Some(match ty {
            ColumnType::SmallInt => "SMALLINT",
            ColumnType::Integer => "INTEGER",
            ColumnType::BigInt => "BIGINT",
            ColumnType::Boolean => "BOOLEAN",
            ColumnType::Real => "REAL",
            ColumnType::Double => "DOUBLE PRECISION",
            ColumnType::Text => "TEXT",
            ColumnType::Bytes => "BYTEA",
            ColumnType::Custom(sql) => sql,
            ColumnType::Unknown => return None,
        })
    }

    fn primary_key_sql(ty: ColumnType) -> &'static str {
        match ty {
            ColumnType::BigInt => "BIGSERIAL PRIMARY KEY",
            _ => "SERIAL PRIMARY KEY",
        }
    }

    fn rows_affected(result: &sqlx::postgres::PgQueryResult) -> u64 {
        result.rows_affected()
    }

    fn last_insert_id(_result: &sqlx::postgres::PgQueryResult) -> i64 {
        // INSERT_RETURNS_ID: the id comes back as a row.
        0
    }

    #[cfg(feature = "instrument")]
    fn driver_thread<'c>(
        _conn: &'c mut sqlx::PgConnection,
    ) -> impl Future<Output = Result<Option<premix_instrument::ThreadSlot>, sqlx::Error>> + Send + 'c
    {
        std::future::ready(Ok(None))
    }

    #[cfg(feature = "instrument")]
    async fn identify_connection(conn: &mut sqlx::PgConnection) -> Result<u64, sqlx::Error> {
        // The simple protocol: nothing is prepared, the statement cache
        // being watched is left as it was.
        let row = sqlx::Executor::fetch_one(conn, sqlx::raw_sql("SELECT pg_backend_pid()")).await?;
        let pid: i32 = sqlx::Row::try_get(&row, 0)?;
        Ok(u64::from(pid.unsigned_abs()))
    }

    concrete_execution!(sqlx::Postgres);
}
