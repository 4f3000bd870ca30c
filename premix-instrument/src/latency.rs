//! An allocation-free latency histogram for the in-process snapshot.
//!
//! Prometheus gets exact bucket counts from the exporter; the terminal report
//! and tests need p50/p99 without a recorder. Recording must not allocate or
//! lock, so the buckets are a fixed array of atomics: log-linear, four buckets
//! per power of two of nanoseconds, which bounds the error of a reported
//! quantile (the bucket's midpoint) to about ±11%. Exact timings belong in
//! benches; this is for reading a report.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Buckets per power of two.
const SUB_BUCKETS: u64 = 4;
/// 0..4 ns exactly, then four buckets per octave up to 2^64 ns.
const BUCKET_COUNT: usize = 4 + 62 * 4;

fn bucket_index(nanos: u64) -> usize {
    if nanos < SUB_BUCKETS {
        return nanos as usize;
    }
    let octave = u64::from(63 - nanos.leading_zeros()); // >= 2
    let sub = (nanos >> (octave - 2)) & (SUB_BUCKETS - 1);
    (SUB_BUCKETS + (octave - 2) * SUB_BUCKETS + sub) as usize
}

/// The half-open range `[low, high)` of nanoseconds that bucket `index` holds.
fn bucket_bounds(index: usize) -> (u64, u64) {
    let index = index as u64;
    if index < SUB_BUCKETS {
        return (index, index + 1);
    }
    let octave = (index - SUB_BUCKETS) / SUB_BUCKETS + 2;
    let sub = (index - SUB_BUCKETS) % SUB_BUCKETS;
    let low = (SUB_BUCKETS + sub) << (octave - 2);
    (low, low.saturating_add(1 << (octave - 2)))
}

/// Live counts, written by every call of one (op, model).
#[derive(Debug)]
pub(crate) struct LatencyHistogram {
    buckets: [AtomicU64; BUCKET_COUNT],
}

impl LatencyHistogram {
    pub(crate) const fn new() -> Self {
        Self {
            buckets: [const { AtomicU64::new(0) }; BUCKET_COUNT],
        }
    }

    pub(crate) fn record(&self, elapsed: Duration) {
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.buckets[bucket_index(nanos)].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> Latency {
        Latency {
            buckets: self
                .buckets
                .iter()
                .map(|b| b.load(Ordering::Relaxed))
                .collect(),
        }
    }
}

/// A reading of an operation's latency distribution.
///
/// There is no exact sum here: keeping one would cost another atomic add on
/// every call, and the report needs quantiles. Prometheus's
/// `premix_op_duration_seconds_sum` is exact.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Latency {
    buckets: Vec<u64>,
}

impl Latency {
    /// Number of recorded calls.
    #[must_use]
    pub fn count(&self) -> u64 {
        self.buckets.iter().sum()
    }

    /// The `q`-quantile (`0.5` for the median), as the midpoint of the bucket
    /// that holds it (within about ±11%); `None` when nothing was recorded.
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
        let (low, high) = bucket_bounds(index);
        Some(Duration::from_nanos(low + (high - low) / 2))
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_falls_inside_its_bucket() {
        let cases = [
            0,
            1,
            3,
            4,
            5,
            7,
            8,
            9,
            1000,
            1023,
            1024,
            123_456_789,
            u64::MAX,
        ];
        for nanos in cases {
            let index = bucket_index(nanos);
            let (low, high) = bucket_bounds(index);
            assert!(index < BUCKET_COUNT, "{nanos}");
            assert!(
                low <= nanos && (nanos < high || high == u64::MAX),
                "{nanos}: [{low}, {high})"
            );
        }
    }

    #[test]
    fn buckets_tile_the_line_without_gaps() {
        for index in 0..BUCKET_COUNT - 1 {
            assert_eq!(
                bucket_bounds(index).1,
                bucket_bounds(index + 1).0,
                "{index}"
            );
        }
    }

    #[test]
    fn quantiles_come_from_the_right_bucket() {
        let histogram = LatencyHistogram::new();
        for micros in 1..=100 {
            histogram.record(Duration::from_micros(micros));
        }
        let latency = histogram.snapshot();
        assert_eq!(latency.count(), 100);
        let p50 = latency.quantile(0.5).unwrap().as_nanos() as f64;
        let p99 = latency.quantile(0.99).unwrap().as_nanos() as f64;
        assert!((p50 / 50_000.0 - 1.0).abs() < 0.13, "p50 {p50}");
        assert!((p99 / 99_000.0 - 1.0).abs() < 0.13, "p99 {p99}");
        assert_eq!(Latency::default().quantile(0.5), None);

        let earlier = latency.clone();
        histogram.record(Duration::from_secs(1));
        let later = histogram.snapshot().since(&earlier);
        assert_eq!(later.count(), 1);
        let p50 = later.quantile(0.5).unwrap().as_secs_f64();
        assert!((p50 - 1.0).abs() < 0.13, "{p50}");
    }
}
