//! The benchmark's two tables (users, posts) as each contender declares
//! them: the fork's derive, the published premix-orm's derive, SeaORM
//! entities, and plain `sqlx::FromRow` rows for raw sqlx.

#![allow(dead_code)] // shared by two bench binaries, each of which uses a part

/// The fork's models.
pub mod ours {
    use premix_orm_fork::prelude::*;

    #[derive(Model, Debug, Clone)]
    pub struct User {
        pub id: i32,
        pub name: String,
        pub age: i32,
        pub active: bool,
        #[has_many(Post)]
        #[premix(ignore)]
        pub posts: Option<Vec<Post>>,
    }

    #[derive(Model, Debug, Clone)]
    #[belongs_to(User)]
    pub struct Post {
        pub id: i32,
        pub user_id: i32,
        pub title: String,
        pub score: i64,
    }
}

/// The same models for the published premix-orm (same tables).
pub mod published {
    use premix_orm::prelude::*;

    #[derive(Model, Debug, Clone)]
    pub struct User {
        pub id: i32,
        pub name: String,
        pub age: i32,
        pub active: bool,
        #[has_many(Post)]
        #[premix(ignore)]
        pub posts: Option<Vec<Post>>,
    }

    #[derive(Model, Debug, Clone)]
    #[belongs_to(User)]
    pub struct Post {
        pub id: i32,
        pub user_id: i32,
        pub title: String,
        pub score: i64,
    }
}

/// The same tables as SeaORM entities.
pub mod sea {
    pub mod users {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "users")]
        pub struct Model {
            #[sea_orm(primary_key)]
            pub id: i32,
            pub name: String,
            pub age: i32,
            pub active: bool,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {
            #[sea_orm(has_many = "super::posts::Entity")]
            Posts,
        }

        impl Related<super::posts::Entity> for Entity {
            fn to() -> RelationDef {
                Relation::Posts.def()
            }
        }

        impl ActiveModelBehavior for ActiveModel {}
    }

    pub mod posts {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "posts")]
        pub struct Model {
            #[sea_orm(primary_key)]
            pub id: i32,
            pub user_id: i32,
            pub title: String,
            pub score: i64,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {
            #[sea_orm(
                belongs_to = "super::users::Entity",
                from = "Column::UserId",
                to = "super::users::Column::Id"
            )]
            User,
        }

        impl Related<super::users::Entity> for Entity {
            fn to() -> RelationDef {
                Relation::User.def()
            }
        }

        impl ActiveModelBehavior for ActiveModel {}
    }
}

/// Raw sqlx as its documentation writes it: the hand-written code the ORMs
/// are measured against (and that `cargo xtask audit` expands beside them).
pub mod raw {
    use std::collections::HashMap;

    use sqlx::SqlitePool;

    /// A user row: idiomatic `#[derive(sqlx::FromRow)]`. Every field is
    /// decoded, which is the work measured.
    #[derive(sqlx::FromRow, Debug)]
    pub struct RawUser {
        pub id: i32,
        pub name: String,
        pub age: i32,
        pub active: bool,
    }

    /// A user as `query_as!` checks it against the schema: SQLite's INTEGER
    /// columns are `i64`.
    #[derive(Debug)]
    pub struct CheckedUser {
        pub id: i64,
        pub name: String,
        pub age: i64,
        pub active: bool,
    }

    /// A post as raw sqlx decodes it: `(id, user_id, title, score)`.
    pub type RawPost = (i32, i32, String, i64);

    /// One row of `users LEFT JOIN posts`: the user's columns, then the
    /// post's (NULL for a user without posts).
    pub type JoinedRow = (
        i32,
        String,
        i32,
        bool,
        Option<i32>,
        Option<i32>,
        Option<String>,
        Option<i64>,
    );

    /// Find by primary key, checked at compile time (`benches/.sqlx`).
    pub async fn find_by_id(pool: &SqlitePool, id: i32) -> sqlx::Result<Option<CheckedUser>> {
        sqlx::query_as!(
            CheckedUser,
            "SELECT id, name, age, active FROM users WHERE id = ?",
            id
        )
        .fetch_optional(pool)
        .await
    }

    /// The first `limit` users, checked at compile time.
    pub async fn first_users(pool: &SqlitePool, limit: i64) -> sqlx::Result<Vec<CheckedUser>> {
        sqlx::query_as!(
            CheckedUser,
            "SELECT id, name, age, active FROM users LIMIT ?",
            limit
        )
        .fetch_all(pool)
        .await
    }

    /// Users `first..=last` and their posts in two queries, the posts'
    /// `IN` list padded to a power of two (so its statement is reused),
    /// grouped by user id.
    pub async fn users_with_posts(
        pool: &SqlitePool,
        first: i32,
        last: i32,
    ) -> sqlx::Result<(Vec<RawUser>, HashMap<i32, Vec<RawPost>>)> {
        let users = sqlx::query_as::<_, RawUser>(
            "SELECT id, name, age, active FROM users WHERE id >= ? AND id <= ?",
        )
        .bind(first)
        .bind(last)
        .fetch_all(pool)
        .await?;
        let arity = users.len().next_power_of_two();
        let placeholders = vec!["?"; arity].join(", ");
        let sql = format!(
            "SELECT id, user_id, title, score FROM posts WHERE user_id IN ({placeholders})"
        );
        let mut query = sqlx::query_as::<_, RawPost>(&sql);
        let last_id = users.last().map_or(0, |u| u.id);
        for id in users
            .iter()
            .map(|u| u.id)
            .chain(std::iter::repeat(last_id))
            .take(arity)
        {
            query = query.bind(id);
        }
        let mut by_user: HashMap<i32, Vec<RawPost>> = HashMap::with_capacity(users.len());
        for post in query.fetch_all(pool).await? {
            by_user.entry(post.1).or_default().push(post);
        }
        Ok((users, by_user))
    }

    /// The same in one round trip: a LEFT JOIN ordered by user, folded.
    pub async fn users_joined(
        pool: &SqlitePool,
        first: i32,
        last: i32,
    ) -> sqlx::Result<Vec<(RawUser, Vec<RawPost>)>> {
        let rows = sqlx::query_as::<_, JoinedRow>(
            "SELECT u.id, u.name, u.age, u.active, p.id, p.user_id, p.title, p.score FROM users u \
             LEFT JOIN posts p ON p.user_id = u.id WHERE u.id >= ? AND u.id <= ? ORDER BY u.id",
        )
        .bind(first)
        .bind(last)
        .fetch_all(pool)
        .await?;
        let mut users: Vec<(RawUser, Vec<RawPost>)> = Vec::new();
        for (id, name, age, active, post_id, user_id, title, score) in rows {
            if users.last().is_none_or(|(user, _)| user.id != id) {
                users.push((
                    RawUser {
                        id,
                        name,
                        age,
                        active,
                    },
                    Vec::new(),
                ));
            }
            if let (Some(post_id), Some(user_id), Some(title), Some(score)) =
                (post_id, user_id, title, score)
            {
                users
                    .last_mut()
                    .expect("pushed above")
                    .1
                    .push((post_id, user_id, title, score));
            }
        }
        Ok(users)
    }
}
