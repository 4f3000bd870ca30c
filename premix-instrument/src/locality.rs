//! Eager-loading locality: which grouping strategy an eager load used, at
//! how many parents, and what it cost.
//!
//! An ORM that loads children in batches must find each child's parent: a
//! sorted `Vec` with binary search is compact and fast for few parents, a
//! `HashMap` wins for many. Where the crossover lies is an empirical
//! question; these counters answer it on real workloads. Per (model,
//! relation, strategy): loads, parents, children, time and allocations,
//! also split by parent-count bucket so cost per parent can be compared
//! across sizes. Exported as `premix_eager_load_total` and the
//! `premix_eager_load_parents` / `premix_eager_load_duration_seconds`
//! histograms.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use metrics::{Counter, Histogram};

use crate::alloc::exclude_from_attribution;
use crate::callsite::{find_or_register, same_label};
use crate::names::{self, label};
use crate::scope::Cost;

/// How children found their parent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Strategy {
    /// Sorted `Vec` of parent ids and binary search.
    Vec,
    /// `HashMap` from parent id.
    HashMap,
}

impl Strategy {
    /// The `strategy` label value.
    #[must_use]
    pub const fn as_label(self) -> &'static str {
        match self {
            Self::Vec => "vec",
            Self::HashMap => "hashmap",
        }
    }
}

/// Parent-count buckets `(min, max)`, inclusive; they bracket the fork's
/// default Vec/HashMap threshold (2048).
pub const PARENT_BUCKETS: [(u64, u64); 7] = [
    (1, 1),
    (2, 10),
    (11, 100),
    (101, 1_000),
    (1_001, 2_048),
    (2_049, 10_000),
    (10_001, u64::MAX),
];

fn bucket_of(parents: u64) -> usize {
    PARENT_BUCKETS
        .iter()
        .position(|&(min, max)| (min..=max).contains(&parents))
        .unwrap_or(0)
}

/// One eager load, as the ORM reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EagerLoad {
    /// Parents the load served.
    pub parents: u64,
    /// Children it found.
    pub children: u64,
    /// What it cost: child queries and grouping.
    pub cost: Cost,
}

#[derive(Debug, Default)]
struct Totals {
    loads: AtomicU64,
    parents: AtomicU64,
    nanos: AtomicU64,
    blocks: AtomicU64,
}

impl Totals {
    fn add(&self, load: &EagerLoad) {
        let nanos = u64::try_from(load.cost.elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.loads.fetch_add(1, Ordering::Relaxed);
        self.parents.fetch_add(load.parents, Ordering::Relaxed);
        self.nanos.fetch_add(nanos, Ordering::Relaxed);
        self.blocks
            .fetch_add(load.cost.allocations.blocks(), Ordering::Relaxed);
    }

    fn read(&self, (min, max): (u64, u64)) -> BucketStats {
        BucketStats {
            parents_min: min,
            parents_max: max,
            loads: self.loads.load(Ordering::Relaxed),
            parents: self.parents.load(Ordering::Relaxed),
            duration: Duration::from_nanos(self.nanos.load(Ordering::Relaxed)),
            blocks: self.blocks.load(Ordering::Relaxed),
        }
    }
}

#[derive(Debug)]
struct StrategyCounters {
    children: AtomicU64,
    bytes: AtomicU64,
    buckets: [Totals; PARENT_BUCKETS.len()],
    exported: OnceLock<Handles>,
}

#[derive(Debug)]
struct Handles {
    total: Counter,
    parents: Histogram,
    duration: Histogram,
}

#[derive(Debug)]
struct RelationCounters {
    model: &'static str,
    backend: &'static str,
    relation: &'static str,
    strategies: [StrategyCounters; 2],
}

static REGISTRY: Mutex<Vec<&'static RelationCounters>> = Mutex::new(Vec::new());

impl RelationCounters {
    fn register(
        model: &'static str,
        backend: &'static str,
        relation: &'static str,
    ) -> &'static Self {
        let counters: &'static Self = Box::leak(Box::new(Self {
            model,
            backend,
            relation,
            strategies: std::array::from_fn(|_| StrategyCounters {
                children: AtomicU64::new(0),
                bytes: AtomicU64::new(0),
                buckets: Default::default(),
                exported: OnceLock::new(),
            }),
        }));
        REGISTRY
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(counters);
        counters
    }
}

