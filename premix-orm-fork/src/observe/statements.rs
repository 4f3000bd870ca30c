//! Classifying each statement's lookup in its connection's statement cache.
//!
//! Two ways, by what the fork knows about the connection:
//!
//! - **Identified** (a pool built with
//!   [`StatementCache::exact`](crate::StatementCache::exact)): the
//!   connection's record holds a shadow of its cache that sees every lookup
//!   the fork makes, in order, and predicts each one: hit, miss, miss with an
//!   eviction, at any cache size. Nothing is read from the connection except
//!   where the shadow asks (a statement it forgot, see `identity.rs`).
//! - **By size** (any other connection): the cache size read before the
//!   statement and after it has settled. It grew: a miss. It stayed put
//!   below capacity: a hit. It stayed put at capacity: a hit, or a miss that
//!   evicted another statement, which the size cannot tell: `ambiguous`.
//!
//! SQLite's driver updates the size on its worker thread after sending the
//! rows, before it closes the row channel: a statement read to its end has
//! settled. A single-row fetch returns at its first row, so when the size
//! after it is needed the fork reads that statement to its end instead
//! ([`Watch::needs_settled_size`]). PostgreSQL's size is exact as soon as a
//! statement returns.
//!
//! A failed statement still looked the cache up, except when it never
//! reached the database (a broken connection, a value that would not
//! encode). On PostgreSQL a statement that failed while being prepared was
//! not cached; one that failed later was.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use premix_instrument::{Charged, Lookup, StmtCacheResult, StmtKey, Stopwatch};
use sqlx::pool::PoolConnection;
use sqlx::{Connection, Pool};

use super::identity::ConnRecord;
use super::pools;
use super::sites::Op;
use crate::dialect::{Backend, SqlDialect};

/// A statement's identity in a connection's cache: its SQL text's digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StmtId(StmtKey);

impl StmtId {
    pub(crate) fn of(sql: &str) -> Self {
        Self(StmtKey::of(sql))
    }
}

/// The statement-cache capacity of connections the fork did not build (or
/// cannot tell which pool they came from); see
/// [`set_statement_cache_capacity`].
static DEFAULT_CAPACITY: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(100);

/// Tells the instrumentation the statement-cache capacity of connections
/// from pools the fork did not build (sqlx's `statement_cache_capacity`, 100
/// by default), so that lookups on their full caches are counted as
/// `ambiguous`, not as hits. Pools built by the fork know their own.
pub fn set_statement_cache_capacity(capacity: usize) {
    DEFAULT_CAPACITY.store(capacity, Ordering::Relaxed);
}

/// What the fork knows about a connection an operation holds.
#[derive(Debug)]
pub(crate) struct Tracked {
    record: Option<Arc<ConnRecord>>,
    capacity: usize,
    /// Taken from a pool that keeps no minimum of connections: returning it
    /// is one task, which the fork can run as the operation's (see
    /// [`Tracked::release`]).
    releasable: bool,
}

impl Tracked {
    /// Returns a pooled connection on the operation's behalf: sqlx returns
    /// it on a task of its own (a liveness ping, then the idle queue), which
    /// would run after the operation, charged to nobody. The fork starts
    /// that same task, wrapped so that what it allocates, and what the
    /// driver's thread allocates meanwhile, is charged to `op`. Only where
    /// nothing else changes: a pool with no minimum of connections (sqlx
    /// would start a second task for one that has), inside a Tokio runtime.
    pub(crate) fn release<DB: SqlDialect>(&self, op: Op, conn: &mut PoolConnection<DB>) {
        if !self.releasable {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        // sqlx's own release path, as its drop would spawn it (public, hidden
        // from its docs; sqlx is pinned).
        let returning = conn.return_to_pool();
        let record = self.record.clone();
        runtime.spawn(Charged::new(op.handle, async move {
            returning.await;
            if let Some(record) = record {
                record.charge_driver(op);
            }
        }));
    }
}

/// One statement's reading of the cache, taken before it runs.
#[derive(Debug)]
pub(crate) struct Watch {
    id: StmtId,
    persistent: bool,
    before: Option<usize>,
    settle: bool,
}

impl Watch {
    /// Whether the statement must be read to its end before the cache size
    /// after it means anything (SQLite's single-row fetches).
    pub(crate) const fn needs_settled_size(&self) -> bool {
        self.settle
    }
}

/// Takes a connection from `pool` for `op`: samples the pool's gauges as it
/// asks (when the fork built the pool), records the wait (failures
/// included: a timeout waited too), and learns which connection it got when
/// the pool identifies them.
pub(crate) async fn acquire<DB: SqlDialect>(
    pool: &Pool<DB>,
    op: Op,
) -> Result<(PoolConnection<DB>, Tracked), sqlx::Error> {
    let waiting = Stopwatch::start();
    let built = pools::find(pool);
    if let Some(built) = built {
        // What the operation found when it asked: no idle connection means
        // it waits, or opens one.
        built.observe(pool);
    }
    let (conn, record) = pools::acquire_as_fork(pool).await;
    op.handle.record_pool_wait(waiting.elapsed());
    let capacity = built.map_or_else(|| DEFAULT_CAPACITY.load(Ordering::Relaxed), |b| b.capacity);
    let releasable = pool.options().get_min_connections() == 0;
    Ok((
        conn?,
        Tracked {
            record,
            capacity,
            releasable,
        },
    ))
}

/// Whether a failed statement got as far as the statement cache.
fn reached_the_cache(error: &sqlx::Error) -> bool {
    use sqlx::Error;
    matches!(
        error,
        Error::Database(_)
            | Error::ColumnDecode { .. }
            | Error::Decode(_)
            | Error::ColumnIndexOutOfBounds { .. }
            | Error::ColumnNotFound(_)
    )
}

impl Tracked {
    /// A borrowed connection, or one from a pool that does not identify its
    /// connections.
    pub(crate) fn unidentified() -> Self {
        Self {
            record: None,
            capacity: DEFAULT_CAPACITY.load(Ordering::Relaxed),
            releasable: false,
        }
    }

