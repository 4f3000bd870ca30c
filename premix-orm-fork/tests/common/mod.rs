//! Models and backend-generic scenarios shared by the SQLite and PostgreSQL
//! test binaries: every scenario runs, unchanged, on both.

#![allow(dead_code)]

pub mod accounting;
pub mod inputs;

use premix_orm_fork::prelude::*;
use premix_orm_fork::{SqlDialect, premix_query, sqlx};
use sqlx::Pool;

#[derive(Model, Debug, Clone, PartialEq)]
pub struct User {
    pub id: i32,
    pub name: String,
    pub age: i32,
    pub active: bool,
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
    pub score: f64,
}

/// Soft delete and optimistic locking.
#[derive(Model, Debug, Clone, PartialEq)]
#[premix(table = "notes")]
pub struct Note {
    pub id: i64,
    pub body: String,
    pub version: i32,
    pub deleted_at: Option<String>,
}

/// Custom validation and hooks.
#[derive(Model, Debug, Clone, PartialEq)]
#[premix(custom_hooks, custom_validation)]
pub struct Account {
    pub id: i32,
    pub email: String,
    pub saves: i32,
}

impl ModelValidation for Account {
    fn validate(&self) -> Result<(), Vec<ValidationError>> {
        if self.email.contains('@') {
            Ok(())
        } else {
            Err(vec![ValidationError {
                field: "email".into(),
                message: "must contain @".into(),
            }])
        }
    }
}

impl ModelHooks for Account {
    async fn before_save(&mut self) -> Result<(), sqlx::Error> {
        self.email = self.email.to_lowercase();
        Ok(())
    }

    async fn after_save(&mut self) -> Result<(), sqlx::Error> {
        self.saves += 1;
        Ok(())
    }
}

/// Never synced: queries on it hit a missing table.
#[derive(Model, Debug)]
pub struct Ghost {
    pub id: i32,
}

pub fn user(name: &str, age: i32) -> User {
    User {
        id: 0,
        name: name.into(),
        age,
        active: age >= 18,
        posts: None,
    }
}

/// A post not yet saved.
pub fn new_post(user_id: i32, title: String, score: f64) -> Post {
    Post {
        id: 0,
        user_id,
        title,
        score,
    }
}

/// A note saved as a draft, at version 1.
pub async fn saved_draft<DB: SqlDialect>(pool: &Pool<DB>) -> Note
where
    Note: Model<DB>,
{
    let mut note = Note {
        id: 0,
        body: "draft".into(),
        version: 1,
        deleted_at: None,
    };
    note.save(pool).await.unwrap();
    note
}

/// A post saved now.
pub async fn saved_post<DB: SqlDialect>(
    pool: &Pool<DB>,
    user_id: i32,
    title: String,
    score: f64,
) -> Post
where
    Post: Model<DB>,
{
    let mut post = new_post(user_id, title, score);
    post.save(pool).await.unwrap();
    post
}

