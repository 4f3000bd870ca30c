//! Telling connections apart, for pools built with
//! [`StatementCache::exact`](crate::StatementCache::exact).
//!
//! A pool of one connection needs nothing asked: every acquire hands out
//! that connection, and a new one only after `after_connect` has said so.
//! Its record is the pool's.
//!
//! sqlx 0.8 gives a connection of a larger pool no identity its users can
//! read for free. The database's own can be asked for: SQLite's connection
//! handle (`lock_handle`, a round trip to the connection's worker thread),
//! and PostgreSQL's backend process id (`SELECT pg_backend_pid()`, a round
//! trip to the server). Such a pool asks every time it hands out a
//! connection, in place of the liveness ping sqlx would otherwise send
//! (`test_before_acquire`), and keeps a record per connection: a shadow of
//! its statement cache.
//!
//! The hook that asks runs inside the pool's `acquire`, in the acquiring
//! task. An operation of the fork acquires inside a task-local scope, and
//! the hook leaves the connection's record there for it. An acquire outside
//! that scope is other code (the application's own queries, a transaction
//! it opens), which may run statements the fork will not see: the record is
//! marked, and the next operation of the fork that gets the connection
//! resyncs the shadow (see `StmtCacheShadow::resync`). The same happens when
//! the connection's cache size disagrees with the shadow's.

use std::cell::Cell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use parking_lot::Mutex;
use premix_instrument::{OpAllocations, StmtCacheShadow, ThreadSlot};
use sqlx::pool::{PoolConnection, PoolOptions};
use sqlx::{Connection, Pool};

use super::sites::Op;
use crate::dialect::{Backend, SqlDialect};

/// What the fork knows about one identified connection.
#[derive(Debug)]
pub(crate) struct ConnRecord {
    pub(crate) shadow: Mutex<StmtCacheShadow>,
    /// Other code acquired it since the fork last did.
    foreign: AtomicBool,
    /// A statement ended in a way that says nothing sure about the cache (a
    /// broken connection).
    pub(crate) uncertain: AtomicBool,
    last_seen: AtomicU64,
    /// On a pool of one connection: how many times the pool handed the
    /// connection out, and how many of those were to the fork.
    handed_out: AtomicU64,
    taken_by_fork: AtomicU64,
    /// The driver's own thread for this connection (SQLite's worker), and
    /// what of its allocations has been charged to operations so far.
    driver: OnceLock<ThreadSlot>,
    driver_charged: Mutex<OpAllocations>,
}

impl ConnRecord {
    pub(crate) fn new(capacity: usize) -> Arc<Self> {
        Arc::new(Self {
            shadow: Mutex::new(StmtCacheShadow::new(capacity)),
            foreign: AtomicBool::new(false),
            uncertain: AtomicBool::new(false),
            last_seen: AtomicU64::new(0),
            handed_out: AtomicU64::new(0),
            taken_by_fork: AtomicU64::new(0),
            driver: OnceLock::new(),
            driver_charged: Mutex::new(OpAllocations::default()),
        })
    }

    /// Remembers the driver's thread of this connection; what it allocated
    /// before now is nobody's.
    fn driven_by(&self, slot: Option<ThreadSlot>) {
        if let Some(slot) = slot {
            *self.driver_charged.lock() = slot.made();
            let _ = self.driver.set(slot);
        }
    }

    /// Charges `op` with what the driver's thread allocated since the last
    /// charge on this connection. Whatever it makes between two charges
    /// (going idle after a reply, say) goes to the next: nothing is lost or
    /// counted twice.
    pub(crate) fn charge_driver(&self, op: Op) {
        let Some(slot) = self.driver.get() else {
            return;
        };
        let now = slot.made();
        let mut charged = self.driver_charged.lock();
        op.handle.charge(now.since(&charged));
        *charged = now;
    }

    /// The fork has just been handed this (only) connection of its pool:
    /// if the pool handed it out more often than to the fork, other code
    /// had it in between.
    pub(crate) fn taken_by_fork(&self) {
        let handed = self.handed_out.load(Ordering::Acquire);
        let taken = self.taken_by_fork.fetch_add(1, Ordering::Relaxed) + 1;
        if taken != handed {
            self.taken_by_fork.store(handed, Ordering::Relaxed);
            self.foreign.store(true, Ordering::Relaxed);
        }
    }

    /// Makes the shadow agree with the connection before the fork uses it:
    /// forgets what it knew if other code may have run statements since, or
    /// if the sizes disagree. `size` must be settled (see the hooks).
    pub(crate) fn check(&self, size: usize) {
        let suspect = self.foreign.swap(false, Ordering::Relaxed)
            | self.uncertain.swap(false, Ordering::Relaxed);
        let mut shadow = self.shadow.lock();
        if suspect || shadow.len() != size {
            shadow.resync(size);
        }
    }
}

/// Records kept at most; past that the least recently seen is dropped (its
/// connection, if still alive, gets a fresh record that relearns its cache).
const MAX_RECORDS: usize = 4096;

/// Identified connections, by backend and the database's id for them.
type Records = HashMap<(Backend, u64), Arc<ConnRecord>>;

static RECORDS: Mutex<Option<Records>> = Mutex::new(None);
static CLOCK: AtomicU64 = AtomicU64::new(0);

fn with_records<R>(f: impl FnOnce(&mut Records) -> R) -> R {
    let mut records = RECORDS.lock();
    let records = records.get_or_insert_with(HashMap::new);
    if records.len() > MAX_RECORDS {
        if let Some(stalest) = records
            .iter()
            .min_by_key(|(_, r)| r.last_seen.load(Ordering::Relaxed))
            .map(|(key, _)| *key)
        {
            records.remove(&stalest);
        }
    }
    f(records)
}

