//! Exact, cheap counters for what ORM operations cost: calls, outcomes,
//! latency and heap allocations per operation and model, exported through the
//! [`metrics`] facade and readable in-process.
//!
//! # In libraries
//!
//! Put the attribute on each operation behind a feature of your own, so that a
//! user who leaves it off does not compile this crate at all:
//!
//! ```
//! # mod demo {
//! # pub struct User;
//! # impl User { const TABLE: &'static str = "users"; }
//! #[cfg_attr(feature = "instrument", premix_instrument::instrument(op = "find_by_id", model = User::TABLE))]
//! pub async fn find_by_id(id: i64) -> Result<Option<User>, std::io::Error> {
//!     # let _ = id;
//!     Ok(None)
//! }
//! # }
//! ```
//!
//! [`instrument`] takes `op = "..."`, a string literal in snake_case (or
//! `site = <expr>`, a `static` [`CallSite`] of the library's own), and
//! `model = <expr>`, any expression of type `&'static str` (a generic
//! function may use `T::TABLE`); optionally `backend = <expr>` and
//! `outcome = PATH` (see [`instrument`]). It works on `async fn`, plain
//! `fn`, methods, generic functions and
//! `fn ... -> impl Future<Output = T> + Send`; the signature, `Send`-ness and
//! return-type inference are unchanged. A call returning `Err` counts as
//! `error`, a future dropped before it completes as `cancelled`, a panic as
//! an error of kind `panic`.
//!
//! An ORM that loads relations in batches also declares a
//! [`locality::EagerSite`] and records each load on it: the site is typed
//! by the ORM's own strategy type (which implements [`locality::Strategy`]:
//! the closed set of `strategy` label values) and split by the ORM's own
//! [`locality::ParentBuckets`], so this crate needs to know neither.
//!
//! # In applications
//!
//! 1. Install the counting allocator, or allocation counts stay zero:
//!    `premix_instrument::install_counting_allocator!();`
//! 2. Install a recorder, e.g. [`install_prometheus`] (feature
//!    `prometheus`), which also hands the counters to it every second
//!    ([`export::flush`]). With a recorder of your own, call
//!    [`export::flush`] yourself, on a timer.
//! 3. Read [`Snapshot::take`] in tests and reports, or scrape `/metrics`.
//!
//! # Which allocation number is which
//!
//! - **Per operation** ([`Snapshot`], `premix_op_allocations_total`): task
//!   attribution. Allocations made on the thread polling the operation's
//!   future, during its polls, plus what an ORM charges it from elsewhere
//!   ([`OpHandle::charge`]: its database driver's own thread, returning its
//!   connection), reported apart as [`OpStats::driver_allocations`]; nested
//!   operations are included in their parent. Instrumentation bookkeeping is
//!   never charged. Counts repeat run to run on a current-thread runtime
//!   with [`serial::serialize_threads`].
//! - **Isolated** ([`measure`], [`measure_async`]): everything the whole
//!   process allocated while the work ran, every thread included. Exact only
//!   when nothing else runs.
//!
//! Both count heap *blocks* as dhat does: an allocation or a reallocation is
//! one block.
//!
//! # Cost
//!
//! Off (the feature not enabled): nothing, the attribute is not there. On: two
//! thread-local reads per poll, a clock read at the start and the end, and a
//! few relaxed atomic adds per call; the `metrics` recorder is fed off the
//! hot path ([`export`]). The first call of each (op, model, backend)
//! registers its counters; after that a call allocates nothing for its own
//! bookkeeping.

#![cfg_attr(docsrs, feature(doc_cfg))]

// The only unsafe code in the project: a global allocator cannot be written
// without it.
#[allow(unsafe_code)]
mod alloc;
mod alloc_stats;
mod cache;
mod callsite;
mod clock;
#[cfg(feature = "dhat")]
#[cfg_attr(docsrs, doc(cfg(feature = "dhat")))]
mod dhat_bridge;
mod error;
pub mod export;
mod histogram;
pub mod locality;
mod measure;
pub mod names;
mod outcome;
mod pool;
#[cfg(feature = "prometheus")]
#[cfg_attr(docsrs, doc(cfg(feature = "prometheus")))]
mod prometheus;
pub mod report;
mod scope;
#[cfg(unix)]
pub mod serial;
mod snapshot;
mod stmt_shadow;

