//! premix's bulk operations: filtered update with a JSON object, filtered
//! delete, and the SQL the builder shows.

use premix_orm::prelude::*;
use serde_json::json;

/// A user with a status.
#[derive(Model, Debug)]
pub struct User {
    /// Primary key.
    pub id: i32,
    /// `active` or `inactive`.
    pub status: String,
}

/// What the program observed.
#[derive(Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Rows the update changed.
    pub updated: u64,
    /// Rows the delete removed.
    pub deleted: u64,
    /// Rows left.
    pub remaining: usize,
    /// The SELECT text of a filtered, paged query.
    pub sql: String,
}

/// Three inactive users become active, one is deleted.
///
/// # Errors
/// Whatever the ORM returns.
pub async fn run() -> Result<Outcome, premix_orm::sqlx::Error> {
    let pool = Premix::smart_sqlite_pool("sqlite::memory:").await?;
    Premix::sync::<premix_orm::sqlx::Sqlite, User>(&pool).await?;
    for status in ["inactive", "inactive", "inactive", "active"] {
        let mut user = User {
            id: 0,
            status: status.to_string(),
        };
        user.save(&pool).await?;
    }

    let updated = User::find_in_pool(&pool)
        .filter_eq("status", "inactive")
        .update(json!({ "status": "active" }))
        .await?;
    let deleted = User::find_in_pool(&pool)
        .filter_eq("id", 4)
        .delete()
        .await?;
    let remaining = User::find_in_pool(&pool)
        .filter_eq("status", "active")
        .all()
        .await?
        .len();
    let sql = User::find_in_pool(&pool)
        .filter_eq("status", "active")
        .limit(10)
        .offset(0)
        .to_sql();
    Ok(Outcome {
        updated,
        deleted,
        remaining,
        sql,
    })
}
