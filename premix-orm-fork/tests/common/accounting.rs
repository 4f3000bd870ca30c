//! What the instrumentation counts where production apps live: full
//! statement caches on pools built for exact accounting, pool exhaustion,
//! and the outcomes that are easy to count wrong. Backend-generic; the
//! SQLite and PostgreSQL binaries run them on a backend each, and compare
//! with that backend's own account of its caches.

use std::time::Duration;

use futures_util::TryStreamExt;
use premix_instrument::{ErrorKind, Snapshot};
use premix_orm_fork::prelude::*;
use premix_orm_fork::{Premix, SqlDialect, premix_query, sqlx};
use sqlx::Pool;

use super::{Note, User, insert_zed, saved_draft, seed_users, stmt_totals};

/// Ends three rounds of two statements, begun at `before` with the
/// instrumentation told of a statement cache of capacity 2 that already
/// held one statement: one miss grows the cache to its capacity; after
/// that nothing on the full cache is called a hit, or guessed to be a miss.
pub fn full_cache_lookups_were_ambiguous(before: &Snapshot) {
    premix_orm_fork::set_statement_cache_capacity(100);
    let totals = stmt_totals(&Snapshot::take().since(before));
    assert_eq!(
        totals.hits + totals.misses + totals.ambiguous,
        6,
        "{totals:?}"
    );
    assert_eq!(
        (totals.misses, totals.hits, totals.ambiguous),
        (1, 0, 5),
        "{totals:?}"
    );
}

/// The statements the database holds for a connection, by its own account,
/// read without preparing anything.
pub trait GroundTruth<DB: SqlDialect> {
    async fn read(&self, conn: &mut DB::Connection) -> usize;

    /// What a connection of `pool` holds (the only one, in a pool of one).
    async fn statements(&self, pool: &Pool<DB>) -> usize {
        Premix::inspect_connection(pool, async |conn: &mut DB::Connection| {
            self.read(conn).await
        })
        .await
        .unwrap()
    }

    /// What the two connections of `pool` hold together: both lent at once,
    /// so they are both.
    async fn statements_on_both(&self, pool: &Pool<DB>) -> usize {
        Premix::inspect_connection(pool, async |first: &mut DB::Connection| {
            let first = self.read(first).await;
            let second = Premix::inspect_connection(pool, async |second: &mut DB::Connection| {
                self.read(second).await
            })
            .await
            .unwrap();
            first + second
        })
        .await
        .unwrap()
    }
}

/// A select whose shape is `k` copies of one filter: `k` distinct
/// statements for `k` = 1, 2, ...
async fn shape<DB: SqlDialect>(pool: &Pool<DB>, k: usize)
where
    User: Model<DB>,
{
    let mut query = User::find_in_pool(pool);
    for _ in 0..k {
        query = query.filter_gte("age", 0);
    }
    query.limit(1).all().await.unwrap();
}

/// The statement-cache counts of the selects `run` makes.
async fn selects<DB: SqlDialect>(
    pool: &Pool<DB>,
    run: impl AsyncFnOnce(&Pool<DB>),
) -> premix_instrument::StmtCacheStats
where
    User: Model<DB>,
{
    let before = Snapshot::take();
    run(pool).await;
    Snapshot::take()
        .since(&before)
        .expect_on("select", "users", DB::BACKEND.label())
        .stmt_cache
}

/// On one connection of an exact pool of statement-cache `capacity`:
/// cycling `capacity + 1` statements misses and evicts on every lookup;
/// repeating `capacity` cached ones hits on every lookup; the counters say
/// what the connection holds, by the database's own account, after each
/// phase.
pub async fn a_full_cache_is_counted_exactly<DB: SqlDialect>(
    pool: &Pool<DB>,
    capacity: usize,
    truth: &impl GroundTruth<DB>,
) where
    User: Model<DB>,
{
    seed_users(pool, 3).await;
    let start = truth.statements(pool).await;
    let mut expected = start;
    let held = |stmt: &premix_instrument::StmtCacheStats, held: usize| {
        held + stmt.misses as usize - stmt.evictions as usize
    };

    // Fill: every shape once. The cache ends full.
    let fill = selects(pool, async |pool| {
        for k in 1..=capacity + 1 {
            shape(pool, k).await;
        }
    })
    .await;
    assert_eq!(fill.lookups(), capacity as u64 + 1, "{fill:?}");
    assert_eq!((fill.ambiguous, fill.disagreement), (0, 0), "{fill:?}");
    expected = held(&fill, expected);
    assert_eq!(expected, capacity, "capacity {capacity}: {fill:?}");
    assert_eq!(truth.statements(pool).await, expected, "after filling");

    // Cycle one more shape than fits: least recently used goes first, so
    // every lookup misses and evicts.
    let rounds = 3;
    let cycle = selects(pool, async |pool| {
        for _ in 0..rounds {
            for k in 1..=capacity + 1 {
                shape(pool, k).await;
            }
        }
    })
    .await;
    let lookups = (rounds * (capacity + 1)) as u64;
    assert_eq!(
        (cycle.hits, cycle.misses, cycle.evictions),
        (0, lookups, lookups),
        "capacity {capacity}, cycling: {cycle:?}"
    );
    assert_eq!((cycle.ambiguous, cycle.disagreement), (0, 0), "{cycle:?}");
    expected = held(&cycle, expected);
    assert_eq!(truth.statements(pool).await, expected, "after cycling");

    // Repeat the `capacity` shapes the cycle left cached: every lookup hits.
    let repeat = selects(pool, async |pool| {
        for _ in 0..rounds {
            for k in 2..=capacity + 1 {
                shape(pool, k).await;
            }
        }
    })
    .await;
    let lookups = (rounds * capacity) as u64;
    assert_eq!(
        (repeat.hits, repeat.misses, repeat.evictions),
        (lookups, 0, 0),
        "capacity {capacity}, repeating: {repeat:?}"
    );
    assert_eq!(
        (repeat.ambiguous, repeat.disagreement),
        (0, 0),
        "{repeat:?}"
    );
    assert_eq!(truth.statements(pool).await, expected, "after repeating");
}

