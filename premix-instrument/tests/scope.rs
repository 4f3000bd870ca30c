//! Attribution, outcomes, nesting, cancellation and panics, through the
//! `#[instrument]` attribute with the counting allocator installed.
//!
//! Attribution reads per-thread totals, so these tests may run side by side;
//! each uses its own model label so their counters never mix.

use std::future::Future;
use std::hint::black_box;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use premix_instrument::{Snapshot, instrument};

mod support;

use support::{block_on, yield_once};

premix_instrument::install_counting_allocator!();

#[instrument(op = "load", model = "scope_async")]
async fn allocate_across_polls(boxes: usize) -> usize {
    let first: Vec<Box<usize>> = (0..boxes).map(Box::new).collect();
    yield_once().await;
    let second = vec![0_u8; 40];
    black_box((&first, &second));
    first.len()
}

#[test]
fn async_allocations_across_polls_are_charged_exactly() {
    let before = Snapshot::take();
    assert_eq!(block_on(allocate_across_polls(3)), 3);
    assert_eq!(block_on(allocate_across_polls(3)), 3);
    let stats = Snapshot::take().since(&before);
    let op = stats.expect("load", "scope_async");
    // Per call: three boxes, the Vec holding them, and the 40-byte vector.
    op.assert_calls(2).assert_blocks_per_call(5);
    assert_eq!(op.ok, 2);
    assert_eq!(op.allocations.bytes, 2 * (3 * 8 + 3 * 8 + 40));
    assert_eq!(op.latency.count(), 2);
}

#[instrument(op = "parse", model = "scope_sync")]
fn parse_number(text: &str) -> Result<u32, std::num::ParseIntError> {
    let owned = text.to_owned();
    owned.trim().parse()
}

#[test]
fn sync_outcomes_follow_the_result() {
    let before = Snapshot::take();
    assert_eq!(parse_number(" 42 "), Ok(42));
    assert!(parse_number("forty-two").is_err());
    let stats = Snapshot::take().since(&before);
    let op = stats.expect("parse", "scope_sync");
    op.assert_calls(2).assert_blocks_per_call(1);
    assert_eq!((op.ok, op.errors, op.cancelled), (1, 1, 0));
    assert_eq!(op.allocations.bytes, 4 + 9);
}

#[instrument(op = "noop", model = "scope_noop")]
fn noop(x: u64) -> u64 {
    x + 1
}

#[test]
fn bookkeeping_is_never_charged_even_on_the_first_call() {
    let before = Snapshot::take();
    for i in 0..100 {
        assert_eq!(noop(black_box(i)), i + 1);
    }
    let stats = Snapshot::take().since(&before);
    stats
        .expect("noop", "scope_noop")
        .assert_calls(100)
        .assert_blocks(0);
}

#[instrument(op = "child", model = "scope_nested")]
async fn child() -> Vec<u8> {
    vec![1, 2, 3]
}

#[instrument(op = "parent", model = "scope_nested")]
async fn parent() -> usize {
    let own = String::from("parent");
    let a = child().await;
    yield_once().await;
    let b = child().await;
    own.len() + a.len() + b.len()
}

#[test]
fn nested_scopes_are_inclusive() {
    let before = Snapshot::take();
    assert_eq!(block_on(parent()), 12);
    let stats = Snapshot::take().since(&before);
    stats
        .expect("child", "scope_nested")
        .assert_calls(2)
        .assert_blocks(2);
    // Its own String plus both children's vectors; the children's first-call
    // bookkeeping ran inside the parent's window and is still not charged.
    stats
        .expect("parent", "scope_nested")
        .assert_calls(1)
        .assert_blocks(3);
}

#[instrument(op = "slow", model = "scope_cancel")]
async fn allocate_then_wait() -> usize {
    let kept = black_box(vec![0_u64; 4]);
    yield_once().await;
    let never = vec![0_u64; 1000];
    kept.len() + never.len()
}

#[test]
fn a_future_dropped_before_completion_is_cancelled_with_what_it_allocated() {
    let before = Snapshot::take();
    {
        let mut future = pin!(allocate_then_wait());
        let mut cx = Context::from_waker(Waker::noop());
        assert!(future.as_mut().poll(&mut cx).is_pending());
    }
    let stats = Snapshot::take().since(&before);
    let op = stats.expect("slow", "scope_cancel");
    assert_eq!((op.ok, op.errors, op.cancelled), (0, 0, 1));
    op.assert_blocks(1);
    assert_eq!(op.allocations.bytes, 32);
}

#[instrument(op = "explode", model = "scope_panic")]
fn allocate_then_panic(panic: bool) -> usize {
    let a = Box::new(1_u32);
    let b = Box::new(2_u32);
    if panic {
        // A zero-sized payload and no panic hook keep the count exact: the
        // unwinder's exception object is the only block the unwind adds.
        resume_unwind(Box::new(()));
    }
    (*a + *b) as usize
}

