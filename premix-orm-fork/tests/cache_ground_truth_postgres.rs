//! Statement-cache counts against PostgreSQL's own ground truth,
//! `pg_prepared_statements`, read through the simple query protocol so the
//! reading neither prepares nor disturbs anything. One test: the counters
//! are process-wide.

mod common;

use std::str::FromStr;

use common::accounting::{
    GroundTruth, a_full_cache_is_counted_exactly, every_connection_is_followed,
    full_cache_lookups_were_ambiguous, other_code_is_noticed,
};
use common::*;
use premix_instrument::Snapshot;
use premix_orm_fork::prelude::Model;
use premix_orm_fork::sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use premix_orm_fork::sqlx::{self, Connection, PgConnection, PgPool, Row};
use premix_orm_fork::{Premix, StatementCache};

/// Prepared statements on this backend, by the server's own account.
async fn prepared_on(conn: &mut PgConnection) -> i64 {
    sqlx::raw_sql("SELECT count(*) FROM pg_prepared_statements")
        .fetch_one(conn)
        .await
        .unwrap()
        .get::<i64, _>(0)
}

async fn pool(url: &str, schema: &str, connections: u32, capacity: usize) -> PgPool {
    let options = fresh_schema(url, schema)
        .await
        .statement_cache_capacity(capacity);
    let pool = PgPoolOptions::new()
        .max_connections(connections)
        .connect_with(options)
        .await
        .unwrap();
    sync_all(&pool).await;
    pool
}

/// One connection, a scripted workload: misses equal the statements the
/// server says were prepared; hits plus misses equal prepared executions.
async fn scripted_workload(url: &str) {
    let pool = pool(url, "premix_truth_script", 1, 100).await;
    let mut conn = pool.acquire().await.unwrap();
    let prepared_before = prepared_on(&mut conn).await;
    let before = Snapshot::take();

    let mut users = Vec::new();
    for i in 0..3 {
        let mut u = user(&format!("script{i}"), 20 + i);
        u.save(&mut *conn).await.unwrap();
        users.push(u);
    }
    for u in &users {
        User::find_by_id(&mut *conn, u.id).await.unwrap();
        User::find_by_id(&mut *conn, u.id).await.unwrap();
    }
    let mut first = users[0].clone();
    first.age += 1;
    first.update(&mut *conn).await.unwrap();
    first.update(&mut *conn).await.unwrap();
    for page in 0..5 {
        User::find_in_pool_on(&mut conn, page).await;
    }
    User::find_in_tx(&mut *conn)
        .unprepared()
        .all()
        .await
        .unwrap();
    let mut last = users[2].clone();
    last.delete(&mut *conn).await.unwrap();

    let totals = stmt_totals(&Snapshot::take().since(&before));
    let created = u64::try_from(prepared_on(&mut conn).await - prepared_before).unwrap();
    assert_eq!(
        created, 5,
        "insert, find_by_id, update, paged select, delete"
    );
    assert_eq!(totals.misses, created, "{totals:?}");
    assert_eq!(totals.hits + totals.misses, 3 + 6 + 2 + 5 + 1, "{totals:?}");
    assert_eq!((totals.ambiguous, totals.unprepared), (0, 1), "{totals:?}");
}

/// Paging through 50 LIMIT/OFFSET pairs prepares one statement per
/// connection, on the server too.
async fn paging(url: &str) {
    let pool = pool(url, "premix_truth_paging", 1, 100).await;
    seed_users(&pool, 60).await;
    let mut conn = pool.acquire().await.unwrap();
    let prepared_before = prepared_on(&mut conn).await;
    let before = Snapshot::take();
    for page in 0..50 {
        User::find_in_pool_on(&mut conn, page).await;
    }
    let stats = Snapshot::take().since(&before);
    let select = stats.expect("select", "users").stmt_cache;
    assert_eq!((select.misses, select.hits), (1, 49));
    assert_eq!(prepared_on(&mut conn).await - prepared_before, 1);
}

/// A capacity of 2 forces evictions: the server never holds more than two
/// of our statements, and nothing on the full cache is called a hit.
async fn evictions(url: &str) {
    let pool = pool(url, "premix_truth_evict", 1, 2).await;
    premix_orm_fork::set_statement_cache_capacity(2);
    let users = seed_users(&pool, 1).await;
    let mut conn = pool.acquire().await.unwrap();
    let before = Snapshot::take();
    for _ in 0..3 {
        User::find_by_id(&mut *conn, users[0].id).await.unwrap();
        User::find_in_pool_on(&mut conn, 0).await;
        assert!(
            prepared_on(&mut conn).await <= 2,
            "sqlx closes what it evicts"
        );
    }
    full_cache_lookups_were_ambiguous(&before);
}

trait PagedSelect {
    async fn find_in_pool_on(conn: &mut sqlx::pool::PoolConnection<sqlx::Postgres>, page: i32);
}

impl PagedSelect for User {
    /// One paged select on this connection.
    async fn find_in_pool_on(conn: &mut sqlx::pool::PoolConnection<sqlx::Postgres>, page: i32) {
        User::find_in_tx(&mut *conn)
            .limit(1 + page % 7)
            .offset(page)
            .all()
            .await
            .unwrap();
    }
}

/// A schema of its own, and a pool of `connections` built by the fork for
/// exact accounting.
async fn exact_pool(url: &str, schema: &str, capacity: usize, connections: u32) -> PgPool {
    drop(pool(url, schema, 1, capacity).await);
    let options = PgConnectOptions::from_str(url)
        .unwrap()
        .options([("search_path", schema)]);
    Premix::postgres_pool(
        options,
        PgPoolOptions::new()
            .min_connections(connections)
            .max_connections(connections),
        StatementCache::new(capacity).exact(),
    )
    .await
    .unwrap()
}

/// The server's account of the connection: `pg_prepared_statements` (read
/// through the simple protocol, preparing nothing), which must also be the
/// client's cache size.
struct PgPrepared;

impl GroundTruth<sqlx::Postgres> for PgPrepared {
    async fn read(&self, conn: &mut PgConnection) -> usize {
        let on_server = usize::try_from(prepared_on(conn).await).unwrap();
        assert_eq!(
            on_server,
            conn.cached_statements_size(),
            "server and client disagree"
        );
        on_server
    }
}

async fn full_caches(url: &str) {
    for capacity in [2, 100] {
        let pool = exact_pool(url, &format!("premix_truth_full_{capacity}"), capacity, 1).await;
        a_full_cache_is_counted_exactly(&pool, capacity, &PgPrepared).await;
        let pool = exact_pool(url, &format!("premix_truth_other_{capacity}"), capacity, 1).await;
        other_code_is_noticed(&pool, capacity).await;
        let pool = exact_pool(url, &format!("premix_truth_two_{capacity}"), capacity, 2).await;
        every_connection_is_followed(&pool, capacity, &PgPrepared).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_counts_match_pg_prepared_statements() {
    let Some(url) = database_url("postgres ground truth") else {
        return;
    };
    scripted_workload(&url).await;
    paging(&url).await;
    evictions(&url).await;
    concurrent_lookups_add_up(&pool(&url, "premix_truth_concurrent", 4, 100).await, 4).await;
    eager_threshold_counts(&pool(&url, "premix_truth_eager", 1, 100).await).await;
    connections_start_cold(&pool(&url, "premix_truth_cold", 3, 100).await).await;
    full_caches(&url).await;
}
