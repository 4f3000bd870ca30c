//! premix-orm-fork against idiomatic raw sqlx 0.8 (`query_as` + `FromRow`):
//! same in-memory SQLite pool (one connection), same dataset, same SQL text
//! (the raw contender runs exactly the statements the fork generates,
//! padded `IN` list included), same current-thread runtime.
//!
//! For each scenario: warm-up, then allocations per op (process-wide, so the
//! SQLite worker thread's are included; nothing else runs), then 15
//! interleaved timing rounds (fork and raw alternate who goes first).
//! Reported: median ns/op of each, the median of per-round ratios
//! fork/raw, and blocks (allocations + reallocations) per op.
//!
//! Run pinned to one CPU, since cross-vCPU wake-ups of sqlx's SQLite worker
//! thread swamp wall time on this machine:
//! `taskset -c 1 cargo bench -p premix-benches --bench fork_vs_sqlx [scenario...]`
//!
//! Instruction counts, stable on a shared machine: run the bench binary under
//! `valgrind --tool=callgrind` with `FORK_VS_SQLX_SIDE=fork`, then `=raw`,
//! and a scenario name; each run does setup plus 200 ops of one side, so the
//! difference of the two totals divided by 200 is the per-op difference.

use std::collections::HashMap;
use std::future::Future;
use std::hint::black_box;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::time::Instant;

use premix_instrument::process_stats;
use premix_orm_fork::prelude::*;
use sqlx::SqlitePool;

premix_instrument::install_counting_allocator!();

#[derive(Model, Debug, Clone)]
struct User {
    id: i32,
    name: String,
    age: i32,
    active: bool,
    #[has_many(Post)]
    #[premix(ignore)]
    posts: Option<Vec<Post>>,
}

#[derive(Model, Debug, Clone)]
#[belongs_to(User)]
struct Post {
    id: i32,
    user_id: i32,
    title: String,
    score: f64,
}

/// The raw contender's rows: idiomatic `#[derive(sqlx::FromRow)]`. Decoding
/// every field is the work measured, whether or not the bench reads it.
#[allow(dead_code)]
#[derive(sqlx::FromRow, Debug)]
struct RawUser {
    id: i32,
    name: String,
    age: i32,
    active: bool,
}

#[allow(dead_code)]
#[derive(sqlx::FromRow, Debug)]
struct RawPost {
    id: i32,
    user_id: i32,
    title: String,
    score: f64,
}

const USERS: i32 = 1000;
const SEEDED_POSTS: i32 = 50 * 10 + 200 * 5;
const SCRATCH_POSTS: i32 = 80_000;
const WARMUP: u64 = 200;
const ALLOC_OPS: u64 = 200;
const ROUNDS: usize = 15;

/// SQL shared by both contenders, taken from the fork.
struct Statements {
    by_id: String,
    select_limit: String,
    eager_parents: String,
    eager_parents_range: String,
    eager_children_64: String,
    eager_children_256: String,
    insert_post: &'static str,
    update_user: &'static str,
    delete_post: &'static str,
}

