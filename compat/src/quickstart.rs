//! The premix quick start: derive, sync, save, find.

use premix_orm::prelude::*;

/// A user, as in premix's quick start.
#[derive(Model, Debug)]
pub struct User {
    /// Primary key; 0 until saved.
    pub id: i32,
    /// Display name.
    pub name: String,
}

/// Creates the table, saves Alice, reads her back.
///
/// # Errors
/// Whatever the ORM returns.
pub async fn run() -> Result<Option<User>, Box<dyn std::error::Error>> {
    let pool = Premix::smart_sqlite_pool("sqlite::memory:").await?;
    premix_orm::Premix::sync::<premix_orm::sqlx::Sqlite, User>(&pool).await?;

    let mut user = User {
        id: 0,
        name: "Alice".to_string(),
    };
    user.save(&pool).await?;

    Ok(User::find_by_id(&pool, user.id).await?)
}
