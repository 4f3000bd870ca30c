//! Every shared scenario on PostgreSQL, each test in a schema of its own.
//!
//! Needs `DATABASE_URL`; `cargo xtask test` starts a throwaway cluster and
//! sets it. Without it the tests say they skip, except under CI, where a
//! missing database is a failure.

mod common;

use common::*;
use premix_orm_fork::prelude::Model;
use premix_orm_fork::sqlx::postgres::PgPoolOptions;
use premix_orm_fork::sqlx::{self, PgPool};

/// A pool whose connections use a fresh schema named after the test.
async fn fresh(test: &str) -> Option<PgPool> {
    let url = database_url(test)?;
    let options = fresh_schema(&url, &format!("premix_{test}")).await;
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .unwrap();
    sync_all(&pool).await;
    Some(pool)
}

#[tokio::test]
async fn crud_works() {
    let Some(pool) = fresh("crud").await else {
        return;
    };
    crud(&pool).await;
}

#[tokio::test]
async fn soft_delete_and_versions_work() {
    let Some(pool) = fresh("soft_delete").await else {
        return;
    };
    soft_delete_and_versions(&pool).await;
}

#[tokio::test]
async fn hooks_and_validation_run() {
    let Some(pool) = fresh("hooks").await else {
        return;
    };
    hooks_and_validation(&pool).await;
}

#[tokio::test]
async fn query_builder_works() {
    let Some(pool) = fresh("builder").await else {
        return;
    };
    query_builder(&pool).await;
}

#[tokio::test]
async fn builder_errors_are_returned() {
    let Some(pool) = fresh("errors").await else {
        return;
    };
    builder_errors(&pool).await;
}

#[tokio::test]
async fn relations_load() {
    let Some(pool) = fresh("relations").await else {
        return;
    };
    relations(&pool).await;
}

#[tokio::test]
async fn transactions_roll_back() {
    let Some(pool) = fresh("transactions").await else {
        return;
    };
    transactions(&pool).await;
}

#[tokio::test]
async fn sql_binds_every_value() {
    let Some(pool) = fresh("sql_text").await else {
        return;
    };
    assert_eq!(
        sql_text(&pool),
        "SELECT id, name, age, active FROM users WHERE name = $1 AND age IN ($2, $3, $4, $5) LIMIT $6 OFFSET $7"
    );
}

#[tokio::test]
async fn a_dropped_connection_is_a_returned_error() {
    let Some(pool) = fresh("dropped").await else {
        return;
    };
    let mut conn = pool.acquire().await.unwrap();
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    let terminated: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(terminated);
    let result = User::find_by_id(&mut conn, 1).await;
    assert!(
        result.is_err(),
        "a query on a terminated backend must fail: {result:?}"
    );
}

#[tokio::test]
async fn static_queries_run() {
    let Some(pool) = fresh("static_queries").await else {
        return;
    };
    static_queries(&pool).await;
}

/// One model, both backends, one process: each backend gets its own SQL
/// (placeholders `?` vs `$n`) from the same per-model cache.
#[tokio::test]
async fn both_backends_in_one_process() {
    let Some(pg) = fresh("both_backends").await else {
        return;
    };
    let sqlite = premix_orm_fork::Premix::smart_sqlite_pool("sqlite::memory:")
        .await
        .unwrap();
    sync_all(&sqlite).await;
    for round in 0..2 {
        let mut on_sqlite = user(&format!("lite{round}"), 20);
        on_sqlite.save(&sqlite).await.unwrap();
        let mut on_pg = user(&format!("pg{round}"), 30);
        on_pg.save(&pg).await.unwrap();
        let lite = User::find_by_id(&sqlite, on_sqlite.id)
            .await
            .unwrap()
            .unwrap();
        let post = User::find_by_id(&pg, on_pg.id).await.unwrap().unwrap();
        assert_eq!(
            (lite.name.as_str(), post.name.as_str()),
            (on_sqlite.name.as_str(), on_pg.name.as_str())
        );
    }
    assert!(sql_text(&sqlite).contains("name = ? AND"));
    assert!(sql_text(&pg).contains("name = $1 AND"));
}

#[tokio::test]
async fn keywords_are_quoted() {
    let Some(pool) = fresh("keywords").await else {
        return;
    };
    inputs::keywords_are_quoted(&pool).await;
}

#[tokio::test]
async fn in_lists_past_the_bind_limit() {
    let Some(pool) = fresh("in_lists").await else {
        return;
    };
    inputs::in_lists_past_the_bind_limit(&pool).await;
}

#[tokio::test]
async fn paging_an_update_or_delete_is_refused() {
    let Some(pool) = fresh("paging_writes").await else {
        return;
    };
    inputs::paging_an_update_or_delete_is_refused(&pool).await;
}

#[tokio::test]
async fn previews_return_the_builders_error() {
    let Some(pool) = fresh("previews").await else {
        return;
    };
    inputs::previews_return_the_builders_error(&pool).await;
}

#[tokio::test]
async fn ordered_pages_hold_what_they_should() {
    let Some(pool) = fresh("ordered_pages").await else {
        return;
    };
    inputs::ordered_pages_hold_what_they_should(&pool).await;
}

#[tokio::test]
async fn raw_conditions_cannot_end_the_statement() {
    let Some(pool) = fresh("raw_conditions").await else {
        return;
    };
    inputs::raw_conditions_cannot_end_the_statement(&pool).await;
}

#[tokio::test]
async fn the_sql_cache_is_bounded() {
    let Some(pool) = fresh("sql_cache_bound").await else {
        return;
    };
    inputs::the_sql_cache_is_bounded(&pool).await;
}
