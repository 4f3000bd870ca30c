//! The SQLite dataset every SQLite bench contender runs on: the schema from
//! `benches/migrations` (which `cargo xtask prepare` also checks `query!`
//! against), 1000 users, 1500 posts, and scratch posts to delete.

use sqlx::SqlitePool;

pub const USERS: i32 = 1000;
/// Users 1..=50 have 10 posts each, users 51..=250 have 5 each.
pub const SEEDED_POSTS: i32 = 50 * 10 + 200 * 5;

/// An in-memory database (one connection, as the fork's `smart_sqlite_pool`
/// keeps it) with the dataset and `scratch_posts` posts of user 1000 after
/// the seeded ones.
pub async fn sqlite(scratch_posts: i32) -> &'static SqlitePool {
    use premix_orm_fork::prelude::*;
    let pool = Premix::smart_sqlite_pool("sqlite::memory:").await.unwrap();
    sqlx::raw_sql(include_str!("../../migrations/20261122000000_schema.sql"))
        .execute(&pool)
        .await
        .unwrap();
    let mut tx = pool.begin().await.unwrap();
    for i in 1..=USERS {
        sqlx::query("INSERT INTO users (id, name, age, active) VALUES (?, ?, ?, ?)")
            .bind(i)
            .bind(format!("user{i}"))
            .bind(18 + i % 60)
            .bind(i % 2 == 0)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    for n in 0..SEEDED_POSTS {
        let user = if n < 500 {
            1 + n % 50
        } else {
            51 + (n - 500) % 200
        };
        sqlx::query("INSERT INTO posts (user_id, title, score) VALUES (?, ?, ?)")
            .bind(user)
            .bind(format!("post {n}"))
            .bind(i64::from(n))
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    for _ in 0..scratch_posts {
        sqlx::query("INSERT INTO posts (user_id, title, score) VALUES (1000, '', 0)")
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    Box::leak(Box::new(pool))
}
