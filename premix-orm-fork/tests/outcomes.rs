//! Failures counted as what they are, on each backend: pool exhaustion and
//! a closed pool as the operation's errors, with the wait recorded; a
//! stream dropped after an error, a version conflict, refused queries and
//! `premix_query!` statements with their outcomes and kinds. One test per
//! backend, each running its scenarios in turn: the counters are
//! process-wide, and the backend label keeps the two tests apart.

mod common;

use std::str::FromStr;
use std::time::Duration;

use common::accounting::{outcomes_and_kinds, pool_failures_are_the_operations_errors};
use common::*;
use premix_orm_fork::sqlx::postgres::PgPoolOptions;
use premix_orm_fork::sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use premix_orm_fork::{Premix, StatementCache};

const ACQUIRE_TIMEOUT: Duration = Duration::from_millis(200);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_failures_are_counted() {
    let one_connection = Premix::sqlite_pool(
        SqliteConnectOptions::from_str("sqlite::memory:").unwrap(),
        SqlitePoolOptions::new()
            .min_connections(1)
            .max_connections(1)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .idle_timeout(None)
            .max_lifetime(None),
        StatementCache::default(),
    )
    .await
    .unwrap();
    sync_all(&one_connection).await;
    pool_failures_are_the_operations_errors(&one_connection, ACQUIRE_TIMEOUT).await;

    let pool = Premix::smart_sqlite_pool("sqlite::memory:").await.unwrap();
    sync_all(&pool).await;
    outcomes_and_kinds(&pool).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_failures_are_counted() {
    let Some(url) = database_url("postgres outcomes") else {
        return;
    };
    let pool = |schema: &'static str, connections: u32| {
        let url = url.clone();
        async move {
            let pool = Premix::postgres_pool(
                fresh_schema(&url, schema).await,
                PgPoolOptions::new()
                    .max_connections(connections)
                    .acquire_timeout(ACQUIRE_TIMEOUT),
                StatementCache::default(),
            )
            .await
            .unwrap();
            sync_all(&pool).await;
            pool
        }
    };
    pool_failures_are_the_operations_errors(
        &pool("premix_outcomes_pool", 1).await,
        ACQUIRE_TIMEOUT,
    )
    .await;
    outcomes_and_kinds(&pool("premix_outcomes_kinds", 2).await).await;
}
