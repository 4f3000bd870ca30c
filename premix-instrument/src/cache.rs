//! Cache lookups per (op, model, backend): the database connection's
//! prepared-statement cache, and the ORM's own SQL-text cache.
//!
//! The ORM decides what each lookup was (it holds the connection and its
//! SQL cache, and can keep a [`StmtCacheShadow`](crate::StmtCacheShadow)
//! of the connection's cache) and reports it through
//! [`OpHandle::record_stmt_cache`](crate::OpHandle::record_stmt_cache) and
//! [`OpHandle::record_sql_cache`](crate::OpHandle::record_sql_cache); this
//! module only counts.

use crate::alloc_stats::counter_arithmetic;
use std::sync::atomic::{AtomicU64, Ordering};

/// What one prepared-statement cache lookup was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StmtCacheResult {
    /// The statement was already prepared on the connection.
    Hit,
    /// The statement was prepared now (and cached).
    Miss,
    /// The cache was full and its size did not change: a hit, or a miss that
    /// evicted another statement, on a connection whose cache content the ORM
    /// does not know (one it cannot tell apart from others). Counted apart
    /// rather than guessed.
    Ambiguous,
    /// As `Ambiguous`, on a connection whose cache the ORM did follow until
    /// the connection contradicted it: other code ran statements on it.
    Disagreement,
    /// The query ran unprepared (`.persistent(false)`): no lookup at all.
    Unprepared,
}

impl StmtCacheResult {
    /// All results, in label order.
    pub const ALL: [Self; 5] = [
        Self::Hit,
        Self::Miss,
        Self::Ambiguous,
        Self::Disagreement,
        Self::Unprepared,
    ];

    /// The `result` label value.
    #[must_use]
    pub const fn as_label(self) -> &'static str {
        match self {
            Self::Hit => "hit",
            Self::Miss => "miss",
            Self::Ambiguous => "ambiguous",
            Self::Disagreement => "disagreement",
            Self::Unprepared => "unprepared",
        }
    }
}

/// What one SQL-text cache lookup was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SqlCacheResult {
    /// The text was built earlier and reused.
    Hit,
    /// The text was built now.
    Miss,
}

impl SqlCacheResult {
    /// All results, in label order.
    pub const ALL: [Self; 2] = [Self::Hit, Self::Miss];

    /// The `result` label value.
    #[must_use]
    pub const fn as_label(self) -> &'static str {
        match self {
            Self::Hit => "hit",
            Self::Miss => "miss",
        }
    }
}

/// Statement-cache counts of one (op, model).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StmtCacheStats {
    /// Lookups that found the statement prepared.
    pub hits: u64,
    /// Lookups that prepared it.
    pub misses: u64,
    /// Lookups on a full cache that could not be told apart.
    pub ambiguous: u64,
    /// Lookups that could not be told apart because other code had run
    /// statements on the connection.
    pub disagreement: u64,
    /// Queries that ran unprepared.
    pub unprepared: u64,
    /// Statements the connection's cache dropped to make room, when seen.
    pub evictions: u64,
}

impl StmtCacheStats {
    /// Prepared lookups: hits, misses and the ones that could not be told
    /// apart.
    #[must_use]
    pub const fn lookups(&self) -> u64 {
        self.hits + self.misses + self.ambiguous + self.disagreement
    }

    /// Hits over prepared lookups (lookups that could not be told apart
    /// count as not hits, so the ratio is a lower bound); `None` without
    /// lookups.
    #[must_use]
    pub fn hit_ratio(&self) -> Option<f64> {
        ratio(self.hits, self.lookups())
    }

    pub(crate) fn merge(&mut self, other: &Self) {
        *self = self.add_fields(other);
    }
}

counter_arithmetic!(pub(crate) StmtCacheStats {
    hits,
    misses,
    ambiguous,
    disagreement,
    unprepared,
    evictions,
});

/// SQL-text cache counts of one (op, model).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SqlCacheStats {
    /// Lookups that reused text.
    pub hits: u64,
    /// Lookups that built it.
    pub misses: u64,
}

impl SqlCacheStats {
    /// All lookups.
    #[must_use]
    pub const fn lookups(&self) -> u64 {
        self.hits + self.misses
    }

    /// Hits over lookups; `None` without lookups.
    #[must_use]
    pub fn hit_ratio(&self) -> Option<f64> {
        ratio(self.hits, self.lookups())
    }

    pub(crate) fn merge(&mut self, other: &Self) {
        *self = self.add_fields(other);
    }
}

counter_arithmetic!(pub(crate) SqlCacheStats { hits, misses });

/// `hits` over `lookups`; `None` without lookups.
fn ratio(hits: u64, lookups: u64) -> Option<f64> {
    (lookups > 0).then(|| hits as f64 / lookups as f64)
}

/// Live cache counters of one (op, model, backend); exported by
/// [`crate::export`].
#[derive(Debug)]
pub(crate) struct CacheCounters {
    stmt: [AtomicU64; StmtCacheResult::ALL.len()],
    evictions: AtomicU64,
    sql: [AtomicU64; 2],
}

impl CacheCounters {
    pub(crate) const fn new() -> Self {
        Self {
            stmt: [const { AtomicU64::new(0) }; StmtCacheResult::ALL.len()],
            evictions: AtomicU64::new(0),
            sql: [const { AtomicU64::new(0) }; 2],
        }
    }

    pub(crate) fn record_stmt(&self, result: StmtCacheResult, lookups: u64, evictions: u64) {
        if lookups > 0 {
            self.stmt[result as usize].fetch_add(lookups, Ordering::Relaxed);
        }
        if evictions > 0 {
            self.evictions.fetch_add(evictions, Ordering::Relaxed);
        }
    }

    pub(crate) fn record_sql(&self, result: SqlCacheResult) {
        self.sql[result as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn stmt(&self) -> StmtCacheStats {
        let [hits, misses, ambiguous, disagreement, unprepared] =
            self.stmt.each_ref().map(|c| c.load(Ordering::Relaxed));
        StmtCacheStats {
            hits,
            misses,
            ambiguous,
            disagreement,
            unprepared,
            evictions: self.evictions.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn sql(&self) -> SqlCacheStats {
        SqlCacheStats {
            hits: self.sql[0].load(Ordering::Relaxed),
            misses: self.sql[1].load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_follow_the_definitions() {
        let stmt = StmtCacheStats {
            hits: 6,
            misses: 1,
            ambiguous: 1,
            disagreement: 0,
            unprepared: 5,
            evictions: 0,
        };
        assert_eq!(stmt.lookups(), 8);
        assert_eq!(stmt.hit_ratio(), Some(0.75));
        assert_eq!(StmtCacheStats::default().hit_ratio(), None);
        let sql = SqlCacheStats { hits: 3, misses: 1 };
        assert_eq!(sql.hit_ratio(), Some(0.75));
    }

    #[test]
    fn labels_are_the_closed_set() {
        let labels: Vec<_> = StmtCacheResult::ALL.iter().map(|r| r.as_label()).collect();
        assert_eq!(
            labels,
            ["hit", "miss", "ambiguous", "disagreement", "unprepared"]
        );
        assert!(
            StmtCacheResult::ALL
                .iter()
                .enumerate()
                .all(|(i, r)| *r as usize == i)
        );
    }
}
