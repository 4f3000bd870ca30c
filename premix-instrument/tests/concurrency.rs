//! 1000 tasks x 100 calls on a multi-thread runtime: every call is counted,
//! and the allocations charged to the op are exactly what the calls made,
//! although tasks move between worker threads between polls.

use std::hint::black_box;

use premix_instrument::{Snapshot, instrument};

mod support;

use support::yield_once;

premix_instrument::install_counting_allocator!();

const TASKS: u64 = 1000;
const CALLS_PER_TASK: u64 = 100;

/// Allocates `boxes` boxes of 16 bytes, half before and half after a
/// reschedule.
#[instrument(op = "work", model = "concurrency")]
async fn work(boxes: u64) -> u64 {
    let before: Vec<Box<[u8; 16]>> = (0..boxes / 2).map(|_| Box::new([1; 16])).collect();
    yield_once().await;
    let after: Vec<Box<[u8; 16]>> = (boxes / 2..boxes).map(|_| Box::new([2; 16])).collect();
    black_box((&before, &after));
    before.len() as u64 + after.len() as u64
}

/// Boxes of call `call` of task `task`: 2 to 6, so calls differ.
const fn boxes_for(task: u64, call: u64) -> u64 {
    2 + (task + call) % 5
}

#[test]
fn every_call_and_every_allocation_is_counted() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    let before = Snapshot::take();
    let made: u64 = runtime.block_on(async {
        let tasks: Vec<_> = (0..TASKS)
            .map(|task| {
                tokio::spawn(async move {
                    let mut made = 0;
                    for call in 0..CALLS_PER_TASK {
                        made += work(boxes_for(task, call)).await;
                    }
                    made
                })
            })
            .collect();
        let mut total = 0;
        for task in tasks {
            total += task.await.unwrap();
        }
        total
    });
    let stats = Snapshot::take().since(&before);

    let expected_boxes: u64 = (0..TASKS)
        .flat_map(|task| (0..CALLS_PER_TASK).map(move |call| boxes_for(task, call)))
        .sum();
    assert_eq!(made, expected_boxes);
    let op = stats.expect("work", "concurrency");
    op.assert_calls(TASKS * CALLS_PER_TASK);
    assert_eq!(op.ok, TASKS * CALLS_PER_TASK);
    // Each call: its boxes, plus the two Vecs that hold them (each non-empty).
    let expected_blocks = expected_boxes + 2 * TASKS * CALLS_PER_TASK;
    op.assert_blocks(expected_blocks);
    let vec_bytes: u64 = (0..TASKS)
        .flat_map(|task| (0..CALLS_PER_TASK).map(move |call| boxes_for(task, call)))
        .map(|boxes| boxes * 8)
        .sum();
    assert_eq!(op.allocations.bytes, expected_boxes * 16 + vec_bytes);
}