/// Inserts user Zed with `premix_query!`.
pub async fn insert_zed<DB: SqlDialect>(pool: &Pool<DB>) -> User
where
    User: Model<DB>,
{
    premix_query!(
        User,
        INSERT,
        set("name", "Zed"),
        set("age", 44),
        set("active", true)
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

pub async fn sync_all<DB: SqlDialect>(pool: &Pool<DB>)
where
    User: Model<DB>,
    Post: Model<DB>,
    Note: Model<DB>,
    Account: Model<DB>,
{
    Premix::sync::<DB, User>(pool).await.expect("sync users");
    Premix::sync::<DB, Post>(pool).await.expect("sync posts");
    Premix::sync::<DB, Note>(pool).await.expect("sync notes");
    Premix::sync::<DB, Account>(pool)
        .await
        .expect("sync accounts");
}

/// Insert, find, update, delete; `update` never touches the primary key.
pub async fn crud<DB: SqlDialect>(pool: &Pool<DB>)
where
    User: Model<DB>,
{
    let mut alice = user("Alice", 30);
    alice.save(pool).await.unwrap();
    assert!(alice.id > 0, "save must store the new id");
    let mut bob = user("Bob", 17);
    bob.save(pool).await.unwrap();
    assert_eq!(bob.id, alice.id + 1);

    let found = User::find_by_id(pool, alice.id).await.unwrap().unwrap();
    assert_eq!(found, alice);
    assert!(User::find_by_id(pool, 9999).await.unwrap().is_none());

    alice.age = 31;
    assert_eq!(alice.update(pool).await.unwrap(), UpdateResult::Success);
    assert_eq!(
        User::find_by_id(pool, alice.id).await.unwrap().unwrap().age,
        31
    );

    let mut ghost = user("Nobody", 1);
    ghost.id = 424_242;
    assert_eq!(ghost.update(pool).await.unwrap(), UpdateResult::NotFound);

    // save with an id that no row has inserts it with that id.
    ghost.save(pool).await.unwrap();
    assert_eq!(
        User::find_by_id(pool, 424_242).await.unwrap().unwrap().name,
        "Nobody"
    );

    bob.delete(pool).await.unwrap();
    assert!(User::find_by_id(pool, bob.id).await.unwrap().is_none());

    assert_eq!(User::table_name(), "users");
    assert_eq!(User::list_columns(), ["id", "name", "age", "active"]);
    assert!(!User::has_soft_delete());
}

/// Soft delete hides rows unless `with_deleted`; a stale version conflicts.
pub async fn soft_delete_and_versions<DB: SqlDialect>(pool: &Pool<DB>)
where
    Note: Model<DB>,
{
    let mut note = saved_draft(pool).await;
    let mut stale = note.clone();

    note.body = "final".into();
    assert_eq!(note.update(pool).await.unwrap(), UpdateResult::Success);
    assert_eq!(note.version, 2);
    stale.body = "lost update".into();
    assert_eq!(
        stale.update(pool).await.unwrap(),
        UpdateResult::VersionConflict
    );
    let err = stale.save(pool).await.unwrap_err();
    assert!(err.to_string().contains("version conflict"), "{err}");
    assert_eq!(
        Note::find_by_id(pool, note.id).await.unwrap().unwrap().body,
        "final"
    );

    assert!(Note::has_soft_delete());
    note.delete(pool).await.unwrap();
    assert!(Note::find_by_id(pool, note.id).await.unwrap().is_none());
    assert!(Note::find(pool).all().await.unwrap().is_empty());
    let all = Note::find(pool).with_deleted().all().await.unwrap();
    assert_eq!(all.len(), 1);
    assert!(all[0].deleted_at.is_some());
}

/// Validation refuses before writing; hooks run around save.
pub async fn hooks_and_validation<DB: SqlDialect>(pool: &Pool<DB>)
where
    Account: Model<DB>,
{
    let mut bad = Account {
        id: 0,
        email: "no-at-sign".into(),
        saves: 0,
    };
    let err = bad.save(pool).await.unwrap_err();
    assert!(err.to_string().contains("email: must contain @"), "{err}");
    assert_eq!(bad.id, 0);
    assert_eq!(Account::find(pool).all().await.unwrap().len(), 0);

    let mut good = Account {
        id: 0,
        email: "Ann@Example.COM".into(),
        saves: 0,
    };
    good.save(pool).await.unwrap();
    assert_eq!(good.email, "ann@example.com");
    assert_eq!(good.saves, 1);
}

pub async fn seed_users<DB: SqlDialect>(pool: &Pool<DB>, count: i32) -> Vec<User>
where
    User: Model<DB>,
{
    let mut users = Vec::new();
    for i in 0..count {
        let mut u = user(&format!("user{i:03}"), 10 + i % 50);
        u.save(pool).await.unwrap();
        users.push(u);
    }
    users
}

/// Every filter, paging, counting what comes back.
pub async fn query_builder<DB: SqlDialect>(pool: &Pool<DB>)
where
    User: Model<DB>,
{
    let users = seed_users(pool, 60).await;
    let ids: Vec<i32> = users.iter().map(|u| u.id).collect();

    let count = |v: Vec<User>| v.len();
    assert_eq!(count(User::find_in_pool(pool).all().await.unwrap()), 60);
    assert_eq!(
        count(
            User::find_in_pool(pool)
                .filter_eq("age", 10)
                .all()
                .await
                .unwrap()
        ),
        2
    );
    assert_eq!(
        count(
            User::find_in_pool(pool)
                .filter_ne("age", 10)
                .all()
                .await
                .unwrap()
        ),
        58
    );
    assert_eq!(
        count(
            User::find_in_pool(pool)
                .filter_lt("age", 12)
                .all()
                .await
                .unwrap()
        ),
        4
    );
    assert_eq!(
        count(
            User::find_in_pool(pool)
                .filter_lte("age", 12)
                .all()
                .await
                .unwrap()
        ),
        6
    );
    assert_eq!(
        count(
            User::find_in_pool(pool)
                .filter_gt("age", 57)
                .all()
                .await
                .unwrap()
        ),
        2
    );
    assert_eq!(
        count(
            User::find_in_pool(pool)
                .filter_gte("age", 57)
                .all()
                .await
                .unwrap()
        ),
        3
    );
    assert_eq!(
        count(
            User::find_in_pool(pool)
                .filter_like("name", "user00%")
                .all()
                .await
                .unwrap()
        ),
        10
    );
    assert_eq!(
        count(
            User::find_in_pool(pool)
                .filter_in("id", ids[..3].to_vec())
                .all()
                .await
                .unwrap()
        ),
        3
    );
    assert_eq!(
        count(
            User::find_in_pool(pool)
                .filter_in("id", Vec::<i32>::new())
                .all()
                .await
                .unwrap()
        ),
        0
    );
    assert_eq!(
        count(
            User::find_in_pool(pool)
                .filter_eq("active", true)
                .filter_gte("age", 30)
                .all()
                .await
                .unwrap()
        ),
        30
    );
    assert_eq!(
        count(
            User::find_in_pool(pool)
                .filter_is_null("name")
                .all()
                .await
                .unwrap()
        ),
        0
    );
    assert_eq!(
        count(
            User::find_in_pool(pool)
                .filter_is_not_null("name")
                .all()
                .await
                .unwrap()
        ),
        60
    );
    assert_eq!(
        count(
            User::find_in_pool(pool)
                .filter_eq("name", None::<String>)
                .all()
                .await
                .unwrap()
        ),
        0
    );

    // Paging: 60 rows in pages of 25.
    let mut seen = 0;
    for page in 0..3 {
        let rows = User::find_in_pool(pool)
            .limit(25)
            .offset(page * 25)
            .all()
            .await
            .unwrap();
        seen += rows.len();
    }
    assert_eq!(seen, 60);
    assert_eq!(
        count(User::find_in_pool(pool).offset(50).all().await.unwrap()),
        10
    );
    assert_eq!(
        count(
            User::find_in_pool(pool)
                .unprepared()
                .limit(5)
                .all()
                .await
                .unwrap()
        ),
        5
    );

    // stream() yields the same rows as all().
    use futures_util::TryStreamExt;
    let streamed: Vec<User> = User::find_in_pool(pool)
        .filter_lt("age", 15)
        .stream()
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(streamed.len(), 10);

    // Bulk update and delete through the builder.
    let changed = User::find_in_pool(pool)
        .filter_lt("age", 15)
        .update(serde_json::json!({ "active": false, "name": "young" }))
        .await
        .unwrap();
    assert_eq!(changed, 10);
    assert_eq!(
        count(
            User::find_in_pool(pool)
                .filter_eq("name", "young")
                .all()
                .await
                .unwrap()
        ),
        10
    );
    let deleted = User::find_in_pool(pool)
        .filter_eq("name", "young")
        .delete()
        .await
        .unwrap();
    assert_eq!(deleted, 10);
    assert_eq!(count(User::find_in_pool(pool).all().await.unwrap()), 50);
}

/// Refusals are returned errors with clear messages, never panics.
pub async fn builder_errors<DB: SqlDialect>(pool: &Pool<DB>)
where
    User: Model<DB>,
    Post: Model<DB>,
    Ghost: Model<DB>,
{
    let err = User::find_in_pool(pool)
        .filter_eq("nmae", "x")
        .all()
        .await
        .unwrap_err();
    assert!(matches!(err, sqlx::Error::ColumnNotFound(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("`nmae` on model `users`; its columns are id, name, age, active"),
        "{err}"
    );

    let err = User::find_in_pool(pool)
        .filter("1 = 1; DROP TABLE users")
        .all()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("call .allow_unsafe()"), "{err}");
    let opted_in = User::find_in_pool(pool)
        .filter("age > 0")
        .allow_unsafe()
        .limit(1)
        .all()
        .await
        .unwrap();
    assert!(opted_in.len() <= 1);

    let err = User::find_in_pool(pool)
        .include("comments")
        .all()
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("unknown relation `comments` on model `users`"),
        "{err}"
    );

    let err = User::find_in_pool(pool)
        .update(serde_json::json!({ "id": 5 }))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("may not change the primary key"),
        "{err}"
    );
    let err = User::find_in_pool(pool)
        .update(serde_json::json!(["age"]))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("JSON object"), "{err}");

    let err = Ghost::find_by_id(pool, 1).await.unwrap_err();
    assert!(
        matches!(err, sqlx::Error::Database(_)),
        "missing table: {err:?}"
    );

    let mut orphan = new_post(987_654, "orphan".into(), 0.0);
    let err = orphan.save(pool).await.unwrap_err();
    let kind = err.as_database_error().map(|e| e.kind());
    assert_eq!(
        kind,
        Some(sqlx::error::ErrorKind::ForeignKeyViolation),
        "{err:?}"
    );
}

