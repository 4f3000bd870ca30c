//! Our totals against dhat's on the same deterministic workload, with the
//! counting allocator wrapped around `dhat::Alloc`. Its own binary without
//! libtest (`harness = false`): dhat allows one profiler per process, counts
//! every thread's allocations, and must see only this workload's.

use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;

use premix_instrument::dhat::{self, HeapStats, Profiler};
use premix_instrument::{
    CountingAlloc, DhatCountingAlloc, DhatTotals, process_stats, thread_stats,
};

#[global_allocator]
static GLOBAL: DhatCountingAlloc = CountingAlloc::new(dhat::Alloc);

/// Allocations, reallocations (a growing Vec and String), a map that
/// rehashes, boxes and frees.
fn workload() -> usize {
    let mut numbers = Vec::new();
    for i in 0..1000_u64 {
        numbers.push(i);
    }
    let mut text = String::new();
    for i in 0..200 {
        text.push_str(&i.to_string());
    }
    let mut map = HashMap::new();
    for i in 0..300_u32 {
        map.insert(i, vec![i; (i % 7) as usize]);
    }
    let tree: BTreeMap<u32, Box<u64>> = (0..100).map(|i| (i, Box::new(u64::from(i)))).collect();
    black_box((&numbers, &text, &map, &tree));
    numbers.len() + text.len() + map.len() + tree.len()
}

fn main() {
    let _profiler = Profiler::builder().testing().build();

    let dhat_before = HeapStats::get();
    let thread_before = thread_stats();
    let process_before = process_stats();
    let size = black_box(workload());
    let process_delta = process_stats().since(&process_before);
    let thread_delta = thread_stats().since(&thread_before);
    let dhat_after = HeapStats::get();

    let dhat = DhatTotals::from(&dhat_after).since(&DhatTotals::from(&dhat_before));
    println!("workload size {size}: dhat {dhat:?}, ours (thread) {thread_delta:?}");
    assert!(
        dhat.blocks > 500,
        "the workload must be substantial: {dhat:?}"
    );
    assert!(thread_delta.reallocations > 10, "{thread_delta:?}");
    assert_eq!(DhatTotals::from(thread_delta), dhat);
    assert_eq!(DhatTotals::from(process_delta), dhat);
    println!("test our_totals_equal_dhats ... ok");
}
