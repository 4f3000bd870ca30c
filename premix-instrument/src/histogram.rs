//! Time histograms that cost one atomic add per sample, and feed both the
//! in-process snapshot and Prometheus.
//!
//! Why not record into the exporter's histogram on every call? Its
//! `Histogram::record` reads the clock and pushes the sample into an
//! epoch-protected bucket: about 45-60 ns on this project's machines, more
//! than the rest of an instrumented call. So a call adds one to a fixed
//! bucket here (and its nanoseconds to an exact sum), and the export step
//! ([`crate::export`]) hands the new samples to the recorder later, off the
//! hot path.
//!
//! The buckets are *fine*: ten per decade from 100 ns to 100 s (1, 1.25, 1.5,
//! 2, 2.5, 3, 4, 5, 6, 8), so a quantile read in-process (the bucket's
//! midpoint) is within about ±14%. Every exported bucket bound
//! ([`DURATION_BUCKETS_SECONDS`](crate::names::DURATION_BUCKETS_SECONDS)) is
//! also a fine bound, so the exported bucket counts are exact, and the
//! exported `_sum` is the exact sum. Buckets hold `(low, high]`, as
//! Prometheus's `le` does.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Fine bucket upper bounds, in nanoseconds; the last bucket is unbounded.
pub(crate) const FINE_BOUNDS_NANOS: [u64; 91] = fine_bounds();

/// Buckets: one below the first bound, one above the last, one between each
/// pair.
pub(crate) const FINE_BUCKETS: usize = FINE_BOUNDS_NANOS.len() + 1;

const fn fine_bounds() -> [u64; 91] {
    const STEPS_PER_DECADE_X4: [u64; 10] = [4, 5, 6, 8, 10, 12, 16, 20, 24, 32];
    let mut bounds = [0; 91];
    let mut decade = 100; // ns
    let mut i = 0;
    while i < 90 {
        bounds[i] = decade * STEPS_PER_DECADE_X4[i % 10] / 4;
        if i % 10 == 9 {
            decade *= 10;
        }
        i += 1;
    }
    bounds[90] = decade; // 100 s
    bounds
}

/// For each power of two `2^k`, the first fine bucket that can hold a value
/// of `[2^k, 2^(k+1))`: where [`fine_index`] starts its short walk.
const OCTAVE_FIRST_BUCKET: [u8; 64] = octave_first_bucket();

const fn octave_first_bucket() -> [u8; 64] {
    let mut first = [0; 64];
    let mut octave = 0;
    while octave < 64 {
        let low = 1_u64 << octave;
        let mut index = 0;
        while index < FINE_BOUNDS_NANOS.len() && FINE_BOUNDS_NANOS[index] < low {
            index += 1;
        }
        first[octave] = index as u8;
        octave += 1;
    }
    first
}

/// The fine bucket holding `nanos`: bucket `i` holds `(bound[i-1], bound[i]]`.
/// A table lookup by power of two, then at most four comparisons (fine
/// bounds are at least 1.2x apart, so an octave spans at most four).
pub(crate) fn fine_index(nanos: u64) -> usize {
    let octave = 63 - (nanos | 1).leading_zeros() as usize;
    let mut index = OCTAVE_FIRST_BUCKET[octave] as usize;
    while index < FINE_BOUNDS_NANOS.len() && FINE_BOUNDS_NANOS[index] < nanos {
        index += 1;
    }
    index
}

/// `(low, high]` of fine bucket `index`, in nanoseconds; the last bucket's
/// `high` is `u64::MAX`.
pub(crate) const fn fine_range(index: usize) -> (u64, u64) {
    let low = if index == 0 {
        0
    } else {
        FINE_BOUNDS_NANOS[index - 1]
    };
    let high = if index < FINE_BOUNDS_NANOS.len() {
        FINE_BOUNDS_NANOS[index]
    } else {
        u64::MAX
    };
    (low, high)
}

/// Live counts of one time series (an op's duration, its pool wait).
#[derive(Debug)]
pub(crate) struct TimeHistogram {
    buckets: [AtomicU64; FINE_BUCKETS],
    sum_nanos: AtomicU64,
}

impl TimeHistogram {
    pub(crate) const fn new() -> Self {
        Self {
            buckets: [const { AtomicU64::new(0) }; FINE_BUCKETS],
            sum_nanos: AtomicU64::new(0),
        }
    }

