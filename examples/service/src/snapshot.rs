//! `/snapshot`: the in-process counters as JSON, per (op, model, backend),
//! with the cache score. What Prometheus scraped can be compared with it
//! exactly: both read the same counters.

use serde::Serialize;

/// The body of `/snapshot`.
#[derive(Debug, Serialize)]
pub(crate) struct Snapshot {
    /// The process, so a reader can tell a restarted instance.
    pid: u32,
    ops: Vec<Op>,
    cache_score: CacheScore,
}

#[derive(Debug, Serialize)]
struct Op {
    op: &'static str,
    model: &'static str,
    backend: &'static str,
    ok: u64,
    error: u64,
    cancelled: u64,
    stmt_cache: StmtCache,
    sql_cache: SqlCache,
}

#[derive(Debug, Serialize)]
struct StmtCache {
    hits: u64,
    misses: u64,
    ambiguous: u64,
    disagreement: u64,
    unprepared: u64,
    evictions: u64,
}

#[derive(Debug, Serialize)]
struct SqlCache {
    hits: u64,
    misses: u64,
}

#[derive(Debug, Serialize)]
struct CacheScore {
    stmt_hit_ratio: Option<f64>,
    sql_hit_ratio: Option<f64>,
}

impl From<&premix_instrument::Snapshot> for Snapshot {
    fn from(snapshot: &premix_instrument::Snapshot) -> Self {
        let score = snapshot.cache_score();
        Self {
            pid: std::process::id(),
            ops: snapshot
                .ops()
                .iter()
                .map(|s| Op {
                    op: s.op,
                    model: s.model,
                    backend: s.backend,
                    ok: s.ok,
                    error: s.errors,
                    cancelled: s.cancelled,
                    stmt_cache: StmtCache {
                        hits: s.stmt_cache.hits,
                        misses: s.stmt_cache.misses,
                        ambiguous: s.stmt_cache.ambiguous,
                        disagreement: s.stmt_cache.disagreement,
                        unprepared: s.stmt_cache.unprepared,
                        evictions: s.stmt_cache.evictions,
                    },
                    sql_cache: SqlCache {
                        hits: s.sql_cache.hits,
                        misses: s.sql_cache.misses,
                    },
                })
                .collect(),
            cache_score: CacheScore {
                stmt_hit_ratio: score.stmt_hit_ratio,
                sql_hit_ratio: score.sql_hit_ratio,
            },
        }
    }
}
