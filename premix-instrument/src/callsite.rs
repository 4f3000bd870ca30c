//! Call sites and their counters.
//!
//! What is a call site? Each `#[instrument]`ed function owns one `static`
//! [`CallSite`], holding its `op` label. The `model` label is known only at
//! run time (a generic `all::<T>()` serves every model), so a call site keeps
//! a small table of [`OpCounters`], one per model it has seen. The first call
//! for a model registers its counters: it allocates them, registers the
//! `metrics` handles with whatever recorder is installed, and adds them to
//! the global list the snapshot reads. Every later call finds them with a
//! few pointer reads and string compares: no lock, no allocation, no registry
//! lookup.
//!
//! WARNING: `metrics` handles bind to the recorder installed when they are
//! registered. Install the recorder (e.g.
//! [`install_prometheus`](crate::install_prometheus)) before the first
//! instrumented call, or that call site exports nothing.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use metrics::{Counter, Histogram};

use crate::Outcome;
use crate::alloc::exclude_from_attribution;
use crate::alloc_stats::{AtomicOpAllocations, OpAllocations};
use crate::cache::{CacheCounters, SqlCacheResult, StmtCacheResult};
use crate::latency::LatencyHistogram;
use crate::names::{self, label};

/// How many distinct models one call site tracks before folding the rest
/// into [`OVERFLOW_MODEL`].
pub const MODELS_PER_CALL_SITE: usize = 64;

/// The `model` label used once a call site has seen more than
/// [`MODELS_PER_CALL_SITE`] models; it keeps label cardinality bounded.
pub const OVERFLOW_MODEL: &str = "_other";

/// The per-function state behind `#[instrument]`: the `op` label and the
/// counters of each model seen there. `#[instrument]` creates one as a
/// `static`; code that instruments something the attribute cannot wrap (a
/// stream, see [`InstrumentedStream`](crate::InstrumentedStream)) declares
/// its own: `static ROWS: CallSite = CallSite::new("select");`.
#[derive(Debug)]
pub struct CallSite {
    op: &'static str,
    models: [OnceLock<&'static OpCounters>; MODELS_PER_CALL_SITE],
    overflow: OnceLock<&'static OpCounters>,
}

impl CallSite {
    /// A call site for operation `op`.
    #[must_use]
    pub const fn new(op: &'static str) -> Self {
        Self {
            op,
            models: [const { OnceLock::new() }; MODELS_PER_CALL_SITE],
            overflow: OnceLock::new(),
        }
    }

    /// Counts `lookups` prepared-statement cache lookups of this operation
    /// on `model` with one result, and `evictions` statements the cache
    /// dropped meanwhile.
    pub fn record_stmt_cache(
        &self,
        model: &'static str,
        result: StmtCacheResult,
        lookups: u64,
        evictions: u64,
    ) {
        if lookups == 0 && evictions == 0 {
            return;
        }
        exclude_from_attribution(|| {
            self.counters(model)
                .cache
                .record_stmt(self.op, model, result, lookups, evictions);
        });
    }

    /// Counts one SQL-text cache lookup of this operation on `model`.
    pub fn record_sql_cache(&self, model: &'static str, result: SqlCacheResult) {
        exclude_from_attribution(|| {
            self.counters(model)
                .cache
                .record_sql(self.op, model, result);
        });
    }

