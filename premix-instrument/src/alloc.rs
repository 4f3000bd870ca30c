//! The counting global allocator.
//!
//! What does it count, and for whom? Two audiences read the same events:
//!
//! - **Per-thread totals** feed task attribution. A scope reads its own
//!   thread's totals before and after each poll of the instrumented future
//!   and charges the difference to the operation. These live in
//!   const-initialised thread-local `Cell`s: the cheapest counter there is,
//!   and readable only by the owning thread, which is all attribution needs.
//! - **Process-wide totals** feed isolated measurement
//!   ([`measure`](crate::measure)), which must also see allocations made on
//!   other threads (the sqlx SQLite worker, for one). A global atomic per
//!   allocation would cost ~12 ns and bounce a cache line between cores, so
//!   each thread instead leases a slot in a static table and is the only
//!   writer of that slot (a relaxed load and store, no locked instruction).
//!   Readers sum the table. A slot keeps its totals when its thread exits, and
//!   the next thread to lease it continues from them, so nothing is lost or
//!   counted twice. Threads that cannot lease a slot (more than
//!   [`SLOT_COUNT`] alive at once, or a thread in its final teardown) fall
//!   back to shared atomics.
//!
//! Allocations made while the inner allocator is itself running (dhat's
//! bookkeeping, say) are the allocator's own overhead, not the program's:
//! they pass straight through uncounted, which is also what makes the
//! allocator reentrancy-safe.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::alloc_stats::AtomicAllocStats;
use crate::{AllocStats, OpAllocations};

/// How many threads can hold a process-wide counting slot at once. Threads
/// beyond this still count, through shared atomics.
pub const SLOT_COUNT: usize = 256;

/// A [`GlobalAlloc`] that counts every allocation, reallocation and
/// deallocation, then forwards it to an inner allocator (the system allocator
/// by default, so jemalloc or mimalloc users keep theirs).
///
/// It never allocates and never panics. Install it with
/// [`install_counting_allocator!`](crate::install_counting_allocator) or by
/// hand:
///
/// ```
/// use premix_instrument::CountingAlloc;
///
/// #[global_allocator]
/// static GLOBAL: CountingAlloc = CountingAlloc::system();
/// # fn main() {}
/// ```
#[derive(Debug, Default)]
pub struct CountingAlloc<A = System> {
    inner: A,
}

impl CountingAlloc<System> {
    /// Counts and forwards to [`System`].
    #[must_use]
    pub const fn system() -> Self {
        Self { inner: System }
    }
}

impl<A> CountingAlloc<A> {
    /// Counts and forwards to `inner`, e.g. `CountingAlloc::new(dhat::Alloc)`.
    #[must_use]
    pub const fn new(inner: A) -> Self {
        Self { inner }
    }

    /// The allocator that does the real work.
    pub const fn inner(&self) -> &A {
        &self.inner
    }
}

// SAFETY: every method forwards to the inner allocator with the caller's
// arguments unchanged and returns its result unchanged, so the inner
// allocator's guarantees are ours. The counting around it touches only
// thread-locals without destructors and static atomics: it neither allocates
// nor unwinds.
unsafe impl<A: GlobalAlloc> GlobalAlloc for CountingAlloc<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let outermost = Reentry::enter();
        // SAFETY: the caller upholds `alloc`'s contract for `layout`.
        let ptr = unsafe { self.inner.alloc(layout) };
        if !ptr.is_null() {
            outermost.record(Event::Alloc(layout.size()));
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let outermost = Reentry::enter();
        // SAFETY: the caller upholds `alloc_zeroed`'s contract for `layout`.
        let ptr = unsafe { self.inner.alloc_zeroed(layout) };
        if !ptr.is_null() {
            outermost.record(Event::Alloc(layout.size()));
        }
        ptr
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let outermost = Reentry::enter();
        // SAFETY: the caller upholds `realloc`'s contract: `ptr` came from
        // this allocator with `layout`, and `new_size` is valid for it.
        let new_ptr = unsafe { self.inner.realloc(ptr, layout, new_size) };
        if !new_ptr.is_null() {
            outermost.record(Event::Realloc {
                old_size: layout.size(),
                new_size,
            });
        }
        new_ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let outermost = Reentry::enter();
        // SAFETY: the caller upholds `dealloc`'s contract: `ptr` came from
        // this allocator with `layout`.
        unsafe { self.inner.dealloc(ptr, layout) };
        outermost.record(Event::Dealloc(layout.size()));
    }
}

/// One allocator call that succeeded.
#[derive(Clone, Copy)]
enum Event {
    Alloc(usize),
    Realloc { old_size: usize, new_size: usize },
    Dealloc(usize),
}

impl Event {
    const fn as_stats(self) -> AllocStats {
        // usize -> u64 is lossless on every platform Rust supports.
        match self {
            Self::Alloc(size) => AllocStats {
                allocations: 1,
                reallocations: 0,
                deallocations: 0,
                allocated_bytes: size as u64,
                deallocated_bytes: 0,
            },
            Self::Realloc { old_size, new_size } => AllocStats {
                allocations: 0,
                reallocations: 1,
                deallocations: 0,
                allocated_bytes: new_size as u64,
                deallocated_bytes: old_size as u64,
            },
            Self::Dealloc(size) => AllocStats {
                allocations: 0,
                reallocations: 0,
                deallocations: 1,
                allocated_bytes: 0,
                deallocated_bytes: size as u64,
            },
        }
    }
}

