//! Pools the fork builds: sqlx pools with sensible settings, whose
//! connections' statement caches the instrumentation knows.
//!
//! A pool the fork builds is an ordinary `sqlx::Pool`; what the fork adds is
//! knowledge. It knows the statement-cache capacity of every connection (so a
//! lookup on a full cache is told apart from a hit), samples the pool's
//! gauges (`premix_pool_connections`, `..._idle_connections`,
//! `..._max_connections`) when its operations acquire, and, with
//! [`StatementCache::exact`], tells its connections apart so that every
//! lookup is classified exactly, full cache included.

use sqlx::Pool;
use sqlx::pool::PoolOptions;

use crate::dialect::SqlDialect;
use crate::schema::Premix;

/// The prepared-statement cache of each connection of a pool the fork
/// builds, and how the instrumentation accounts for it.
///
/// - [`StatementCache::new`] (the default: 100 statements, sqlx's own
///   default): each lookup is classified from the connection's cache size.
///   Exact while the cache has room; once it is full a hit and a miss that
///   evicted another statement look the same and are counted as
///   `ambiguous`. Costs nothing per operation beyond reading the size.
/// - [`.exact()`](Self::exact): the fork keeps a shadow of each connection's
///   cache, so every lookup is a hit, a miss, or a miss with an eviction, at
///   any size. On a pool of one connection that costs nothing: every
///   acquire hands out that connection. On a larger pool each acquire
///   identifies the connection it hands out (SQLite's connection handle,
///   PostgreSQL's backend process id) in place of sqlx's liveness ping: a
///   round trip that costs more than the ping (measured on this project's
///   machines, one CPU: SQLite about 1.3x per point query, PostgreSQL 1.1x
///   to 1.3x), hence opt-in. It installs the pool's `after_connect` and
///   `before_acquire` hooks (and on a larger pool turns
///   `test_before_acquire` off): do not set your own on the options.
///
/// Without the `instrument` feature only the capacity matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatementCache {
    capacity: usize,
    exact: bool,
}

impl StatementCache {
    /// sqlx's default capacity.
    pub const DEFAULT_CAPACITY: usize = 100;

    /// `capacity` statements per connection (0 disables caching), counted
    /// from cache sizes.
    #[must_use]
    pub const fn new(capacity: usize) -> Self {
        Self {
            capacity,
            exact: false,
        }
    }

    /// Identify connections when they are acquired and count every lookup
    /// exactly, full cache included (see the type's docs for the cost).
    #[must_use]
    pub const fn exact(mut self) -> Self {
        self.exact = true;
        self
    }

    /// Statements per connection.
    #[must_use]
    pub const fn capacity(&self) -> usize {
        self.capacity
    }

    /// Whether connections are identified for exact accounting.
    #[must_use]
    pub const fn is_exact(&self) -> bool {
        self.exact
    }
}

impl Default for StatementCache {
    fn default() -> Self {
        Self::new(Self::DEFAULT_CAPACITY)
    }
}

/// Builds a pool with `options`, connecting with `connect` (whose
/// statement-cache capacity has been set from `cache`).
async fn build<DB: SqlDialect>(
    options: PoolOptions<DB>,
    connect: <DB::Connection as sqlx::Connection>::Options,
    cache: StatementCache,
) -> Result<Pool<DB>, sqlx::Error> {
    #[cfg(feature = "instrument")]
    let (options, identity) = crate::observe::prepare(options, cache.capacity, cache.exact);
    let pool = options.connect_with(connect).await?;
    #[cfg(feature = "instrument")]
    crate::observe::register(&pool, cache.capacity, identity);
    #[cfg(not(feature = "instrument"))]
    let _ = cache;
    Ok(pool)
}

