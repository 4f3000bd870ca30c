//! The pool and the tables. Pools are built by the ORM
//! (`Premix::postgres_pool`, `Premix::smart_sqlite_pool`), so it knows their
//! statement caches and reports their gauges; tables are created with
//! `Premix::sync`, which is idempotent, so every instance of a fleet runs it
//! at start.

use std::str::FromStr;

use premix_orm::sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use premix_orm::sqlx::{self, PgPool, SqlitePool};
use premix_orm::{Model, Premix, SqlDialect, StatementCache};

use crate::config::Config;
use crate::models::{Comment, Post, User};

/// A pool on one of the two backends.
pub(crate) enum Connected {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

/// Connects as `config` says and creates the tables if they are missing.
pub(crate) async fn connect(config: &Config) -> Result<Connected, sqlx::Error> {
    if config.database.starts_with("sqlite:") {
        let pool = Premix::smart_sqlite_pool(&config.database).await?;
        create_tables(&pool).await?;
        return Ok(Connected::Sqlite(pool));
    }
    let mut options = PgConnectOptions::from_str(&config.database)?;
    if let Some(schema) = &config.schema {
        // The name was checked to be [a-z0-9_]+ by the config parser.
        let mut admin: sqlx::PgConnection = sqlx::Connection::connect_with(&options).await?;
        sqlx::raw_sql(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
            .execute(&mut admin)
            .await?;
        sqlx::Connection::close(admin).await?;
        options = options.options([("search_path", schema.as_str())]);
    }
    let pool = Premix::postgres_pool(
        options,
        PgPoolOptions::new().max_connections(config.pool_size),
        StatementCache::default(),
    )
    .await?;
    create_tables(&pool).await?;
    Ok(Connected::Postgres(pool))
}

async fn create_tables<DB: SqlDialect>(pool: &sqlx::Pool<DB>) -> Result<(), sqlx::Error>
where
    User: Model<DB>,
    Post: Model<DB>,
    Comment: Model<DB>,
{
    Premix::sync::<DB, User>(pool).await?;
    Premix::sync::<DB, Post>(pool).await?;
    Premix::sync::<DB, Comment>(pool).await
}