/// This thread's running totals, plus the flag that marks "inside the
/// allocator". No destructor, so it is usable for the whole life of the
/// thread, including while other thread-locals are being torn down.
struct ThreadCounters {
    allocations: Cell<u64>,
    reallocations: Cell<u64>,
    deallocations: Cell<u64>,
    allocated_bytes: Cell<u64>,
    deallocated_bytes: Cell<u64>,
    inside_allocator: Cell<bool>,
    /// Set while instrumentation bookkeeping runs (see
    /// [`exclude_from_attribution`]).
    excluding: Cell<bool>,
    /// What bookkeeping made on this thread: in the totals above, never
    /// attributable. Kept off the allocation path: added once per
    /// exclusion.
    excluded: Cell<OpAllocations>,
}

impl ThreadCounters {
    const fn new() -> Self {
        Self {
            allocations: Cell::new(0),
            reallocations: Cell::new(0),
            deallocations: Cell::new(0),
            allocated_bytes: Cell::new(0),
            deallocated_bytes: Cell::new(0),
            inside_allocator: Cell::new(false),
            excluding: Cell::new(false),
            excluded: Cell::new(OpAllocations {
                allocations: 0,
                reallocations: 0,
                bytes: 0,
            }),
        }
    }

    fn add(&self, delta: AllocStats) {
        let bump = |cell: &Cell<u64>, by: u64| cell.set(cell.get().wrapping_add(by));
        bump(&self.allocations, delta.allocations);
        bump(&self.reallocations, delta.reallocations);
        bump(&self.deallocations, delta.deallocations);
        bump(&self.allocated_bytes, delta.allocated_bytes);
        bump(&self.deallocated_bytes, delta.deallocated_bytes);
    }

    /// Everything this thread made, bookkeeping included.
    fn made(&self) -> OpAllocations {
        OpAllocations {
            allocations: self.allocations.get(),
            reallocations: self.reallocations.get(),
            bytes: self.allocated_bytes.get(),
        }
    }

    fn stats(&self) -> AllocStats {
        AllocStats {
            allocations: self.allocations.get(),
            reallocations: self.reallocations.get(),
            deallocations: self.deallocations.get(),
            allocated_bytes: self.allocated_bytes.get(),
            deallocated_bytes: self.deallocated_bytes.get(),
        }
    }
}

thread_local! {
    static THREAD: ThreadCounters = const { ThreadCounters::new() };
    static LEASE: SlotLease = const { SlotLease { state: Cell::new(LeaseState::Unclaimed) } };
}

/// Marks this thread as inside the allocator for as long as it lives.
///
/// Only the outermost entry counts: a nested entry is an allocation made by
/// the inner allocator, or by the first touch of [`LEASE`] registering its
/// destructor, and is passed through uncounted.
enum Reentry {
    Outermost,
    Nested,
    /// The thread-local could not be reached (it always can for a
    /// destructor-less const thread-local; kept so that nothing can panic).
    NoThreadState,
}

impl Reentry {
    fn enter() -> Self {
        match THREAD.try_with(|t| t.inside_allocator.replace(true)) {
            Ok(false) => Self::Outermost,
            Ok(true) => Self::Nested,
            Err(_) => Self::NoThreadState,
        }
    }

    fn record(&self, event: Event) {
        let delta = event.as_stats();
        match self {
            Self::Outermost => {
                let _ = THREAD.try_with(|t| t.add(delta));
                record_process_wide(delta);
            }
            Self::Nested => {}
            Self::NoThreadState => UNLEASED.add(delta),
        }
    }
}

impl Drop for Reentry {
    fn drop(&mut self) {
        if matches!(self, Self::Outermost) {
            let _ = THREAD.try_with(|t| t.inside_allocator.set(false));
        }
    }
}

/// One thread's process-wide counters, on a cache line of its own so that
/// two threads never write the same line.
#[repr(align(64))]
struct Slot {
    leased: AtomicBool,
    counts: AtomicAllocStats,
}

static SLOTS: [Slot; SLOT_COUNT] = [const {
    Slot {
        leased: AtomicBool::new(false),
        counts: AtomicAllocStats::new(),
    }
}; SLOT_COUNT];

/// Counts of threads that hold no slot.
static UNLEASED: AtomicAllocStats = AtomicAllocStats::new();

#[derive(Clone, Copy)]
enum LeaseState {
    Unclaimed,
    Holding(usize),
    /// Every slot was taken when this thread first allocated.
    NoneFree,
}

struct SlotLease {
    state: Cell<LeaseState>,
}

impl Drop for SlotLease {
    fn drop(&mut self) {
        if let LeaseState::Holding(index) = self.state.get() {
            // Release publishes this thread's last counts to the next holder.
            SLOTS[index].leased.store(false, Ordering::Release);
        }
    }
}

