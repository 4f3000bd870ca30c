//! Connection-pool gauges: how many connections a pool holds, how many are
//! idle, and how many it may open.
//!
//! Pool exhaustion is the most common database failure in production, and
//! the wait histogram (`premix_pool_wait_seconds`) shows it from the
//! operations' side; these gauges show it from the pool's. The ORM owns the
//! pool, so it samples it (whenever one of its operations takes a
//! connection, say) and reports the readings here; the export step
//! publishes the latest ones.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::alloc::exclude_from_attribution;
use crate::callsite::{OVERFLOW_MODEL, same_label};

/// How many pools are tracked apart; the rest share the `pool` label
/// [`OVERFLOW_MODEL`].
pub const TRACKED_POOLS: usize = 64;

/// The gauges of one pool, registered with [`PoolGauges::register`].
#[derive(Debug)]
pub struct PoolGauges {
    pub(crate) backend: &'static str,
    pub(crate) pool: &'static str,
    size: AtomicU64,
    idle: AtomicU64,
    max: AtomicU64,
}

static POOLS: Mutex<Vec<&'static PoolGauges>> = Mutex::new(Vec::new());

impl PoolGauges {
    /// The gauges of pool `pool` (a short, bounded label: an index or a name
    /// the application chose) on `backend`. Registering the same labels
    /// again returns the same gauges.
    pub fn register(backend: &'static str, pool: &'static str) -> &'static Self {
        exclude_from_attribution(|| {
            let mut pools = POOLS.lock().unwrap_or_else(PoisonError::into_inner);
            let pool = if pools.len() >= TRACKED_POOLS {
                OVERFLOW_MODEL
            } else {
                pool
            };
            if let Some(found) = pools
                .iter()
                .find(|g| same_label(g.backend, backend) && same_label(g.pool, pool))
            {
                return *found;
            }
            let gauges: &'static Self = Box::leak(Box::new(Self {
                backend,
                pool,
                size: AtomicU64::new(0),
                idle: AtomicU64::new(0),
                max: AtomicU64::new(0),
            }));
            pools.push(gauges);
            gauges
        })
    }

    /// Records a reading of the pool.
    pub fn observe(&self, size: u64, idle: u64, max: u64) {
        self.size.store(size, Ordering::Relaxed);
        self.idle.store(idle, Ordering::Relaxed);
        self.max.store(max, Ordering::Relaxed);
    }

    pub(crate) fn reading(&self) -> PoolStats {
        PoolStats {
            backend: self.backend,
            pool: self.pool,
            size: self.size.load(Ordering::Relaxed),
            idle: self.idle.load(Ordering::Relaxed),
            max: self.max.load(Ordering::Relaxed),
        }
    }
}

/// The latest reading of one pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolStats {
    /// The `backend` label.
    pub backend: &'static str,
    /// The `pool` label.
    pub pool: &'static str,
    /// Connections held, idle or in use.
    pub size: u64,
    /// Idle connections.
    pub idle: u64,
    /// The most connections the pool may open.
    pub max: u64,
}

/// Every registered pool's latest reading, in registration order.
pub(crate) fn readings() -> Vec<PoolStats> {
    POOLS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .map(|g| g.reading())
        .collect()
}
