//! Handing the counters to the `metrics` recorder.
//!
//! Why not on every call? An instrumented call only adds to in-process
//! atomics (a few nanoseconds). Sending each call to a `metrics` recorder
//! costs more than all of that: a cached `Counter::increment` is a few
//! nanoseconds each, but the Prometheus exporter's `Histogram::record`
//! reads the clock and pushes the sample into an epoch-protected bucket,
//! about 45-60 ns on this project's machines. So [`flush`] runs off the hot
//! path, on a timer: it reads every (op, model, backend)'s counters, and
//! hands the recorder what changed since the last flush: counter deltas,
//! and for each histogram as many samples as arrived, in the right buckets
//! and with the exact sum (see `histogram.rs`).
//!
//! [`install_prometheus`](crate::install_prometheus) flushes before each
//! upkeep (every second by default) and before
//! [`render`](crate::PrometheusExporter::render). An application that
//! installs another `metrics` recorder calls [`flush`] itself, on a timer
//! or before it reads its recorder. Handles are registered with whichever
//! recorder is installed at the first flush that has something for them.
//!
//! Eager loads (`premix_eager_load_*`) are rare and costly enough to be
//! sent to the recorder when they end; they do not wait for a flush.

use std::sync::{Mutex, PoisonError};

use metrics::{Counter, Gauge, Histogram};

use crate::OpAllocations;
use crate::alloc::exclude_from_attribution;
use crate::cache::{SqlCacheResult, SqlCacheStats, StmtCacheResult, StmtCacheStats};
use crate::callsite::{OpCounters, registered};
use crate::histogram::{Latency, representative_samples};
use crate::names::{self, label};
use crate::outcome::{ErrorKind, Outcome};
use crate::pool::{PoolStats, readings};

/// What was last handed to the recorder for one (op, model, backend).
#[derive(Default)]
struct Sent {
    calls: [u64; 3],
    errors: [u64; ErrorKind::ALL.len()],
    allocations: OpAllocations,
    latency: Latency,
    pool_wait: Latency,
    stmt: StmtCacheStats,
    sql: SqlCacheStats,
}

/// The recorder's handles for one (op, model, backend), registered as they
/// are first needed, so an operation without cache lookups or pool waits
/// exports no such series.
struct Handles {
    calls: [Counter; 3],
    duration: Histogram,
    allocations: Counter,
    allocated_bytes: Counter,
    errors: [Option<Counter>; ErrorKind::ALL.len()],
    pool_wait: Option<Histogram>,
    stmt: Option<([Counter; StmtCacheResult::ALL.len()], Counter)>,
    sql: Option<[Counter; SqlCacheResult::ALL.len()]>,
}

struct Exported {
    counters: &'static OpCounters,
    handles: Handles,
    sent: Sent,
}

struct PoolHandles {
    size: Gauge,
    idle: Gauge,
    max: Gauge,
}

#[derive(Default)]
struct State {
    ops: Vec<Exported>,
    pools: Vec<PoolHandles>,
}

static STATE: Mutex<State> = Mutex::new(State {
    ops: Vec::new(),
    pools: Vec::new(),
});

/// Hands everything counted since the last flush to the installed `metrics`
/// recorder. Cheap when nothing changed; safe to call from any thread, at
/// any time (calls are serialised). Never charged to an operation.
pub fn flush() {
    exclude_from_attribution(|| {
        let mut state = STATE.lock().unwrap_or_else(PoisonError::into_inner);
        let all = registered();
        for &counters in &all[state.ops.len()..] {
            state.ops.push(Exported {
                counters,
                handles: Handles::register(counters),
                sent: Sent::default(),
            });
        }
        for exported in &mut state.ops {
            exported.flush();
        }
        let pools = readings();
        for reading in &pools[state.pools.len()..] {
            state.pools.push(PoolHandles::register(reading));
        }
        for (handles, reading) in state.pools.iter().zip(&pools) {
            handles.size.set(reading.size as f64);
            handles.idle.set(reading.idle as f64);
            handles.max.set(reading.max as f64);
        }
    });
}

fn op_labels(c: &OpCounters) -> [(&'static str, &'static str); 3] {
    [
        (label::OP, c.op),
        (label::MODEL, c.model),
        (label::BACKEND, c.backend),
    ]
}

fn with<const N: usize>(
    base: [(&'static str, &'static str); 3],
    extra: [(&'static str, &'static str); N],
) -> Vec<(&'static str, &'static str)> {
    base.into_iter().chain(extra).collect()
}