pub use alloc::{
    CountingAlloc, SLOT_COUNT, ThreadSlot, counting_allocator_installed, process_stats,
    thread_stats,
};
pub use alloc_stats::{AllocStats, OpAllocations};
pub use cache::{SqlCacheResult, SqlCacheStats, StmtCacheResult, StmtCacheStats};
pub use callsite::{CallSite, MODELS_PER_CALL_SITE, NO_BACKEND, OVERFLOW_MODEL, OpHandle};
pub use clock::Stopwatch;
#[cfg(feature = "dhat")]
#[cfg_attr(docsrs, doc(cfg(feature = "dhat")))]
pub use dhat_bridge::{DhatCountingAlloc, DhatTotals, dhat};
pub use error::Error;
pub use histogram::Latency;
pub use measure::{measure, measure_async};
pub use outcome::{ErrorKind, Outcome};
pub use pool::{PoolGauges, PoolStats, TRACKED_POOLS};
/// Instruments a function: counts its calls, outcomes, latency and
/// allocations under an `op` and a `model` label.
///
/// ```
/// # struct Post;
/// # impl Post { const TABLE: &'static str = "posts"; }
/// #[premix_instrument::instrument(op = "select", model = Post::TABLE)]
/// fn titles(limit: usize) -> Vec<String> {
///     (0..limit).map(|i| format!("post {i}")).collect()
/// }
///
/// let before = premix_instrument::Snapshot::take();
/// assert_eq!(titles(2).len(), 2);
/// let stats = premix_instrument::Snapshot::take().since(&before);
/// stats.expect("select", "posts").assert_calls(1);
/// ```
///
/// Arguments:
///
/// - `op = "snake_case_literal"`, or `site = <expr>` naming a [`CallSite`]
///   that lives for the whole program (a `static` the caller declared, or
///   `*choose(...)` for a `&'static CallSite` picked at run time), to record
///   more about the same calls (see [`CallSite::target`]); one of the two is
///   required;
/// - `model = <expr of type &'static str>`, required;
/// - `backend = <expr of type &'static str>`: the `backend` label
///   (`"sqlite"`, `"postgresql"`); [`NO_BACKEND`] when absent;
/// - or, instead of the three above, `target = <expr of type OpHandle>`: the
///   counters of one (op, model, backend) the caller already holds
///   ([`CallSite::target`]), so that it and the attribute share one lookup;
/// - `outcome = PATH` to a `fn(&Output) -> Outcome`, which says how each
///   return value ended (which error [`ErrorKind`] it is). Without it, a
///   `Result` that is `Err` is an error of kind `other`, and anything else
///   is ok.
///
/// Misuse is a compile error on the offending tokens.
pub use premix_instrument_macros::instrument;
#[cfg(feature = "prometheus")]
#[cfg_attr(docsrs, doc(cfg(feature = "prometheus")))]
pub use prometheus::{DEFAULT_LISTEN, PrometheusConfig, PrometheusExporter, install_prometheus};
pub use scope::{Charged, Cost, InstrumentedStream, Measured};
pub use snapshot::{CacheScore, OpCacheScore, OpStats, Snapshot};
pub use stmt_shadow::{Lookup, StmtCacheShadow, StmtKey};

/// Installs [`CountingAlloc`] over the system allocator as the global
/// allocator. Use it once, in the binary (or test binary) crate.
///
/// ```
/// premix_instrument::install_counting_allocator!();
/// # fn main() {}
/// ```
///
/// To wrap another allocator, write the static by hand:
/// `#[global_allocator] static A: CountingAlloc<MyAlloc> = CountingAlloc::new(MyAlloc);`
#[macro_export]
macro_rules! install_counting_allocator {
    () => {
        #[global_allocator]
        static PREMIX_INSTRUMENT_COUNTING_ALLOCATOR: $crate::CountingAlloc =
            $crate::CountingAlloc::system();
    };
}

/// What `#[instrument]` expands to. Not public API: no stability promise.
#[doc(hidden)]
pub mod __private {
    pub use crate::callsite::{CallSite, NO_BACKEND, OpHandle};
    pub use crate::outcome::{ClassifyOther, ClassifyResult, Outcome, outcome_by};
    pub use crate::scope::{Instrumented, SyncCall, unnamed_output_is_ok};
}
