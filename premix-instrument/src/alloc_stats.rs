//! Allocation statistics as plain values.
//!
//! The counting allocator keeps running totals; everything that reports
//! allocations (scopes, [`measure`](crate::measure), the snapshot) works with
//! differences of two readings of those totals. [`AllocStats`] is that
//! reading, and subtracting an earlier one from a later one gives what
//! happened in between.

use std::ops::{Add, AddAssign, Sub};
use std::sync::atomic::{AtomicU64, Ordering};

/// The fieldwise arithmetic of a struct of `u64` counters, written once for
/// every such struct here and in `cache`: `since` (with the visibility
/// given), the difference of two readings, and the sum (`with Add`: also
/// as `+` and `+=`).
macro_rules! counter_arithmetic {
    ($vis:vis $counters:ident { $($field:ident),+ $(,)? } with Add) => {
        counter_arithmetic!($vis $counters { $($field),+ });

        impl Add for $counters {
            type Output = Self;

            fn add(self, other: Self) -> Self {
                self.add_fields(&other)
            }
        }

        impl AddAssign for $counters {
            fn add_assign(&mut self, other: Self) {
                *self = *self + other;
            }
        }
    };
    ($vis:vis $counters:ident { $($field:ident),+ $(,)? }) => {
        impl $counters {
            /// The change from `earlier` to `self`, saturating at zero per
            /// field so that readings taken in the wrong order can never
            /// wrap around.
            #[must_use]
            $vis const fn since(&self, earlier: &Self) -> Self {
                Self { $($field: self.$field.saturating_sub(earlier.$field)),+ }
            }

            /// Field by field, `self + other`.
            const fn add_fields(&self, other: &Self) -> Self {
                Self { $($field: self.$field + other.$field),+ }
            }
        }
    };
}
pub(crate) use counter_arithmetic;

/// The shared form of a struct of `u64` counters (`$plain`), one
/// `AtomicU64` a field, all accessed `Relaxed`: counts, not synchronisation.
macro_rules! atomic_counters {
    ($atomic:ident of $plain:ident { $($field:ident),+ $(,)? }) => {
        impl $atomic {
            pub(crate) const fn new() -> Self {
                Self { $($field: AtomicU64::new(0)),+ }
            }

            /// Each counter beside what `delta` adds to it.
            fn pairs(&self, delta: $plain) -> impl Iterator<Item = (&AtomicU64, u64)> {
                [$((&self.$field, delta.$field)),+].into_iter()
            }

            /// For totals any thread may add to.
            pub(crate) fn add(&self, delta: $plain) {
                for (field, by) in self.pairs(delta) {
                    if by != 0 {
                        field.fetch_add(by, Ordering::Relaxed);
                    }
                }
            }

            pub(crate) fn load(&self) -> $plain {
                $plain { $($field: self.$field.load(Ordering::Relaxed)),+ }
            }
        }
    };
}

/// Heap activity counted by [`CountingAlloc`](crate::CountingAlloc), as
/// totals or as the difference between two readings.
///
/// The block and byte totals follow dhat's definitions, so they can be
/// compared with `dhat::HeapStats` directly: a `realloc` hands out a new block
/// of `new_size` bytes, exactly as an `alloc` does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct AllocStats {
    /// Calls to `alloc` and `alloc_zeroed` that returned memory.
    pub allocations: u64,
    /// Calls to `realloc` that returned memory.
    pub reallocations: u64,
    /// Calls to `dealloc`.
    pub deallocations: u64,
    /// Bytes handed out: the size of every allocation plus the new size of
    /// every reallocation.
    pub allocated_bytes: u64,
    /// Bytes given back: the size of every deallocation plus the old size of
    /// every reallocation.
    pub deallocated_bytes: u64,
}

impl AllocStats {
    /// Blocks handed out: allocations plus reallocations (dhat's
    /// `total_blocks`). This is the number exported as
    /// `premix_op_allocations_total`.
    #[must_use]
    pub const fn blocks(&self) -> u64 {
        self.allocations + self.reallocations
    }

