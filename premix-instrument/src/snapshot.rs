//! The in-process snapshot: every counter, per (op, model, backend), without
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
use crate::histogram::Latency;
use crate::locality::{self, EagerStats};
use crate::outcome::ErrorKind;
use crate::pool::{self, PoolStats};
use crate::{OpAllocations, Outcome};

/// Everything counted for one (op, model, backend), or for one (op, model)
/// over every backend (see [`Snapshot::expect`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpStats {
    /// The `op` label.
    pub op: &'static str,
    /// The `model` label.
    pub model: &'static str,
    /// The `backend` label; empty when the stats add up several backends.
    pub backend: &'static str,
    /// Calls that completed and did not fail.
    pub ok: u64,
    /// Calls that failed, whatever the kind.
    pub errors: u64,
    /// Failed calls by kind, in [`ErrorKind::ALL`] order.
    pub errors_by_kind: [u64; ErrorKind::ALL.len()],
    /// Calls whose future was dropped before completing.
    pub cancelled: u64,
    /// Allocations charged to the operation (see the crate docs on
    /// attribution): made on the thread that polled it during its polls,
    /// plus its driver's share.
    pub allocations: OpAllocations,
    /// The part of `allocations` an ORM charged from elsewhere: made by the
    /// database driver's own thread while the operation held the
    /// connection, and in returning the connection to the pool.
    pub driver_allocations: OpAllocations,
    /// Latency distribution, first poll to completion, waiting for a
    /// connection included.
    pub latency: Latency,
    /// Time spent waiting for a pooled connection, one sample per wait.
    pub pool_wait: Latency,
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

    /// Calls with the given outcome (errors of that kind only, for an
    /// error).
    #[must_use]
    pub const fn calls_with(&self, outcome: Outcome) -> u64 {
        match outcome {
            Outcome::Ok => self.ok,
            Outcome::Error(kind) => self.errors_by_kind[kind.index()],
            Outcome::Cancelled => self.cancelled,
        }
    }

    /// Failed calls of one kind.
    #[must_use]
    pub const fn errors_of(&self, kind: ErrorKind) -> u64 {
        self.errors_by_kind[kind.index()]
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

    /// Asserts the number of failed calls of one kind.
    ///
    /// # Panics
    /// When it differs, with every kind counted in the message.
    #[track_caller]
    pub fn assert_errors(&self, kind: ErrorKind, expected: u64) -> &Self {
        let counted = self.errors_of(kind);
        assert!(
            counted == expected,
            "premix-instrument: {}: expected {expected} errors of kind `{}`, counted {counted} \
             (ok {}, cancelled {}, errors by kind: {})",
            self.describe(),
            kind.as_label(),
            self.ok,
            self.cancelled,
            self.describe_errors(),
        );
        self
    }

    fn describe_errors(&self) -> String {
        let listed: Vec<String> = ErrorKind::ALL
            .iter()
            .filter(|k| self.errors_of(**k) > 0)
            .map(|k| format!("{} {}", k.as_label(), self.errors_of(*k)))
            .collect();
        if listed.is_empty() {
            "none".to_owned()
        } else {
            listed.join(", ")
        }
    }

    fn describe(&self) -> String {
        if self.backend.is_empty() {
            format!("op `{}` on model `{}`", self.op, self.model)
        } else {
            format!(
                "op `{}` on model `{}` ({})",
                self.op, self.model, self.backend
            )
        }
    }
}

/// The cache efficiency score: statement-cache and SQL-cache hit ratios per
/// (op, model, backend) and overall, over whatever window the snapshot covers (take
/// it from [`Snapshot::since`] for a window). The Prometheus recording rules
/// use the same definitions: hits / (hits + misses + ambiguous +
/// disagreement) for statements, hits / (hits + misses) for SQL text.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CacheScore {
    /// One entry per (op, model, backend) with any cache lookup.
    pub ops: Vec<OpCacheScore>,
    /// Statement-cache hit ratio over every op.
    pub stmt_hit_ratio: Option<f64>,
    /// SQL-cache hit ratio over every op.
    pub sql_hit_ratio: Option<f64>,
}

/// The cache score of one (op, model, backend).
#[derive(Clone, Debug, PartialEq)]
pub struct OpCacheScore {
    /// The `op` label.
    pub op: &'static str,
    /// The `model` label.
    pub model: &'static str,
    /// The `backend` label.
    pub backend: &'static str,
    /// Statement-cache hit ratio, if there were prepared lookups.
    pub stmt_hit_ratio: Option<f64>,
    /// SQL-cache hit ratio, if there were lookups.
    pub sql_hit_ratio: Option<f64>,
}

/// A reading of every (op, model, backend) counted so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    ops: Vec<OpStats>,
    eager: Vec<EagerStats>,
    pools: Vec<PoolStats>,
}

impl Snapshot {
    /// Reads all counters now. Allocates (the result), locks the registry
    /// briefly; never call it on a hot path.
    #[must_use]
    pub fn take() -> Self {
        let mut ops: Vec<OpStats> = Vec::new();
        for counters in registered() {
            let latency = counters.latency.snapshot();
            let [ok, errors, cancelled] = counters.calls(&latency);
            let reading = OpStats {
                op: counters.op,
                model: counters.model,
                backend: counters.backend,
                ok,
                errors,
                errors_by_kind: counters.errors(),
                cancelled,
                allocations: counters.allocations(),
                driver_allocations: counters.driver_allocations(),
                latency,
                pool_wait: counters.pool_wait.snapshot(),
                stmt_cache: counters.cache.stmt(),
                sql_cache: counters.cache.sql(),
            };
            // Several call sites may share one (op, model, backend); merge
            // them.
            match ops.iter_mut().find(|s| s.key() == reading.key()) {
                Some(existing) => existing.merge(&reading),
                None => ops.push(reading),
            }
        }
        ops.sort_by(|a, b| a.key().cmp(&b.key()));
        Self {
            ops,
            eager: locality::snapshot(),
            pools: pool::readings(),
        }
    }

