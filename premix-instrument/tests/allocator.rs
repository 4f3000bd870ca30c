//! The counting allocator's per-thread totals, with the allocator installed
//! as this binary's global allocator. Per-thread readings are unaffected by
//! tests running beside each other; process-wide readings are not, and live
//! in `process_totals.rs`.

use std::hint::black_box;

use premix_instrument::{AllocStats, thread_stats};

premix_instrument::install_counting_allocator!();

#[test]
fn counts_allocations_reallocations_and_frees_on_this_thread() {
    let before = thread_stats();
    let mut v: Vec<u64> = Vec::with_capacity(4); // alloc 32 bytes
    v.extend([1, 2, 3, 4]);
    v.reserve_exact(4); // realloc 32 -> 64
    black_box(&v);
    drop(v); // dealloc 64
    let delta = thread_stats().since(&before);
    assert_eq!(
        delta,
        AllocStats {
            allocations: 1,
            reallocations: 1,
            deallocations: 1,
            allocated_bytes: 32 + 64,
            deallocated_bytes: 32 + 64,
        }
    );
    assert_eq!(delta.blocks(), 2);
}

#[test]
fn zero_sized_and_zeroed_allocations() {
    let before = thread_stats();
    let empty: Vec<u8> = Vec::new();
    let zst = Box::new(());
    let zeroed = vec![0_u8; 100]; // alloc_zeroed
    black_box((&empty, &zst, &zeroed));
    drop((empty, zst, zeroed));
    let delta = thread_stats().since(&before);
    assert_eq!(delta.allocations, 1);
    assert_eq!(delta.allocated_bytes, 100);
    assert_eq!(delta.deallocations, 1);
}

#[test]
fn detects_that_it_is_installed() {
    assert!(premix_instrument::counting_allocator_installed());
}
