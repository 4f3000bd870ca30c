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
//!
//! The ORM describes its own choice, once, where it declares its
//! [`EagerSite`]: its strategy type implements [`Strategy`] (the closed set
//! of `strategy` label values), and [`ParentBuckets`] put the bucket edges
//! where its own threshold is, so each bucket holds one strategy. This
//! crate knows no ORM's strategies or thresholds; an ORM that says nothing
//! about buckets gets [`ParentBuckets::DEFAULT`], decades.

mod buckets;
mod stats;

pub use buckets::ParentBuckets;
pub(crate) use stats::snapshot;
pub use stats::{BucketStats, EagerStats};

use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use metrics::{Counter, Histogram};

use crate::alloc::exclude_from_attribution;
use crate::callsite::{find_or_register, same_label};
use crate::names::{self, label};
use crate::scope::Cost;

/// The grouping strategies of one ORM, as its eager loads report them.
///
/// Implemented by the ORM's own type, so there is one definition of its
/// strategies; [`LABELS`](Self::LABELS) is declared once and is the closed
/// set of the `strategy` label, whatever the ORM records.
///
/// ```
/// use premix_instrument::locality::{EagerSite, Strategy};
///
/// #[derive(Clone, Copy)]
/// enum Grouping {
///     Vec,
///     HashMap,
/// }
///
/// impl Strategy for Grouping {
///     const LABELS: &'static [&'static str] = &["vec", "hashmap"];
///     fn index(self) -> usize {
///         self as usize
///     }
/// }
///
/// static EAGER: EagerSite<Grouping> = EagerSite::new();
/// ```
pub trait Strategy: Copy {
    /// Every strategy's `strategy` label value, indexed by
    /// [`index`](Self::index): at least one, at most [`MAX_STRATEGIES`],
    /// distinct, snake_case (checked where the [`EagerSite`] is declared).
    const LABELS: &'static [&'static str];

    /// This strategy's position in [`LABELS`](Self::LABELS).
    // A position past the end is a bug in the implementation: debug builds
    // panic on it, release builds drop the load rather than mislabel it.
    fn index(self) -> usize;
}

/// The most strategies one [`Strategy`] type may declare.
pub const MAX_STRATEGIES: usize = 8;

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
    label: &'static str,
    children: AtomicU64,
    bytes: AtomicU64,
    /// One per bucket of the site's [`ParentBuckets`].
    buckets: Box<[Totals]>,
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
    parent_buckets: ParentBuckets,
    /// One per label of the site's [`Strategy`] type, in its order.
    strategies: Box<[StrategyCounters]>,
}

static REGISTRY: Mutex<Vec<&'static RelationCounters>> = Mutex::new(Vec::new());

impl RelationCounters {
    fn register(
        model: &'static str,
        backend: &'static str,
        relation: &'static str,
        labels: &'static [&'static str],
        parent_buckets: ParentBuckets,
    ) -> &'static Self {
        let counters: &'static Self = Box::leak(Box::new(Self {
            model,
            backend,
            relation,
            parent_buckets,
            strategies: labels
                .iter()
                .map(|&label| StrategyCounters {
                    label,
                    children: AtomicU64::new(0),
                    bytes: AtomicU64::new(0),
                    buckets: (0..parent_buckets.len())
                        .map(|_| Totals::default())
                        .collect(),
                    exported: OnceLock::new(),
                })
                .collect(),
        }));
        REGISTRY
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(counters);
        counters
    }
}

/// The eager loads of one code path, grouped by the ORM's strategy type
/// `S`. Declare one as a `static` where the ORM loads relations.
#[derive(Debug)]
pub struct EagerSite<S> {
    relations: [OnceLock<&'static RelationCounters>; 64],
    overflow: OnceLock<&'static RelationCounters>,
    parent_buckets: ParentBuckets,
    strategy: PhantomData<fn(S)>,
}

impl<S: Strategy> EagerSite<S> {
    /// An empty site whose loads are split by [`ParentBuckets::DEFAULT`].
    #[must_use]
    pub const fn new() -> Self {
        Self::with_parent_buckets(ParentBuckets::DEFAULT)
    }

    /// An empty site whose loads are split by `parent_buckets`: the ORM's
    /// own, around the parent count where it switches strategy.
    ///
    /// # Panics
    /// Unless `S` declares between 1 and [`MAX_STRATEGIES`] labels, each
    /// distinct, non-empty snake_case; in a `static`, that is a compile
    /// error.
    #[must_use]
    pub const fn with_parent_buckets(parent_buckets: ParentBuckets) -> Self {
        assert!(
            !S::LABELS.is_empty() && S::LABELS.len() <= MAX_STRATEGIES,
            "Strategy::LABELS: declare between 1 and MAX_STRATEGIES labels"
        );
        assert!(
            labels_are_valid(S::LABELS),
            "Strategy::LABELS: each label must be distinct, non-empty snake_case"
        );
        Self {
            relations: [const { OnceLock::new() }; 64],
            overflow: OnceLock::new(),
            parent_buckets,
            strategy: PhantomData,
        }
    }

    /// The buckets this site's loads are split by.
    #[must_use]
    pub const fn parent_buckets(&self) -> ParentBuckets {
        self.parent_buckets
    }

