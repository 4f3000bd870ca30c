//! Metric names, label keys and histogram buckets: the contract that code,
//! dashboards, recording rules and docs all depend on.
//!
//! Names follow Prometheus conventions: a `premix_` prefix, snake_case, base
//! units, `_total` on counters. Label values come from small closed sets
//! (`op`, `model`, `backend`, `outcome`, `kind`, `result`, `strategy`,
//! `relation`, `pool`), never from SQL text, bind values or ids, so
//! cardinality stays bounded whatever the input. [`CATALOGUE`] lists every
//! metric once; tests compare it with what is actually exported, and with
//! the dashboards and docs.

/// Calls of an instrumented operation, by `op`, `model`, `backend`,
/// `outcome`.
pub const OP_CALLS_TOTAL: &str = "premix_op_calls_total";
/// Failed calls, by `op`, `model`, `backend`, `kind`.
pub const OP_ERRORS_TOTAL: &str = "premix_op_errors_total";
/// Wall time of an instrumented operation in seconds (the wait for a
/// connection included), by `op`, `model`, `backend`.
pub const OP_DURATION_SECONDS: &str = "premix_op_duration_seconds";
/// Time an operation waited for a pooled connection, by `op`, `model`,
/// `backend`.
pub const POOL_WAIT_SECONDS: &str = "premix_pool_wait_seconds";
/// Heap blocks (allocations plus reallocations) charged to an operation.
pub const OP_ALLOCATIONS_TOTAL: &str = "premix_op_allocations_total";
/// Heap bytes charged to an operation.
pub const OP_ALLOCATED_BYTES_TOTAL: &str = "premix_op_allocated_bytes_total";
/// Prepared-statement cache lookups, by `op`, `model`, `result`.
pub const STMT_CACHE_LOOKUPS_TOTAL: &str = "premix_stmt_cache_lookups_total";
/// Prepared statements evicted from a connection's cache, by `op`, `model`.
pub const STMT_CACHE_EVICTIONS_TOTAL: &str = "premix_stmt_cache_evictions_total";
/// Lookups in the ORM's own SQL-text cache, by `op`, `model`, `result`.
pub const SQL_CACHE_LOOKUPS_TOTAL: &str = "premix_sql_cache_lookups_total";
/// Eager loads, by `model`, `relation`, `strategy`.
pub const EAGER_LOAD_TOTAL: &str = "premix_eager_load_total";
/// Parents per eager load, by `model`, `relation`, `strategy`.
pub const EAGER_LOAD_PARENTS: &str = "premix_eager_load_parents";
/// Wall time of an eager load in seconds, by `model`, `relation`, `strategy`.
pub const EAGER_LOAD_DURATION_SECONDS: &str = "premix_eager_load_duration_seconds";
/// Connections a pool holds, idle or in use, by `backend`, `pool`.
pub const POOL_CONNECTIONS: &str = "premix_pool_connections";
/// Idle connections of a pool, by `backend`, `pool`.
pub const POOL_IDLE_CONNECTIONS: &str = "premix_pool_idle_connections";
/// The most connections a pool may open, by `backend`, `pool`.
pub const POOL_MAX_CONNECTIONS: &str = "premix_pool_max_connections";

/// Label keys.
pub mod label {
    /// The operation: `find_by_id`, `select`, `insert`, ...
    pub const OP: &str = "op";
    /// The model's table name.
    pub const MODEL: &str = "model";
    /// `sqlite`, `postgresql`, or `none` for calls that name no database.
    pub const BACKEND: &str = "backend";
    /// `ok`, `error` or `cancelled`.
    pub const OUTCOME: &str = "outcome";
    /// Why a call failed: `pool_timeout`, `pool_closed`, `connection`,
    /// `database`, `decode`, `not_found`, `conflict`, `refused`, `panic`,
    /// `other` (see [`ErrorKind`](crate::ErrorKind)).
    pub const KIND: &str = "kind";
    /// `hit` or `miss`; statement-cache lookups also `ambiguous` (a full
    /// cache on a connection the ORM cannot tell apart: a hit or an evicting
    /// miss), `disagreement` (the same, on a connection other code ran
    /// statements on) and `unprepared` (no lookup).
    pub const RESULT: &str = "result";
    /// `vec` or `hashmap`.
    pub const STRATEGY: &str = "strategy";
    /// The relation an eager load followed.
    pub const RELATION: &str = "relation";
    /// Which of the ORM's pools: a small index in creation order.
    pub const POOL: &str = "pool";
}

/// What kind of Prometheus series a metric is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricKind {
    /// A monotonic counter (`_total`).
    Counter,
    /// A bucketed histogram (`_bucket`, `_sum`, `_count`).
    Histogram,
    /// A value that goes up and down.
    Gauge,
}

/// One entry of the metric catalogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetricDef {
    /// The Prometheus name.
    pub name: &'static str,
    /// Counter or histogram.
    pub kind: MetricKind,
    /// Label keys, in the order the docs list them.
    pub labels: &'static [&'static str],
    /// The `# HELP` text.
    pub help: &'static str,
}

