//! The same contenders as `orm_compare` on PostgreSQL over 127.0.0.1, where
//! a query is real I/O: insert, select by primary key, and 10 concurrent
//! selects on a 10-connection pool. One pool, shared by every contender
//! (SeaORM wraps it), in schema `orm_compare` of the database `DATABASE_URL`
//! names; `cargo xtask bench` starts a throwaway cluster for it. Raw sqlx
//! runs the fork's SQL with `query_as` + `FromRow`; `query_as!` is measured
//! on SQLite only (its offline data is prepared against one database).
//!
//! By hand: `DATABASE_URL=postgres://... taskset -c 1 cargo bench -p
//! premix-benches --bench orm_compare_pg [-- scenario...]`.

#[path = "../common/capture.rs"]
mod capture;
#[path = "../common/fairness.rs"]
mod fairness;
#[path = "../common/harness.rs"]
mod harness;
#[path = "../common/models.rs"]
mod models;

use std::hint::black_box;
use std::str::FromStr;

use futures_util::future::join_all;
use harness::no_extra;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, Executor, PgPool};

premix_instrument::install_counting_allocator!();

const USERS: i32 = 1000;
const CONNECTIONS: u32 = 10;

fn user_id(i: u64) -> i32 {
    1 + (i % USERS as u64) as i32
}

/// A fresh `orm_compare` schema with the dataset, and a pool whose
/// connections use it.
async fn setup(url: &str) -> &'static PgPool {
    use premix_orm_fork::prelude::*;
    let admin = PgPool::connect(url).await.expect("DATABASE_URL connects");
    admin
        .execute("DROP SCHEMA IF EXISTS orm_compare CASCADE; CREATE SCHEMA orm_compare")
        .await
        .unwrap();
    let options = PgConnectOptions::from_str(url)
        .unwrap()
        .options([("search_path", "orm_compare")]);
    let pool = PgPoolOptions::new()
        .max_connections(CONNECTIONS)
        .min_connections(CONNECTIONS)
        .connect_with(options)
        .await
        .unwrap();
    Premix::sync::<sqlx::Postgres, models::ours::User>(&pool)
        .await
        .unwrap();
    Premix::sync::<sqlx::Postgres, models::ours::Post>(&pool)
        .await
        .unwrap();
    pool.execute(
        "INSERT INTO users (id, name, age, active) \
         SELECT i, 'user' || i, 18 + i % 60, i % 2 = 0 FROM generate_series(1, 1000) AS i",
    )
    .await
    .unwrap();
    Box::leak(Box::new(pool))
}