async fn setup() -> (&'static SqlitePool, Statements) {
    let pool = Premix::smart_sqlite_pool("sqlite::memory:").await.unwrap();
    Premix::sync::<sqlx::Sqlite, User>(&pool).await.unwrap();
    Premix::sync::<sqlx::Sqlite, Post>(&pool).await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    for i in 1..=USERS {
        sqlx::query("INSERT INTO users (id, name, age, active) VALUES (?, ?, ?, ?)")
            .bind(i)
            .bind(format!("user{i}"))
            .bind(18 + i % 60)
            .bind(i % 2 == 0)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    // Users 1..=50 have 10 posts each, users 51..=250 have 5.
    for user in 1..=250 {
        for n in 0..if user <= 50 { 10 } else { 5 } {
            sqlx::query("INSERT INTO posts (user_id, title, score) VALUES (?, ?, ?)")
                .bind(user)
                .bind(format!("post {n} of {user}"))
                .bind(f64::from(n))
                .execute(&mut *tx)
                .await
                .unwrap();
        }
    }
    // Rows for the delete scenario, owned by user 1000 (no eager scenario reads it).
    for _ in 0..SCRATCH_POSTS {
        sqlx::query("INSERT INTO posts (user_id, title, score) VALUES (1000, '', 0)")
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let pool: &'static SqlitePool = Box::leak(Box::new(pool));

    let children = |n: usize| {
        let placeholders = vec!["?"; n].join(", ");
        format!("SELECT id, user_id, title, score FROM posts WHERE user_id IN ({placeholders})")
    };
    let statements = Statements {
        by_id: User::find_in_pool(pool).filter_eq("id", 1).to_sql(),
        select_limit: User::find_in_pool(pool).limit(100).to_sql(),
        eager_parents: User::find_in_pool(pool).filter_lte("id", 50).to_sql(),
        eager_parents_range: User::find_in_pool(pool)
            .filter_gte("id", 51)
            .filter_lte("id", 250)
            .to_sql(),
        eager_children_64: children(64),
        eager_children_256: children(256),
        insert_post: "INSERT INTO posts (user_id, title, score) VALUES (?, ?, ?) RETURNING id",
        update_user: "UPDATE users SET name = ?, age = ?, active = ? WHERE id = ?",
        delete_post: "DELETE FROM posts WHERE id = ?",
    };
    assert_eq!(
        statements.by_id,
        "SELECT id, name, age, active FROM users WHERE id = ?"
    );
    (pool, statements)
}

/// Median of a sample.
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

struct Row {
    name: &'static str,
    raw_ns: f64,
    fork_ns: f64,
    ratio: f64,
    raw_blocks: f64,
    fork_blocks: f64,
}

/// Runs one scenario: `ops(i)` futures for the fork and for raw sqlx.
/// Scenario names given on the command line (`cargo bench ... -- update`);
/// none means all.
fn selected(name: &str) -> bool {
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    wanted.is_empty() || wanted.iter().any(|w| name.contains(w.as_str()))
}

async fn compare<F, FF, R, RF>(
    name: &'static str,
    iterations: u64,
    mut fork: F,
    mut raw: R,
) -> Option<Row>
where
    F: FnMut(u64) -> FF,
    FF: Future<Output = ()>,
    R: FnMut(u64) -> RF,
    RF: Future<Output = ()>,
{
    if !selected(name) {
        return None;
    }
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let next = || NEXT.fetch_add(1, Ordering::Relaxed);
    // For instruction counting under callgrind: only one side, a fixed number
    // of ops, no timing. Compare two runs' totals (see the module docs).
    if let Ok(side) = std::env::var("FORK_VS_SQLX_SIDE") {
        for _ in 0..ALLOC_OPS {
            if side == "fork" {
                fork(next()).await;
            } else {
                raw(next()).await;
            }
        }
        return None;
    }
    for _ in 0..WARMUP {
        fork(next()).await;
        raw(next()).await;
    }
    let before = process_stats();
    for _ in 0..ALLOC_OPS {
        fork(next()).await;
    }
    let fork_blocks = process_stats().since(&before).blocks() as f64 / ALLOC_OPS as f64;
    let before = process_stats();
    for _ in 0..ALLOC_OPS {
        raw(next()).await;
    }
    let raw_blocks = process_stats().since(&before).blocks() as f64 / ALLOC_OPS as f64;

    let (mut fork_ns, mut raw_ns, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let mut time_fork = 0.0;
        let mut time_raw = 0.0;
        for side in 0..2 {
            let fork_turn = (side == 0) == (round % 2 == 0);
            let start = Instant::now();
            for _ in 0..iterations {
                if fork_turn {
                    fork(next()).await;
                } else {
                    raw(next()).await;
                }
            }
            let ns = start.elapsed().as_secs_f64() * 1e9 / iterations as f64;
            if fork_turn {
                time_fork = ns;
            } else {
                time_raw = ns;
            }
        }
        fork_ns.push(time_fork);
        raw_ns.push(time_raw);
        ratios.push(time_fork / time_raw);
    }
    Some(Row {
        name,
        raw_ns: median(raw_ns),
        fork_ns: median(fork_ns),
        ratio: median(ratios),
        raw_blocks,
        fork_blocks,
    })
}

fn user_id(i: u64) -> i32 {
    1 + (i % USERS as u64) as i32
}

/// Idiomatic raw eager loading: the parents, then their children in one
/// `IN` query (padded like the fork's, so the statement is the same), grouped
/// through a `HashMap`.
async fn raw_eager(pool: &SqlitePool, parents: Vec<RawUser>, children_sql: &str, padded: usize) {
    let mut users: Vec<(RawUser, Vec<RawPost>)> =
        parents.into_iter().map(|u| (u, Vec::new())).collect();
    let mut query = sqlx::query_as::<_, RawPost>(children_sql);
    for (user, _) in &users {
        query = query.bind(user.id);
    }
    let last = users.last().map_or(0, |(u, _)| u.id);
    for _ in users.len()..padded {
        query = query.bind(last);
    }
    let mut by_parent: HashMap<i32, Vec<RawPost>> = HashMap::new();
    for post in query.fetch_all(pool).await.unwrap() {
        by_parent.entry(post.user_id).or_default().push(post);
    }
    for (user, posts) in &mut users {
        *posts = by_parent.remove(&user.id).unwrap_or_default();
    }
    black_box(users);
}

fn cpus_allowed() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Cpus_allowed_list"))
                .map(str::to_owned)
        })
        .unwrap_or_default()
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let rows = runtime.block_on(async {
        let (pool, sql) = setup().await;
        let sql: &'static Statements = Box::leak(Box::new(sql));
        // Scratch posts follow the 50 x 10 + 200 x 5 seeded ones.
        static SCRATCH: AtomicI32 = AtomicI32::new(SEEDED_POSTS + 1);
        let scratch = &SCRATCH;
        let template_user = User::find_by_id(pool, 7).await.unwrap().unwrap();
        let template_user: &'static User = Box::leak(Box::new(template_user));

        let mut rows = Vec::new();
        rows.extend(
            compare(
                "select_by_pk",
                3000,
                |i| async move {
                    black_box(User::find_by_id(pool, user_id(i)).await.unwrap());
                },
                |i| async move {
                    let row = sqlx::query_as::<_, RawUser>(&sql.by_id)
                        .bind(user_id(i))
                        .fetch_optional(pool)
                        .await
                        .unwrap();
                    black_box(row);
                },
            )
            .await,
        );
        rows.extend(
            compare(
                "builder_pk_lookup",
                3000,
                |i| async move {
                    black_box(
                        User::find_in_pool(pool)
                            .filter_eq("id", user_id(i))
                            .all()
                            .await
                            .unwrap(),
                    );
                },
                |i| async move {
                    let rows = sqlx::query_as::<_, RawUser>(&sql.by_id)
                        .bind(user_id(i))
                        .fetch_all(pool)
                        .await
                        .unwrap();
                    black_box(rows);
                },
            )
            .await,
        );
        rows.extend(
            compare(
                "select_100",
                300,
                |_| async move {
                    black_box(User::find_in_pool(pool).limit(100).all().await.unwrap());
                },
                |_| async move {
                    let rows = sqlx::query_as::<_, RawUser>(&sql.select_limit)
                        .bind(100_i64)
                        .fetch_all(pool)
                        .await
                        .unwrap();
                    black_box(rows);
                },
            )
            .await,
        );
        rows.extend(
            compare(
                "insert",
                2000,
                |i| async move {
                    let mut post = Post {
                        id: 0,
                        user_id: 999,
                        title: String::new(),
                        score: i as f64,
                    };
                    post.save(pool).await.unwrap();
                    black_box(post.id);
                },
                |i| async move {
                    let id: i32 = sqlx::query_scalar(sql.insert_post)
                        .bind(999)
                        .bind("")
                        .bind(i as f64)
                        .fetch_one(pool)
                        .await
                        .unwrap();
                    black_box(id);
                },
            )
            .await,
        );
        rows.extend(
            compare(
                "update",
                2000,
                |i| async move {
                    let mut user = User {
                        id: template_user.id,
                        name: String::new(),
                        age: (i % 90) as i32,
                        active: i % 2 == 0,
                        posts: None,
                    };
                    black_box(user.update(pool).await.unwrap());
                },
                |i| async move {
                    let user = RawUser {
                        id: template_user.id,
                        name: String::new(),
                        age: (i % 90) as i32,
                        active: i % 2 == 0,
                    };
                    let done = sqlx::query(sql.update_user)
                        .bind(&user.name)
                        .bind(user.age)
                        .bind(user.active)
                        .bind(user.id)
                        .execute(pool)
                        .await
                        .unwrap();
                    black_box(done.rows_affected());
                },
            )
            .await,
        );
        rows.extend(
            compare(
                "delete",
                2000,
                |_| async move {
                    let mut post = Post {
                        id: scratch.fetch_add(1, Ordering::Relaxed),
                        user_id: 1000,
                        title: String::new(),
                        score: 0.0,
                    };
                    post.delete(pool).await.unwrap();
                },
                |_| async move {
                    let done = sqlx::query(sql.delete_post)
                        .bind(scratch.fetch_add(1, Ordering::Relaxed))
                        .execute(pool)
                        .await
                        .unwrap();
                    black_box(done.rows_affected());
                },
            )
            .await,
        );
        rows.extend(
            compare(
                "eager_50x10",
                200,
                |_| async move {
                    let users = User::find_in_pool(pool)
                        .filter_lte("id", 50)
                        .include(User::posts)
                        .all()
                        .await
                        .unwrap();
                    assert_eq!(
                        users
                            .iter()
                            .map(|u| u.posts.as_ref().unwrap().len())
                            .sum::<usize>(),
                        500
                    );
                    black_box(users);
                },
                |_| async move {
                    let parents = sqlx::query_as::<_, RawUser>(&sql.eager_parents)
                        .bind(50)
                        .fetch_all(pool)
                        .await
                        .unwrap();
                    raw_eager(pool, parents, &sql.eager_children_64, 64).await;
                },
            )
            .await,
        );
        rows.extend(
            compare(
                "eager_200x5",
                100,
                |_| async move {
                    let users = User::find_in_pool(pool)
                        .filter_gte("id", 51)
                        .filter_lte("id", 250)
                        .include(User::posts)
                        .all()
                        .await
                        .unwrap();
                    assert_eq!(
                        users
                            .iter()
                            .map(|u| u.posts.as_ref().unwrap().len())
                            .sum::<usize>(),
                        1000
                    );
                    black_box(users);
                },
                |_| async move {
                    let parents = sqlx::query_as::<_, RawUser>(&sql.eager_parents_range)
                        .bind(51)
                        .bind(250)
                        .fetch_all(pool)
                        .await
                        .unwrap();
                    raw_eager(pool, parents, &sql.eager_children_256, 256).await;
                },
            )
            .await,
        );
        rows
    });

    println!(
        "\nfork_vs_sqlx: in-memory SQLite, 1 connection, current-thread runtime; {}",
        cpus_allowed()
    );
    println!(
        "{:<18} {:>12} {:>12} {:>10} {:>14} {:>14}",
        "scenario", "raw ns/op", "fork ns/op", "fork/raw", "raw blocks/op", "fork blocks/op"
    );
    for row in &rows {
        println!(
            "{:<18} {:>12.0} {:>12.0} {:>10.3} {:>14.2} {:>14.2}",
            row.name, row.raw_ns, row.fork_ns, row.ratio, row.raw_blocks, row.fork_blocks
        );
    }
    println!(
        "fork/raw is the median of {ROUNDS} per-round ratios; blocks are allocations + reallocations, process-wide."
    );
}
