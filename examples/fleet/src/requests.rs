//! What each kind of request in the mix sends: one client's seeded stream
//! of requests ([`ClientMix`]), and the requests that make the rows the
//! load starts from ([`seed_requests`]). What each answer means to the
//! ORM's counters is in [`crate::mix`].

use crate::mix::{Kind, MIX, Table};
use crate::rng::SplitMix64;

/// The rows the load starts from, made by [`seed_requests`]: every base
/// user has posts (so deleting one is refused), every base post has
/// comments (so only posts a client made itself are ever deleted).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BaseData {
    /// Ids of the base users.
    pub users: Vec<i64>,
    /// Ids of the base posts.
    pub posts: Vec<i64>,
    /// Ids of the base comments.
    pub comments: Vec<i64>,
}

/// Base users; each gets [`POSTS_PER_USER`] posts with
/// [`COMMENTS_PER_POST`] comments each.
pub const BASE_USERS: usize = 12;
/// Posts per base user.
pub const POSTS_PER_USER: usize = 4;
/// Comments per base post.
pub const COMMENTS_PER_POST: usize = 2;

/// An HTTP request of the mix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The kind it is.
    pub kind: Kind,
    /// `GET`, `POST`, `PATCH` or `DELETE`.
    pub method: &'static str,
    /// Path and query.
    pub path: String,
    /// A JSON body, if any.
    pub body: Option<String>,
    /// What to remember from a 201: a created row this client may delete
    /// later.
    pub creates: Option<Created>,
}

/// A row a client created and may delete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Created {
    /// A comment.
    Comment,
    /// A post (without comments).
    Post,
}

/// One client's stream of requests: seeded, so the same seed gives the same
/// kinds in the same order; which rows they touch follows from the ids the
/// service handed out.
#[derive(Debug)]
pub struct ClientMix {
    rng: SplitMix64,
    total_weight: u32,
    own_comments: Vec<i64>,
    own_posts: Vec<i64>,
    sequence: u64,
    client: usize,
}