    pub(crate) fn record(&self, elapsed: Duration) {
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.buckets[fine_index(nanos)].fetch_add(1, Ordering::Relaxed);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> Latency {
        Latency {
            buckets: self
                .buckets
                .iter()
                .map(|b| b.load(Ordering::Relaxed))
                .collect(),
            sum_nanos: self.sum_nanos.load(Ordering::Relaxed),
        }
    }
}

/// A reading of a time distribution (an operation's latency, its pool wait):
/// counts per fine bucket and the exact sum.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Latency {
    buckets: Vec<u64>,
    sum_nanos: u64,
}

impl Latency {
    /// Number of recorded samples.
    #[must_use]
    pub fn count(&self) -> u64 {
        self.buckets.iter().sum()
    }

    /// The exact sum of the recorded samples.
    #[must_use]
    pub const fn sum(&self) -> Duration {
        Duration::from_nanos(self.sum_nanos)
    }

    /// The exact mean; `None` when nothing was recorded.
    #[must_use]
    pub fn mean(&self) -> Option<Duration> {
        let count = self.count();
        (count > 0).then(|| Duration::from_nanos(self.sum_nanos / count))
    }

    /// The `q`-quantile (`0.5` for the median), as the midpoint of the bucket
    /// that holds it (within about ±14%); `None` when nothing was recorded.
    #[must_use]
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        let count = self.count();
        if count == 0 {
            return None;
        }
        // The rank of the sample we want, 1-based: ceil(q * count), at least 1.
        let wanted = ((q.clamp(0.0, 1.0) * count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        let index = self.buckets.iter().position(|&n| {
            seen += n;
            seen >= wanted
        })?;
        let (low, high) = fine_range(index);
        let high = if high == u64::MAX { low * 2 } else { high };
        Some(Duration::from_nanos(low + (high - low) / 2))
    }

    /// Samples per fine bucket, in bucket order.
    pub(crate) fn buckets(&self) -> &[u64] {
        &self.buckets
    }

    pub(crate) const fn sum_nanos(&self) -> u64 {
        self.sum_nanos
    }

    /// What was recorded after `earlier` (a reading of the same histogram).
    #[must_use]
    pub fn since(&self, earlier: &Self) -> Self {
        Self {
            buckets: self
                .buckets
                .iter()
                .enumerate()
                .map(|(i, &n)| n.saturating_sub(earlier.buckets.get(i).copied().unwrap_or(0)))
                .collect(),
            sum_nanos: self.sum_nanos.saturating_sub(earlier.sum_nanos),
        }
    }

    /// Adds another reading's samples into this one.
    pub(crate) fn merge(&mut self, other: &Self) {
        if self.buckets.len() < other.buckets.len() {
            self.buckets.resize(other.buckets.len(), 0);
        }
        for (mine, theirs) in self.buckets.iter_mut().zip(&other.buckets) {
            *mine += theirs;
        }
        self.sum_nanos += other.sum_nanos;
    }
}

/// Sample values, in seconds, that reproduce `delta`: `count` samples per
/// fine bucket, each inside its bucket, summing to the exact total. Every
/// value is `low + t * (high - low)` with one `t` for all buckets, which
/// exists because the true samples lie in their buckets too (kept a
/// billionth of a bucket's width inside it, so the sum is exact to well
/// under a nanosecond per sample). What the export
/// step records into a `metrics` histogram.
pub(crate) fn representative_samples(delta: &Latency) -> Vec<(f64, u64)> {
    let filled = || delta.buckets().iter().enumerate().filter(|&(_, &n)| n > 0);
    let (mut least, mut most) = (0_f64, 0_f64);
    for (index, &count) in filled() {
        let (low, high) = bounded_range(index);
        least += count as f64 * low;
        most += count as f64 * high;
    }
    let total = delta.sum_nanos() as f64;
    // Strictly inside (low, high], a billionth of the width away from the
    // bounds (under a nanosecond for every bucket below 100 s), so that
    // rounding to seconds cannot move a sample across an exported `le`.
    let t = if most > least {
        ((total - least) / (most - least)).clamp(1e-9, 1.0 - 1e-9)
    } else {
        0.5
    };
    filled()
        .map(|(index, &count)| {
            let (low, high) = bounded_range(index);
            ((low + t * (high - low)) * 1e-9, count)
        })
        .collect()
}

/// A bucket's range with the unbounded last bucket closed at twice its low.
fn bounded_range(index: usize) -> (f64, f64) {
    let (low, high) = fine_range(index);
    let high = if high == u64::MAX { low * 2 } else { high };
    (low as f64, high as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::DURATION_BUCKETS_SECONDS;

    fn reading(samples: &[u64]) -> Latency {
        let histogram = TimeHistogram::new();
        for &nanos in samples {
            histogram.record(Duration::from_nanos(nanos));
        }
        histogram.snapshot()
    }

    #[test]
    fn fine_bounds_are_increasing_and_hold_every_exported_bound() {
        assert!(FINE_BOUNDS_NANOS.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(FINE_BOUNDS_NANOS[0], 100);
        assert_eq!(FINE_BOUNDS_NANOS[1], 125);
        assert_eq!(FINE_BOUNDS_NANOS[90], 100_000_000_000);
        for &seconds in DURATION_BUCKETS_SECONDS {
            let nanos = (seconds * 1e9).round() as u64;
            assert!(
                FINE_BOUNDS_NANOS.contains(&nanos),
                "exported bound {seconds} s is not a fine bound"
            );
        }
    }

    #[test]
    fn the_quick_index_is_the_binary_search() {
        let mut nanos = 0_u64;
        while nanos < u64::MAX / 2 {
            for probe in [nanos.saturating_sub(1), nanos, nanos + 1] {
                assert_eq!(
                    fine_index(probe),
                    FINE_BOUNDS_NANOS.partition_point(|&bound| bound < probe),
                    "{probe} ns"
                );
            }
            nanos += nanos / 8 + 1;
        }
        for &bound in &FINE_BOUNDS_NANOS {
            for probe in [bound - 1, bound, bound + 1] {
                assert_eq!(
                    fine_index(probe),
                    FINE_BOUNDS_NANOS.partition_point(|&b| b < probe)
                );
            }
        }
    }

    #[test]
    fn buckets_hold_low_exclusive_high_inclusive() {
        let cases = [
            (0, 0),
            (100, 0),
            (101, 1),
            (125, 1),
            (126, 2),
            (10_000, 20),
            (10_001, 21),
            (100_000_000_000, 90),
            (u64::MAX, 91),
        ];
        for (nanos, index) in cases {
            assert_eq!(fine_index(nanos), index, "{nanos} ns");
            let (low, high) = fine_range(index);
            assert!(nanos == 0 || (low < nanos && nanos <= high), "{nanos} ns");
        }
    }

    #[test]
    fn quantiles_are_bucket_midpoints_and_the_sum_is_exact() {
        let latency = reading(&[1_000, 1_000, 1_000, 50_000]);
        assert_eq!(latency.count(), 4);
        assert_eq!(latency.sum(), Duration::from_nanos(53_000));
        assert_eq!(latency.mean(), Some(Duration::from_nanos(13_250)));
        // 1 µs lies in (800 ns, 1 µs]; 50 µs in (40 µs, 50 µs].
        assert_eq!(latency.quantile(0.5), Some(Duration::from_nanos(900)));
        assert_eq!(latency.quantile(0.99), Some(Duration::from_nanos(45_000)));
        assert_eq!(Latency::default().quantile(0.5), None);
    }

    #[test]
    fn representative_samples_keep_buckets_and_the_exact_sum() {
        let samples = [150, 160, 9_000, 10_000, 10_001, 73_000, 2_000_000_000];
        let delta = reading(&samples);
        let values = representative_samples(&delta);
        let total: f64 = values.iter().map(|&(v, n)| v * n as f64).sum();
        let exact = samples.iter().sum::<u64>() as f64 * 1e-9;
        assert!((total - exact).abs() < 1e-9, "{total} vs {exact}");
        // Every exported bucket counts what the true samples would put there.
        for &le in DURATION_BUCKETS_SECONDS {
            let want = samples.iter().filter(|&&s| s as f64 * 1e-9 <= le).count() as u64;
            let got: u64 = values
                .iter()
                .filter(|&&(v, _)| v <= le)
                .map(|&(_, n)| n)
                .sum();
            assert_eq!(got, want, "le={le}");
        }
    }
}
