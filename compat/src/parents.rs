//! premix's field-level `belongs_to`: each post's author loaded by
//! `include("author")`, several posts sharing one author, a post whose
//! author row is gone; and the lazy accessors premix generates from
//! struct-level relations, `user.posts_lazy(&pool)` and `post.user(&pool)`.

use premix_orm::prelude::*;
use premix_orm::sqlx::Sqlite;

/// An author; `Clone`, as premix's eager `belongs_to` needs.
#[derive(Model, Debug, Clone, PartialEq)]
#[has_many(Post)]
pub struct User {
    /// Primary key.
    pub id: i32,
    /// Name.
    pub name: String,
}

/// A post with its author as a field.
#[derive(Model, Debug, Clone)]
#[belongs_to(User)]
pub struct Post {
    /// Primary key.
    pub id: i32,
    /// The author's id.
    pub user_id: i32,
    /// Title.
    pub title: String,
    /// Loaded by `include("author")`.
    #[belongs_to(User)]
    #[premix(ignore)]
    pub author: Option<User>,
}

/// What the program saw.
#[derive(Debug)]
pub struct Seen {
    /// Every post with its author as `include("author")` loaded it.
    pub eager: Vec<Post>,
    /// The same through the typed handle `Post::author`.
    pub typed: Vec<Post>,
    /// `ada.posts_lazy(&pool)`.
    pub lazy_posts: Vec<Post>,
    /// `post.user(&pool)` for the first post.
    pub lazy_author: Option<User>,
}

/// Two posts by Ada, one by an author that was deleted.
///
/// # Errors
/// Whatever the ORM returns.
pub async fn run() -> Result<Seen, premix_orm::sqlx::Error> {
    let pool = Premix::smart_sqlite_pool("sqlite::memory:").await?;
    Premix::sync::<Sqlite, User>(&pool).await?;
    Premix::sync::<Sqlite, Post>(&pool).await?;
    premix_orm::sqlx::query("PRAGMA foreign_keys = OFF")
        .execute(&pool)
        .await?;
    let mut ada = User {
        id: 0,
        name: "Ada".into(),
    };
    ada.save(&pool).await?;
    let mut gone = User {
        id: 0,
        name: "Gone".into(),
    };
    gone.save(&pool).await?;
    for (user_id, title) in [(ada.id, "one"), (ada.id, "two"), (gone.id, "orphan")] {
        let mut post = Post {
            id: 0,
            user_id,
            title: title.into(),
            author: None,
        };
        post.save(&pool).await?;
    }
    gone.delete(&pool).await?;

    let eager = Post::find_in_pool(&pool).include("author").all().await?;
    let typed = Post::find_in_pool(&pool)
        .include(Post::author)
        .all()
        .await?;
    let lazy_posts = ada.posts_lazy(&pool).await?;
    let lazy_author = eager[0].user(&pool).await?;
    Ok(Seen {
        eager,
        typed,
        lazy_posts,
        lazy_author,
    })
}
