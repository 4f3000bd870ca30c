//! The blog: users write posts, posts get comments. The workload mixes what
//! a real app does: point lookups, filtered and paged selects, inserts,
//! updates, deletes, and eager loads on both sides of the Vec/HashMap
//! threshold.

use premix_orm_fork::prelude::*;
use premix_orm_fork::{SqlDialect, sqlx};
use sqlx::Pool;

/// A blog user.
#[derive(Model, Debug, Clone)]
pub struct User {
    pub id: i32,
    pub name: String,
    pub karma: i32,
    #[has_many(Post)]
    #[premix(ignore)]
    pub posts: Option<Vec<Post>>,
}

/// A post by a user.
#[derive(Model, Debug, Clone)]
#[belongs_to(User)]
pub struct Post {
    pub id: i32,
    pub user_id: i32,
    pub title: String,
    pub views: i64,
    #[has_many(Comment)]
    #[premix(ignore)]
    pub comments: Option<Vec<Comment>>,
}

/// A comment on a post.
#[derive(Model, Debug, Clone)]
#[belongs_to(Post)]
pub struct Comment {
    pub id: i32,
    pub post_id: i32,
    pub body: String,
}

pub const USERS: i32 = 200;
const POSTS_PER_USER: i32 = 15;
const COMMENTS_PER_POST: i32 = 3;

/// Creates the tables and the starting data.
pub async fn seed<DB: SqlDialect>(pool: &Pool<DB>) -> Result<(), sqlx::Error>
where
    User: Model<DB>,
    Post: Model<DB>,
    Comment: Model<DB>,
{
    Premix::sync::<DB, User>(pool).await?;
    Premix::sync::<DB, Post>(pool).await?;
    Premix::sync::<DB, Comment>(pool).await?;
    let mut tx = pool.begin().await?;
    for u in 0..USERS {
        let mut user = User {
            id: 0,
            name: format!("user{u}"),
            karma: u % 100,
            posts: None,
        };
        user.save(&mut tx).await?;
        for p in 0..POSTS_PER_USER {
            let mut post = Post {
                id: 0,
                user_id: user.id,
                title: format!("post {p} by {u}"),
                views: 0,
                comments: None,
            };
            post.save(&mut tx).await?;
            for c in 0..COMMENTS_PER_POST {
                let mut comment = Comment {
                    id: 0,
                    post_id: post.id,
                    body: format!("comment {c}"),
                };
                comment.save(&mut tx).await?;
            }
        }
    }
    tx.commit().await
}

/// Eager loads cycle through these parent counts: both sides of the default
/// threshold (2048; users have at most 200 parents, posts up to 3000).
const EAGER_PARENTS: [i32; 6] = [1, 10, 100, 1000, 2048, 3000];

/// Operation `i` of the mix.
pub async fn step<DB: SqlDialect>(pool: &Pool<DB>, i: u64) -> Result<(), sqlx::Error>
where
    User: Model<DB>,
    Post: Model<DB>,
    Comment: Model<DB>,
{
    let user_id = 1 + (i % USERS as u64) as i32;
    let post_id = 1 + (i % (USERS * POSTS_PER_USER) as u64) as i32;
    match i % 20 {
        0..=6 => {
            User::find_by_id(pool, user_id).await?;
        }
        7..=9 => {
            Post::find_by_id(pool, post_id).await?;
        }
        10..=11 => {
            let page = (i / 20 % 10) as i32;
            Post::find_in_pool(pool)
                .filter_eq("user_id", user_id)
                .limit(3)
                .offset(page % 3)
                .all()
                .await?;
        }
        12 => {
            User::find_in_pool(pool)
                .filter_gte("karma", 90)
                .limit(20)
                .all()
                .await?;
        }
        13..=14 => {
            let mut comment = Comment {
                id: 0,
                post_id,
                body: format!("reply {i}"),
            };
            comment.save(pool).await?;
        }
        15 => {
            if let Some(mut post) = Post::find_by_id(pool, post_id).await? {
                post.views += 1;
                post.update(pool).await?;
            }
        }
        16 => {
            Comment::find_in_pool(pool)
                .filter_eq("post_id", post_id)
                .filter_like("body", "reply%")
                .delete()
                .await?;
        }
        17 => {
            let parents = EAGER_PARENTS[(i / 20 % EAGER_PARENTS.len() as u64) as usize];
            User::find_in_pool(pool)
                .limit(parents)
                .include(User::posts)
                .all()
                .await?;
        }
        18 => {
            let parents = EAGER_PARENTS[(i / 20 % EAGER_PARENTS.len() as u64) as usize];
            Post::find_in_pool(pool)
                .limit(parents)
                .include(Post::comments)
                .all()
                .await?;
        }
        _ if i % 40 == 19 => {
            // A lookup of something that is not there.
            User::find_by_id(pool, -1).await?;
        }
        _ => {
            // A search naming a field the model does not have (it came from
            // a request): the ORM refuses it before it reaches the database,
            // and the application answers the request with an error and
            // carries on.
            let refused = User::find_in_pool(pool)
                .filter_eq("nickname", "ann")
                .all()
                .await;
            if !matches!(refused, Err(sqlx::Error::ColumnNotFound(_))) {
                return Err(sqlx::Error::Protocol(format!(
                    "a filter on an unknown column was not refused: {refused:?}"
                )));
            }
        }
    }
    Ok(())
}