/// The eager loads of one code path. Declare one as a `static` where the
/// ORM loads relations.
#[derive(Debug)]
pub struct EagerSite {
    relations: [OnceLock<&'static RelationCounters>; 64],
    overflow: OnceLock<&'static RelationCounters>,
}

impl EagerSite {
    /// An empty site.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            relations: [const { OnceLock::new() }; 64],
            overflow: OnceLock::new(),
        }
    }

    /// Counts one eager load of `relation` on `model` and `backend`, and
    /// sends it to the `metrics` recorder.
    pub fn record(
        &self,
        model: &'static str,
        backend: &'static str,
        relation: &'static str,
        strategy: Strategy,
        load: EagerLoad,
    ) {
        exclude_from_attribution(|| {
            let counters = find_or_register(
                &self.relations,
                &self.overflow,
                |c| {
                    same_label(c.model, model)
                        && same_label(c.backend, backend)
                        && same_label(c.relation, relation)
                },
                |overflow| RelationCounters::register(overflow.unwrap_or(model), backend, relation),
            );
            let by_strategy = &counters.strategies[strategy as usize];
            by_strategy.buckets[bucket_of(load.parents)].add(&load);
            by_strategy
                .children
                .fetch_add(load.children, Ordering::Relaxed);
            by_strategy
                .bytes
                .fetch_add(load.cost.allocations.bytes, Ordering::Relaxed);
            let handles = by_strategy.exported.get_or_init(|| {
                let labels = [
                    (label::MODEL, counters.model),
                    (label::BACKEND, backend),
                    (label::RELATION, relation),
                    (label::STRATEGY, strategy.as_label()),
                ];
                Handles {
                    total: metrics::counter!(names::EAGER_LOAD_TOTAL, &labels),
                    parents: metrics::histogram!(names::EAGER_LOAD_PARENTS, &labels),
                    duration: metrics::histogram!(names::EAGER_LOAD_DURATION_SECONDS, &labels),
                }
            });
            handles.total.increment(1);
            handles.parents.record(load.parents as f64);
            handles.duration.record(load.cost.elapsed.as_secs_f64());
        });
    }
}

impl Default for EagerSite {
    fn default() -> Self {
        Self::new()
    }
}

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
    /// The grouping strategy.
    pub strategy: Strategy,
    /// Children found, over all loads.
    pub children: u64,
    /// Bytes allocated, over all loads.
    pub bytes: u64,
    /// By parent count, in [`PARENT_BUCKETS`] order.
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

/// Every (model, relation, strategy) with at least one load, sorted.
pub(crate) fn snapshot() -> Vec<EagerStats> {
    let registered = REGISTRY
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let mut out: Vec<EagerStats> = Vec::new();
    for counters in registered {
        for strategy in [Strategy::Vec, Strategy::HashMap] {
            let by = &counters.strategies[strategy as usize];
            let reading = EagerStats {
                model: counters.model,
                relation: counters.relation,
                strategy,
                children: by.children.load(Ordering::Relaxed),
                bytes: by.bytes.load(Ordering::Relaxed),
                buckets: by
                    .buckets
                    .iter()
                    .zip(PARENT_BUCKETS)
                    .map(|(totals, range)| totals.read(range))
                    .collect(),
            };
            if reading.loads() == 0 {
                continue;
            }
            // Several sites may load the same relation; merge them.
            match out.iter_mut().find(|e| {
                (e.model, e.relation, e.strategy) == (reading.model, reading.relation, strategy)
            }) {
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
    out.sort_by(|a, b| (a.model, a.relation, a.strategy).cmp(&(b.model, b.relation, b.strategy)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_every_count_once() {
        for (parents, bucket) in [
            (1, 0),
            (2, 1),
            (10, 1),
            (11, 2),
            (101, 3),
            (1_000, 3),
            (2_048, 4),
            (2_049, 5),
            (10_001, 6),
        ] {
            assert_eq!(bucket_of(parents), bucket, "{parents}");
        }
        assert!(PARENT_BUCKETS.windows(2).all(|w| w[0].1 + 1 == w[1].0));
    }
}
