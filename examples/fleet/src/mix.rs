//! The request mix, and the ORM calls each request causes.
//!
//! How can a client know what the ORM counted? Every endpoint of the
//! service makes a fixed set of ORM calls, and the status tells which
//! branch it took (see the service's crate docs). So each kind of request
//! here carries a table: for every status it may be answered with, the
//! calls that answer means. A status outside the table (a 500, say) means
//! the count cannot be known, and is reported as an anomaly instead of
//! being guessed. What each kind sends is in [`crate::requests`].

pub use crate::requests::{
    BASE_USERS, BaseData, COMMENTS_PER_POST, ClientMix, Created, POSTS_PER_USER, Request,
    seed_requests,
};

/// An ORM operation, as the `op` label names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Op {
    /// `find_by_id`
    FindById,
    /// `select`
    Select,
    /// `insert`
    Insert,
    /// `update`
    Update,
    /// `delete`
    Delete,
    /// `eager_load`
    EagerLoad,
}

impl Op {
    /// Every op.
    pub const ALL: [Self; 6] = [
        Self::FindById,
        Self::Select,
        Self::Insert,
        Self::Update,
        Self::Delete,
        Self::EagerLoad,
    ];

    /// The `op` label.
    #[must_use]
    pub const fn label(self) -> &'static str {
        match self {
            Self::FindById => "find_by_id",
            Self::Select => "select",
            Self::Insert => "insert",
            Self::Update => "update",
            Self::Delete => "delete",
            Self::EagerLoad => "eager_load",
        }
    }
}

/// A table, as the `model` label names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Table {
    /// `users`
    Users,
    /// `posts`
    Posts,
    /// `comments`
    Comments,
}

impl Table {
    /// The `model` label and the API path.
    #[must_use]
    pub const fn label(self) -> &'static str {
        match self {
            Self::Users => "users",
            Self::Posts => "posts",
            Self::Comments => "comments",
        }
    }
}

/// How an ORM call ended, as the `outcome` label names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    /// `ok`
    Ok,
    /// `error`
    Error,
}

impl Outcome {
    /// The `outcome` label.
    #[must_use]
    pub const fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Error => "error",
        }
    }
}

/// One ORM call: the labels of the `premix_op_calls_total` series it adds 1 to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OrmCall {
    /// The operation.
    pub op: Op,
    /// The table.
    pub table: Table,
    /// How it ended.
    pub outcome: Outcome,
}

/// An [`OrmCall`] literal (a struct expression, so the tables below are
/// promoted to statics).
macro_rules! call {
    ($op:ident, $table:ident, $outcome:ident) => {
        OrmCall {
            op: $op,
            table: $table,
            outcome: $outcome,
        }
    };
}

use Op::{Delete, EagerLoad, FindById, Insert, Select, Update};
use Outcome::{Error, Ok};
use Table::{Comments, Posts, Users};

/// A kind of request in the mix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// `GET /users/{base user}`
    GetUser,
    /// `GET /posts/{base post}`
    GetPost,
    /// `GET /comments/{base comment}`
    GetComment,
    /// `GET /users/{id that does not exist}`: 404.
    GetMissingUser,
    /// `GET /users/not-a-number`: 400 before the ORM.
    GetMalformedId,
    /// `GET /posts?user_id=u&limit=3&offset=k`
    ListPostsOfUser,
    /// `GET /users?karma__gte=k&limit=20`
    ListUsersByKarma,
    /// `GET /comments?post_id=p&body__like=reply%`
    SearchComments,
    /// `GET /users?include=posts&limit=n`
    ListUsersWithPosts,
    /// `GET /posts?include=comments&limit=n`
    ListPostsWithComments,
    /// `GET /users?nickname=...`: the ORM refuses the column, 400.
    ListUnknownColumn,
    /// `GET /users?include=friends`: the ORM refuses the relation, 400.
    ListUnknownRelation,
    /// `GET /users?limit=100000`: 400 before the ORM.
    ListLimitTooLarge,
    /// `POST /users`
    CreateUser,
    /// `POST /posts` for a base user.
    CreatePost,
    /// `POST /comments` on a base post.
    CreateComment,
    /// `POST /comments` on a post that does not exist: 409.
    CreateOrphanComment,
    /// `POST /comments` with a body missing a field: 422 before the ORM.
    CreateMalformed,
    /// `PATCH /posts/{base post}` views.
    PatchPost,
    /// `PATCH /users/{base user}` karma.
    PatchUser,
    /// `PATCH /users/{id that does not exist}`: 404.
    PatchMissingUser,
    /// `PATCH /users/{base user}` with `{}`: the ORM refuses it, 400.
    PatchNothing,
    /// `DELETE /comments/{a comment this client created}`: 204.
    DeleteOwnComment,
    /// `DELETE /posts/{a post this client created, without comments}`: 204.
    DeleteOwnPost,
    /// `DELETE /users/{base user}`: their posts refer to them, 409.
    DeleteBaseUser,
    /// `DELETE /comments/{id that does not exist}`: 404.
    DeleteMissingComment,
}

