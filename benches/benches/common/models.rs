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

/// Raw sqlx rows: idiomatic `#[derive(sqlx::FromRow)]`. Every field is
/// decoded, which is the work measured.
#[allow(dead_code)]
#[derive(sqlx::FromRow, Debug)]
pub struct RawUser {
    pub id: i32,
    pub name: String,
    pub age: i32,
    pub active: bool,
}

/// A user as `query_as!` checks it against the schema: SQLite's INTEGER
/// columns are `i64`.
#[allow(dead_code)]
#[derive(Debug)]
pub struct CheckedUser {
    pub id: i64,
    pub name: String,
    pub age: i64,
    pub active: bool,
}

/// A post as raw sqlx decodes it: `(id, user_id, title, score)`.
pub type RawPost = (i32, i32, String, i64);

/// One row of `users LEFT JOIN posts`: the user's columns, then the post's
/// (NULL for a user without posts).
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

/// Folds join rows ordered by user id into users with their posts.
pub fn group_joined(rows: Vec<JoinedRow>) -> Vec<(RawUser, Vec<RawPost>)> {
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
    users
}