/// Eager loading by name and typed handle, on both sides of the threshold,
/// and the lazy accessors.
pub async fn relations<DB: SqlDialect>(pool: &Pool<DB>)
where
    User: Model<DB>,
    Post: Model<DB>,
{
    let users = seed_users(pool, 130).await;
    for (i, u) in users.iter().enumerate() {
        for n in 0..(i % 4) {
            saved_post(pool, u.id, format!("{}-{n}", u.name), n as f64 / 2.0).await;
        }
    }
    let expected_posts: usize = (0..130).map(|i| i % 4).sum();

    for (limit, threshold) in [(50, None), (130, None), (130, Some(200)), (10, Some(0))] {
        let mut query = User::find_in_pool(pool).limit(limit).include(User::posts);
        if let Some(t) = threshold {
            query = query.vec_grouping_max_parents(t);
        }
        let loaded = query.all().await.unwrap();
        assert_eq!(loaded.len(), limit as usize);
        for u in &loaded {
            let posts = u.posts.as_ref().expect("every parent gets Some");
            let index = users.iter().position(|x| x.id == u.id).unwrap();
            assert_eq!(posts.len(), index % 4, "user {}", u.name);
            assert!(posts.iter().all(|p| p.user_id == u.id));
        }
        if limit == 130 {
            let total: usize = loaded.iter().map(|u| u.posts.as_ref().unwrap().len()).sum();
            assert_eq!(total, expected_posts);
        }
    }
    let by_name = User::find_in_pool(pool)
        .filter_eq("id", users[3].id)
        .include("posts")
        .all()
        .await
        .unwrap();
    assert_eq!(by_name[0].posts.as_ref().unwrap().len(), 3);

    let lazy = users[3].load_posts(pool).await.unwrap();
    assert_eq!(lazy.len(), 3);
    let parent = lazy[0].user(pool).await.unwrap().unwrap();
    assert_eq!(parent.id, users[3].id);
}