/// On an exact pool of two connections, each identified as it is handed
/// out: a mix that thrashes both caches is classified with nothing left
/// untold, and misses less evictions are what the two connections hold.
pub async fn every_connection_is_followed<DB: SqlDialect>(
    pool: &Pool<DB>,
    capacity: usize,
    truth: &impl GroundTruth<DB>,
) where
    User: Model<DB>,
{
    seed_users(pool, 3).await;
    // Both connections open, and what they hold before the mix.
    let start = truth.statements_on_both(pool).await;
    let mix = selects(pool, async |pool| {
        for round in 0..3 {
            // More shapes than both caches hold together: whichever
            // connection each lookup gets (timing decides), one of them
            // sees more than it holds and evicts.
            for k in 1..=2 * capacity + 1 {
                shape(pool, k).await;
            }
            // Some lookups the other connection's cache has, some not.
            for k in (1..=capacity).step_by(1 + round) {
                shape(pool, k).await;
            }
        }
    })
    .await;
    assert_eq!((mix.ambiguous, mix.disagreement), (0, 0), "{mix:?}");
    assert!(mix.hits > 0 && mix.evictions > 0, "{mix:?}");
    let held = start + mix.misses as usize - mix.evictions as usize;
    assert_eq!(truth.statements_on_both(pool).await, held, "{mix:?}");
}

/// Statements other code runs on a connection of an exact pool: the fork
/// notices, and a lookup it cannot tell is a `disagreement`, never a guess.
pub async fn other_code_is_noticed<DB: SqlDialect>(pool: &Pool<DB>, capacity: usize)
where
    User: Model<DB>,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
{
    for k in 1..=capacity {
        shape(pool, k).await;
    }
    // The application prepares statements of its own on the connection.
    let mut conn = pool.acquire().await.unwrap();
    for n in 0..capacity {
        let sql = format!("SELECT {n} AS n");
        sqlx::query(&sql).execute(&mut *conn).await.unwrap();
    }
    drop(conn);
    // The fork's statements were all evicted by the application's, which
    // the fork did not see: it cannot call these hits, and does not call
    // them misses either while the cache holds statements it does not know.
    let after = selects(pool, async |pool| {
        for k in 1..=capacity {
            shape(pool, k).await;
        }
    })
    .await;
    assert_eq!(after.hits, 0, "{after:?}");
    assert_eq!(
        after.disagreement + after.misses,
        capacity as u64,
        "{after:?}"
    );
    // Relearned: the same shapes again are all hits.
    let again = selects(pool, async |pool| {
        for k in 1..=capacity {
            shape(pool, k).await;
        }
    })
    .await;
    assert_eq!(
        (again.hits, again.misses, again.disagreement),
        (capacity as u64, 0, 0),
        "{again:?}"
    );
}

/// A pool of one connection held by another task: an operation that waits
/// past the acquire timeout fails as `pool_timeout`, its wait recorded; on a
/// closed pool, `pool_closed`.
pub async fn pool_failures_are_the_operations_errors<DB: SqlDialect>(
    pool: &Pool<DB>,
    acquire_timeout: Duration,
) where
    User: Model<DB>,
{
    let label = DB::BACKEND.label();
    let users = seed_users(pool, 1).await;
    let (taken_tx, taken_rx) = tokio::sync::oneshot::channel();
    let (release_tx, release_rx) = tokio::sync::oneshot::channel::<()>();
    let holder = tokio::spawn({
        let pool = pool.clone();
        async move {
            let conn = pool.acquire().await.unwrap();
            taken_tx.send(()).unwrap();
            release_rx.await.ok();
            drop(conn);
        }
    });
    taken_rx.await.unwrap();

    let before = Snapshot::take();
    let error = User::find_by_id(pool, users[0].id).await.unwrap_err();
    assert!(matches!(error, sqlx::Error::PoolTimedOut), "{error:?}");
    let stats = Snapshot::take().since(&before);
    let find = stats.expect_on("find_by_id", "users", label);
    find.assert_calls(1)
        .assert_errors(ErrorKind::PoolTimeout, 1);
    assert_eq!(find.pool_wait.count(), 1, "{find:?}");
    // It cannot have failed before the timeout; its own time includes the
    // wait.
    assert!(find.pool_wait.sum() >= acquire_timeout, "{find:?}");
    assert!(find.latency.sum() >= find.pool_wait.sum(), "{find:?}");
    let gauges = stats
        .pools()
        .iter()
        .filter(|p| p.backend == label)
        .map(|p| (p.size, p.idle, p.max))
        .collect::<Vec<_>>();
    assert!(gauges.contains(&(1, 0, 1)), "{gauges:?}");

    release_tx.send(()).unwrap();
    holder.await.unwrap();
    pool.close().await;
    let before = Snapshot::take();
    let error = User::find_by_id(pool, users[0].id).await.unwrap_err();
    assert!(matches!(error, sqlx::Error::PoolClosed), "{error:?}");
    Snapshot::take()
        .since(&before)
        .expect_on("find_by_id", "users", label)
        .assert_calls(1)
        .assert_errors(ErrorKind::PoolClosed, 1);
}

