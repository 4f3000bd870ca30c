//! The in-process snapshot: every counter, per (op, model), without
//! Prometheus.
//!
//! Tests assert on it, benches print it, the terminal report renders it.
//! Counters are process-global and only grow, so a test that shares its
//! binary with others takes a snapshot before its workload and looks at
//! [`Snapshot::since`] afterwards.

use std::fmt::Write as _;
use std::time::Duration;

use crate::cache::{SqlCacheStats, StmtCacheStats};
use crate::callsite::registered;
use crate::latency::Latency;
use crate::locality::{self, EagerStats};
use crate::{OpAllocations, Outcome};

/// Everything counted for one (op, model).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpStats {
    /// The `op` label.
    pub op: &'static str,
    /// The `model` label.
    pub model: &'static str,
    /// Calls that completed and did not return `Err`.
    pub ok: u64,
    /// Calls that returned `Err` or panicked.
    pub errors: u64,
    /// Calls whose future was dropped before completing.
    pub cancelled: u64,
    /// Allocations charged to the operation (see the crate docs on
    /// attribution).
    pub allocations: OpAllocations,
    /// Latency distribution, first poll to completion.
    pub latency: Latency,
    /// Prepared-statement cache lookups.
    pub stmt_cache: StmtCacheStats,
    /// SQL-text cache lookups.
    pub sql_cache: SqlCacheStats,
}

impl OpStats {
    /// All calls, whatever their outcome.
    #[must_use]
    pub const fn calls(&self) -> u64 {
        self.ok + self.errors + self.cancelled
    }

    /// Calls with the given outcome.
    #[must_use]
    pub const fn calls_with(&self, outcome: Outcome) -> u64 {
        match outcome {
            Outcome::Ok => self.ok,
            Outcome::Error => self.errors,
            Outcome::Cancelled => self.cancelled,
        }
    }

    /// Heap blocks (allocations plus reallocations) per call; `None` before
    /// the first call.
    #[must_use]
    pub fn blocks_per_call(&self) -> Option<f64> {
        let calls = self.calls();
        (calls > 0).then(|| self.allocations.blocks() as f64 / calls as f64)
    }

    /// Bytes allocated per call; `None` before the first call.
    #[must_use]
    pub fn bytes_per_call(&self) -> Option<f64> {
        let calls = self.calls();
        (calls > 0).then(|| self.allocations.bytes as f64 / calls as f64)
    }

    /// Median latency (see [`Latency::quantile`] for its precision).
    #[must_use]
    pub fn p50(&self) -> Option<Duration> {
        self.latency.quantile(0.5)
    }

    /// 99th-percentile latency.
    #[must_use]
    pub fn p99(&self) -> Option<Duration> {
        self.latency.quantile(0.99)
    }

    /// Asserts the number of calls.
    ///
    /// # Panics
    /// When it differs, with expected and actual in the message.
    #[track_caller]
    pub fn assert_calls(&self, expected: u64) -> &Self {
        assert!(
            self.calls() == expected,
            "premix-instrument: {}: expected {expected} calls, counted {} (ok {}, error {}, cancelled {})",
            self.describe(),
            self.calls(),
            self.ok,
            self.errors,
            self.cancelled,
        );
        self
    }

    /// Asserts the number of heap blocks charged to the operation in total.
    ///
    /// # Panics
    /// When it differs, with expected and actual in the message.
    #[track_caller]
    pub fn assert_blocks(&self, expected: u64) -> &Self {
        assert!(
            self.allocations.blocks() == expected,
            "premix-instrument: {}: expected {expected} allocation blocks in total, measured {} \
             ({} allocations + {} reallocations, {} bytes, over {} calls)",
            self.describe(),
            self.allocations.blocks(),
            self.allocations.allocations,
            self.allocations.reallocations,
            self.allocations.bytes,
            self.calls(),
        );
        self
    }

    /// Asserts the number of heap blocks charged per call, on average over
    /// all calls; exact when every call allocates the same.
    ///
    /// # Panics
    /// When there were no calls or the average differs.
    #[track_caller]
    pub fn assert_blocks_per_call(&self, expected: u64) -> &Self {
        let calls = self.calls();
        assert!(
            calls > 0 && self.allocations.blocks() == expected * calls,
            "premix-instrument: {}: expected {expected} allocation blocks per call, measured {} \
             ({} blocks over {calls} calls)",
            self.describe(),
            self.blocks_per_call()
                .map_or_else(|| "nothing".to_owned(), |b| format!("{b:.2}")),
            self.allocations.blocks(),
        );
        self
    }

    fn describe(&self) -> String {
        format!("op `{}` on model `{}`", self.op, self.model)
    }
}

/// The cache efficiency score: statement-cache and SQL-cache hit ratios per
/// (op, model) and overall, over whatever window the snapshot covers (take
/// it from [`Snapshot::since`] for a window). The Prometheus recording rules
/// use the same definitions: hits / (hits + misses + ambiguous) for
/// statements, hits / (hits + misses) for SQL text.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CacheScore {
    /// One entry per (op, model) with any cache lookup.
    pub ops: Vec<OpCacheScore>,
    /// Statement-cache hit ratio over every op.
    pub stmt_hit_ratio: Option<f64>,
    /// SQL-cache hit ratio over every op.
    pub sql_hit_ratio: Option<f64>,
}