/// A transaction is an executor like any other, and rolls back.
pub async fn transactions<DB: SqlDialect>(pool: &Pool<DB>)
where
    User: Model<DB>,
{
    let mut tx = pool.begin().await.unwrap();
    let mut carol = user("Carol", 40);
    carol.save(&mut tx).await.unwrap();
    assert_eq!(
        User::find_in_tx(&mut tx)
            .filter_eq("name", "Carol")
            .all()
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(User::find_by_id(&mut tx, carol.id).await.unwrap().is_some());
    tx.rollback().await.unwrap();
    assert!(User::find_by_id(pool, carol.id).await.unwrap().is_none());
}

/// `to_sql` shows what runs: values are placeholders, never text.
pub fn sql_text<DB: SqlDialect>(pool: &Pool<DB>) -> String
where
    User: Model<DB>,
{
    User::find_in_pool(pool)
        .filter_eq("name", "Robert'); DROP TABLE users; --")
        .filter_in("age", [1, 2, 3])
        .limit(10)
        .offset(20)
        .to_sql()
}

/// `premix_query!`: every operation, and an unknown column as an error.
pub async fn static_queries<DB: SqlDialect>(pool: &Pool<DB>)
where
    User: Model<DB>,
{
    let zed = insert_zed(pool).await;
    assert!(zed.id > 0);
    let found = premix_query!(User, FIND, filter_eq("id", zed.id))
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(found, zed);
    let changed = premix_query!(User, UPDATE, set("age", 45), filter_eq("name", "Zed"))
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(DB::rows_affected(&changed), 1);
    let returned = premix_query!(
        User,
        UPDATE,
        set("age", 46),
        filter_eq("name", "Zed"),
        returning_all()
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(returned.age, 46);
    let older = premix_query!(User, SELECT, filter_gte("age", 40), limit(10), offset(0))
        .fetch_all(pool)
        .await
        .unwrap();
    assert_eq!(older.len(), 1);
    let err = premix_query!(User, SELECT, filter_eq("nope", 1))
        .fetch_all(pool)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("no column `nope` on model `users`"),
        "{err}"
    );
    let deleted = premix_query!(User, DELETE, filter_eq("id", zed.id))
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(DB::rows_affected(&deleted), 1);
    let none = premix_query!(User, FIND, filter_eq("id", zed.id))
        .fetch_optional(pool)
        .await
        .unwrap();
    assert!(none.is_none());
}

/// Eager loads at 1, 10, 127, 128, 129 and 1000 parents, with the threshold
/// set to 128, record the strategy it implies, with exact parent and child
/// counts and one child query each; at the default threshold 1000 parents
/// group with the Vec.
pub async fn eager_threshold_counts<DB: SqlDialect>(pool: &Pool<DB>)
where
    User: Model<DB>,
    Post: Model<DB>,
{
    use premix_instrument::Snapshot;
    use premix_orm_fork::Grouping;

    let users = seed_users(pool, 1000).await;
    let mut tx = pool.begin().await.unwrap();
    for u in &users {
        let mut post = new_post(u.id, String::new(), 0.0);
        post.save(&mut tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    for parents in [1_u64, 10, 127, 128, 129, 1000] {
        let before = Snapshot::take();
        let loaded = User::find_in_pool(pool)
            .limit(i32::try_from(parents).unwrap())
            .include(User::posts)
            .vec_grouping_max_parents(128)
            .all()
            .await
            .unwrap();
        assert_eq!(loaded.len() as u64, parents);
        let stats = Snapshot::take().since(&before);
        let (strategy, other) = if parents <= 128 {
            (Grouping::Vec, Grouping::HashMap)
        } else {
            (Grouping::HashMap, Grouping::Vec)
        };
        let load = stats
            .eager_loads("users", "posts", strategy.as_label())
            .expect("a load was recorded");
        assert_eq!(
            (load.loads(), load.parents(), load.children),
            (1, parents, parents),
            "{parents}"
        );
        assert!(
            stats
                .eager_loads("users", "posts", other.as_label())
                .is_none(),
            "{parents}"
        );
        assert_eq!(
            stats.expect("eager_load", "users").stmt_cache.lookups(),
            1,
            "{parents}"
        );
    }
    let before = Snapshot::take();
    User::find_in_pool(pool)
        .limit(1000)
        .include(User::posts)
        .all()
        .await
        .unwrap();
    let stats = Snapshot::take().since(&before);
    let load = stats
        .eager_loads("users", "posts", Grouping::Vec.as_label())
        .expect("the default threshold groups 1000 parents with the Vec");
    assert_eq!(load.parents(), 1000);
    // The fork splits its loads by its own buckets, one ending at its
    // threshold, not by the runtime's default decades.
    let threshold = premix_orm_fork::DEFAULT_VEC_GROUPING_MAX_PARENTS as u64;
    assert!(
        load.buckets
            .iter()
            .any(|b| (b.parents_min, b.parents_max) == (1_001, threshold)),
        "{load:?}"
    );
}

/// The first use of a statement on each of three connections is a miss, the
/// second a hit; a reconnected connection starts cold again.
pub async fn connections_start_cold<DB: SqlDialect>(pool: &Pool<DB>)
where
    User: Model<DB>,
{
    use premix_instrument::Snapshot;
    use sqlx::Connection as _;

    let users = seed_users(pool, 1).await;
    let before = Snapshot::take();
    let mut conns = Vec::new();
    for _ in 0..3 {
        conns.push(pool.acquire().await.unwrap());
    }
    for round in 0..2 {
        for conn in &mut conns {
            User::find_by_id(conn, users[0].id).await.unwrap();
        }
        let stats = Snapshot::take().since(&before);
        let find = stats.expect("find_by_id", "users").stmt_cache;
        assert_eq!((find.misses, find.hits), (3, 3 * round), "round {round}");
    }
    let closed = conns.pop().unwrap().detach();
    closed.close().await.unwrap();
    let mut reconnected = pool.acquire().await.unwrap();
    let before_reconnect = Snapshot::take();
    User::find_by_id(&mut reconnected, users[0].id)
        .await
        .unwrap();
    let stats = Snapshot::take().since(&before_reconnect);
    assert_eq!(stats.expect("find_by_id", "users").stmt_cache.misses, 1);
}

/// `DATABASE_URL`, or `None` with a skip line; under `CI` a missing database
/// is a failure, so the PostgreSQL tests cannot silently not run.
pub fn database_url(test: &str) -> Option<String> {
    match std::env::var("DATABASE_URL") {
        Ok(url) => Some(url),
        Err(_) if std::env::var_os("CI").is_some() => {
            panic!(
                "CI must run the PostgreSQL tests: DATABASE_URL is not set (run `cargo xtask test`)"
            )
        }
        Err(_) => {
            eprintln!("skipping {test}: DATABASE_URL not set (cargo xtask test starts a cluster)");
            None
        }
    }
}

/// Connect options for `schema` on the server at `url`, the schema dropped
/// and created afresh, so that nothing depends on what ran before.
pub async fn fresh_schema(url: &str, schema: &str) -> sqlx::postgres::PgConnectOptions {
    use sqlx::Connection as _;
    let mut admin = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::raw_sql(&format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
    ))
    .execute(&mut admin)
    .await
    .unwrap();
    <sqlx::postgres::PgConnectOptions as std::str::FromStr>::from_str(url)
        .unwrap()
        .options([("search_path", schema)])
}

/// Statement-cache counts summed over every op of a snapshot.
pub fn stmt_totals(stats: &premix_instrument::Snapshot) -> premix_instrument::StmtCacheStats {
    let mut total = premix_instrument::StmtCacheStats::default();
    for op in stats.ops() {
        total.hits += op.stmt_cache.hits;
        total.misses += op.stmt_cache.misses;
        total.ambiguous += op.stmt_cache.ambiguous;
        total.disagreement += op.stmt_cache.disagreement;
        total.unprepared += op.stmt_cache.unprepared;
        total.evictions += op.stmt_cache.evictions;
    }
    total
}

/// 200 tasks over `pool`: every lookup is counted once, with at most one
/// miss per connection (`max_connections`).
pub async fn concurrent_lookups_add_up<DB: SqlDialect>(pool: &Pool<DB>, max_connections: u64)
where
    User: Model<DB>,
{
    use premix_instrument::Snapshot;

    let users = seed_users(pool, 20).await;
    let before = Snapshot::take();
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let pool = pool.clone();
            let id = users[i % users.len()].id;
            tokio::spawn(async move { User::find_by_id(&pool, id).await.unwrap().unwrap() })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let stats = Snapshot::take().since(&before);
    let find = stats.expect("find_by_id", "users");
    find.assert_calls(200);
    let cache = find.stmt_cache;
    assert_eq!(cache.hits + cache.misses, 200, "{cache:?}");
    assert!(
        (1..=max_connections).contains(&cache.misses),
        "one miss per connection: {cache:?}"
    );
}
