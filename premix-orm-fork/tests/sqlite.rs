//! Every shared scenario on in-memory SQLite, each test on a database of its
//! own.

mod common;

use common::*;
use premix_orm_fork::Premix;
use premix_orm_fork::prelude::Model;
use premix_orm_fork::sqlx::{self, SqlitePool};

async fn fresh() -> SqlitePool {
    let pool = Premix::smart_sqlite_pool("sqlite::memory:").await.unwrap();
    sync_all(&pool).await;
    pool
}

#[tokio::test]
async fn crud_works() {
    crud(&fresh().await).await;
}

#[tokio::test]
async fn soft_delete_and_versions_work() {
    soft_delete_and_versions(&fresh().await).await;
}

#[tokio::test]
async fn hooks_and_validation_run() {
    hooks_and_validation(&fresh().await).await;
}

#[tokio::test]
async fn query_builder_works() {
    query_builder(&fresh().await).await;
}

#[tokio::test]
async fn builder_errors_are_returned() {
    builder_errors(&fresh().await).await;
}

#[tokio::test]
async fn relations_load() {
    relations(&fresh().await).await;
}

#[tokio::test]
async fn transactions_roll_back() {
    transactions(&fresh().await).await;
}

#[tokio::test]
async fn sql_binds_every_value() {
    assert_eq!(
        sql_text(&fresh().await),
        "SELECT id, name, age, active FROM users WHERE name = ? AND age IN (?, ?, ?, ?) LIMIT ? OFFSET ?"
    );
}

#[tokio::test]
async fn a_closed_pool_is_a_returned_error() {
    let pool = fresh().await;
    pool.close().await;
    let err = User::find_by_id(&pool, 1).await.unwrap_err();
    assert!(matches!(err, sqlx::Error::PoolClosed), "{err:?}");
}

#[tokio::test]
async fn static_queries_run() {
    static_queries(&fresh().await).await;
}

#[tokio::test]
async fn keywords_are_quoted() {
    inputs::keywords_are_quoted(&fresh().await).await;
}

#[tokio::test]
async fn in_lists_past_the_bind_limit() {
    inputs::in_lists_past_the_bind_limit(&fresh().await).await;
}

#[tokio::test]
async fn paging_an_update_or_delete_is_refused() {
    inputs::paging_an_update_or_delete_is_refused(&fresh().await).await;
}

#[tokio::test]
async fn previews_return_the_builders_error() {
    inputs::previews_return_the_builders_error(&fresh().await).await;
}

#[tokio::test]
async fn ordered_pages_hold_what_they_should() {
    inputs::ordered_pages_hold_what_they_should(&fresh().await).await;
}

#[tokio::test]
async fn raw_conditions_cannot_end_the_statement() {
    inputs::raw_conditions_cannot_end_the_statement(&fresh().await).await;
}

#[tokio::test]
async fn the_sql_cache_is_bounded() {
    inputs::the_sql_cache_is_bounded(&fresh().await).await;
}
