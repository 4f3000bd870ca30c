//! Scopes: charging one call's allocations, time and outcome to its
//! operation.
//!
//! Which allocations belong to a call? Those made on the thread that polls
//! the call's future, *while* it polls it. An async task may move between
//! threads between polls, and many tasks interleave on one thread, so a scope
//! reads its thread's totals just before and just after every poll and keeps
//! the difference. Nesting is inclusive for free: an inner scope's polls
//! happen inside the outer scope's. Nothing is kept in thread-local "current
//! scope" state, so a panic or a dropped future cannot leave anything behind
//! for the next call to trip over.
//!
//! The bookkeeping at the end of a call (a few relaxed atomic adds, and
//! registering the counters the first time) runs outside the measured window,
//! and registration is excluded from attribution altogether, so it is never
//! charged to this call or to an enclosing one.

use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;

use crate::alloc::attributable_thread_allocations;
use crate::callsite::{OpCounters, OpHandle};
use crate::clock;
use crate::outcome::ErrorKind;
use crate::{OpAllocations, Outcome};
use futures_core::Stream;
use std::task::{Context, Poll};

const NOTHING: OpAllocations = OpAllocations {
    allocations: 0,
    reallocations: 0,
    bytes: 0,
};

/// One call in progress: what it has been charged so far, and whether it has
/// been recorded. Dropped unrecorded, it records itself as cancelled (or as
/// an error when dropped by a panic, or when what it yielded was an error).
#[derive(Debug)]
struct CallState {
    counters: &'static OpCounters,
    started: Option<u64>,
    allocations: OpAllocations,
    /// The first error seen before the end (a stream's failed item).
    failed: Option<ErrorKind>,
    recorded: bool,
}

impl CallState {
    const fn new(target: OpHandle) -> Self {
        Self {
            counters: target.counters(),
            started: None,
            allocations: NOTHING,
            failed: None,
            recorded: false,
        }
    }

    fn record(&mut self, outcome: Outcome) {
        if self.recorded {
            return;
        }
        self.recorded = true;
        let elapsed = self.started.map(clock::since).unwrap_or_default();
        self.counters.record(outcome, elapsed, self.allocations);
    }
}

impl Drop for CallState {
    fn drop(&mut self) {
        let outcome = if std::thread::panicking() {
            Outcome::Error(ErrorKind::Panic)
        } else if let Some(kind) = self.failed {
            Outcome::Error(kind)
        } else {
            Outcome::Cancelled
        };
        self.record(outcome);
    }
}

/// Adds the allocations of one measured window to a call's total when
/// dropped, so a poll that panics is charged too.
struct Window<'a> {
    charge_to: &'a mut OpAllocations,
    before: OpAllocations,
}

impl<'a> Window<'a> {
    fn open(charge_to: &'a mut OpAllocations) -> Self {
        Self {
            charge_to,
            before: attributable_thread_allocations(),
        }
    }
}

impl Drop for Window<'_> {
    fn drop(&mut self) {
        *self.charge_to += attributable_thread_allocations().since(&self.before);
    }
}

/// Starts the clock on the first poll, then runs `poll` inside a measured
/// window charged to `charge`: the one step every instrumented future and
/// stream shares.
fn poll_charged<T>(
    started: &mut Option<u64>,
    charge: &mut OpAllocations,
    poll: impl FnOnce() -> T,
) -> T {
    started.get_or_insert_with(clock::now);
    let _window = Window::open(charge);
    poll()
}

pin_project! {
    /// A future that charges every poll of `inner` to an operation and
    /// records the call when `inner` completes or is dropped. Built by
    /// `#[instrument]`; `Send` whenever `inner` and the classifier are.
    #[doc(hidden)]
    #[must_use = "futures do nothing unless polled"]
    #[derive(Debug)]
    pub struct Instrumented<F, C> {
        #[pin]
        inner: F,
        classify: Option<C>,
        call: CallState,
    }
}

impl<F, C> Instrumented<F, C>
where
    F: Future,
    C: FnOnce(&F::Output) -> Outcome,
{
    /// Wraps `inner`, a call counted in `target`; `classify` turns its
    /// output into an outcome.
    pub const fn new(target: OpHandle, inner: F, classify: C) -> Self {
        Self {
            inner,
            classify: Some(classify),
            call: CallState::new(target),
        }
    }
}

impl<F, C> Future for Instrumented<F, C>
where
    F: Future,
    C: FnOnce(&F::Output) -> Outcome,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let call = this.call;
        let inner = this.inner;
        let poll = poll_charged(&mut call.started, &mut call.allocations, || inner.poll(cx));
        if let Poll::Ready(output) = &poll {
            let outcome = this.classify.take().map_or(Outcome::Ok, |c| c(output));
            call.record(outcome);
        }
        poll
    }
}