fn claim_slot() -> LeaseState {
    SLOTS
        .iter()
        .position(|slot| {
            // Acquire pairs with the Release in `SlotLease::drop`, so the new
            // holder continues from the previous holder's final counts.
            slot.leased
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        })
        .map_or(LeaseState::NoneFree, LeaseState::Holding)
}

fn record_process_wide(delta: AllocStats) {
    let recorded = LEASE.try_with(|lease| {
        let state = match lease.state.get() {
            LeaseState::Unclaimed => {
                let claimed = claim_slot();
                lease.state.set(claimed);
                claimed
            }
            held => held,
        };
        match state {
            LeaseState::Holding(index) => {
                SLOTS[index].counts.add_single_writer(delta);
                true
            }
            LeaseState::Unclaimed | LeaseState::NoneFree => false,
        }
    });
    if recorded != Ok(true) {
        UNLEASED.add(delta);
    }
}

/// This thread's allocation totals since it started.
///
/// Zero forever when [`CountingAlloc`] is not the global allocator (see
/// [`counting_allocator_installed`]).
#[must_use]
pub fn thread_stats() -> AllocStats {
    THREAD.try_with(ThreadCounters::stats).unwrap_or_default()
}

/// What this thread has allocated outside instrumentation bookkeeping: the
/// reading that scopes take around each poll.
pub(crate) fn attributable_thread_allocations() -> OpAllocations {
    THREAD
        .try_with(|t| t.made().since(&t.excluded.get()))
        .unwrap_or_default()
}

/// Runs `f` (instrumentation bookkeeping: registering a call site, exporting
/// metrics) so that what it allocates is never charged to any operation,
/// including an enclosing one. Process-wide and thread totals still
/// include it.
pub(crate) fn exclude_from_attribution<R>(f: impl FnOnce() -> R) -> R {
    /// Adds what the outermost exclusion made to `excluded` on the way out,
    /// unwinding included.
    struct Outermost(OpAllocations);
    impl Drop for Outermost {
        fn drop(&mut self) {
            let _ = THREAD.try_with(|t| {
                let made = t.made().since(&self.0);
                t.excluded.set(t.excluded.get() + made);
                t.excluding.set(false);
            });
        }
    }
    let _outermost = THREAD
        .try_with(|t| (!t.excluding.replace(true)).then(|| Outermost(t.made())))
        .ok()
        .flatten();
    f()
}

/// The whole process's allocation totals since it started, all threads
/// included, exited ones too.
///
/// Exact when read while no other thread is allocating; while others are,
/// each field is a total that some moment between the call and its return
/// had reached.
#[must_use]
pub fn process_stats() -> AllocStats {
    SLOTS
        .iter()
        .map(|slot| slot.counts.load())
        .fold(UNLEASED.load(), |total, slot| total + slot)
}

/// A thread's process-wide counting slot, to read from any thread what that
/// thread has allocated: how an ORM charges an operation with what its
/// database driver's own thread made for it (sqlx's SQLite worker).
///
/// Taken on the thread in question ([`ThreadSlot::current`]); read from any
/// other ([`ThreadSlot::made`]). A slot outlives its thread: the next thread
/// to lease it continues its totals, so read it only while its thread lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThreadSlot(usize);

impl ThreadSlot {
    /// This thread's slot; `None` when every slot is taken (more than
    /// [`SLOT_COUNT`] threads alive) or the thread is being torn down.
    #[must_use]
    pub fn current() -> Option<Self> {
        LEASE
            .try_with(|lease| {
                if matches!(lease.state.get(), LeaseState::Unclaimed) {
                    lease.state.set(claim_slot());
                }
                match lease.state.get() {
                    LeaseState::Holding(index) => Some(Self(index)),
                    LeaseState::Unclaimed | LeaseState::NoneFree => None,
                }
            })
            .ok()
            .flatten()
    }

    /// What the slot's thread has allocated since it started: allocations,
    /// reallocations, bytes. Exact once that thread is between allocations
    /// (it is its slot's only writer).
    #[must_use]
    pub fn made(self) -> OpAllocations {
        let stats = SLOTS[self.0].counts.load();
        OpAllocations {
            allocations: stats.allocations,
            reallocations: stats.reallocations,
            bytes: stats.allocated_bytes,
        }
    }
}

/// Whether [`CountingAlloc`] is this process's global allocator, found out by
/// making one small allocation and checking that this thread saw it.
#[must_use]
pub fn counting_allocator_installed() -> bool {
    let before = thread_stats();
    drop(std::hint::black_box(Box::new(0_u8)));
    thread_stats().allocations > before.allocations
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_follow_dhat_definitions() {
        let realloc = Event::Realloc {
            old_size: 8,
            new_size: 32,
        }
        .as_stats();
        assert_eq!(realloc.blocks(), 1);
        assert_eq!(realloc.allocated_bytes, 32);
        assert_eq!(realloc.deallocated_bytes, 8);
        assert_eq!(Event::Alloc(24).as_stats().blocks(), 1);
        assert_eq!(Event::Dealloc(24).as_stats().blocks(), 0);
    }
}
