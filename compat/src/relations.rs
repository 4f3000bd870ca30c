//! premix's relations example: `has_many` / `belongs_to`, eager loading by
//! typed handle and by name, several relations on one model.

use premix_orm::prelude::*;
use premix_orm::sqlx::Sqlite;

/// A user with two relations.
#[derive(Model, Debug, Clone)]
pub struct RelUser {
    /// Primary key.
    pub id: i32,
    /// Name.
    pub name: String,
    /// Loaded by `include`.
    #[has_many(RelPost)]
    #[premix(ignore)]
    pub posts: Option<Vec<RelPost>>,
    /// Loaded by `include`.
    #[has_many(RelComment)]
    #[premix(ignore)]
    pub comments: Option<Vec<RelComment>>,
}

/// A post; the foreign key follows premix's convention.
#[derive(Model, Debug, Clone)]
#[belongs_to(RelUser)]
pub struct RelPost {
    /// Primary key.
    pub id: i32,
    /// Owner.
    pub reluser_id: i32,
    /// Title.
    pub title: String,
}

/// A comment.
#[derive(Model, Debug, Clone)]
#[belongs_to(RelUser)]
pub struct RelComment {
    /// Primary key.
    pub id: i32,
    /// Owner.
    pub reluser_id: i32,
    /// Text.
    pub body: String,
}

/// Saves one user with two posts and one comment, then loads both relations
/// two ways.
///
/// # Errors
/// Whatever the ORM returns.
pub async fn run() -> Result<(Vec<RelUser>, Vec<RelUser>), premix_orm::sqlx::Error> {
    let pool = Premix::smart_sqlite_pool("sqlite::memory:").await?;
    Premix::sync::<Sqlite, RelUser>(&pool).await?;
    Premix::sync::<Sqlite, RelPost>(&pool).await?;
    Premix::sync::<Sqlite, RelComment>(&pool).await?;

    let mut user = RelUser {
        id: 0,
        name: "Rel".to_string(),
        posts: None,
        comments: None,
    };
    user.save(&pool).await?;
    for title in ["first", "second"] {
        let mut post = RelPost {
            id: 0,
            reluser_id: user.id,
            title: title.to_string(),
        };
        post.save(&pool).await?;
    }
    let mut comment = RelComment {
        id: 0,
        reluser_id: user.id,
        body: "hi".to_string(),
    };
    comment.save(&pool).await?;

    let typed = RelUser::find_in_pool(&pool)
        .include(RelUser::posts)
        .include(RelUser::comments)
        .all()
        .await?;
    let by_name = RelUser::find_in_pool(&pool)
        .include("posts")
        .include("comments")
        .all()
        .await?;
    Ok((typed, by_name))
}
