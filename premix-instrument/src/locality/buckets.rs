//! Parent-count buckets: where the in-process split of eager loads by size
//! has its edges. Its own file because the ORM builds them in a `const`
//! (checked there) and everything else only reads them.

/// Parent-count buckets: the in-process split of an
/// [`EagerSite`](super::EagerSite)'s loads by how many parents they served
/// (the exported `premix_eager_load_parents` histogram has its own buckets,
/// [`names::PARENT_COUNT_BUCKETS`](crate::names::PARENT_COUNT_BUCKETS)).
///
/// Built from inclusive upper bounds: `new(&[1, 10])` is `1`, `2-10` and
/// `11+`. A load of 0 parents counts in the first bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParentBuckets {
    upper_bounds: [u64; ParentBuckets::MAX - 1],
    bounded: usize,
}

impl ParentBuckets {
    /// The most buckets, the open last one included.
    pub const MAX: usize = 32;

    /// Decades: `1`, `2-10`, `11-100`, `101-1000`, `1001-10000`, `10001+`.
    pub const DEFAULT: Self = Self::new(&[1, 10, 100, 1_000, 10_000]);

    /// Buckets ending at each of `upper_bounds` (inclusive), then one open
    /// bucket above the last.
    ///
    /// # Panics
    /// Unless the bounds are strictly increasing, the first at least 1, the
    /// last below `u64::MAX`, and fewer than [`MAX`](Self::MAX); in a
    /// `const` or `static`, that is a compile error.
    #[must_use]
    pub const fn new(upper_bounds: &[u64]) -> Self {
        assert!(
            upper_bounds.len() < Self::MAX,
            "ParentBuckets: too many bounds (at most ParentBuckets::MAX - 1)"
        );
        let mut bounds = [0; Self::MAX - 1];
        let mut i = 0;
        while i < upper_bounds.len() {
            let bound = upper_bounds[i];
            assert!(
                bound >= 1 && bound < u64::MAX,
                "ParentBuckets: a bound must be at least 1 and below u64::MAX"
            );
            assert!(
                i == 0 || bound > upper_bounds[i - 1],
                "ParentBuckets: bounds must be strictly increasing"
            );
            bounds[i] = bound;
            i += 1;
        }
        Self {
            upper_bounds: bounds,
            bounded: upper_bounds.len(),
        }
    }

    /// How many buckets, the open last one included.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.bounded + 1
    }

    /// Never: there is always the open bucket.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        false
    }

    /// The inclusive upper bounds, the open bucket's left out.
    #[must_use]
    pub fn upper_bounds(&self) -> &[u64] {
        &self.upper_bounds[..self.bounded]
    }

    /// Each bucket's `(min, max)`, inclusive; the last ends at `u64::MAX`.
    pub fn ranges(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        let bounds = self.upper_bounds();
        (0..self.len()).map(move |i| {
            let min = if i == 0 { 1 } else { bounds[i - 1] + 1 };
            (min, bounds.get(i).copied().unwrap_or(u64::MAX))
        })
    }

    /// The bucket `parents` falls in.
    #[must_use]
    pub fn index_of(&self, parents: u64) -> usize {
        self.upper_bounds()
            .partition_point(|&bound| bound < parents)
    }
}

impl Default for ParentBuckets {
    fn default() -> Self {
        Self::DEFAULT
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_buckets_are_decades_and_cover_every_count_once() {
        let buckets = ParentBuckets::DEFAULT;
        for (parents, bucket) in [
            (0, 0),
            (1, 0),
            (2, 1),
            (10, 1),
            (11, 2),
            (101, 3),
            (1_000, 3),
            (1_001, 4),
            (2_048, 4),
            (10_000, 4),
            (10_001, 5),
            (u64::MAX, 5),
        ] {
            assert_eq!(buckets.index_of(parents), bucket, "{parents}");
        }
        let ranges: Vec<_> = buckets.ranges().collect();
        assert_eq!(ranges.len(), buckets.len());
        assert_eq!(ranges[0], (1, 1));
        assert_eq!(ranges[ranges.len() - 1], (10_001, u64::MAX));
        assert!(ranges.windows(2).all(|w| w[0].1 + 1 == w[1].0));
    }

    #[test]
    #[should_panic(expected = "strictly increasing")]
    fn buckets_must_increase() {
        let _ = ParentBuckets::new(&[10, 10]);
    }

    #[test]
    #[should_panic(expected = "at least 1")]
    fn buckets_start_at_one_parent() {
        let _ = ParentBuckets::new(&[0, 10]);
    }
}