/// A model whose table holds what it cannot decode: `value` is text there.
#[derive(Model, Debug)]
#[premix(table = "readings")]
pub struct Reading {
    pub id: i32,
    pub value: i32,
}

/// A stream that yields an error and is dropped there (as `try_next()?`
/// does), a version conflict, refused queries and `premix_query!`
/// statements, each counted with its outcome and kind.
pub async fn outcomes_and_kinds<DB: SqlDialect>(pool: &Pool<DB>)
where
    User: Model<DB>,
    Note: Model<DB>,
    Reading: Model<DB>,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    let label = DB::BACKEND.label();

    // A stream that fails, and is dropped by `?`.
    sqlx::raw_sql(
        "CREATE TABLE readings (id INTEGER PRIMARY KEY, value TEXT); \
         INSERT INTO readings (id, value) VALUES (1, 'not a number')",
    )
    .execute(pool)
    .await
    .unwrap();
    let before = Snapshot::take();
    let read: Result<Vec<i32>, sqlx::Error> = async {
        let mut rows = Reading::find_in_pool(pool).stream()?;
        let mut values = Vec::new();
        while let Some(reading) = rows.try_next().await? {
            values.push(reading.value);
        }
        Ok(values)
    }
    .await;
    assert!(read.is_err(), "text must fail to decode as i32: {read:?}");
    Snapshot::take()
        .since(&before)
        .expect_on("select", "readings", label)
        .assert_calls(1)
        .assert_errors(ErrorKind::Decode, 1);

    // A version conflict, returned by `update` and by `save`.
    let mut note = saved_draft(pool).await;
    let mut stale = note.clone();
    note.update(pool).await.unwrap();
    let before = Snapshot::take();
    assert_eq!(
        stale.update(pool).await.unwrap(),
        UpdateResult::VersionConflict
    );
    assert!(stale.save(pool).await.is_err());
    Snapshot::take()
        .since(&before)
        .expect_on("update", "notes", label)
        .assert_calls(2)
        .assert_errors(ErrorKind::Conflict, 2);

    // Refused builder queries: nothing reaches the database.
    let before = Snapshot::take();
    assert!(
        User::find_in_pool(pool)
            .filter_eq("nickname", 1)
            .all()
            .await
            .is_err()
    );
    assert!(
        User::find_in_pool(pool)
            .filter("1 = 1")
            .all()
            .await
            .is_err()
    );
    assert!(
        User::find_in_pool(pool)
            .filter_eq("nickname", 1)
            .delete()
            .await
            .is_err()
    );
    let stats = Snapshot::take().since(&before);
    stats
        .expect_on("select", "users", label)
        .assert_calls(2)
        .assert_errors(ErrorKind::Refused, 2);
    stats
        .expect_on("delete", "users", label)
        .assert_calls(1)
        .assert_errors(ErrorKind::Refused, 1);
    assert_eq!(stmt_lookups(&stats), 0, "refused queries looked nothing up");

    // premix_query!: counted under the operation it performs.
    let before = Snapshot::take();
    let zed = insert_zed(pool).await;
    premix_query!(User, FIND, filter_eq("id", zed.id))
        .fetch_one(pool)
        .await
        .unwrap();
    let missing = premix_query!(User, FIND, filter_eq("id", -1))
        .fetch_one(pool)
        .await
        .unwrap_err();
    assert!(matches!(missing, sqlx::Error::RowNotFound), "{missing:?}");
    premix_query!(User, DELETE, filter_eq("id", zed.id))
        .execute(pool)
        .await
        .unwrap();
    let stats = Snapshot::take().since(&before);
    stats.expect_on("insert", "users", label).assert_calls(1);
    let select = stats.expect_on("select", "users", label);
    select.assert_calls(2).assert_errors(ErrorKind::NotFound, 1);
    assert_eq!(select.stmt_cache.lookups(), 2, "{select:?}");
    stats.expect_on("delete", "users", label).assert_calls(1);
}

fn stmt_lookups(stats: &Snapshot) -> u64 {
    stats
        .ops()
        .iter()
        .map(|s| s.stmt_cache.lookups() + s.stmt_cache.unprepared)
        .sum()
}