impl Handles {
    fn register(c: &OpCounters) -> Self {
        let labels = op_labels(c);
        Self {
            calls: Outcome::LABELS.map(|outcome| {
                metrics::counter!(
                    names::OP_CALLS_TOTAL,
                    &with(labels, [(label::OUTCOME, outcome)])
                )
            }),
            duration: metrics::histogram!(names::OP_DURATION_SECONDS, &labels),
            allocations: metrics::counter!(names::OP_ALLOCATIONS_TOTAL, &labels),
            allocated_bytes: metrics::counter!(names::OP_ALLOCATED_BYTES_TOTAL, &labels),
            errors: [const { None }; ErrorKind::ALL.len()],
            pool_wait: None,
            stmt: None,
            sql: None,
        }
    }
}

impl PoolHandles {
    fn register(reading: &PoolStats) -> Self {
        let labels = [
            (label::BACKEND, reading.backend),
            (label::POOL, reading.pool),
        ];
        Self {
            size: metrics::gauge!(names::POOL_CONNECTIONS, &labels),
            idle: metrics::gauge!(names::POOL_IDLE_CONNECTIONS, &labels),
            max: metrics::gauge!(names::POOL_MAX_CONNECTIONS, &labels),
        }
    }
}

impl Exported {
    fn flush(&mut self) {
        let c = self.counters;
        let labels = op_labels(c);
        let (handles, sent) = (&mut self.handles, &mut self.sent);

        let latency = c.latency.snapshot();
        // `ok` is derived (calls minus failures); a call whose outcome was
        // counted but whose latency was not yet reads as one ok fewer for a
        // moment, so a count only ever moves up.
        let calls = c.calls(&latency);
        for ((handle, now), then) in handles.calls.iter().zip(calls).zip(&mut sent.calls) {
            if now > *then {
                handle.increment(now - *then);
                *then = now;
            }
        }
        let errors = c.errors();
        for kind in ErrorKind::ALL {
            let delta = errors[kind.index()] - sent.errors[kind.index()];
            if delta > 0 {
                handles.errors[kind.index()]
                    .get_or_insert_with(|| {
                        metrics::counter!(
                            names::OP_ERRORS_TOTAL,
                            &with(labels, [(label::KIND, kind.as_label())])
                        )
                    })
                    .increment(delta);
            }
        }
        sent.errors = errors;

        let allocations = c.allocations();
        let delta = allocations.since(&sent.allocations);
        handles.allocations.increment(delta.blocks());
        handles.allocated_bytes.increment(delta.bytes);
        sent.allocations = allocations;

        record_samples(&handles.duration, &latency.since(&sent.latency));
        sent.latency = latency;

        let pool_wait = c.pool_wait.snapshot();
        let waits = pool_wait.since(&sent.pool_wait);
        if waits.count() > 0 || handles.pool_wait.is_some() {
            let histogram = handles
                .pool_wait
                .get_or_insert_with(|| metrics::histogram!(names::POOL_WAIT_SECONDS, &labels));
            record_samples(histogram, &waits);
        }
        sent.pool_wait = pool_wait;

        let stmt = c.cache.stmt();
        let new = stmt.since(&sent.stmt);
        if new.lookups() + new.unprepared + new.evictions > 0 || handles.stmt.is_some() {
            let (lookups, evictions) = handles.stmt.get_or_insert_with(|| {
                (
                    StmtCacheResult::ALL.map(|result| {
                        metrics::counter!(
                            names::STMT_CACHE_LOOKUPS_TOTAL,
                            &with(labels, [(label::RESULT, result.as_label())])
                        )
                    }),
                    metrics::counter!(names::STMT_CACHE_EVICTIONS_TOTAL, &labels),
                )
            });
            let counts = [
                new.hits,
                new.misses,
                new.ambiguous,
                new.disagreement,
                new.unprepared,
            ];
            for (handle, count) in lookups.iter().zip(counts) {
                handle.increment(count);
            }
            evictions.increment(new.evictions);
        }
        sent.stmt = stmt;

        let sql = c.cache.sql();
        let new = sql.since(&sent.sql);
        if new.lookups() > 0 || handles.sql.is_some() {
            let lookups = handles.sql.get_or_insert_with(|| {
                SqlCacheResult::ALL.map(|result| {
                    metrics::counter!(
                        names::SQL_CACHE_LOOKUPS_TOTAL,
                        &with(labels, [(label::RESULT, result.as_label())])
                    )
                })
            });
            lookups[0].increment(new.hits);
            lookups[1].increment(new.misses);
        }
        sent.sql = sql;
    }
}

/// Records `delta`'s samples: the right count in every bucket, the exact sum.
fn record_samples(histogram: &Histogram, delta: &Latency) {
    for (seconds, count) in representative_samples(delta) {
        histogram.record_many(seconds, usize::try_from(count).unwrap_or(usize::MAX));
    }
}
