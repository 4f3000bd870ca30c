//! The pools the fork built: their statement-cache settings and gauges.
//!
//! An operation on a `&Pool` asks whether the fork built it (to know its
//! cache capacity, whether its connections are identified, and to sample
//! its gauges). Pools are told apart by the address of their options, which
//! lives as long as the pool; a new pool at a dropped one's address is
//! registered over it. Registration is rare and takes a lock; the lookup
//! every operation makes is a thread-local compare against a generation
//! counter, with the lock only after a registration.

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use parking_lot::RwLock;
use premix_instrument::{PoolGauges, TRACKED_POOLS};
use sqlx::pool::{PoolConnection, PoolOptions};
use sqlx::{Connection, Pool};

use super::identity::{ConnRecord, acquire_identified, following_one, identifying};
use crate::dialect::SqlDialect;

/// How the fork tells a pool's connections apart.
#[derive(Debug)]
pub(crate) enum Identity {
    /// It does not: lookups are classified from cache sizes.
    None,
    /// The pool holds one connection, whose record this is.
    Single(Arc<ConnRecord>),
    /// Each acquire identifies the connection it hands out (a round trip).
    Probed,
}

/// What the fork knows about a pool it built. Leaked: one per pool the
/// program builds, a few dozen bytes each.
#[derive(Debug)]
pub(crate) struct PoolRecord {
    /// Each connection's statement-cache capacity.
    pub(crate) capacity: usize,
    pub(crate) identity: Identity,
    gauges: &'static PoolGauges,
}

impl PoolRecord {
    /// Samples the pool's gauges.
    pub(crate) fn observe<DB: SqlDialect>(&self, pool: &Pool<DB>) {
        self.gauges.observe(
            u64::from(pool.size()),
            pool.num_idle() as u64,
            u64::from(pool.options().get_max_connections()),
        );
    }
}

/// Newest last; searched from the end, so a re-registered address finds its
/// newest record.
static POOLS: RwLock<Vec<(usize, &'static PoolRecord)>> = RwLock::new(Vec::new());
static GENERATION: AtomicU64 = AtomicU64::new(0);
static BUILT: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's last lookup: pool address, generation, answer.
    static LAST: Cell<(usize, u64, Option<&'static PoolRecord>)> = const { Cell::new((0, u64::MAX, None)) };
}

/// The `pool` label of the `n`-th pool the fork built; the export folds
/// those past [`TRACKED_POOLS`] together.
fn label(n: usize) -> &'static str {
    const LABELS: [&str; 16] = [
        "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15",
    ];
    LABELS
        .get(n)
        .copied()
        .unwrap_or(premix_instrument::OVERFLOW_MODEL)
}

fn address<DB: SqlDialect>(pool: &Pool<DB>) -> usize {
    std::ptr::from_ref(pool.options()).addr()
}

/// `options` for a pool the fork builds with statement caches of
/// `capacity`, with the hooks exact accounting needs when `exact`, and how
/// its connections will be told apart.
pub(crate) fn prepare<DB: SqlDialect>(
    options: PoolOptions<DB>,
    capacity: usize,
    exact: bool,
) -> (PoolOptions<DB>, Identity) {
    if !exact {
        return (options, Identity::None);
    }
    if options.get_max_connections() == 1 {
        let record = ConnRecord::new(capacity);
        (following_one(options, &record), Identity::Single(record))
    } else {
        (identifying(options, capacity), Identity::Probed)
    }
}

/// Registers a pool the fork just built.
pub(crate) fn register<DB: SqlDialect>(pool: &Pool<DB>, capacity: usize, identity: Identity) {
    let n = BUILT.fetch_add(1, Ordering::Relaxed);
    let record: &'static PoolRecord = Box::leak(Box::new(PoolRecord {
        capacity,
        identity,
        gauges: PoolGauges::register(DB::BACKEND.label(), label(n.min(TRACKED_POOLS))),
    }));
    record.observe(pool);
    POOLS.write().push((address(pool), record));
    GENERATION.fetch_add(1, Ordering::Release);
}

/// The record of `pool`, if the fork built it.
pub(crate) fn find<DB: SqlDialect>(pool: &Pool<DB>) -> Option<&'static PoolRecord> {
    let address = address(pool);
    let generation = GENERATION.load(Ordering::Acquire);
    LAST.with(|last| {
        let (seen, at, record) = last.get();
        if seen == address && at == generation {
            return record;
        }
        let record = POOLS
            .read()
            .iter()
            .rev()
            .find(|(registered, _)| *registered == address)
            .map(|&(_, record)| record);
        last.set((address, generation, record));
        record
    })
}

/// Acquires from `pool` as the fork (so its hooks do not take the fork for
/// other code), and returns the connection's record when the pool's
/// connections are told apart, checked against the connection's cache.
pub(crate) async fn acquire_as_fork<DB: SqlDialect>(
    pool: &Pool<DB>,
) -> (
    Result<PoolConnection<DB>, sqlx::Error>,
    Option<Arc<ConnRecord>>,
) {
    match find(pool).map(|built| &built.identity) {
        None | Some(Identity::None) => (pool.acquire().await, None),
        Some(Identity::Probed) => acquire_identified(pool).await,
        Some(Identity::Single(record)) => {
            let conn = pool.acquire().await;
            if let Ok(conn) = &conn {
                record.taken_by_fork();
                // Settled: sqlx pings a connection as it returns it to the
                // pool, after everything it was asked to do.
                record.check(conn.cached_statements_size());
            }
            (conn, Some(Arc::clone(record)))
        }
    }
}
