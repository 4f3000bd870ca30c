//! The allocation-regression gate: what each of the fork's operations
//! allocates per call, pinned exactly.
//!
//! [`SCENARIOS`] are the operations, [`EXPECTED`] their pinned figures.
//! The `gate` test runs each scenario in a window of its own, on a
//! current-thread runtime with the driver's threads serialized
//! ([`premix_instrument::serial`]), and checks, over [`CALLS`] calls:
//!
//! - with the fork's `instrument` feature: the op's own figure (snapshot)
//!   equals [`EXPECTED`], and equals what the whole process allocated in the
//!   window: nothing is missed (the SQLite worker thread's share included)
//!   and the bookkeeping allocates nothing;
//! - without it (`--no-default-features`): the process-wide blocks equal
//!   [`EXPECTED`] too: what the op is charged is what it costs a program
//!   built without instrumentation.

#![allow(missing_docs)] // models: their fields speak for themselves

mod expected;
mod scenarios;

pub use expected::{CALLS, EXPECTED, Expected, UNPINNED};
pub use scenarios::{Fixtures, Post, SCENARIOS, Scenario, User, run, seed};
