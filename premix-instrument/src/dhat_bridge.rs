//! Cross-checking the counting allocator against dhat.
//!
//! dhat is a profiler: a global lock and a backtrace per allocation, one
//! profiler per process. It is the reference, not the always-on counter.
//! Wrap it (`CountingAlloc::new(dhat::Alloc)`) in a test binary of its own
//! and compare totals: our [`AllocStats::blocks`] and
//! [`AllocStats::allocated_bytes`] use dhat's definitions, and allocations
//! dhat makes for its own bookkeeping are not counted by either.

pub use dhat;

use crate::{AllocStats, CountingAlloc};

/// The counting allocator wrapped around dhat's.
pub type DhatCountingAlloc = CountingAlloc<dhat::Alloc>;

/// The totals dhat and this crate both report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DhatTotals {
    /// Blocks allocated (allocations plus reallocations).
    pub blocks: u64,
    /// Bytes allocated.
    pub bytes: u64,
}

impl DhatTotals {
    /// The change from `earlier` to `self`.
    #[must_use]
    pub const fn since(&self, earlier: &Self) -> Self {
        Self {
            blocks: self.blocks.saturating_sub(earlier.blocks),
            bytes: self.bytes.saturating_sub(earlier.bytes),
        }
    }
}

impl From<&dhat::HeapStats> for DhatTotals {
    fn from(stats: &dhat::HeapStats) -> Self {
        Self {
            blocks: stats.total_blocks,
            bytes: stats.total_bytes,
        }
    }
}

impl From<AllocStats> for DhatTotals {
    fn from(stats: AllocStats) -> Self {
        Self {
            blocks: stats.blocks(),
            bytes: stats.allocated_bytes,
        }
    }
}
