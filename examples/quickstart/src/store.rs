//! Plain sqlx functions, the kind an ORM generates, each carrying the
//! instrumentation attribute only when the `instrument` feature is on.

use sqlx::SqlitePool;

/// A row of `users`.
#[derive(Debug, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub age: i64,
}

pub async fn create_schema(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    sqlx::query(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, age INTEGER NOT NULL)",
    )
    .execute(pool)
    .await?;
    Ok(())
}

#[cfg_attr(
    feature = "instrument",
    premix_instrument::instrument(op = "insert", model = "users")
)]
pub async fn insert_user(pool: &SqlitePool, name: &str, age: i64) -> Result<i64, sqlx::Error> {
    let done = sqlx::query("INSERT INTO users (name, age) VALUES (?, ?)")
        .bind(name)
        .bind(age)
        .execute(pool)
        .await?;
    Ok(done.last_insert_rowid())
}

#[cfg_attr(
    feature = "instrument",
    premix_instrument::instrument(op = "find_by_id", model = "users")
)]
pub async fn find_by_id(pool: &SqlitePool, id: i64) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as("SELECT id, name, age FROM users WHERE id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await
}

#[cfg_attr(
    feature = "instrument",
    premix_instrument::instrument(op = "select", model = "users")
)]
pub async fn older_than(pool: &SqlitePool, age: i64, limit: i64) -> Result<Vec<User>, sqlx::Error> {
    sqlx::query_as("SELECT id, name, age FROM users WHERE age > ? ORDER BY id LIMIT ?")
        .bind(age)
        .bind(limit)
        .fetch_all(pool)
        .await
}

#[cfg_attr(
    feature = "instrument",
    premix_instrument::instrument(op = "update", model = "users")
)]
pub async fn rename(pool: &SqlitePool, id: i64, name: &str) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("UPDATE users SET name = ? WHERE id = ?")
        .bind(name)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}

#[cfg_attr(
    feature = "instrument",
    premix_instrument::instrument(op = "delete", model = "users")
)]
pub async fn delete(pool: &SqlitePool, id: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM users WHERE id = ?")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}

#[cfg_attr(
    feature = "instrument",
    premix_instrument::instrument(op = "select", model = "missing")
)]
pub async fn find_in_missing_table(pool: &SqlitePool) -> Result<Vec<User>, sqlx::Error> {
    sqlx::query_as("SELECT id, name, age FROM missing")
        .fetch_all(pool)
        .await
}