    /// The counters for `model`, registering them on first use.
    pub(crate) fn counters(&self, model: &'static str) -> &'static OpCounters {
        find_or_register(
            &self.models,
            &self.overflow,
            |c| same_label(c.model, model),
            |m| OpCounters::register(self.op, m.unwrap_or(model)),
        )
    }
}

/// Labels are usually the same `&'static str` every call: compare the
/// pointers before the bytes.
pub(crate) fn same_label(a: &'static str, b: &'static str) -> bool {
    std::ptr::eq(a, b) || a == b
}

/// Finds the slot whose counters `matches`, registering new ones in the first
/// empty slot; once every slot is taken, everything else shares `overflow`,
/// registered with the model [`OVERFLOW_MODEL`] (`register` gets
/// `Some(OVERFLOW_MODEL)` then, `None` otherwise). No lock, no allocation
/// after registration.
pub(crate) fn find_or_register<T: 'static>(
    slots: &[OnceLock<&'static T>],
    overflow: &OnceLock<&'static T>,
    matches: impl Fn(&T) -> bool,
    register: impl Fn(Option<&'static str>) -> &'static T,
) -> &'static T {
    for slot in slots {
        // A racing first call may fill this slot with another key; then the
        // search simply moves on.
        let counters = *slot.get_or_init(|| register(None));
        if matches(counters) {
            return counters;
        }
    }
    overflow.get_or_init(|| register(Some(OVERFLOW_MODEL)))
}

/// Counters of one (op, model): in-process totals for the snapshot, and the
/// `metrics` handles for export.
#[derive(Debug)]
pub(crate) struct OpCounters {
    pub(crate) op: &'static str,
    pub(crate) model: &'static str,
    calls: [AtomicU64; 3],
    allocations: AtomicOpAllocations,
    pub(crate) latency: LatencyHistogram,
    pub(crate) cache: CacheCounters,
    exported: ExportedHandles,
}

#[derive(Debug)]
struct ExportedHandles {
    calls: [Counter; 3],
    duration: Histogram,
    allocations: Counter,
    allocated_bytes: Counter,
}

/// Every (op, model) registered so far, in registration order.
static REGISTRY: Mutex<Vec<&'static OpCounters>> = Mutex::new(Vec::new());

impl OpCounters {
    fn register(op: &'static str, model: &'static str) -> &'static Self {
        let calls = Outcome::ALL.map(|outcome| {
            metrics::counter!(
                names::OP_CALLS_TOTAL,
                label::OP => op,
                label::MODEL => model,
                label::OUTCOME => outcome.as_label(),
            )
        });
        let exported = ExportedHandles {
            calls,
            duration: metrics::histogram!(names::OP_DURATION_SECONDS, label::OP => op, label::MODEL => model),
            allocations: metrics::counter!(names::OP_ALLOCATIONS_TOTAL, label::OP => op, label::MODEL => model),
            allocated_bytes: metrics::counter!(names::OP_ALLOCATED_BYTES_TOTAL, label::OP => op, label::MODEL => model),
        };
        // Leaked on purpose: one per (call site, model), bounded by
        // MODELS_PER_CALL_SITE, and they must outlive every call.
        let counters: &'static Self = Box::leak(Box::new(Self {
            op,
            model,
            calls: [const { AtomicU64::new(0) }; 3],
            allocations: AtomicOpAllocations::new(),
            latency: LatencyHistogram::new(),
            cache: CacheCounters::new(),
            exported,
        }));
        REGISTRY
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(counters);
        counters
    }

    /// Adds one finished call.
    pub(crate) fn record(&self, outcome: Outcome, elapsed: Duration, allocations: OpAllocations) {
        self.calls[outcome.index()].fetch_add(1, Ordering::Relaxed);
        self.allocations.add(allocations);
        self.latency.record(elapsed);

        let exported = &self.exported;
        exported.calls[outcome.index()].increment(1);
        exported.duration.record(elapsed.as_secs_f64());
        if allocations.blocks() > 0 {
            exported.allocations.increment(allocations.blocks());
            exported.allocated_bytes.increment(allocations.bytes);
        }
    }

    pub(crate) fn calls(&self, outcome: Outcome) -> u64 {
        self.calls[outcome.index()].load(Ordering::Relaxed)
    }

    pub(crate) fn allocations(&self) -> OpAllocations {
        self.allocations.load()
    }
}

/// A copy of the registry, so readers never hold the lock while they work.
pub(crate) fn registered() -> Vec<&'static OpCounters> {
    REGISTRY
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}
