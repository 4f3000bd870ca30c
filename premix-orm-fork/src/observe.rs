//! What the fork reports to premix-instrument beyond what `#[instrument]`
//! counts: cache lookups and eager-loading locality. Compiled only with the
//! `instrument` feature.
//!
//! Statement-cache lookups are classified from the held connection's
//! `cached_statements_size()` read before a statement and after it,
//! outside the operation's measured window (so SQLite's settling round trip
//! is never charged to the operation):
//!
//! - the size grew by `m`: `m` misses, the other lookups hits;
//! - the size stayed put while below the cache's capacity: all hits;
//! - the size stayed put *at* capacity: a hit and a miss that evicted
//!   another statement look the same, so those lookups are `ambiguous`;
//! - the size shrank (statements were dropped, e.g. the cache was cleared):
//!   `ambiguous`, and the drop is counted as evictions;
//! - unprepared statements: `unprepared`, never hits.
//!
//! An eviction on a full cache (a miss that pushed out another statement)
//! leaves the size unchanged, so it cannot be seen through sqlx's public
//! API: those lookups are `ambiguous`, never guessed to be evictions.
//!
//! Cost: on PostgreSQL the readings are two field reads. On SQLite the
//! size is updated by the driver's worker thread after it sends the rows,
//! so settling it takes one worker round trip per operation (a `ping`,
//! about 3 µs on this project's machines: a point query measured 1.34x raw
//! sqlx with `instrument` on, 1.01x with it off). Counting exactly without
//! it would need a hook in sqlx or a per-connection identity, and its
//! public API has neither.
//!
//! The capacity is sqlx's default (100) unless the application says
//! otherwise with [`set_statement_cache_capacity`]. Statements run on the
//! same connection by other code between an operation's two readings would
//! be attributed to it; within the fork's own calls there are none.

use std::sync::atomic::{AtomicUsize, Ordering};

use premix_instrument::locality::EagerSite;
use premix_instrument::{CallSite, SqlCacheResult, StmtCacheResult};
use sqlx::Connection;

use crate::dialect::SqlDialect;
use crate::meta::SqlLookup;

pub(crate) static FIND_BY_ID: CallSite = CallSite::new("find_by_id");
pub(crate) static INSERT: CallSite = CallSite::new("insert");
pub(crate) static UPDATE: CallSite = CallSite::new("update");
pub(crate) static DELETE: CallSite = CallSite::new("delete");
pub(crate) static SELECT: CallSite = CallSite::new("select");
pub(crate) static EAGER_LOAD: CallSite = CallSite::new("eager_load");
pub(crate) static EAGER: EagerSite = EagerSite::new();

static CAPACITY: AtomicUsize = AtomicUsize::new(100);

/// Tells the instrumentation the statement-cache capacity the application's
/// connections use (sqlx's `statement_cache_capacity`, 100 by default), so
/// that lookups on a full cache are counted as `ambiguous`, not as hits.
pub fn set_statement_cache_capacity(capacity: usize) {
    CAPACITY.store(capacity, Ordering::Relaxed);
}

pub(crate) fn sql_lookup(site: &'static CallSite, model: &'static str, lookup: SqlLookup) {
    let result = match lookup {
        SqlLookup::Hit => SqlCacheResult::Hit,
        SqlLookup::Miss => SqlCacheResult::Miss,
    };
    site.record_sql_cache(model, result);
}

/// A reading of a connection's statement cache before some statements.
pub(crate) struct StmtWatch {
    before: usize,
    prepared: bool,
}

impl StmtWatch {
    pub(crate) fn start<DB: SqlDialect>(conn: &DB::Connection, prepared: bool) -> Self {
        Self {
            before: conn.cached_statements_size(),
            prepared,
        }
    }

    /// Classifies `lookups` statements run since `start` and records them.
    /// Call it only when they succeeded: a failed statement says nothing
    /// about the cache.
    pub(crate) async fn finish<DB: SqlDialect>(
        self,
        site: &'static CallSite,
        model: &'static str,
        conn: &mut DB::Connection,
        lookups: u64,
    ) {
        if lookups == 0 {
            return;
        }
        if !self.prepared {
            site.record_stmt_cache(model, StmtCacheResult::Unprepared, lookups, 0);
            return;
        }
        if DB::settle_statement_cache(conn).await.is_err() {
            return;
        }
        let after = conn.cached_statements_size();
        let mut evictions = self.before.saturating_sub(after) as u64;
        for (result, count) in classify(
            self.before,
            after,
            lookups,
            CAPACITY.load(Ordering::Relaxed),
        ) {
            if count > 0 {
                site.record_stmt_cache(model, result, count, std::mem::take(&mut evictions));
            }
        }
    }
}

/// How `lookups` prepared statements divide into results, from the cache
/// size before and after them.
fn classify(
    before: usize,
    after: usize,
    lookups: u64,
    capacity: usize,
) -> [(StmtCacheResult, u64); 3] {
    let (hits, misses, ambiguous) = if after < before {
        (0, 0, lookups)
    } else {
        let misses = ((after - before) as u64).min(lookups);
        let flat = lookups - misses;
        if after >= capacity {
            (0, misses, flat)
        } else {
            (flat, misses, 0)
        }
    };
    [
        (StmtCacheResult::Hit, hits),
        (StmtCacheResult::Miss, misses),
        (StmtCacheResult::Ambiguous, ambiguous),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        let counts = |before, after, lookups, capacity| {
            classify(before, after, lookups, capacity).map(|(_, n)| n)
        };
        // [hits, misses, ambiguous]
        let cases = [
            ((3, 3, 1, 100), [1, 0, 0]),
            ((3, 4, 1, 100), [0, 1, 0]),
            ((3, 4, 2, 100), [1, 1, 0]),
            ((100, 100, 1, 100), [0, 0, 1]),
            ((99, 100, 2, 100), [0, 1, 1]),
            ((5, 0, 2, 100), [0, 0, 2]),
        ];
        for ((before, after, lookups, capacity), want) in cases {
            assert_eq!(
                counts(before, after, lookups, capacity),
                want,
                "{before} -> {after}"
            );
        }
    }
}