#[test]
fn a_panicking_call_is_an_error_and_leaves_nothing_behind() {
    let before = Snapshot::take();
    let unwound = catch_unwind(|| allocate_then_panic(true));
    assert!(unwound.is_err());
    assert_eq!(allocate_then_panic(false), 3);
    let stats = Snapshot::take().since(&before);
    let op = stats.expect("explode", "scope_panic");
    assert_eq!((op.ok, op.errors, op.cancelled), (1, 1, 0));
    // Two boxes per call, plus the exception object the unwind allocated
    // inside the panicking call's window.
    op.assert_blocks(5);
}

#[instrument(op = "explode_async", model = "scope_panic")]
async fn async_allocate_then_panic() -> usize {
    let kept = black_box(vec![1_u8; 8]);
    yield_once().await;
    if black_box(true) {
        resume_unwind(Box::new(()));
    }
    kept.len()
}

#[test]
fn a_panicking_future_is_an_error() {
    let before = Snapshot::take();
    let unwound = catch_unwind(AssertUnwindSafe(|| block_on(async_allocate_then_panic())));
    assert!(unwound.is_err());
    let stats = Snapshot::take().since(&before);
    let op = stats.expect("explode_async", "scope_panic");
    assert_eq!((op.ok, op.errors, op.cancelled), (0, 1, 0));
    // The vector, plus the unwinder's exception object.
    op.assert_blocks(2);
}

#[instrument(op = "one_box", model = "scope_message")]
fn one_box() -> Box<u8> {
    Box::new(1)
}

#[test]
fn the_assertion_message_names_the_op_and_both_numbers() {
    let before = Snapshot::take();
    let _ = one_box();
    let stats = Snapshot::take().since(&before);
    let failure = catch_unwind(AssertUnwindSafe(|| {
        stats
            .expect("one_box", "scope_message")
            .assert_blocks_per_call(3);
    }))
    .expect_err("the assertion must fail");
    let message = failure
        .downcast_ref::<String>()
        .expect("a formatted message");
    assert!(
        message.contains("op `one_box` on model `scope_message`")
            && message.contains("expected 3 allocation blocks per call")
            && message.contains("measured 1.00"),
        "{message}"
    );

    let missing = catch_unwind(AssertUnwindSafe(|| {
        let _ = stats.expect("nope", "nothing");
    }))
    .expect_err("an unknown op must fail");
    let message = missing
        .downcast_ref::<String>()
        .expect("a formatted message");
    assert!(message.contains("one_box/scope_message"), "{message}");
}

/// Yields `Ok(Box)` items, then an `Err` if asked, then ends.
struct Boxes {
    left: u32,
    then_error: bool,
}

impl futures_core::Stream for Boxes {
    type Item = Result<Box<u32>, ()>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Self::Item>> {
        if self.left > 0 {
            self.left -= 1;
            Poll::Ready(Some(Ok(Box::new(self.left))))
        } else if self.then_error {
            self.then_error = false;
            Poll::Ready(Some(Err(())))
        } else {
            Poll::Ready(None)
        }
    }
}

fn drain<S: futures_core::Stream + Unpin>(stream: &mut S, items: usize) -> usize {
    let mut cx = Context::from_waker(Waker::noop());
    let mut seen = 0;
    while seen < items {
        match std::pin::Pin::new(&mut *stream).poll_next(&mut cx) {
            Poll::Ready(Some(_)) => seen += 1,
            Poll::Ready(None) | Poll::Pending => break,
        }
    }
    seen
}

#[test]
fn streams_are_one_call_each_with_their_outcome() {
    use premix_instrument::{CallSite, ErrorKind, InstrumentedStream};
    static ROWS: CallSite = CallSite::new("rows");
    let error_kind =
        |item: &Result<Box<u32>, ()>| item.as_ref().err().map(|()| ErrorKind::Database);
    let stream = |left, then_error| {
        InstrumentedStream::new(
            ROWS.target("scope_stream", "sqlite"),
            Boxes { left, then_error },
            error_kind,
        )
    };
    let before = Snapshot::take();

    let mut ok = stream(3, false);
    assert_eq!(drain(&mut ok, usize::MAX), 3);
    let mut failing = stream(1, true);
    assert_eq!(drain(&mut failing, usize::MAX), 2);
    let mut abandoned = stream(5, false);
    assert_eq!(drain(&mut abandoned, 2), 2);
    drop(abandoned);
    // The `try_next()?` pattern: the error is the last item read, then the
    // stream is dropped before its end. That call failed; it was not
    // cancelled.
    let mut failed_then_dropped = stream(1, true);
    assert_eq!(drain(&mut failed_then_dropped, 2), 2);
    drop(failed_then_dropped);

    let stats = Snapshot::take().since(&before);
    let op = stats.expect_on("rows", "scope_stream", "sqlite");
    assert_eq!((op.ok, op.errors, op.cancelled), (1, 2, 1));
    op.assert_errors(ErrorKind::Database, 2);
    // One box per Ok item polled: 3 + 1 + 2 + 1.
    op.assert_blocks(7);
}