    /// True when nothing was allocated, reallocated or freed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

counter_arithmetic!(pub AllocStats {
    allocations,
    reallocations,
    deallocations,
    allocated_bytes,
    deallocated_bytes,
} with Add);

impl Sub for AllocStats {
    type Output = Self;

    /// Same as [`AllocStats::since`].
    fn sub(self, earlier: Self) -> Self {
        self.since(&earlier)
    }
}

/// The allocations charged to an operation: what a call *made*. Frees are
/// not tracked per operation; under task attribution a call often frees
/// blocks that something else allocated, and counting them would cost two
/// more atomic adds on every call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct OpAllocations {
    /// Calls to `alloc` and `alloc_zeroed`.
    pub allocations: u64,
    /// Calls to `realloc`.
    pub reallocations: u64,
    /// Bytes allocated, reallocations counted at their new size.
    pub bytes: u64,
}

impl OpAllocations {
    /// Allocations plus reallocations, as [`AllocStats::blocks`].
    #[must_use]
    pub const fn blocks(&self) -> u64 {
        self.allocations + self.reallocations
    }
}

impl From<AllocStats> for OpAllocations {
    fn from(stats: AllocStats) -> Self {
        Self {
            allocations: stats.allocations,
            reallocations: stats.reallocations,
            bytes: stats.allocated_bytes,
        }
    }
}

counter_arithmetic!(pub OpAllocations {
    allocations,
    reallocations,
    bytes
} with Add);

/// [`OpAllocations`] that every call of an operation adds to.
#[derive(Debug)]
pub(crate) struct AtomicOpAllocations {
    allocations: AtomicU64,
    reallocations: AtomicU64,
    bytes: AtomicU64,
}

atomic_counters!(AtomicOpAllocations of OpAllocations {
    allocations,
    reallocations,
    bytes
});

/// [`AllocStats`] that threads can add to: the allocator's per-thread slots
/// and its shared fallback.
#[derive(Debug)]
pub(crate) struct AtomicAllocStats {
    allocations: AtomicU64,
    reallocations: AtomicU64,
    deallocations: AtomicU64,
    allocated_bytes: AtomicU64,
    deallocated_bytes: AtomicU64,
}

atomic_counters!(AtomicAllocStats of AllocStats {
    allocations,
    reallocations,
    deallocations,
    allocated_bytes,
    deallocated_bytes,
});

impl AtomicAllocStats {
    /// For totals with a single writer (an allocator slot, written only by
    /// the thread that leases it): a plain load and store is exact there and
    /// avoids a locked read-modify-write on every allocation.
    pub(crate) fn add_single_writer(&self, delta: AllocStats) {
        for (field, by) in self.pairs(delta) {
            if by != 0 {
                field.store(
                    field.load(Ordering::Relaxed).wrapping_add(by),
                    Ordering::Relaxed,
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_is_the_fieldwise_difference_and_saturates() {
        let earlier = AllocStats {
            allocations: 2,
            reallocations: 1,
            deallocations: 1,
            allocated_bytes: 100,
            deallocated_bytes: 10,
        };
        let later = AllocStats {
            allocations: 5,
            reallocations: 1,
            deallocations: 4,
            allocated_bytes: 164,
            deallocated_bytes: 74,
        };
        let delta = later.since(&earlier);
        assert_eq!(
            delta,
            AllocStats {
                allocations: 3,
                reallocations: 0,
                deallocations: 3,
                allocated_bytes: 64,
                deallocated_bytes: 64,
            }
        );
        assert_eq!(delta.blocks(), 3);
        assert_eq!(earlier.since(&later), AllocStats::default());
        assert_eq!(earlier + delta, later);
    }

    #[test]
    fn single_writer_and_shared_adds_agree() {
        let delta = AllocStats {
            allocations: 0,
            reallocations: 1,
            deallocations: 0,
            allocated_bytes: 9,
            deallocated_bytes: 3,
        };
        let single = AtomicAllocStats::new();
        let shared = AtomicAllocStats::new();
        for _ in 0..2 {
            single.add_single_writer(delta);
            shared.add(delta);
        }
        assert_eq!(single.load(), delta + delta);
        assert_eq!(shared.load(), delta + delta);
    }
}
