//! Call sites and their counters.
//!
//! What is a call site? Each instrumented operation owns one `static`
//! [`CallSite`], holding its `op` label: `#[instrument(op = "...")]` declares
//! one, or an ORM declares its own and names it with `site = PATH`, so that
//! the calls of an operation and what the ORM records about them (cache
//! lookups, pool waits) land in the same counters. The `model` and
//! `backend` labels are known only at run time (a generic `all::<T>()`
//! serves every model), so a call site keeps a small table of
//! [`OpCounters`], one per (model, backend) it has seen.
//!
//! The first call for a (model, backend) registers its counters: it
//! allocates them and adds them to the global list that the snapshot and the
//! export step read. Every later call finds them with a few pointer reads
//! and compares: no lock, no allocation, no registry lookup. Recording is a
//! handful of relaxed atomic adds; nothing is sent to the `metrics` recorder
//! on the hot path (see [`crate::export`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use crate::Outcome;
use crate::alloc::exclude_from_attribution;
use crate::alloc_stats::{AtomicOpAllocations, OpAllocations};
use crate::cache::{CacheCounters, SqlCacheResult, StmtCacheResult};
use crate::histogram::TimeHistogram;
use crate::outcome::ErrorKind;

/// How many distinct (model, backend) pairs one call site tracks before
/// folding the rest into [`OVERFLOW_MODEL`].
pub const MODELS_PER_CALL_SITE: usize = 64;

/// The `model` label used once a call site has seen more than
/// [`MODELS_PER_CALL_SITE`] models; it keeps label cardinality bounded.
pub const OVERFLOW_MODEL: &str = "_other";

/// The `backend` label of calls that name no backend.
pub const NO_BACKEND: &str = "none";

/// The per-operation state behind `#[instrument]`: the `op` label and the
/// counters of each (model, backend) seen there.
///
/// `#[instrument(op = "...")]` declares one per function. An ORM that records
/// more about an operation than the attribute sees (cache lookups, pool
/// waits), or instruments a stream, declares its own and passes it:
///
/// ```
/// use premix_instrument::{CallSite, SqlCacheResult};
///
/// static FIND: CallSite = CallSite::new("find_by_id");
///
/// #[premix_instrument::instrument(site = FIND, model = "users", backend = "sqlite")]
/// fn find(id: u32) -> Option<u32> {
///     FIND.target("users", "sqlite").record_sql_cache(SqlCacheResult::Hit);
///     Some(id)
/// }
/// # find(1);
/// ```
#[derive(Debug)]
pub struct CallSite {
    op: &'static str,
    targets: [OnceLock<&'static OpCounters>; MODELS_PER_CALL_SITE],
    overflow: OnceLock<&'static OpCounters>,
}

impl CallSite {
    /// A call site for operation `op` (a snake_case label).
    #[must_use]
    pub const fn new(op: &'static str) -> Self {
        Self {
            op,
            targets: [const { OnceLock::new() }; MODELS_PER_CALL_SITE],
            overflow: OnceLock::new(),
        }
    }

    /// The `op` label.
    #[must_use]
    pub const fn op(&self) -> &'static str {
        self.op
    }

    /// The counters of this operation on `model` and `backend`, registered on
    /// first use.
    pub fn target(&self, model: &'static str, backend: &'static str) -> OpHandle {
        OpHandle(self.counters(model, backend))
    }

    pub(crate) fn counters(
        &self,
        model: &'static str,
        backend: &'static str,
    ) -> &'static OpCounters {
        find_or_register(
            &self.targets,
            &self.overflow,
            |c| same_label(c.model, model) && same_label(c.backend, backend),
            |overflow| OpCounters::register(self.op, overflow.unwrap_or(model), backend),
        )
    }
}

