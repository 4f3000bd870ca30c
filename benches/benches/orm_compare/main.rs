//! premix-orm-fork against raw sqlx 0.8 (`query_as` + `FromRow`, running the
//! fork's SQL; and `query_as!`, checked at compile time against the committed
//! offline data in `benches/.sqlx`), the published premix-orm 1.0.9-alpha and
//! SeaORM 1.1 (each through its own API), on one in-memory SQLite pool with
//! one dataset (SeaORM wraps the same sqlx pool), in one binary so all share
//! one sqlx and one SQLite build. The eager scenarios also time a single
//! LEFT JOIN, the one-round-trip reference a two-query loader is up against.
//!
//! The loop, the fairness check and the results file are `common/harness.rs`;
//! `cargo xtask bench` runs this binary pinned to one CPU, once as is and once
//! with `--features instrument` (the fork with its counters on and a
//! Prometheus recorder installed), and merges the results.
//!
//! By hand: `taskset -c 1 cargo bench -p premix-benches --bench orm_compare
//! [-- scenario...]`.

#[path = "../common/capture.rs"]
mod capture;
#[path = "../common/dataset.rs"]
mod dataset;
#[path = "../common/fairness.rs"]
mod fairness;
#[path = "../common/harness.rs"]
mod harness;
#[path = "../common/models.rs"]
mod models;

use std::hint::black_box;
use std::sync::atomic::{AtomicI32, Ordering};

use harness::no_extra;
use sqlx::{Connection, SqlitePool};

premix_instrument::install_counting_allocator!();

use dataset::{SEEDED_POSTS, USERS};

async fn setup() -> &'static SqlitePool {
    // Posts of user 1000 that the delete scenarios remove, one per op; a
    // callgrind run of one side needs only a few, and as many whatever its
    // op count, so that set-up cancels out between two runs.
    let scratch_posts = match harness::side_mode() {
        Some(_) => 2 * harness::MAX_SIDE_OPS as i32 + 1000,
        None => 90_000,
    };
    dataset::sqlite(scratch_posts).await
}