/// The cache score of one (op, model).
#[derive(Clone, Debug, PartialEq)]
pub struct OpCacheScore {
    /// The `op` label.
    pub op: &'static str,
    /// The `model` label.
    pub model: &'static str,
    /// Statement-cache hit ratio, if there were prepared lookups.
    pub stmt_hit_ratio: Option<f64>,
    /// SQL-cache hit ratio, if there were lookups.
    pub sql_hit_ratio: Option<f64>,
}

/// A reading of every (op, model) counted so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    ops: Vec<OpStats>,
    eager: Vec<EagerStats>,
}

impl Snapshot {
    /// Reads all counters now. Allocates (the result), locks the registry
    /// briefly; never call it on a hot path.
    #[must_use]
    pub fn take() -> Self {
        let mut ops: Vec<OpStats> = Vec::new();
        for counters in registered() {
            let reading = OpStats {
                op: counters.op,
                model: counters.model,
                ok: counters.calls(Outcome::Ok),
                errors: counters.calls(Outcome::Error),
                cancelled: counters.calls(Outcome::Cancelled),
                allocations: counters.allocations(),
                latency: counters.latency.snapshot(),
                stmt_cache: counters.cache.stmt(),
                sql_cache: counters.cache.sql(),
            };
            // Several call sites may share one (op, model); merge them.
            match ops
                .iter_mut()
                .find(|s| s.op == reading.op && s.model == reading.model)
            {
                Some(existing) => existing.merge(&reading),
                None => ops.push(reading),
            }
        }
        ops.sort_by(|a, b| (a.op, a.model).cmp(&(b.op, b.model)));
        Self {
            ops,
            eager: locality::snapshot(),
        }
    }

    /// Every (op, model), sorted by op then model.
    #[must_use]
    pub fn ops(&self) -> &[OpStats] {
        &self.ops
    }

    /// Eager loads per (model, relation, strategy), sorted.
    #[must_use]
    pub fn eager(&self) -> &[EagerStats] {
        &self.eager
    }

    /// The eager loads of one (model, relation, strategy), if any.
    #[must_use]
    pub fn eager_loads(
        &self,
        model: &str,
        relation: &str,
        strategy: locality::Strategy,
    ) -> Option<&EagerStats> {
        self.eager
            .iter()
            .find(|e| e.model == model && e.relation == relation && e.strategy == strategy)
    }

    /// The stats of one (op, model), if it was ever called.
    #[must_use]
    pub fn get(&self, op: &str, model: &str) -> Option<&OpStats> {
        self.ops.iter().find(|s| s.op == op && s.model == model)
    }

    /// The stats of one (op, model).
    ///
    /// # Panics
    /// When it was never called, listing what was.
    #[track_caller]
    #[must_use]
    pub fn expect(&self, op: &str, model: &str) -> &OpStats {
        self.get(op, model).unwrap_or_else(|| {
            let mut known = String::new();
            for s in &self.ops {
                let _ = write!(known, " {}/{}", s.op, s.model);
            }
            panic!("premix-instrument: no calls of op `{op}` on model `{model}`; counted:{known}")
        })
    }

    /// The cache efficiency score of this snapshot.
    #[must_use]
    pub fn cache_score(&self) -> CacheScore {
        let mut stmt = StmtCacheStats::default();
        let mut sql = SqlCacheStats::default();
        let ops = self
            .ops
            .iter()
            .filter(|s| s.stmt_cache.lookups() > 0 || s.sql_cache.lookups() > 0)
            .map(|s| {
                stmt.merge(&s.stmt_cache);
                sql.merge(&s.sql_cache);
                OpCacheScore {
                    op: s.op,
                    model: s.model,
                    stmt_hit_ratio: s.stmt_cache.hit_ratio(),
                    sql_hit_ratio: s.sql_cache.hit_ratio(),
                }
            })
            .collect();
        CacheScore {
            ops,
            stmt_hit_ratio: stmt.hit_ratio(),
            sql_hit_ratio: sql.hit_ratio(),
        }
    }

    /// What happened after `earlier` was taken. Ops with no new calls are
    /// left out.
    #[must_use]
    pub fn since(&self, earlier: &Self) -> Self {
        let ops = self
            .ops
            .iter()
            .map(|now| match earlier.get(now.op, now.model) {
                Some(then) => now.since(then),
                None => now.clone(),
            })
            .filter(|s| s.calls() > 0 || s.stmt_cache.lookups() > 0 || s.sql_cache.lookups() > 0)
            .collect();
        let eager = self
            .eager
            .iter()
            .map(|now| {
                now.since(earlier.eager.iter().find(|e| {
                    (e.model, e.relation, e.strategy) == (now.model, now.relation, now.strategy)
                }))
            })
            .filter(|e| e.loads() > 0)
            .collect();
        Self { ops, eager }
    }
}

impl OpStats {
    fn merge(&mut self, other: &Self) {
        self.ok += other.ok;
        self.errors += other.errors;
        self.cancelled += other.cancelled;
        self.allocations += other.allocations;
        self.latency.merge(&other.latency);
        self.stmt_cache.merge(&other.stmt_cache);
        self.sql_cache.merge(&other.sql_cache);
    }

    fn since(&self, earlier: &Self) -> Self {
        Self {
            op: self.op,
            model: self.model,
            ok: self.ok.saturating_sub(earlier.ok),
            errors: self.errors.saturating_sub(earlier.errors),
            cancelled: self.cancelled.saturating_sub(earlier.cancelled),
            allocations: self.allocations.since(&earlier.allocations),
            latency: self.latency.since(&earlier.latency),
            stmt_cache: self.stmt_cache.since(&earlier.stmt_cache),
            sql_cache: self.sql_cache.since(&earlier.sql_cache),
        }
    }
}