/// Every metric this project exports.
pub const CATALOGUE: &[MetricDef] = &[
    MetricDef {
        name: OP_CALLS_TOTAL,
        kind: MetricKind::Counter,
        labels: &[label::OP, label::MODEL, label::BACKEND, label::OUTCOME],
        help: "Calls of an instrumented ORM operation, by outcome (ok, error, cancelled).",
    },
    MetricDef {
        name: OP_ERRORS_TOTAL,
        kind: MetricKind::Counter,
        labels: &[label::OP, label::MODEL, label::BACKEND, label::KIND],
        help: "Failed calls of an instrumented ORM operation, by kind (pool_timeout, pool_closed, database, conflict, refused, ...).",
    },
    MetricDef {
        name: OP_DURATION_SECONDS,
        kind: MetricKind::Histogram,
        labels: &[label::OP, label::MODEL, label::BACKEND],
        help: "Wall time of an instrumented ORM operation, first poll to completion, waiting for a connection included.",
    },
    MetricDef {
        name: POOL_WAIT_SECONDS,
        kind: MetricKind::Histogram,
        labels: &[label::OP, label::MODEL, label::BACKEND],
        help: "Time an ORM operation waited for a pooled connection.",
    },
    MetricDef {
        name: OP_ALLOCATIONS_TOTAL,
        kind: MetricKind::Counter,
        labels: &[label::OP, label::MODEL, label::BACKEND],
        help: "Heap blocks (allocations plus reallocations) made on the polling thread while the operation ran.",
    },
    MetricDef {
        name: OP_ALLOCATED_BYTES_TOTAL,
        kind: MetricKind::Counter,
        labels: &[label::OP, label::MODEL, label::BACKEND],
        help: "Heap bytes allocated on the polling thread while the operation ran.",
    },
    MetricDef {
        name: STMT_CACHE_LOOKUPS_TOTAL,
        kind: MetricKind::Counter,
        labels: &[label::OP, label::MODEL, label::BACKEND, label::RESULT],
        help: "Prepared-statement cache lookups on the connection that ran the query (hit: already prepared).",
    },
    MetricDef {
        name: STMT_CACHE_EVICTIONS_TOTAL,
        kind: MetricKind::Counter,
        labels: &[label::OP, label::MODEL, label::BACKEND],
        help: "Prepared statements dropped from a connection's LRU cache to make room.",
    },
    MetricDef {
        name: SQL_CACHE_LOOKUPS_TOTAL,
        kind: MetricKind::Counter,
        labels: &[label::OP, label::MODEL, label::BACKEND, label::RESULT],
        help: "Lookups in the ORM's per-model, per-operation SQL text cache.",
    },
    MetricDef {
        name: EAGER_LOAD_TOTAL,
        kind: MetricKind::Counter,
        labels: &[
            label::MODEL,
            label::BACKEND,
            label::RELATION,
            label::STRATEGY,
        ],
        help: "Eager loads, by the grouping strategy chosen (vec or hashmap).",
    },
    MetricDef {
        name: EAGER_LOAD_PARENTS,
        kind: MetricKind::Histogram,
        labels: &[
            label::MODEL,
            label::BACKEND,
            label::RELATION,
            label::STRATEGY,
        ],
        help: "Parents per eager load.",
    },
    MetricDef {
        name: EAGER_LOAD_DURATION_SECONDS,
        kind: MetricKind::Histogram,
        labels: &[
            label::MODEL,
            label::BACKEND,
            label::RELATION,
            label::STRATEGY,
        ],
        help: "Wall time of an eager load, child queries and grouping included.",
    },
    MetricDef {
        name: POOL_CONNECTIONS,
        kind: MetricKind::Gauge,
        labels: &[label::BACKEND, label::POOL],
        help: "Connections a pool built by the ORM holds, idle or in use, as the last operation that asked for one found them.",
    },
    MetricDef {
        name: POOL_IDLE_CONNECTIONS,
        kind: MetricKind::Gauge,
        labels: &[label::BACKEND, label::POOL],
        help: "Idle connections of a pool built by the ORM, as the last operation that asked for one found them.",
    },
    MetricDef {
        name: POOL_MAX_CONNECTIONS,
        kind: MetricKind::Gauge,
        labels: &[label::BACKEND, label::POOL],
        help: "The most connections a pool built by the ORM may open.",
    },
];

/// Bucket upper bounds, in seconds, for the duration histograms: 10 µs to 10 s.
pub const DURATION_BUCKETS_SECONDS: &[f64] = &[
    0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025,
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Bucket upper bounds for the exported parents-per-eager-load histogram:
/// its `le` values, part of the metric contract (dashboards and rules read
/// them), the same for every ORM. Fine at 2047-2049, the default threshold
/// of premix-orm-fork, so that its strategy mix can be read off; the
/// in-process split is each ORM's own
/// ([`ParentBuckets`](crate::locality::ParentBuckets)).
pub const PARENT_COUNT_BUCKETS: &[f64] = &[
    1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2047.0, 2048.0, 2049.0, 5000.0,
    10_000.0,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_names_follow_conventions() {
        for def in CATALOGUE {
            assert!(def.name.starts_with("premix_"), "{}", def.name);
            assert!(
                def.name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{} is not snake_case",
                def.name
            );
            match def.kind {
                MetricKind::Counter => assert!(def.name.ends_with("_total"), "{}", def.name),
                MetricKind::Histogram | MetricKind::Gauge => {
                    assert!(!def.name.ends_with("_total"), "{}", def.name);
                }
            }
        }
        let mut names: Vec<_> = CATALOGUE.iter().map(|d| d.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CATALOGUE.len(), "duplicate metric name");
    }

    #[test]
    fn buckets_are_strictly_increasing() {
        for buckets in [DURATION_BUCKETS_SECONDS, PARENT_COUNT_BUCKETS] {
            assert!(buckets.windows(2).all(|w| w[0] < w[1]));
        }
    }
}