impl ClientMix {
    /// The mix of client number `client` under `seed`.
    #[must_use]
    pub fn new(seed: u64, client: usize) -> Self {
        Self {
            rng: SplitMix64::new(seed ^ (client as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            total_weight: MIX.iter().map(|(_, w)| w).sum(),
            own_comments: Vec::new(),
            own_posts: Vec::new(),
            sequence: 0,
            client,
        }
    }

    fn pick(&mut self) -> Kind {
        let mut roll = self.rng.below(u64::from(self.total_weight)) as u32;
        for (kind, weight) in MIX {
            if roll < *weight {
                return *kind;
            }
            roll -= weight;
        }
        MIX[0].0
    }

    fn any(&mut self, ids: &[i64]) -> i64 {
        ids[self.rng.below(ids.len() as u64) as usize]
    }

    /// The next request. A delete of an own row when there is none becomes
    /// the create of one.
    pub fn next(&mut self, base: &BaseData) -> Request {
        self.sequence += 1;
        let mut kind = self.pick();
        if kind == Kind::DeleteOwnComment && self.own_comments.is_empty() {
            kind = Kind::CreateComment;
        }
        if kind == Kind::DeleteOwnPost && self.own_posts.is_empty() {
            kind = Kind::CreatePost;
        }
        let missing = i64::from(i32::MAX);
        let tag = format!("c{}-{}", self.client, self.sequence);
        let (method, path, body, creates) = match kind {
            Kind::GetUser => (
                "GET",
                format!("/users/{}", self.any(&base.users)),
                None,
                None,
            ),
            Kind::GetPost => (
                "GET",
                format!("/posts/{}", self.any(&base.posts)),
                None,
                None,
            ),
            Kind::GetComment => (
                "GET",
                format!("/comments/{}", self.any(&base.comments)),
                None,
                None,
            ),
            Kind::GetMissingUser => ("GET", format!("/users/{missing}"), None, None),
            Kind::GetMalformedId => ("GET", "/users/not-a-number".to_owned(), None, None),
            Kind::ListPostsOfUser => {
                let user = self.any(&base.users);
                let offset = self.rng.below(3);
                (
                    "GET",
                    format!("/posts?user_id={user}&limit=3&offset={offset}"),
                    None,
                    None,
                )
            }
            Kind::ListUsersByKarma => {
                let karma = self.rng.below(100);
                (
                    "GET",
                    format!("/users?karma__gte={karma}&limit=20"),
                    None,
                    None,
                )
            }
            Kind::SearchComments => {
                let post = self.any(&base.posts);
                (
                    "GET",
                    format!("/comments?post_id={post}&body__like=reply%25"),
                    None,
                    None,
                )
            }
            Kind::ListUsersWithPosts => {
                let limit = [1, 5, 12, 50][self.rng.below(4) as usize];
                (
                    "GET",
                    format!("/users?include=posts&limit={limit}"),
                    None,
                    None,
                )
            }
            Kind::ListPostsWithComments => {
                let limit = [1, 10, 50][self.rng.below(3) as usize];
                (
                    "GET",
                    format!("/posts?include=comments&limit={limit}"),
                    None,
                    None,
                )
            }
            Kind::ListUnknownColumn => ("GET", "/users?nickname=ann".to_owned(), None, None),
            Kind::ListUnknownRelation => ("GET", "/users?include=friends".to_owned(), None, None),
            Kind::ListLimitTooLarge => ("GET", "/users?limit=100000".to_owned(), None, None),
            Kind::CreateUser => (
                "POST",
                "/users".to_owned(),
                Some(format!(
                    r#"{{"name":"user {tag}","karma":{}}}"#,
                    self.rng.below(100)
                )),
                None,
            ),
            Kind::CreatePost => (
                "POST",
                "/posts".to_owned(),
                Some(format!(
                    r#"{{"user_id":{},"title":"post {tag}"}}"#,
                    self.any(&base.users)
                )),
                Some(Created::Post),
            ),
            Kind::CreateComment => (
                "POST",
                "/comments".to_owned(),
                Some(format!(
                    r#"{{"post_id":{},"body":"reply {tag}"}}"#,
                    self.any(&base.posts)
                )),
                Some(Created::Comment),
            ),
            Kind::CreateOrphanComment => (
                "POST",
                "/comments".to_owned(),
                Some(format!(r#"{{"post_id":{missing},"body":"orphan {tag}"}}"#)),
                None,
            ),
            Kind::CreateMalformed => (
                "POST",
                "/comments".to_owned(),
                Some(r#"{"body":"no post"}"#.to_owned()),
                None,
            ),
            Kind::PatchPost => (
                "PATCH",
                format!("/posts/{}", self.any(&base.posts)),
                Some(format!(r#"{{"views":{}}}"#, self.sequence)),
                None,
            ),
            Kind::PatchUser => (
                "PATCH",
                format!("/users/{}", self.any(&base.users)),
                Some(format!(r#"{{"karma":{}}}"#, self.rng.below(100))),
                None,
            ),
            Kind::PatchMissingUser => (
                "PATCH",
                format!("/users/{missing}"),
                Some(r#"{"karma":1}"#.to_owned()),
                None,
            ),
            Kind::PatchNothing => (
                "PATCH",
                format!("/users/{}", self.any(&base.users)),
                Some("{}".to_owned()),
                None,
            ),
            Kind::DeleteOwnComment => {
                let at = self.rng.below(self.own_comments.len() as u64) as usize;
                let id = self.own_comments.swap_remove(at);
                ("DELETE", format!("/comments/{id}"), None, None)
            }
            Kind::DeleteOwnPost => {
                let at = self.rng.below(self.own_posts.len() as u64) as usize;
                let id = self.own_posts.swap_remove(at);
                ("DELETE", format!("/posts/{id}"), None, None)
            }
            Kind::DeleteBaseUser => (
                "DELETE",
                format!("/users/{}", self.any(&base.users)),
                None,
                None,
            ),
            Kind::DeleteMissingComment => ("DELETE", format!("/comments/{missing}"), None, None),
        };
        Request {
            kind,
            method,
            path,
            body,
            creates,
        }
    }

    /// Remembers a row this client created (from a 201's `id`).
    pub fn created(&mut self, what: Created, id: i64) {
        match what {
            Created::Comment => self.own_comments.push(id),
            Created::Post => self.own_posts.push(id),
        }
    }
}

/// The requests that make the base data, in order: users, then their
/// posts, then the posts' comments. `ids` of the previous level are filled
/// in by the caller from the 201 answers (see `load::seed`).
#[must_use]
pub fn seed_requests(level: Table, parents: &[i64]) -> Vec<Request> {
    let post = |kind, path: &str, body: String| Request {
        kind,
        method: "POST",
        path: path.to_owned(),
        body: Some(body),
        creates: None,
    };
    match level {
        Table::Users => (0..BASE_USERS)
            .map(|u| {
                post(
                    Kind::CreateUser,
                    "/users",
                    format!(r#"{{"name":"base user {u}","karma":{}}}"#, (u * 37) % 100),
                )
            })
            .collect(),
        Table::Posts => parents
            .iter()
            .flat_map(|user| {
                (0..POSTS_PER_USER).map(move |p| {
                    post(
                        Kind::CreatePost,
                        "/posts",
                        format!(r#"{{"user_id":{user},"title":"base post {p}"}}"#),
                    )
                })
            })
            .collect(),
        Table::Comments => parents
            .iter()
            .flat_map(|post_id| {
                (0..COMMENTS_PER_POST).map(move |c| {
                    post(
                        Kind::CreateComment,
                        "/comments",
                        format!(r#"{{"post_id":{post_id},"body":"base comment {c}"}}"#),
                    )
                })
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_gives_the_same_requests() {
        let base = BaseData {
            users: vec![1, 2],
            posts: vec![3, 4],
            comments: vec![5],
        };
        let run = |seed| {
            let mut mix = ClientMix::new(seed, 1);
            (0..200).map(|_| mix.next(&base)).collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }

    #[test]
    fn deletes_only_touch_rows_the_client_made() {
        let base = BaseData {
            users: vec![1],
            posts: vec![2],
            comments: vec![3],
        };
        let mut mix = ClientMix::new(1, 0);
        let mut next_id = 100;
        for _ in 0..2000 {
            let request = mix.next(&base);
            if request.kind == Kind::DeleteOwnComment || request.kind == Kind::DeleteOwnPost {
                let id: i64 = request.path.rsplit('/').next().unwrap().parse().unwrap();
                assert!(id >= 100, "{request:?}");
            }
            if let Some(what) = request.creates {
                mix.created(what, next_id);
                next_id += 1;
            }
        }
    }
}
