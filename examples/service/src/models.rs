//! The blog's tables, and what the API needs to know about each: its path,
//! the body that creates a row, the body that changes one, and which columns
//! hold integers (so a query-string value is bound with the right type).

use premix_orm::prelude::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A table the API serves at `/{PATH}`.
pub trait Resource: Serialize + Send + Sync + Sized + 'static {
    /// The path segment, also the table name.
    const PATH: &'static str;
    /// Columns holding integers; every other value is bound as text (an
    /// unknown column too, which the ORM then refuses).
    const INTEGER_COLUMNS: &'static [&'static str];
    /// The body of `POST /{PATH}`.
    type New: DeserializeOwned + Send + 'static;
    /// The body of `PATCH /{PATH}/{id}`: every field optional, unknown
    /// fields refused.
    type Patch: DeserializeOwned + Serialize + Send + 'static;

    /// A row not saved yet (id 0, so `save` inserts it).
    fn from_new(new: Self::New) -> Self;
}

/// A user; `GET /users?include=posts` loads their posts.
#[derive(Model, Debug, Clone, Serialize)]
pub struct User {
    /// Primary key.
    pub id: i32,
    /// Display name.
    pub name: String,
    /// Reputation.
    pub karma: i32,
    /// Loaded by `include=posts`.
    #[has_many(Post)]
    #[premix(ignore)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub posts: Option<Vec<Post>>,
}

/// A post by a user; `GET /posts?include=comments` loads its comments.
#[derive(Model, Debug, Clone, Serialize)]
#[belongs_to(User)]
pub struct Post {
    /// Primary key.
    pub id: i32,
    /// The author.
    pub user_id: i32,
    /// Title.
    pub title: String,
    /// Times read.
    pub views: i64,
    /// Loaded by `include=comments`.
    #[has_many(Comment)]
    #[premix(ignore)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comments: Option<Vec<Comment>>,
}

/// A comment on a post.
#[derive(Model, Debug, Clone, Serialize)]
#[belongs_to(Post)]
pub struct Comment {
    /// Primary key.
    pub id: i32,
    /// The post.
    pub post_id: i32,
    /// Text.
    pub body: String,
}

/// The body of `POST /users`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    name: String,
    #[serde(default)]
    karma: i32,
}

/// The body of `PATCH /users/{id}`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    karma: Option<i32>,
}

impl Resource for User {
    const PATH: &'static str = "users";
    const INTEGER_COLUMNS: &'static [&'static str] = &["id", "karma"];
    type New = NewUser;
    type Patch = UserPatch;

    fn from_new(new: NewUser) -> Self {
        Self {
            id: 0,
            name: new.name,
            karma: new.karma,
            posts: None,
        }
    }
}

/// The body of `POST /posts`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPost {
    user_id: i32,
    title: String,
    #[serde(default)]
    views: i64,
}

/// The body of `PATCH /posts/{id}`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PostPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    views: Option<i64>,
}

impl Resource for Post {
    const PATH: &'static str = "posts";
    const INTEGER_COLUMNS: &'static [&'static str] = &["id", "user_id", "views"];
    type New = NewPost;
    type Patch = PostPatch;

    fn from_new(new: NewPost) -> Self {
        Self {
            id: 0,
            user_id: new.user_id,
            title: new.title,
            views: new.views,
            comments: None,
        }
    }
}

/// The body of `POST /comments`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    post_id: i32,
    body: String,
}

/// The body of `PATCH /comments/{id}`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CommentPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<String>,
}

impl Resource for Comment {
    const PATH: &'static str = "comments";
    const INTEGER_COLUMNS: &'static [&'static str] = &["id", "post_id"];
    type New = NewComment;
    type Patch = CommentPatch;

    fn from_new(new: NewComment) -> Self {
        Self {
            id: 0,
            post_id: new.post_id,
            body: new.body,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use premix_orm::sqlx::{Postgres, Sqlite};

    #[test]
    fn paths_are_the_table_names() {
        assert_eq!(<User as Model<Sqlite>>::table_name(), User::PATH);
        assert_eq!(<Post as Model<Postgres>>::table_name(), Post::PATH);
        assert_eq!(<Comment as Model<Sqlite>>::table_name(), Comment::PATH);
        for (columns, model) in [
            (
                User::INTEGER_COLUMNS,
                <User as Model<Sqlite>>::list_columns(),
            ),
            (
                Post::INTEGER_COLUMNS,
                <Post as Model<Sqlite>>::list_columns(),
            ),
            (
                Comment::INTEGER_COLUMNS,
                <Comment as Model<Sqlite>>::list_columns(),
            ),
        ] {
            assert!(
                columns.iter().all(|c| model.iter().any(|m| m == c)),
                "{columns:?} {model:?}"
            );
        }
    }
}
