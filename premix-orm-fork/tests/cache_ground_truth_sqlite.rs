//! Statement-cache, SQL-cache and locality counts against ground truth on
//! SQLite. One test running each scenario in turn: the counters are
//! process-wide, and scenarios running side by side would mix them.

mod common;

use std::str::FromStr;

use common::accounting::{
    GroundTruth, a_full_cache_is_counted_exactly, every_connection_is_followed,
    full_cache_lookups_were_ambiguous, other_code_is_noticed,
};
use common::*;
use premix_instrument::Snapshot;
use premix_orm_fork::sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use premix_orm_fork::sqlx::{Connection, SqlitePool};
use premix_orm_fork::{Premix, StatementCache, prelude::Model};

/// The ground truth: the connection's cache size once its worker settled.
async fn cache_size(pool: &SqlitePool) -> usize {
    let mut conn = pool.acquire().await.unwrap();
    conn.ping().await.unwrap();
    conn.cached_statements_size()
}

async fn one_connection() -> SqlitePool {
    let pool = Premix::smart_sqlite_pool("sqlite::memory:").await.unwrap();
    sync_all(&pool).await;
    pool
}

/// A path for a database file of this process, with no file there yet.
fn fresh_file(name: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("premix-{name}-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

/// A file database, so several connections share it.
async fn file_pool(name: &str, connections: u32) -> (SqlitePool, std::path::PathBuf) {
    let path = fresh_file(name);
    let options = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(connections)
        .connect_with(options)
        .await
        .unwrap();
    sync_all(&pool).await;
    (pool, path)
}

async fn scripted_workload_matches_the_cache_size() {
    let pool = one_connection().await;
    let size_before = cache_size(&pool).await;
    let before = Snapshot::take();

    let users = seed_users(&pool, 3).await; // 3 inserts, 1 statement
    for u in &users {
        User::find_by_id(&pool, u.id).await.unwrap(); // 3 lookups, 1 statement
        User::find_by_id(&pool, u.id).await.unwrap(); // 3 more
    }
    let mut first = users[0].clone();
    first.age += 1;
    first.update(&pool).await.unwrap(); // 1 lookup, 1 statement
    first.update(&pool).await.unwrap(); // 1 more
    for limit in [1, 2] {
        User::find_in_pool(&pool).limit(limit).all().await.unwrap(); // 2 lookups, 1 statement
    }
    User::find_in_pool(&pool)
        .filter_eq("age", 11)
        .all()
        .await
        .unwrap(); // 1 lookup, 1 statement
    User::find_in_pool(&pool).unprepared().all().await.unwrap(); // unprepared
    let mut last = users[2].clone();
    last.delete(&pool).await.unwrap(); // 1 lookup, 1 statement

    let stats = Snapshot::take().since(&before);
    let totals = stmt_totals(&stats);
    let statements_created = (cache_size(&pool).await - size_before) as u64;
    assert_eq!(statements_created, 6);
    assert_eq!(totals.misses, statements_created, "{totals:?}");
    assert_eq!(
        totals.hits + totals.misses,
        3 + 6 + 2 + 2 + 1 + 1,
        "{totals:?}"
    );
    assert_eq!((totals.ambiguous, totals.unprepared), (0, 1), "{totals:?}");
    let find = stats.expect("find_by_id", "users");
    assert_eq!((find.stmt_cache.hits, find.stmt_cache.misses), (5, 1));
    assert_eq!((find.sql_cache.hits, find.sql_cache.misses), (5, 1));
    let select = stats.expect("select", "users");
    assert_eq!(
        (
            select.stmt_cache.hits,
            select.stmt_cache.misses,
            select.stmt_cache.unprepared
        ),
        (1, 2, 1)
    );
    // Three select shapes built: limit, filter, unprepared-without-limit.
    assert_eq!((select.sql_cache.hits, select.sql_cache.misses), (1, 3));
}

async fn paging_is_one_statement() {
    let pool = one_connection().await;
    seed_users(&pool, 60).await;
    let before = Snapshot::take();
    for page in 0..50 {
        User::find_in_pool(&pool)
            .limit(1 + page % 7)
            .offset(page)
            .all()
            .await
            .unwrap();
    }
    let select = Snapshot::take().since(&before);
    let select = select.expect("select", "users");
    assert_eq!((select.stmt_cache.misses, select.stmt_cache.hits), (1, 49));
    // The LIMIT + OFFSET shape is built once, then reused.
    assert_eq!((select.sql_cache.misses, select.sql_cache.hits), (1, 49));
}

async fn eager_strategy_follows_the_threshold() {
    eager_threshold_counts(&one_connection().await).await;
}

async fn each_connection_starts_cold() {
    let (pool, path) = file_pool("cold", 3).await;
    connections_start_cold(&pool).await;
    pool.close().await;
    let _ = std::fs::remove_file(path);
}

async fn concurrent_lookups() {
    let (pool, path) = file_pool("concurrent", 4).await;
    concurrent_lookups_add_up(&pool, 4).await;
    pool.close().await;
    let _ = std::fs::remove_file(path);
}

async fn a_full_cache_is_counted_as_ambiguous() {
    let path = fresh_file("full");
    let options = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .statement_cache_capacity(2);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap();
    sync_all(&pool).await;
    premix_orm_fork::set_statement_cache_capacity(2);
    let users = seed_users(&pool, 1).await; // the insert statement: cache size 1
    let before = Snapshot::take();
    for _ in 0..3 {
        User::find_by_id(&pool, users[0].id).await.unwrap(); // fills the cache: size 2
        User::find_in_pool(&pool).limit(1).all().await.unwrap(); // evicts at capacity
    }
    full_cache_lookups_were_ambiguous(&before);
    pool.close().await;
    let _ = std::fs::remove_file(path);
}

/// An in-memory database on one connection built by the fork for exact
/// accounting.
async fn exact_pool(capacity: usize) -> SqlitePool {
    let pool = Premix::sqlite_pool(
        SqliteConnectOptions::from_str("sqlite::memory:").unwrap(),
        SqlitePoolOptions::new()
            .min_connections(1)
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None),
        StatementCache::new(capacity).exact(),
    )
    .await
    .unwrap();
    sync_all(&pool).await;
    pool
}

/// The connection's own count, once its worker has settled (the exact pool
/// identifies the connection with a round trip to the worker when it hands
/// it out).
struct CacheSize;

impl GroundTruth<sqlx::Sqlite> for CacheSize {
    async fn read(&self, conn: &mut sqlx::SqliteConnection) -> usize {
        conn.cached_statements_size()
    }
}

/// A file database on two connections built for exact accounting: each
/// acquire identifies its connection (a round trip to its worker, which
/// also settles the cache size read after it).
async fn exact_file_pool(capacity: usize) -> (SqlitePool, std::path::PathBuf) {
    let path = fresh_file(&format!("exact-{capacity}"));
    let pool = Premix::sqlite_pool(
        SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true),
        SqlitePoolOptions::new()
            .min_connections(2)
            .max_connections(2),
        StatementCache::new(capacity).exact(),
    )
    .await
    .unwrap();
    sync_all(&pool).await;
    (pool, path)
}

async fn full_caches() {
    for capacity in [2, 100] {
        a_full_cache_is_counted_exactly(&exact_pool(capacity).await, capacity, &CacheSize).await;
        other_code_is_noticed(&exact_pool(capacity).await, capacity).await;
        let (pool, path) = exact_file_pool(capacity).await;
        every_connection_is_followed(&pool, capacity, &CacheSize).await;
        pool.close().await;
        let _ = std::fs::remove_file(path);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_counts_match_ground_truth() {
    scripted_workload_matches_the_cache_size().await;
    paging_is_one_statement().await;
    eager_strategy_follows_the_threshold().await;
    each_connection_starts_cold().await;
    concurrent_lookups().await;
    a_full_cache_is_counted_as_ambiguous().await;
    full_caches().await;
}
