//! The operations the gate pins, on a small blog (users with posts), each
//! run the same way every call so that every call costs the same.

use premix_orm_fork::prelude::*;
use premix_orm_fork::{SqlDialect, sqlx};
use sqlx::Pool;

#[derive(Model, Debug, Clone, PartialEq)]
pub struct User {
    pub id: i32,
    pub name: String,
    pub age: i32,
    #[has_many(Post)]
    #[premix(ignore)]
    pub posts: Option<Vec<Post>>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[belongs_to(User)]
pub struct Post {
    pub id: i32,
    pub user_id: i32,
    pub title: String,
}

/// Users seeded; the first [`USERS_WITH_POSTS`] have [`POSTS_PER_USER`]
/// posts each.
pub const USERS: i32 = 200;
pub const USERS_WITH_POSTS: i32 = 50;
pub const POSTS_PER_USER: i32 = 10;

/// One operation, called the same way every time, and where the snapshot
/// counts it.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    pub name: &'static str,
    pub op: &'static str,
    pub model: &'static str,
}

/// In the order they run: `delete` removes, call for call, the posts
/// `insert` added.
pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "find_by_id",
        op: "find_by_id",
        model: "users",
    },
    Scenario {
        name: "select_1",
        op: "select",
        model: "users",
    },
    Scenario {
        name: "select_100",
        op: "select",
        model: "users",
    },
    Scenario {
        name: "insert",
        op: "insert",
        model: "posts",
    },
    Scenario {
        name: "update",
        op: "update",
        model: "users",
    },
    Scenario {
        name: "delete",
        op: "delete",
        model: "posts",
    },
    Scenario {
        name: "paged",
        op: "select",
        model: "posts",
    },
    Scenario {
        name: "eager_50x10",
        op: "select",
        model: "users",
    },
];

/// Creates the tables and the rows every scenario reads.
///
/// # Errors
/// Whatever the database reports.
pub async fn seed<DB: SqlDialect>(pool: &Pool<DB>) -> Result<(), sqlx::Error>
where
    User: Model<DB>,
    Post: Model<DB>,
{
    Premix::sync::<DB, User>(pool).await?;
    Premix::sync::<DB, Post>(pool).await?;
    for id in 1..=USERS {
        let mut user = User {
            id: 0,
            name: format!("user {id}"),
            age: id % 90,
            posts: None,
        };
        user.save(pool).await?;
    }
    for user_id in 1..=USERS_WITH_POSTS {
        for n in 0..POSTS_PER_USER {
            let mut post = Post {
                id: 0,
                user_id,
                title: format!("post {n}"),
            };
            post.save(pool).await?;
        }
    }
    Ok(())
}

/// The rows the writing scenarios reuse call after call, made before any
/// measurement: building them is the caller's allocation, not the
/// operation's.
#[derive(Debug)]
pub struct Fixtures {
    new_post: Post,
    user: User,
}

impl Default for Fixtures {
    fn default() -> Self {
        Self {
            new_post: Post {
                id: 0,
                user_id: 1,
                title: String::from("new post"),
            },
            user: User {
                id: 3,
                name: String::from("user 3"),
                age: 3,
                posts: None,
            },
        }
    }
}

/// Runs call `call` (counting from 0 across warm-up and measurement) of
/// `scenario`.
///
/// # Errors
/// Whatever the operation returns; an unknown scenario is
/// `sqlx::Error::Protocol`.
pub async fn run<DB: SqlDialect>(
    pool: &Pool<DB>,
    scenario: &Scenario,
    call: i32,
    fixtures: &mut Fixtures,
) -> Result<(), sqlx::Error>
where
    User: Model<DB>,
    Post: Model<DB>,
{
    match scenario.name {
        "find_by_id" => {
            User::find_by_id(pool, 3).await?;
        }
        "select_1" => {
            User::find_in_pool(pool).filter_eq("id", 3).all().await?;
        }
        "select_100" => {
            User::find_in_pool(pool).limit(100).all().await?;
        }
        "insert" => {
            fixtures.new_post.id = 0;
            fixtures.new_post.save(pool).await?;
        }
        "update" => {
            fixtures.user.age = call % 2;
            fixtures.user.update(pool).await?;
        }
        "delete" => {
            fixtures.new_post.id = USERS_WITH_POSTS * POSTS_PER_USER + 1 + call;
            fixtures.new_post.delete(pool).await?;
        }
        "paged" => {
            Post::find_in_pool(pool)
                .filter_eq("user_id", 7)
                .limit(3)
                .offset(2)
                .all()
                .await?;
        }
        "eager_50x10" => {
            User::find_in_pool(pool)
                .limit(USERS_WITH_POSTS)
                .include(User::posts)
                .all()
                .await?;
        }
        other => return Err(sqlx::Error::Protocol(format!("no scenario named {other}"))),
    }
    Ok(())
}
