//! Isolated measurement: everything a piece of work allocated, on every
//! thread.
//!
//! Task attribution (what the snapshot reports per operation) sees only the
//! polling thread. Work handed to another thread, such as the sqlx SQLite
//! driver's worker, is invisible to it. [`measure`] and [`measure_async`]
//! read the process-wide totals instead, so they see everything, including
//! whatever else the process does meanwhile: run them with nothing else
//! going on (a test of its own, a bench iteration).

use std::future::Future;

use crate::AllocStats;
use crate::alloc::process_stats;

/// Runs `work` and returns its result with what the whole process allocated
/// meanwhile.
///
/// ```
/// # use premix_instrument::measure;
/// let (v, allocated) = measure(|| vec![1_u8; 16]);
/// // Without the counting allocator installed every field is zero.
/// assert!(allocated.blocks() <= 1);
/// assert_eq!(v.len(), 16);
/// ```
pub fn measure<R>(work: impl FnOnce() -> R) -> (R, AllocStats) {
    let before = process_stats();
    let result = work();
    (result, process_stats().since(&before))
}

/// Awaits `work` and returns its output with what the whole process
/// allocated meanwhile (the runtime's own work included).
pub async fn measure_async<F: Future>(work: F) -> (F::Output, AllocStats) {
    let before = process_stats();
    let output = work.await;
    (output, process_stats().since(&before))
}