/// Each kind with its weight in the mix (out of 100).
pub const MIX: &[(Kind, u32)] = &[
    (Kind::GetUser, 12),
    (Kind::GetPost, 10),
    (Kind::GetComment, 4),
    (Kind::GetMissingUser, 2),
    (Kind::GetMalformedId, 1),
    (Kind::ListPostsOfUser, 10),
    (Kind::ListUsersByKarma, 5),
    (Kind::SearchComments, 4),
    (Kind::ListUsersWithPosts, 4),
    (Kind::ListPostsWithComments, 4),
    (Kind::ListUnknownColumn, 2),
    (Kind::ListUnknownRelation, 1),
    (Kind::ListLimitTooLarge, 1),
    (Kind::CreateUser, 2),
    (Kind::CreatePost, 4),
    (Kind::CreateComment, 10),
    (Kind::CreateOrphanComment, 1),
    (Kind::CreateMalformed, 1),
    (Kind::PatchPost, 6),
    (Kind::PatchUser, 3),
    (Kind::PatchMissingUser, 1),
    (Kind::PatchNothing, 1),
    (Kind::DeleteOwnComment, 7),
    (Kind::DeleteOwnPost, 2),
    (Kind::DeleteBaseUser, 1),
    (Kind::DeleteMissingComment, 1),
];

impl Kind {
    /// The statuses this kind may be answered with, and the ORM calls each
    /// one means.
    #[must_use]
    pub const fn answers(self) -> &'static [(u16, &'static [OrmCall])] {
        match self {
            Self::GetUser => &[(200, &[call!(FindById, Users, Ok)])],
            Self::GetPost => &[(200, &[call!(FindById, Posts, Ok)])],
            Self::GetComment => &[(200, &[call!(FindById, Comments, Ok)])],
            Self::GetMissingUser => &[(404, &[call!(FindById, Users, Ok)])],
            Self::GetMalformedId | Self::ListLimitTooLarge => &[(400, &[])],
            Self::CreateMalformed => &[(422, &[])],
            Self::ListPostsOfUser => &[(200, &[call!(Select, Posts, Ok)])],
            Self::ListUsersByKarma => &[(200, &[call!(Select, Users, Ok)])],
            Self::SearchComments => &[(200, &[call!(Select, Comments, Ok)])],
            Self::ListUsersWithPosts => &[(
                200,
                &[call!(Select, Users, Ok), call!(EagerLoad, Users, Ok)],
            )],
            Self::ListPostsWithComments => &[(
                200,
                &[call!(Select, Posts, Ok), call!(EagerLoad, Posts, Ok)],
            )],
            Self::ListUnknownColumn | Self::ListUnknownRelation => {
                &[(400, &[call!(Select, Users, Error)])]
            }
            Self::CreateUser => &[(201, &[call!(Insert, Users, Ok)])],
            Self::CreatePost => &[(201, &[call!(Insert, Posts, Ok)])],
            Self::CreateComment => &[(201, &[call!(Insert, Comments, Ok)])],
            Self::CreateOrphanComment => &[(409, &[call!(Insert, Comments, Error)])],
            Self::PatchPost => &[(200, &[call!(Update, Posts, Ok)])],
            Self::PatchUser => &[(200, &[call!(Update, Users, Ok)])],
            Self::PatchMissingUser => &[(404, &[call!(Update, Users, Ok)])],
            Self::PatchNothing => &[(400, &[call!(Update, Users, Error)])],
            Self::DeleteOwnComment => &[(204, &[call!(Delete, Comments, Ok)])],
            Self::DeleteOwnPost => &[(204, &[call!(Delete, Posts, Ok)])],
            Self::DeleteBaseUser => &[(409, &[call!(Delete, Users, Error)])],
            Self::DeleteMissingComment => &[(404, &[call!(Delete, Comments, Ok)])],
        }
    }

    /// The ORM calls a `status` answer means; `None` when this kind is never
    /// answered so (the count cannot be known).
    #[must_use]
    pub fn calls_for(self, status: u16) -> Option<&'static [OrmCall]> {
        self.answers()
            .iter()
            .find(|(s, _)| *s == status)
            .map(|(_, calls)| *calls)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_in_the_mix_and_expects_something() {
        let total: u32 = MIX.iter().map(|(_, w)| w).sum();
        assert_eq!(total, 100);
        for (kind, _) in MIX {
            assert!(!kind.answers().is_empty(), "{kind:?}");
        }
        assert_eq!(Kind::GetUser.calls_for(500), None);
        assert_eq!(
            Kind::ListUsersWithPosts.calls_for(200),
            Some(&[call!(Select, Users, Ok), call!(EagerLoad, Users, Ok)][..])
        );
        assert_eq!(Kind::GetMalformedId.calls_for(400), Some(&[][..]));
    }
}