/// A record for a connection just opened: its cache is empty.
fn opened(backend: Backend, id: u64, capacity: usize) -> Arc<ConnRecord> {
    let record = ConnRecord::new(capacity);
    with_records(|records| records.insert((backend, id), Arc::clone(&record)));
    record
}

/// The record of a connection handed out again, checked against its cache
/// size; a fresh one, forgetful, if none is kept.
fn reacquired(backend: Backend, id: u64, capacity: usize, size: usize) -> Arc<ConnRecord> {
    let record = with_records(|records| {
        Arc::clone(records.entry((backend, id)).or_insert_with(|| {
            let record = ConnRecord::new(capacity);
            record.uncertain.store(true, Ordering::Relaxed);
            record
        }))
    });
    record.check(size);
    record
}

tokio::task_local! {
    /// Where the acquire hooks leave the record of the connection they hand
    /// out, when the fork is the one acquiring.
    static HANDOFF: Cell<Option<Arc<ConnRecord>>>;
}

/// Leaves `record` for the fork's acquire in progress on this task; false
/// when the acquire is not the fork's.
fn hand_off(record: &Arc<ConnRecord>) -> bool {
    record
        .last_seen
        .store(CLOCK.fetch_add(1, Ordering::Relaxed), Ordering::Relaxed);
    HANDOFF
        .try_with(|slot| slot.set(Some(Arc::clone(record))))
        .is_ok()
}

/// Acquires from a pool whose hooks identify connections, and returns the
/// connection with its record (`None` only if a hook did not run, which
/// sqlx does not do on success).
pub(crate) async fn acquire_identified<DB: SqlDialect>(
    pool: &Pool<DB>,
) -> (
    Result<PoolConnection<DB>, sqlx::Error>,
    Option<Arc<ConnRecord>>,
) {
    HANDOFF
        .scope(Cell::new(None), async {
            let conn = pool.acquire().await;
            (conn, HANDOFF.with(Cell::take))
        })
        .await
}

/// `before_acquire`'s "keep it", ready at once and zero-sized.
struct Keep;

impl Future for Keep {
    type Output = Result<bool, sqlx::Error>;

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Ready(Ok(true))
    }
}

/// `options` (of a pool of one connection) with hooks that keep `record`
/// for its connection: emptied when a connection opens (and told its
/// driver's thread, once), and counting how often the connection is handed
/// out (see [`ConnRecord::taken_by_fork`]). Handing it out again sends
/// nothing to the database, allocates nothing, reads no task-local.
pub(crate) fn following_one<DB: SqlDialect>(
    options: PoolOptions<DB>,
    record: &Arc<ConnRecord>,
) -> PoolOptions<DB> {
    let opened = Arc::clone(record);
    let acquired = Arc::clone(record);
    options
        .after_connect(move |conn, _meta| {
            let opened = Arc::clone(&opened);
            Box::pin(async move {
                let driver = DB::driver_thread(conn).await?;
                opened.shadow.lock().resync(0);
                opened.uncertain.store(false, Ordering::Relaxed);
                opened.driven_by(driver);
                opened.handed_out.fetch_add(1, Ordering::Release);
                Ok(())
            })
        })
        .before_acquire(move |_conn, _meta| {
            acquired.handed_out.fetch_add(1, Ordering::Release);
            Box::pin(Keep)
        })
}

/// `options` with the hooks that identify every connection handed out. They
/// replace sqlx's liveness ping: identifying is a round trip that fails on a
/// dead connection just as the ping would.
pub(crate) fn identifying<DB: SqlDialect>(
    options: PoolOptions<DB>,
    capacity: usize,
) -> PoolOptions<DB> {
    options
        .test_before_acquire(false)
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                let id = DB::identify_connection(conn).await?;
                let driver = DB::driver_thread(conn).await?;
                let record = opened(DB::BACKEND, id, capacity);
                record.driven_by(driver);
                // Not the fork's acquire (a pool warming up, other code):
                // the cache is empty now, so anything other code runs
                // shows as a size the shadow does not have.
                hand_off(&record);
                Ok(())
            })
        })
        .before_acquire(move |conn, _meta| {
            Box::pin(async move {
                let id = DB::identify_connection(conn).await?;
                // Settled: the round trip above waited for everything the
                // connection had been asked to do.
                let size = conn.cached_statements_size();
                let record = reacquired(DB::BACKEND, id, capacity, size);
                if !hand_off(&record) {
                    record.foreign.store(true, Ordering::Relaxed);
                }
                Ok(true)
            })
        })
}

/// A connection lent to the application by `Premix::inspect_connection`:
/// acquired as the fork's own, checked when it comes back.
#[derive(Debug)]
pub(crate) struct Lent(Option<Arc<ConnRecord>>);

impl Lent {
    /// Marks the record uncertain if the lent connection's cache size no
    /// longer matches its shadow.
    pub(crate) fn returned<DB: SqlDialect>(self, conn: &DB::Connection) {
        if let Some(record) = self.0
            && record.shadow.lock().len() != conn.cached_statements_size()
        {
            record.uncertain.store(true, Ordering::Relaxed);
        }
    }
}

/// Takes a connection from `pool` to lend to the application, without
/// marking it as used by other code.
pub(crate) async fn lend<DB: SqlDialect>(
    pool: &Pool<DB>,
) -> Result<(PoolConnection<DB>, Lent), sqlx::Error> {
    let (conn, record) = super::pools::acquire_as_fork(pool).await;
    Ok((conn?, Lent(record)))
}