    /// Reads what must be read before statement `id` runs.
    pub(crate) fn before<DB: SqlDialect>(
        &self,
        conn: &DB::Connection,
        id: StmtId,
        persistent: bool,
    ) -> Watch {
        let needs_size = match &self.record {
            None => persistent,
            // Free there, and it tells a failed preparation apart.
            Some(_) if DB::BACKEND == Backend::Postgres => true,
            Some(record) => persistent && record.shadow.lock().needs_growth(id.0),
        };
        Watch {
            id,
            persistent,
            before: needs_size.then(|| conn.cached_statements_size()),
            settle: needs_size && DB::CACHE_SIZE_SETTLES_AFTER_ROWS,
        }
    }

    /// Counts the lookup of the statement `watch` was taken for, which
    /// ended with `failure` or without.
    pub(crate) fn after<DB: SqlDialect>(
        &self,
        op: Op,
        watch: Watch,
        conn: &DB::Connection,
        failure: Option<&sqlx::Error>,
    ) {
        if let Some(record) = &self.record {
            record.charge_driver(op);
        }
        if failure.is_some_and(|error| !reached_the_cache(error)) {
            if let Some(record) = &self.record {
                record.uncertain.store(true, Ordering::Relaxed);
            }
            return;
        }
        let count = |result| op.handle.record_stmt_cache(result, 1, 0);
        if !watch.persistent && (self.record.is_none() || DB::BACKEND == Backend::Sqlite) {
            // SQLite never looks an unprepared statement up.
            count(StmtCacheResult::Unprepared);
            return;
        }
        let size = conn.cached_statements_size();
        match &self.record {
            None => count(by_size::<DB>(
                watch.before,
                size,
                self.capacity,
                failure.is_some(),
            )),
            Some(record) => by_shadow::<DB>(op, &watch, size, record, failure.is_some()),
        }
    }
}

/// The lookup of a persistent statement on a connection known only by its
/// cache size before (`before`) and after (`after`, settled).
fn by_size<DB: SqlDialect>(
    before: Option<usize>,
    after: usize,
    capacity: usize,
    failed: bool,
) -> StmtCacheResult {
    let Some(before) = before else {
        return StmtCacheResult::Ambiguous;
    };
    if after > before {
        StmtCacheResult::Miss
    } else if after == before && after < capacity && !(failed && DB::BACKEND == Backend::Postgres) {
        // On PostgreSQL a failed preparation leaves the size put too.
        StmtCacheResult::Hit
    } else {
        // Full (or emptied by someone else): a hit and an evicting miss look
        // the same.
        StmtCacheResult::Ambiguous
    }
}

/// The lookup on an identified connection, from its shadow.
fn by_shadow<DB: SqlDialect>(
    op: Op,
    watch: &Watch,
    size: usize,
    record: &ConnRecord,
    failed: bool,
) {
    let key = watch.id.0;
    let mut shadow = record.shadow.lock();
    let grew = watch.before.map(|before| size > before);
    let result = if !watch.persistent {
        // PostgreSQL uses a cached statement even for an unprepared query.
        if shadow.contains(key) {
            shadow.lookup(key, None);
            StmtCacheResult::Hit
        } else {
            StmtCacheResult::Unprepared
        }
    } else if failed && DB::BACKEND == Backend::Postgres && !shadow.contains(key) {
        // It missed. Cached only if it was prepared before it failed.
        if grew == Some(true) {
            shadow.lookup(key, Some(true));
        } else if shadow.len() >= shadow.capacity() {
            // Full: whether it was prepared (evicting one) is not known.
            shadow.resync(size);
        }
        StmtCacheResult::Miss
    } else {
        match shadow.lookup(key, grew) {
            Lookup::Hit => StmtCacheResult::Hit,
            Lookup::Miss { evicted } => {
                op.handle
                    .record_stmt_cache(StmtCacheResult::Miss, 1, u64::from(evicted));
                return after_lookup::<DB>(&mut shadow, size);
            }
            Lookup::Unknowable => StmtCacheResult::Disagreement,
        }
    };
    op.handle.record_stmt_cache(result, 1, 0);
    after_lookup::<DB>(&mut shadow, size);
}

/// PostgreSQL's size is settled after every statement: check the shadow
/// against it now (SQLite's is checked when the connection is next handed
/// out).
fn after_lookup<DB: SqlDialect>(shadow: &mut premix_instrument::StmtCacheShadow, size: usize) {
    if DB::BACKEND == Backend::Postgres && shadow.len() != size {
        shadow.resync(size);
    }
}
