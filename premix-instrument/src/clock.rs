//! The clock every instrumented call reads twice, also offered to ORMs for
//! what they time themselves (a wait for a connection) as [`Stopwatch`].
//!
//! Why not `std::time::Instant`? On this project's machines it costs about
//! 33 ns a read; the TSC read through `quanta` costs about 13 ns, and is what
//! the Prometheus exporter uses too. A measurement keeps the raw counter
//! value at its start and scales only the difference at its end.

use std::sync::LazyLock;
use std::time::Duration;

/// Calibrated once, on the first use in the process (a few milliseconds,
/// never charged to an operation's allocations: it happens before the first
/// measured window opens).
static CLOCK: LazyLock<quanta::Clock> = LazyLock::new(quanta::Clock::new);

/// A raw reading: meaningful only as the start of [`since`].
pub(crate) fn now() -> u64 {
    CLOCK.raw()
}

/// Time from `start` (a [`now`] reading) to now.
pub(crate) fn since(start: u64) -> Duration {
    Duration::from_nanos(CLOCK.delta_as_nanos(start, CLOCK.raw()))
}

/// Times something with the instrumentation's clock (about 13 ns a read).
///
/// ```
/// let waiting = premix_instrument::Stopwatch::start();
/// // ... wait for a connection ...
/// let waited = waiting.elapsed();
/// # let _ = waited;
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Stopwatch(u64);

impl Stopwatch {
    /// Starts timing now.
    #[must_use]
    pub fn start() -> Self {
        Self(now())
    }

    /// Time since [`start`](Self::start).
    #[must_use]
    pub fn elapsed(self) -> Duration {
        since(self.0)
    }
}