    /// Every (op, model, backend), sorted by op, model, then backend.
    #[must_use]
    pub fn ops(&self) -> &[OpStats] {
        &self.ops
    }

    /// Eager loads per (model, relation, strategy), sorted.
    #[must_use]
    pub fn eager(&self) -> &[EagerStats] {
        &self.eager
    }

    /// The latest reading of every pool the ORM reported.
    #[must_use]
    pub fn pools(&self) -> &[PoolStats] {
        &self.pools
    }

    /// The eager loads of one (model, relation, strategy), if any;
    /// `strategy` is the label value the ORM declared for it (see
    /// [`locality::Strategy`]).
    #[must_use]
    pub fn eager_loads(&self, model: &str, relation: &str, strategy: &str) -> Option<&EagerStats> {
        self.eager
            .iter()
            .find(|e| e.model == model && e.relation == relation && e.strategy == strategy)
    }

    /// The stats of one (op, model, backend), if it was ever called.
    #[must_use]
    pub fn get_on(&self, op: &str, model: &str, backend: &str) -> Option<&OpStats> {
        self.ops
            .iter()
            .find(|s| s.op == op && s.model == model && s.backend == backend)
    }

    /// The stats of one (op, model) added up over every backend, if it was
    /// ever called.
    #[must_use]
    pub fn get(&self, op: &str, model: &str) -> Option<OpStats> {
        let mut found = self.ops.iter().filter(|s| s.op == op && s.model == model);
        let mut total = found.next()?.clone();
        for more in found {
            total.merge(more);
            total.backend = "";
        }
        Some(total)
    }

    /// The stats of one (op, model), added up over every backend.
    ///
    /// # Panics
    /// When it was never called, listing what was.
    #[track_caller]
    #[must_use]
    pub fn expect(&self, op: &str, model: &str) -> OpStats {
        self.get(op, model)
            .unwrap_or_else(|| self.missing(&format!("op `{op}` on model `{model}`")))
    }

    /// The stats of one (op, model, backend).
    ///
    /// # Panics
    /// When it was never called, listing what was.
    #[track_caller]
    #[must_use]
    pub fn expect_on(&self, op: &str, model: &str, backend: &str) -> &OpStats {
        self.get_on(op, model, backend)
            .unwrap_or_else(|| self.missing(&format!("op `{op}` on model `{model}` ({backend})")))
    }

    #[track_caller]
    fn missing(&self, what: &str) -> ! {
        let mut known = String::new();
        for s in &self.ops {
            let _ = write!(known, " {}/{}/{}", s.op, s.model, s.backend);
        }
        panic!("premix-instrument: no calls of {what}; counted:{known}")
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
                    backend: s.backend,
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
    /// left out; pools keep their latest reading.
    #[must_use]
    pub fn since(&self, earlier: &Self) -> Self {
        let ops = self
            .ops
            .iter()
            .map(|now| match earlier.get_on(now.op, now.model, now.backend) {
                Some(then) => now.since(then),
                None => now.clone(),
            })
            .filter(|s| {
                s.calls() > 0
                    || s.stmt_cache.lookups() > 0
                    || s.stmt_cache.unprepared > 0
                    || s.sql_cache.lookups() > 0
            })
            .collect();
        let eager = self
            .eager
            .iter()
            .map(|now| now.since(earlier.eager.iter().find(|e| e.same_series(now))))
            .filter(|e| e.loads() > 0)
            .collect();
        Self {
            ops,
            eager,
            pools: self.pools.clone(),
        }
    }
}

impl OpStats {
    fn key(&self) -> (&'static str, &'static str, &'static str) {
        (self.op, self.model, self.backend)
    }

    fn merge(&mut self, other: &Self) {
        self.ok += other.ok;
        self.errors += other.errors;
        for (mine, theirs) in self.errors_by_kind.iter_mut().zip(other.errors_by_kind) {
            *mine += theirs;
        }
        self.cancelled += other.cancelled;
        self.allocations += other.allocations;
        self.driver_allocations += other.driver_allocations;
        self.latency.merge(&other.latency);
        self.pool_wait.merge(&other.pool_wait);
        self.stmt_cache.merge(&other.stmt_cache);
        self.sql_cache.merge(&other.sql_cache);
    }

    fn since(&self, earlier: &Self) -> Self {
        let mut errors_by_kind = self.errors_by_kind;
        for (now, then) in errors_by_kind.iter_mut().zip(earlier.errors_by_kind) {
            *now = now.saturating_sub(then);
        }
        Self {
            op: self.op,
            model: self.model,
            backend: self.backend,
            ok: self.ok.saturating_sub(earlier.ok),
            errors: self.errors.saturating_sub(earlier.errors),
            errors_by_kind,
            cancelled: self.cancelled.saturating_sub(earlier.cancelled),
            allocations: self.allocations.since(&earlier.allocations),
            driver_allocations: self.driver_allocations.since(&earlier.driver_allocations),
            latency: self.latency.since(&earlier.latency),
            pool_wait: self.pool_wait.since(&earlier.pool_wait),
            stmt_cache: self.stmt_cache.since(&earlier.stmt_cache),
            sql_cache: self.sql_cache.since(&earlier.sql_cache),
        }
    }
}