impl Premix {
    /// A SQLite pool for `url` with WAL, `synchronous = NORMAL`, foreign keys
    /// on and a busy timeout. For an in-memory database (`sqlite::memory:`)
    /// the pool holds exactly one connection that never expires: every
    /// in-memory connection is a database of its own, and closing the last
    /// one loses the data; its statement cache is accounted exactly
    /// ([`StatementCache::exact`], free on one connection). It keeps no
    /// minimum of connections, so that returning the connection is the
    /// operation's own work, counted in its allocations. A file database
    /// gets four connections and [`StatementCache::default`].
    ///
    /// # Errors
    /// A malformed URL, or a database that cannot be opened.
    #[cfg(feature = "sqlite")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
    pub async fn smart_sqlite_pool(url: &str) -> Result<sqlx::SqlitePool, sqlx::Error> {
        use std::str::FromStr;
        use std::time::Duration;

        use sqlx::sqlite::{
            SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
        };

        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let mut options = SqliteConnectOptions::from_str(url)?
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let (pool, cache) = if in_memory {
            let one = SqlitePoolOptions::new()
                .min_connections(0)
                .max_connections(1)
                .idle_timeout(None)
                .max_lifetime(None);
            (one, StatementCache::default().exact())
        } else {
            options = options
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal);
            (
                SqlitePoolOptions::new().max_connections(4),
                StatementCache::default(),
            )
        };
        Self::sqlite_pool(options, pool, cache).await
    }

    /// A SQLite pool with your own options, whose connections cache `cache`
    /// prepared statements (the capacity is set on `connect`).
    ///
    /// With [`StatementCache::exact`] and the `instrument` feature the fork
    /// sets `pool`'s `after_connect` and `before_acquire` hooks to follow
    /// each connection's cache: hooks you set on `pool` are replaced (sqlx
    /// offers no way to read them back and chain them).
    ///
    /// # Errors
    /// A database that cannot be opened.
    #[cfg(feature = "sqlite")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
    pub async fn sqlite_pool(
        connect: sqlx::sqlite::SqliteConnectOptions,
        pool: sqlx::sqlite::SqlitePoolOptions,
        cache: StatementCache,
    ) -> Result<sqlx::SqlitePool, sqlx::Error> {
        build(
            pool,
            connect.statement_cache_capacity(cache.capacity),
            cache,
        )
        .await
    }

    /// Lends one connection of `pool` to `inspect`, for reading what the
    /// database knows about it (its cache size, PostgreSQL's
    /// `pg_prepared_statements`) to check the instrumentation's counts
    /// against. On a pool built with [`StatementCache::exact`] the fork
    /// keeps following the connection's cache, so `inspect` must prepare
    /// nothing: use `sqlx::raw_sql` (the simple protocol) or the
    /// connection's own readings. If the cache size changes anyway, the fork
    /// notices and learns the cache again.
    ///
    /// # Errors
    /// What acquiring from the pool reports.
    pub async fn inspect_connection<DB, R>(
        pool: &Pool<DB>,
        inspect: impl AsyncFnOnce(&mut DB::Connection) -> R,
    ) -> Result<R, sqlx::Error>
    where
        DB: SqlDialect,
    {
        let (mut conn, lent) = crate::observe::lend(pool).await?;
        let inspected = inspect(&mut conn).await;
        lent.returned::<DB>(&conn);
        Ok(inspected)
    }

    /// Waits until every connection `pool` has open is idle in it again:
    /// until what operations leave running after they return (handing
    /// their connection back, a liveness check included) has finished. For
    /// tests and reports that read the counters right after a call:
    /// returning the connection is part of the call's cost.
    ///
    /// # Errors
    /// `sqlx::Error::PoolTimedOut` when connections are still out after the
    /// pool's acquire timeout (held by a transaction, say).
    pub async fn wait_idle<DB: sqlx::Database>(pool: &Pool<DB>) -> Result<(), sqlx::Error> {
        use std::time::{Duration, Instant};

        let deadline = Instant::now() + pool.options().get_acquire_timeout();
        while pool.num_idle() < pool.size() as usize {
            if Instant::now() >= deadline {
                return Err(sqlx::Error::PoolTimedOut);
            }
            // A sleep, not a yield: the thread must block for a driver
            // thread that shares its CPU to run.
            tokio::time::sleep(Duration::from_micros(100)).await;
        }
        Ok(())
    }

    /// A PostgreSQL pool with your own options, whose connections cache
    /// `cache` prepared statements (the capacity is set on `connect`).
    ///
    /// With [`StatementCache::exact`] and the `instrument` feature the fork
    /// sets `pool`'s `after_connect` and `before_acquire` hooks to follow
    /// each connection's cache: hooks you set on `pool` are replaced (sqlx
    /// offers no way to read them back and chain them).
    ///
    /// # Errors
    /// A server that cannot be reached, or refuses the connection.
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    pub async fn postgres_pool(
        connect: sqlx::postgres::PgConnectOptions,
        pool: sqlx::postgres::PgPoolOptions,
        cache: StatementCache,
    ) -> Result<sqlx::PgPool, sqlx::Error> {
        build(
            pool,
            connect.statement_cache_capacity(cache.capacity),
            cache,
        )
        .await
    }
}