/// The counters of one (op, model, backend), for what an ORM records about
/// an operation beyond its calls. Cheap to copy; every method is a few
/// relaxed atomic adds.
#[derive(Clone, Copy, Debug)]
pub struct OpHandle(&'static OpCounters);

impl OpHandle {
    pub(crate) const fn counters(self) -> &'static OpCounters {
        self.0
    }

    /// Counts `lookups` prepared-statement cache lookups with one result,
    /// and `evictions` statements the cache dropped to make room.
    pub fn record_stmt_cache(self, result: StmtCacheResult, lookups: u64, evictions: u64) {
        self.0.cache.record_stmt(result, lookups, evictions);
    }

    /// Counts one SQL-text cache lookup.
    pub fn record_sql_cache(self, result: SqlCacheResult) {
        self.0.cache.record_sql(result);
    }

    /// Records how long the operation waited for a database connection
    /// (part of its duration too).
    pub fn record_pool_wait(self, waited: Duration) {
        self.0.pool_wait.record(waited);
    }

    /// Charges the operation with allocations made for it away from the
    /// thread that polled it: its database driver's own thread, returning
    /// its connection to the pool. Counted in its allocations, and apart as
    /// its driver's share.
    pub fn charge(self, allocations: OpAllocations) {
        if allocations.blocks() > 0 || allocations.bytes > 0 {
            self.0.driver.add(allocations);
        }
    }

    /// Runs `work` on the operation's behalf after the operation (dropping
    /// its connection where it outlived the call, say), and charges what it
    /// allocates on this thread as above.
    pub fn charge_while<R>(self, work: impl FnOnce() -> R) -> R {
        let before = crate::alloc::attributable_thread_allocations();
        let result = work();
        self.charge(crate::alloc::attributable_thread_allocations().since(&before));
        result
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
/// after registration; registration itself is never charged to an operation.
pub(crate) fn find_or_register<T: 'static>(
    slots: &[OnceLock<&'static T>],
    overflow: &OnceLock<&'static T>,
    matches: impl Fn(&T) -> bool,
    register: impl Fn(Option<&'static str>) -> &'static T,
) -> &'static T {
    for slot in slots {
        let counters = match slot.get() {
            Some(counters) => *counters,
            // A racing first call may fill this slot with another key; then
            // the search simply moves on.
            None => *slot.get_or_init(|| exclude_from_attribution(|| register(None))),
        };
        if matches(counters) {
            return counters;
        }
    }
    overflow.get_or_init(|| exclude_from_attribution(|| register(Some(OVERFLOW_MODEL))))
}

/// Counters of one (op, model, backend): what the snapshot reads and the
/// export step hands to the `metrics` recorder.
#[derive(Debug)]
pub(crate) struct OpCounters {
    pub(crate) op: &'static str,
    pub(crate) model: &'static str,
    pub(crate) backend: &'static str,
    /// Calls are counted by the latency histogram (every call records one
    /// sample); only the rarer outcomes need counters of their own.
    cancelled: AtomicU64,
    errors: [AtomicU64; ErrorKind::ALL.len()],
    allocations: AtomicOpAllocations,
    /// Charged from elsewhere ([`OpHandle::charge`]); not in `allocations`.
    driver: AtomicOpAllocations,
    pub(crate) latency: TimeHistogram,
    pub(crate) pool_wait: TimeHistogram,
    pub(crate) cache: CacheCounters,
}

/// Every (op, model, backend) registered so far, in registration order.
static REGISTRY: Mutex<Vec<&'static OpCounters>> = Mutex::new(Vec::new());

impl OpCounters {
    fn register(op: &'static str, model: &'static str, backend: &'static str) -> &'static Self {
        // Leaked on purpose: one per (call site, model, backend), bounded by
        // MODELS_PER_CALL_SITE, and they must outlive every call.
        let counters: &'static Self = Box::leak(Box::new(Self {
            op,
            model,
            backend,
            cancelled: AtomicU64::new(0),
            errors: [const { AtomicU64::new(0) }; ErrorKind::ALL.len()],
            allocations: AtomicOpAllocations::new(),
            driver: AtomicOpAllocations::new(),
            latency: TimeHistogram::new(),
            pool_wait: TimeHistogram::new(),
            cache: CacheCounters::new(),
        }));
        REGISTRY
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(counters);
        counters
    }

    /// Adds one finished call.
    pub(crate) fn record(&self, outcome: Outcome, elapsed: Duration, allocations: OpAllocations) {
        match outcome {
            Outcome::Ok => {}
            Outcome::Error(kind) => {
                self.errors[kind.index()].fetch_add(1, Ordering::Relaxed);
            }
            Outcome::Cancelled => {
                self.cancelled.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.allocations.add(allocations);
        self.latency.record(elapsed);
    }

    /// Calls by outcome, in [`Outcome::LABELS`] order, as `latency` and the
    /// outcome counters read now (`latency` read by the caller, so that a
    /// reading is consistent with the histogram it goes with).
    pub(crate) fn calls(&self, latency: &crate::Latency) -> [u64; 3] {
        let errors: u64 = self.errors().iter().sum();
        let cancelled = self.cancelled.load(Ordering::Relaxed);
        // A call counted in the outcome counters but not yet in the
        // histogram (read in between) is not counted as ok.
        let ok = latency.count().saturating_sub(errors + cancelled);
        [ok, errors, cancelled]
    }

    pub(crate) fn errors(&self) -> [u64; ErrorKind::ALL.len()] {
        self.errors.each_ref().map(|c| c.load(Ordering::Relaxed))
    }

    /// Everything charged: the polling thread's and the driver's.
    pub(crate) fn allocations(&self) -> OpAllocations {
        self.allocations.load() + self.driver.load()
    }

    /// The part charged from the driver's side.
    pub(crate) fn driver_allocations(&self) -> OpAllocations {
        self.driver.load()
    }
}

/// A copy of the registry, so readers never hold the lock while they work.
pub(crate) fn registered() -> Vec<&'static OpCounters> {
    REGISTRY
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}