/// The next scratch post to delete (ids follow the seeded posts).
fn next_scratch() -> i32 {
    static NEXT: AtomicI32 = AtomicI32::new(SEEDED_POSTS + 1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn user_id(i: u64) -> i32 {
    1 + (i % USERS as u64) as i32
}

fn main() {
    harness::run_comparison("sqlite", async {
        use premix_orm::prelude::Model as PublishedModel;
        use premix_orm_fork::prelude::Model as ForkModel;

        use sea_orm::{
            ActiveModelTrait, ColumnTrait, EntityTrait, LoaderTrait, NotSet, QueryFilter,
            QuerySelect, Set, SqlxSqliteConnector, Unchanged,
        };

        let pool = setup().await;
        let setting = format!(
            "in-memory SQLite, current-thread runtime; {}",
            harness::shared_pool(pool.options())
        );
        // A round trip on the pool's connection, so the SQLite worker has
        // logged every statement before a capture ends.
        let settle = async || {
            let mut conn = pool.acquire().await.unwrap();
            conn.ping().await.unwrap();
        };
        // The pool's one connection's statement cache.
        let statements = async |clear: bool| {
            let mut conn = pool.acquire().await.unwrap();
            if clear {
                conn.clear_cached_statements().await.unwrap();
            }
            conn.cached_statements_size()
        };
        // SeaORM on the very same sqlx pool.
        let db: &'static sea_orm::DatabaseConnection = Box::leak(Box::new(
            SqlxSqliteConnector::from_sqlx_sqlite_pool(pool.clone()),
        ));
        let by_id = models::ours::User::find_in_pool(pool)
            .filter_eq("id", 1)
            .to_sql();
        let first_100 = models::ours::User::find_in_pool(pool).limit(100).to_sql();
        let by_id: &'static str = Box::leak(by_id.into_boxed_str());
        let first_100: &'static str = Box::leak(first_100.into_boxed_str());
        static SCRATCH_FORK: AtomicI32 = AtomicI32::new(0);

        // Users first..=last with their posts: the two eager scenarios.
        let eager = async |name: &'static str, iterations: u64, first: i32, last: i32| {
            harness::scenario(
                &settle,
                &statements,
                name,
                iterations,
                move |_| async move {
                    black_box(
                        models::raw::users_with_posts(pool, first, last)
                            .await
                            .unwrap(),
                    );
                },
                move |_| async move {
                    let users = models::ours::User::find_in_pool(pool)
                        .filter_gte("id", first)
                        .filter_lte("id", last)
                        .include(models::ours::User::posts)
                        .all()
                        .await
                        .unwrap();
                    black_box(users);
                },
                move |_| async move {
                    let users = models::published::User::find_in_pool(pool)
                        .filter_gte("id", first)
                        .filter_lte("id", last)
                        .include("posts")
                        .all()
                        .await
                        .unwrap();
                    black_box(users);
                },
                move |_| async move {
                    let users = models::sea::users::Entity::find()
                        .filter(models::sea::users::Column::Id.gte(first))
                        .filter(models::sea::users::Column::Id.lte(last))
                        .all(db)
                        .await
                        .unwrap();
                    let posts = users
                        .load_many(models::sea::posts::Entity, db)
                        .await
                        .unwrap();
                    black_box((users, posts));
                },
                Some(("raw_join", move |_| async move {
                    black_box(models::raw::users_joined(pool, first, last).await.unwrap());
                })),
            )
            .await
        };

        let mut results = Vec::new();
        results.extend(
            harness::scenario(
                &settle,
                &statements,
                "select_by_pk",
                2000,
                |i| async move {
                    let row = sqlx::query_as::<_, models::raw::RawUser>(by_id)
                        .bind(user_id(i))
                        .fetch_optional(pool)
                        .await
                        .unwrap();
                    black_box(row);
                },
                |i| async move {
                    black_box(
                        <models::ours::User as ForkModel<sqlx::Sqlite>>::find_by_id(
                            pool,
                            user_id(i),
                        )
                        .await
                        .unwrap(),
                    );
                },
                |i| async move {
                    black_box(
                        <models::published::User as PublishedModel<sqlx::Sqlite>>::find_by_id(
                            pool,
                            user_id(i),
                        )
                        .await
                        .unwrap(),
                    );
                },
                |i| async move {
                    black_box(
                        models::sea::users::Entity::find_by_id(user_id(i))
                            .one(db)
                            .await
                            .unwrap(),
                    );
                },
                Some(("sqlx_macro", |i| async move {
                    black_box(models::raw::find_by_id(pool, user_id(i)).await.unwrap());
                })),
            )
            .await,
        );
        results.extend(
            harness::scenario(
                &settle,
                &statements,
                "builder_pk_lookup",
                2000,
                |i| async move {
                    let rows = sqlx::query_as::<_, models::raw::RawUser>(by_id)
                        .bind(user_id(i))
                        .fetch_all(pool)
                        .await
                        .unwrap();
                    black_box(rows);
                },
                |i| async move {
                    black_box(
                        models::ours::User::find_in_pool(pool)
                            .filter_eq("id", user_id(i))
                            .all()
                            .await
                            .unwrap(),
                    );
                },
                |i| async move {
                    black_box(
                        models::published::User::find_in_pool(pool)
                            .filter_eq("id", user_id(i))
                            .all()
                            .await
                            .unwrap(),
                    );
                },
                |i| async move {
                    let rows = models::sea::users::Entity::find()
                        .filter(models::sea::users::Column::Id.eq(user_id(i)))
                        .all(db)
                        .await
                        .unwrap();
                    black_box(rows);
                },
                Some(("sqlx_macro", |i| async move {
                    let id = user_id(i);
                    let rows = sqlx::query_as!(
                        models::raw::CheckedUser,
                        "SELECT id, name, age, active FROM users WHERE id = ?",
                        id
                    )
                    .fetch_all(pool)
                    .await
                    .unwrap();
                    black_box(rows);
                })),
            )
            .await,
        );
        results.extend(
            harness::scenario(
                &settle,
                &statements,
                "select_100",
                200,
                |_| async move {
                    let rows = sqlx::query_as::<_, models::raw::RawUser>(first_100)
                        .bind(100_i64)
                        .fetch_all(pool)
                        .await
                        .unwrap();
                    black_box(rows);
                },
                |_| async move {
                    black_box(
                        models::ours::User::find_in_pool(pool)
                            .limit(100)
                            .all()
                            .await
                            .unwrap(),
                    );
                },
                |_| async move {
                    black_box(
                        models::published::User::find_in_pool(pool)
                            .limit(100)
                            .all()
                            .await
                            .unwrap(),
                    );
                },
                |_| async move {
                    black_box(
                        models::sea::users::Entity::find()
                            .limit(100)
                            .all(db)
                            .await
                            .unwrap(),
                    );
                },
                Some(("sqlx_macro", |_| async move {
                    black_box(models::raw::first_users(pool, 100).await.unwrap());
                })),
            )
            .await,
        );
        results.extend(
            harness::scenario(
                &settle,
                &statements,
                "update",
                1500,
                |i| async move {
                    let done =
                        sqlx::query("UPDATE users SET name = ?, age = ?, active = ? WHERE id = ?")
                            .bind("")
                            .bind((i % 90) as i32)
                            .bind(i % 2 == 0)
                            .bind(7)
                            .execute(pool)
                            .await
                            .unwrap();
                    black_box(done.rows_affected());
                },
                |i| async move {
                    let mut user = models::ours::User {
                        id: 7,
                        name: String::new(),
                        age: (i % 90) as i32,
                        active: i % 2 == 0,
                        posts: None,
                    };
                    black_box(user.update(pool).await.unwrap());
                },
                |i| async move {
                    let mut user = models::published::User {
                        id: 7,
                        name: String::new(),
                        age: (i % 90) as i32,
                        active: i % 2 == 0,
                        posts: None,
                    };
                    black_box(user.update(pool).await.unwrap());
                },
                |i| async move {
                    let user = models::sea::users::ActiveModel {
                        id: Unchanged(7),
                        name: Set(String::new()),
                        age: Set((i % 90) as i32),
                        active: Set(i % 2 == 0),
                    };
                    black_box(user.update(db).await.unwrap());
                },
                Some(("sqlx_macro", |i| async move {
                    let (age, active) = ((i % 90) as i32, i % 2 == 0);
                    let done = sqlx::query!(
                        "UPDATE users SET name = ?, age = ?, active = ? WHERE id = ?",
                        "",
                        age,
                        active,
                        7
                    )
                    .execute(pool)
                    .await
                    .unwrap();
                    black_box(done.rows_affected());
                })),
            )
            .await,
        );
        results.extend(
            harness::scenario(
                &settle,
                &statements,
                "insert",
                1500,
                // What a SQLite user writes: the INSERT, then the new rowid
                // from its result.
                |i| async move {
                    let done =
                        sqlx::query("INSERT INTO posts (user_id, title, score) VALUES (?, ?, ?)")
                            .bind(999)
                            .bind("")
                            .bind(i as i64)
                            .execute(pool)
                            .await
                            .unwrap();
                    black_box(done.last_insert_rowid());
                },
                |i| async move {
                    let mut post = models::ours::Post {
                        id: 0,
                        user_id: 999,
                        title: String::new(),
                        score: i as i64,
                    };
                    post.save(pool).await.unwrap();
                    SCRATCH_FORK.store(post.id, Ordering::Relaxed);
                },
                |i| async move {
                    let mut post = models::published::Post {
                        id: 0,
                        user_id: 999,
                        title: String::new(),
                        score: i as i64,
                    };
                    post.save(pool).await.unwrap();
                    black_box(post.id);
                },
                |i| async move {
                    let post = models::sea::posts::ActiveModel {
                        id: NotSet,
                        user_id: Set(999),
                        title: Set(String::new()),
                        score: Set(i as i64),
                    };
                    black_box(post.insert(db).await.unwrap());
                },
                Some(("sqlx_macro", |i| async move {
                    let score = i as i64;
                    let done = sqlx::query!(
                        "INSERT INTO posts (user_id, title, score) VALUES (?, ?, ?)",
                        999,
                        "",
                        score
                    )
                    .execute(pool)
                    .await
                    .unwrap();
                    black_box(done.last_insert_rowid());
                })),
            )
            .await,
        );
        results.extend(eager("eager_50x10", 100, 1, 50).await);
        results.extend(
            harness::scenario(
                &settle,
                &statements,
                "delete",
                1000,
                |_| async move {
                    let done = sqlx::query("DELETE FROM posts WHERE id = ?")
                        .bind(next_scratch())
                        .execute(pool)
                        .await
                        .unwrap();
                    black_box(done.rows_affected());
                },
                |_| async move {
                    let mut post = models::ours::Post {
                        id: next_scratch(),
                        user_id: 1000,
                        title: String::new(),
                        score: 0,
                    };
                    post.delete(pool).await.unwrap();
                },
                |_| async move {
                    let mut post = models::published::Post {
                        id: next_scratch(),
                        user_id: 1000,
                        title: String::new(),
                        score: 0,
                    };
                    post.delete(pool).await.unwrap();
                },
                |_| async move {
                    let done = models::sea::posts::Entity::delete_by_id(next_scratch())
                        .exec(db)
                        .await
                        .unwrap();
                    black_box(done.rows_affected);
                },
                Some(("sqlx_macro", |_| async move {
                    let id = next_scratch();
                    let done = sqlx::query!("DELETE FROM posts WHERE id = ?", id)
                        .execute(pool)
                        .await
                        .unwrap();
                    black_box(done.rows_affected());
                })),
            )
            .await,
        );
        results.extend(
            harness::scenario(
                &settle,
                &statements,
                "paged_50x10",
                20,
                |_| async move {
                    let sql = models::ours::User::find_in_pool(pool)
                        .limit(10)
                        .offset(0)
                        .to_sql();
                    for page in 0..50_i64 {
                        let rows = sqlx::query_as::<_, models::raw::RawUser>(&sql)
                            .bind(10_i64)
                            .bind(page * 10)
                            .fetch_all(pool)
                            .await
                            .unwrap();
                        black_box(rows);
                    }
                },
                |_| async move {
                    for page in 0..50 {
                        black_box(
                            models::ours::User::find_in_pool(pool)
                                .limit(10)
                                .offset(page * 10)
                                .all()
                                .await
                                .unwrap(),
                        );
                    }
                },
                |_| async move {
                    for page in 0..50 {
                        black_box(
                            models::published::User::find_in_pool(pool)
                                .limit(10)
                                .offset(page * 10)
                                .all()
                                .await
                                .unwrap(),
                        );
                    }
                },
                |_| async move {
                    for page in 0..50_u64 {
                        black_box(
                            models::sea::users::Entity::find()
                                .limit(10)
                                .offset(page * 10)
                                .all(db)
                                .await
                                .unwrap(),
                        );
                    }
                },
                Some(("sqlx_macro", |_| async move {
                    for page in 0..50_i64 {
                        let offset = page * 10;
                        let rows = sqlx::query_as!(
                            models::raw::CheckedUser,
                            "SELECT id, name, age, active FROM users LIMIT ? OFFSET ?",
                            10_i64,
                            offset
                        )
                        .fetch_all(pool)
                        .await
                        .unwrap();
                        black_box(rows);
                    }
                })),
            )
            .await,
        );
        results.extend(
            harness::scenario(
                &settle,
                &statements,
                "transaction_3_writes",
                500,
                |i| async move {
                    let mut tx = pool.begin().await.unwrap();
                    sqlx::query("INSERT INTO posts (user_id, title, score) VALUES (?, ?, ?)")
                        .bind(999)
                        .bind("")
                        .bind(i as i64)
                        .execute(&mut *tx)
                        .await
                        .unwrap();
                    sqlx::query("UPDATE users SET name = ?, age = ?, active = ? WHERE id = ?")
                        .bind("")
                        .bind((i % 90) as i32)
                        .bind(true)
                        .bind(8)
                        .execute(&mut *tx)
                        .await
                        .unwrap();
                    sqlx::query("DELETE FROM posts WHERE id = ?")
                        .bind(next_scratch())
                        .execute(&mut *tx)
                        .await
                        .unwrap();
                    tx.commit().await.unwrap();
                },
                |i| async move {
                    let mut tx = pool.begin().await.unwrap();
                    let mut post = models::ours::Post {
                        id: 0,
                        user_id: 999,
                        title: String::new(),
                        score: i as i64,
                    };
                    post.save(&mut tx).await.unwrap();
                    let mut user = models::ours::User {
                        id: 8,
                        name: String::new(),
                        age: (i % 90) as i32,
                        active: true,
                        posts: None,
                    };
                    user.update(&mut tx).await.unwrap();
                    let mut gone = models::ours::Post {
                        id: next_scratch(),
                        user_id: 1000,
                        title: String::new(),
                        score: 0,
                    };
                    gone.delete(&mut tx).await.unwrap();
                    tx.commit().await.unwrap();
                },
                |i| async move {
                    let mut tx = pool.begin().await.unwrap();
                    let mut post = models::published::Post {
                        id: 0,
                        user_id: 999,
                        title: String::new(),
                        score: i as i64,
                    };
                    post.save(&mut *tx).await.unwrap();
                    let mut user = models::published::User {
                        id: 8,
                        name: String::new(),
                        age: (i % 90) as i32,
                        active: true,
                        posts: None,
                    };
                    user.update(&mut *tx).await.unwrap();
                    let mut gone = models::published::Post {
                        id: next_scratch(),
                        user_id: 1000,
                        title: String::new(),
                        score: 0,
                    };
                    gone.delete(&mut *tx).await.unwrap();
                    tx.commit().await.unwrap();
                },
                |i| async move {
                    use sea_orm::TransactionTrait;
                    let txn = db.begin().await.unwrap();
                    let post = models::sea::posts::ActiveModel {
                        id: NotSet,
                        user_id: Set(999),
                        title: Set(String::new()),
                        score: Set(i as i64),
                    };
                    post.insert(&txn).await.unwrap();
                    let user = models::sea::users::ActiveModel {
                        id: Unchanged(8),
                        name: Set(String::new()),
                        age: Set((i % 90) as i32),
                        active: Set(true),
                    };
                    user.update(&txn).await.unwrap();
                    models::sea::posts::Entity::delete_by_id(next_scratch())
                        .exec(&txn)
                        .await
                        .unwrap();
                    txn.commit().await.unwrap();
                },
                no_extra(),
            )
            .await,
        );
        results.extend(eager("eager_200x5", 50, 51, 250).await);
        (setting, results)
    });
}
