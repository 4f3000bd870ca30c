//! The readings of eager loads: per (model, relation, strategy), by
//! parent-count bucket, merged over the sites and backends that split the
//! same relation by the same buckets. What [`Snapshot`](crate::Snapshot)
//! holds and the report prints.

use std::sync::PoisonError;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::REGISTRY;

/// One parent-count bucket of an [`EagerStats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BucketStats {
    /// Smallest parent count in the bucket.
    pub parents_min: u64,
    /// Largest parent count in the bucket.
    pub parents_max: u64,
    /// Loads that fell in it.
    pub loads: u64,
    /// Parents over those loads.
    pub parents: u64,
    /// Time over those loads.
    pub duration: Duration,
    /// Heap blocks over those loads.
    pub blocks: u64,
}

impl BucketStats {
    /// Time per parent, `None` when empty.
    #[must_use]
    pub fn time_per_parent(&self) -> Option<Duration> {
        (self.parents > 0).then(|| self.duration / u32::try_from(self.parents).unwrap_or(u32::MAX))
    }

    /// Heap blocks per parent, `None` when empty.
    #[must_use]
    pub fn blocks_per_parent(&self) -> Option<f64> {
        (self.parents > 0).then(|| self.blocks as f64 / self.parents as f64)
    }

    fn since(&self, earlier: &Self) -> Self {
        Self {
            loads: self.loads.saturating_sub(earlier.loads),
            parents: self.parents.saturating_sub(earlier.parents),
            duration: self.duration.saturating_sub(earlier.duration),
            blocks: self.blocks.saturating_sub(earlier.blocks),
            ..*self
        }
    }
}

/// Eager loads of one (model, relation, strategy).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EagerStats {
    /// The parent model.
    pub model: &'static str,
    /// The relation.
    pub relation: &'static str,
    /// The grouping strategy: one of the ORM's [`Strategy::LABELS`](super::Strategy::LABELS).
    pub strategy: &'static str,
    /// Children found, over all loads.
    pub children: u64,
    /// Bytes allocated, over all loads.
    pub bytes: u64,
    /// By parent count, in the order of the site's [`ParentBuckets`](super::ParentBuckets).
    pub buckets: Vec<BucketStats>,
}

impl EagerStats {
    /// Loads over all buckets.
    #[must_use]
    pub fn loads(&self) -> u64 {
        self.buckets.iter().map(|b| b.loads).sum()
    }

    /// Parents over all buckets.
    #[must_use]
    pub fn parents(&self) -> u64 {
        self.buckets.iter().map(|b| b.parents).sum()
    }

    /// Whether `other` counts the same loads: the same (model, relation,
    /// strategy) split by the same buckets.
    pub(crate) fn same_series(&self, other: &Self) -> bool {
        (self.model, self.relation, self.strategy) == (other.model, other.relation, other.strategy)
            && self.buckets.len() == other.buckets.len()
            && self
                .buckets
                .iter()
                .zip(&other.buckets)
                .all(|(a, b)| (a.parents_min, a.parents_max) == (b.parents_min, b.parents_max))
    }

    pub(crate) fn since(&self, earlier: Option<&Self>) -> Self {
        let Some(earlier) = earlier else {
            return self.clone();
        };
        Self {
            children: self.children.saturating_sub(earlier.children),
            bytes: self.bytes.saturating_sub(earlier.bytes),
            buckets: self
                .buckets
                .iter()
                .zip(&earlier.buckets)
                .map(|(now, then)| now.since(then))
                .collect(),
            ..self.clone()
        }
    }
}

/// Every (model, relation, strategy) with at least one load, sorted by
/// model and relation, strategies in the order their ORM declared them.
pub(crate) fn snapshot() -> Vec<EagerStats> {
    let registered = REGISTRY
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let mut out: Vec<EagerStats> = Vec::new();
    for counters in registered {
        for by in &counters.strategies {
            let reading = EagerStats {
                model: counters.model,
                relation: counters.relation,
                strategy: by.label,
                children: by.children.load(Ordering::Relaxed),
                bytes: by.bytes.load(Ordering::Relaxed),
                buckets: by
                    .buckets
                    .iter()
                    .zip(counters.parent_buckets.ranges())
                    .map(|(totals, range)| totals.read(range))
                    .collect(),
            };
            if reading.loads() == 0 {
                continue;
            }
            // Several sites (or backends) may load the same relation: merge
            // them when they split it by the same buckets.
            match out.iter_mut().find(|e| e.same_series(&reading)) {
                Some(existing) => {
                    existing.children += reading.children;
                    existing.bytes += reading.bytes;
                    for (mine, theirs) in existing.buckets.iter_mut().zip(&reading.buckets) {
                        mine.loads += theirs.loads;
                        mine.parents += theirs.parents;
                        mine.duration += theirs.duration;
                        mine.blocks += theirs.blocks;
                    }
                }
                None => out.push(reading),
            }
        }
    }
    // Stable: strategies keep their declared order within a relation.
    out.sort_by(|a, b| (a.model, a.relation).cmp(&(b.model, b.relation)));
    out
}