fn main() {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        println!("orm_compare_pg: skipped, DATABASE_URL is not set (cargo xtask bench sets it)");
        return;
    };
    harness::run_comparison("postgres", async {
        use premix_orm::prelude::Model as PublishedModel;
        use premix_orm_fork::prelude::Model as ForkModel;
        use sea_orm::{ActiveModelTrait, EntityTrait, NotSet, Set, SqlxPostgresConnector};

        let pool = setup(&url).await;
        let server: (String,) = sqlx::query_as("SHOW server_version")
            .fetch_one(pool)
            .await
            .unwrap();
        let setting = format!(
            "PostgreSQL {} over 127.0.0.1 (TCP), current-thread runtime; {}",
            server.0,
            harness::shared_pool(pool.options())
        );
        // PostgreSQL statements are logged as they complete, in the caller.
        let settle = async || {};
        // Every pooled connection's statement cache: all of them held at
        // once, so each is a different connection.
        let statements = async |clear: bool| {
            let mut held = Vec::new();
            for _ in 0..CONNECTIONS {
                held.push(pool.acquire().await.unwrap());
            }
            let mut total = 0;
            for conn in &mut held {
                if clear {
                    conn.clear_cached_statements().await.unwrap();
                }
                total += conn.cached_statements_size();
            }
            total
        };
        let db: &'static sea_orm::DatabaseConnection = Box::leak(Box::new(
            SqlxPostgresConnector::from_sqlx_postgres_pool(pool.clone()),
        ));
        let by_id = models::ours::User::find_in_pool(pool)
            .filter_eq("id", 1)
            .to_sql();
        let by_id: &'static str = Box::leak(by_id.into_boxed_str());
        type Fork = models::ours::User;
        type Published = models::published::User;

        let mut results = Vec::new();
        results.extend(
            harness::scenario(
                &settle,
                &statements,
                "pg_select_by_pk",
                1000,
                |i| async move {
                    // The fork binds ids as i64; on PostgreSQL sqlx caches a
                    // statement by its text, so the same text must bind the
                    // same types (an i32 here fails with 08P01).
                    let row = sqlx::query_as::<_, models::raw::RawUser>(by_id)
                        .bind(i64::from(user_id(i)))
                        .fetch_optional(pool)
                        .await
                        .unwrap();
                    black_box(row);
                },
                |i| async move {
                    let row = <Fork as ForkModel<sqlx::Postgres>>::find_by_id(pool, user_id(i));
                    black_box(row.await.unwrap());
                },
                |i| async move {
                    let row =
                        <Published as PublishedModel<sqlx::Postgres>>::find_by_id(pool, user_id(i));
                    black_box(row.await.unwrap());
                },
                |i| async move {
                    let row = models::sea::users::Entity::find_by_id(user_id(i)).one(db);
                    black_box(row.await.unwrap());
                },
                no_extra(),
            )
            .await,
        );
        results.extend(
            harness::scenario(
                &settle,
                &statements,
                "pg_insert",
                500,
                |i| async move {
                    let id: i32 = sqlx::query_scalar(
                        "INSERT INTO posts (user_id, title, score) VALUES ($1, $2, $3) RETURNING id",
                    )
                    .bind(999)
                    .bind("")
                    .bind(i as i64)
                    .fetch_one(pool)
                    .await
                    .unwrap();
                    black_box(id);
                },
                |i| async move {
                    let mut post = models::ours::Post {
                        id: 0,
                        user_id: 999,
                        title: String::new(),
                        score: i as i64,
                    };
                    post.save(pool).await.unwrap();
                    black_box(post.id);
                },
                |i| async move {
                    let mut post = models::published::Post {
                        id: 0,
                        user_id: 999,
                        title: String::new(),
                        score: i as i64,
                    };
                    post.save(pool).await.unwrap();
                    black_box(post.id);
                },
                |i| async move {
                    let post = models::sea::posts::ActiveModel {
                        id: NotSet,
                        user_id: Set(999),
                        title: Set(String::new()),
                        score: Set(i as i64),
                    };
                    black_box(post.insert(db).await.unwrap());
                },
                no_extra(),
            )
            .await,
        );
        results.extend(
            harness::scenario(
                &settle,
                &statements,
                "pg_10_concurrent_selects",
                200,
                |i| async move {
                    let rows = join_all((0..10).map(|k| {
                        sqlx::query_as::<_, models::raw::RawUser>(by_id)
                            .bind(i64::from(user_id(i * 10 + k)))
                            .fetch_optional(pool)
                    }));
                    black_box(rows.await);
                },
                |i| async move {
                    let rows = join_all((0..10).map(|k| {
                        <Fork as ForkModel<sqlx::Postgres>>::find_by_id(pool, user_id(i * 10 + k))
                    }));
                    black_box(rows.await);
                },
                |i| async move {
                    let rows = join_all((0..10).map(|k| {
                        <Published as PublishedModel<sqlx::Postgres>>::find_by_id(
                            pool,
                            user_id(i * 10 + k),
                        )
                    }));
                    black_box(rows.await);
                },
                |i| async move {
                    let rows = join_all((0..10).map(|k| {
                        models::sea::users::Entity::find_by_id(user_id(i * 10 + k)).one(db)
                    }));
                    black_box(rows.await);
                },
                no_extra(),
            )
            .await,
        );
        (setting, results)
    });
}