pin_project! {
    /// A stream whose every `poll_next` is charged to one call of an
    /// operation: the call starts at the first poll and ends when the stream
    /// does (`ok`, or an error if any item was one), or when the stream is
    /// dropped before its end: `cancelled`, unless it had already yielded an
    /// error (the usual `while let Some(row) = rows.try_next().await?`), which
    /// makes the call that error.
    ///
    /// `error_kind` says which items are errors, and of what kind.
    ///
    /// ```
    /// use premix_instrument::{CallSite, ErrorKind, InstrumentedStream};
    ///
    /// static ROWS: CallSite = CallSite::new("select");
    /// # fn wrap<S: futures_core::Stream<Item = Result<u8, ()>>>(rows: S) -> impl futures_core::Stream<Item = Result<u8, ()>> {
    /// InstrumentedStream::new(ROWS.target("users", "sqlite"), rows, |item: &Result<u8, ()>| {
    ///     item.as_ref().err().map(|()| ErrorKind::Database)
    /// })
    /// # }
    /// ```
    #[must_use = "streams do nothing unless polled"]
    #[derive(Debug)]
    pub struct InstrumentedStream<S, E> {
        #[pin]
        inner: S,
        error_kind: E,
        call: CallState,
    }
}

impl<S, E> InstrumentedStream<S, E>
where
    S: Stream,
    E: FnMut(&S::Item) -> Option<ErrorKind>,
{
    /// Wraps `inner`, one call counted in `target`; `error_kind` says which
    /// items make the call an error.
    pub const fn new(target: OpHandle, inner: S, error_kind: E) -> Self {
        Self {
            inner,
            error_kind,
            call: CallState::new(target),
        }
    }
}

impl<S, E> Stream for InstrumentedStream<S, E>
where
    S: Stream,
    E: FnMut(&S::Item) -> Option<ErrorKind>,
{
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let this = self.project();
        let call = this.call;
        let inner = this.inner;
        let poll = poll_charged(&mut call.started, &mut call.allocations, || {
            inner.poll_next(cx)
        });
        match &poll {
            Poll::Ready(Some(item)) => {
                if call.failed.is_none() {
                    call.failed = (this.error_kind)(item);
                }
            }
            Poll::Ready(None) => {
                call.record(call.failed.map_or(Outcome::Ok, Outcome::Error));
            }
            Poll::Pending => {}
        }
        poll
    }
}

/// What a [`Measured`] future cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cost {
    /// Allocations made on the polling thread during its polls.
    pub allocations: OpAllocations,
    /// Wall time from the first poll to completion.
    pub elapsed: std::time::Duration,
}

pin_project! {
    /// A future measured on its own, with the same per-poll windows as an
    /// instrumented call, returning its output with its [`Cost`]. For costs
    /// an ORM records itself, such as one eager load per relation and
    /// strategy.
    #[must_use = "futures do nothing unless polled"]
    #[derive(Debug)]
    pub struct Measured<F> {
        #[pin]
        inner: F,
        started: Option<u64>,
        allocations: OpAllocations,
    }
}

impl<F: Future> Measured<F> {
    /// Measures `inner`.
    pub const fn new(inner: F) -> Self {
        Self {
            inner,
            started: None,
            allocations: NOTHING,
        }
    }
}

impl<F: Future> Future for Measured<F> {
    type Output = (F::Output, Cost);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let inner = this.inner;
        let poll = poll_charged(this.started, this.allocations, || inner.poll(cx));
        poll.map(|output| {
            let cost = Cost {
                allocations: *this.allocations,
                elapsed: this.started.map(clock::since).unwrap_or_default(),
            };
            (output, cost)
        })
    }
}

pin_project! {
    /// A future that runs on an operation's behalf after the operation
    /// itself (returning its connection to the pool, say), whose polls'
    /// allocations are charged to it as its driver's share
    /// ([`OpHandle::charge`]).
    #[must_use = "futures do nothing unless polled"]
    #[derive(Debug)]
    pub struct Charged<F> {
        #[pin]
        inner: F,
        target: OpHandle,
    }
}

impl<F: Future> Charged<F> {
    /// Charges `inner`'s polls to `target`.
    pub const fn new(target: OpHandle, inner: F) -> Self {
        Self { inner, target }
    }
}

impl<F: Future> Future for Charged<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let mut made = NOTHING;
        let poll = {
            let _window = Window::open(&mut made);
            this.inner.poll(cx)
        };
        this.target.charge(made);
        poll
    }
}

/// A synchronous call in progress. Built by `#[instrument]` on a plain `fn`.
#[doc(hidden)]
#[derive(Debug)]
pub struct SyncCall {
    call: CallState,
    before: OpAllocations,
}

impl SyncCall {
    /// Starts the clock and the measured window of a call counted in
    /// `target`.
    #[must_use]
    pub fn start(target: OpHandle) -> Self {
        let mut call = CallState::new(target);
        call.started = Some(clock::now());
        Self {
            call,
            before: attributable_thread_allocations(),
        }
    }

    /// Closes the window and records the call.
    pub fn finish(mut self, outcome: Outcome) {
        self.close_window();
        self.call.record(outcome);
    }

    fn close_window(&mut self) {
        self.call.allocations = attributable_thread_allocations().since(&self.before);
    }
}

impl Drop for SyncCall {
    fn drop(&mut self) {
        // Reached without `finish` only by unwinding out of the body; the
        // call state then records an error with what was allocated so far.
        if !self.call.recorded {
            self.close_window();
        }
    }
}

/// The classifier for return types that cannot be named (`impl Trait`).
#[doc(hidden)]
pub const fn unnamed_output_is_ok<T: ?Sized>(_: &T) -> Outcome {
    Outcome::Ok
}