    /// Counts one eager load of `relation` on `model` and `backend`, and
    /// sends it to the `metrics` recorder.
    pub fn record(
        &self,
        model: &'static str,
        backend: &'static str,
        relation: &'static str,
        strategy: S,
        load: EagerLoad,
    ) {
        let index = strategy.index();
        debug_assert!(
            index < S::LABELS.len(),
            "Strategy::index {index} is past the end of Strategy::LABELS"
        );
        exclude_from_attribution(|| {
            let counters = find_or_register(
                &self.relations,
                &self.overflow,
                |c| {
                    same_label(c.model, model)
                        && same_label(c.backend, backend)
                        && same_label(c.relation, relation)
                },
                |overflow| {
                    RelationCounters::register(
                        overflow.unwrap_or(model),
                        backend,
                        relation,
                        S::LABELS,
                        self.parent_buckets,
                    )
                },
            );
            let Some(by_strategy) = counters.strategies.get(index) else {
                return;
            };
            by_strategy.buckets[counters.parent_buckets.index_of(load.parents)].add(&load);
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
                    (label::STRATEGY, by_strategy.label),
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

/// Whether every label is non-empty snake_case (`[a-z0-9_]`) and no two
/// are the same; a `const fn`, so a bad set fails the ORM's build.
const fn labels_are_valid(labels: &[&str]) -> bool {
    let mut i = 0;
    while i < labels.len() {
        let bytes = labels[i].as_bytes();
        if bytes.is_empty() {
            return false;
        }
        let mut b = 0;
        while b < bytes.len() {
            if !matches!(bytes[b], b'a'..=b'z' | b'0'..=b'9' | b'_') {
                return false;
            }
            b += 1;
        }
        let mut j = 0;
        while j < i {
            if same_bytes(labels[j].as_bytes(), bytes) {
                return false;
            }
            j += 1;
        }
        i += 1;
    }
    true
}

const fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

impl<S: Strategy> Default for EagerSite<S> {
    fn default() -> Self {
        Self::new()
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug)]
    enum Grouping {
        Sorted,
        Hashed,
    }

    impl Strategy for Grouping {
        const LABELS: &'static [&'static str] = &["sorted", "hashed"];
        fn index(self) -> usize {
            self as usize
        }
    }

    fn load(parents: u64) -> EagerLoad {
        EagerLoad {
            parents,
            children: parents * 2,
            cost: Cost::default(),
        }
    }

    /// The loads of `model` in this process's registry (each test uses its
    /// own model: tests share the registry).
    fn loads_of(model: &str) -> Vec<EagerStats> {
        snapshot()
            .into_iter()
            .filter(|e| e.model == model)
            .collect()
    }

    #[test]
    fn configured_buckets_decide_where_a_load_counts() {
        const AROUND_64: ParentBuckets = ParentBuckets::new(&[63, 64, 65]);
        static SITE: EagerSite<Grouping> = EagerSite::with_parent_buckets(AROUND_64);
        for parents in [1, 63, 64, 65, 66, 5_000] {
            SITE.record(
                "bucket_test",
                "sqlite",
                "rel",
                Grouping::Sorted,
                load(parents),
            );
        }
        SITE.record("bucket_test", "sqlite", "rel", Grouping::Hashed, load(65));
        let stats = loads_of("bucket_test");
        let labels: Vec<_> = stats.iter().map(|e| e.strategy).collect();
        assert_eq!(labels, ["sorted", "hashed"], "declared order, own labels");
        let sorted = &stats[0];
        let by_bucket: Vec<_> = sorted
            .buckets
            .iter()
            .map(|b| (b.parents_min, b.parents_max, b.loads, b.parents))
            .collect();
        assert_eq!(
            by_bucket,
            [
                (1, 63, 2, 64),
                (64, 64, 1, 64),
                (65, 65, 1, 65),
                (66, u64::MAX, 2, 5_066),
            ]
        );
        assert_eq!(sorted.children, 2 * (1 + 63 + 64 + 65 + 66 + 5_000));
        let hashed = &stats[1];
        assert_eq!(hashed.buckets[2].loads, 1);
        assert_eq!(hashed.loads(), 1);
    }

    #[test]
    fn strategy_labels_are_checked() {
        assert!(labels_are_valid(&["vec", "hashmap", "b_tree2"]));
        for bad in [&["vec", "vec"][..], &[""], &["HashMap"], &["hash map"]] {
            assert!(!labels_are_valid(bad), "{bad:?}");
        }
    }

    #[test]
    fn sites_with_other_buckets_are_not_merged() {
        static FINE: EagerSite<Grouping> =
            EagerSite::with_parent_buckets(ParentBuckets::new(&[2, 4]));
        static DEFAULT: EagerSite<Grouping> = EagerSite::new();
        FINE.record("merge_test", "sqlite", "rel", Grouping::Sorted, load(3));
        DEFAULT.record("merge_test", "postgresql", "rel", Grouping::Sorted, load(3));
        DEFAULT.record("merge_test", "sqlite", "rel", Grouping::Sorted, load(7));
        let stats = loads_of("merge_test");
        assert_eq!(stats.len(), 2, "{stats:#?}");
        let default = stats
            .iter()
            .find(|e| e.buckets.len() == ParentBuckets::DEFAULT.len())
            .expect("the default-bucket series");
        assert_eq!(
            (default.loads(), default.parents()),
            (2, 10),
            "backends merged"
        );
        assert_eq!(default.buckets[1].loads, 2);
    }
}
