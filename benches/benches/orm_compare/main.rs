//! premix-orm-fork against raw sqlx 0.8 (`query_as` + `FromRow`, running the
//! fork's SQL), the published premix-orm 1.0.9-alpha and SeaORM 1.1 (each
//! through its own API), on one in-memory SQLite pool with one dataset (SeaORM
//! wraps the same sqlx pool), in one binary so all share one sqlx and one
//! SQLite build.
//!
//! Before timing a scenario, the harness runs it once per contender with
//! sqlx's statement events captured, and checks the fairness contract:
//! same statement shapes as the baseline (raw) and the same rows. A
//! contender that fails is not reported for that scenario unless the
//! difference is declared intentional (`fairness::INTENTIONAL`, with a
//! reason). The pool is shared by every contender, so its options are
//! equal by construction; they are printed with the checklist.
//!
//! Timing: 15 rounds, contenders interleaved with a rotating order, medians
//! of ns/op, and the median of per-round ratios to raw. Blocks per op
//! (allocations plus reallocations), process-wide. Results go to
//! `benches/results/orm_compare.json`.
//!
//! `taskset -c 1 cargo bench -p premix-benches --bench orm_compare [scenario...]`
//!
//! Instruction counts, steadier than time on a shared machine: run the bench
//! binary under `valgrind --tool=callgrind` with `ORM_COMPARE_SIDE` set to a
//! contender (`raw`, `fork`, `premix`, `seaorm`) and a scenario name; it then
//! does the setup plus 100 ops of that contender only, so the difference of
//! two runs' totals divided by 100 is the per-op difference. (With sqlx's
//! SQLite worker thread, runs of one side still vary by ~±20 k instructions
//! per op; repeat them.)

mod capture;
mod fairness;

use std::future::Future;
use std::hint::black_box;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::time::Instant;

use premix_instrument::process_stats;
use sqlx::{Connection, SqlitePool};

premix_instrument::install_counting_allocator!();

/// The fork's models.
mod ours {
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
mod published {
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
mod sea {
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
struct RawUser {
    id: i32,
    name: String,
    age: i32,
    active: bool,
}

const USERS: i32 = 1000;
/// Users 1..=50 have 10 posts each, users 51..=250 have 5 each.
const SEEDED_POSTS: i32 = 50 * 10 + 200 * 5;
/// Posts of user 1000 that the delete scenarios remove, one per op.
const SCRATCH_POSTS: i32 = 90_000;
const ROUNDS: usize = 15;
const WARMUP: u64 = 100;
const ALLOC_OPS: u64 = 100;

async fn setup() -> &'static SqlitePool {
    use premix_orm_fork::prelude::*;
    let pool = Premix::smart_sqlite_pool("sqlite::memory:").await.unwrap();
    Premix::sync::<sqlx::Sqlite, ours::User>(&pool)
        .await
        .unwrap();
    Premix::sync::<sqlx::Sqlite, ours::Post>(&pool)
        .await
        .unwrap();
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
    for n in 0..SEEDED_POSTS {
        let user = if n < 500 {
            1 + n % 50
        } else {
            51 + (n - 500) % 200
        };
        sqlx::query("INSERT INTO posts (user_id, title, score) VALUES (?, ?, ?)")
            .bind(user)
            .bind(format!("post {n}"))
            .bind(i64::from(n))
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    for _ in 0..SCRATCH_POSTS {
        sqlx::query("INSERT INTO posts (user_id, title, score) VALUES (1000, '', 0)")
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    Box::leak(Box::new(pool))
}

/// A round trip on the pool's connection, so the SQLite worker has logged
/// every statement before a capture ends.
async fn settle(pool: &SqlitePool) {
    let mut conn = pool.acquire().await.unwrap();
    conn.ping().await.unwrap();
}

/// The next scratch post to delete (ids follow the seeded posts).
fn next_scratch() -> i32 {
    static NEXT: AtomicI32 = AtomicI32::new(SEEDED_POSTS + 1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn user_id(i: u64) -> i32 {
    1 + (i % USERS as u64) as i32
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

const CONTENDERS: [&str; 4] = ["raw", "fork", "premix", "seaorm"];

struct Result {
    scenario: &'static str,
    ns: [f64; 4],
    ratio: [f64; 4],
    blocks: [f64; 4],
    verdicts: Vec<fairness::Verdict>,
}

/// Scenario names on the command line (`cargo bench ... -- update`); none
/// means all.
fn selected(name: &str) -> bool {
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    wanted.is_empty() || wanted.iter().any(|w| name.contains(w.as_str()))
}

/// Runs one scenario: fairness check, allocations, interleaved timing.
#[allow(clippy::too_many_arguments)] // one closure per contender reads best here
async fn scenario<R, RF, F, FF, P, PF, S, SF>(
    pool: &SqlitePool,
    name: &'static str,
    iterations: u64,
    mut raw: R,
    mut fork: F,
    mut premix: P,
    mut seaorm: S,
) -> Option<Result>
where
    R: FnMut(u64) -> RF,
    RF: Future<Output = ()>,
    F: FnMut(u64) -> FF,
    FF: Future<Output = ()>,
    P: FnMut(u64) -> PF,
    PF: Future<Output = ()>,
    S: FnMut(u64) -> SF,
    SF: Future<Output = ()>,
{
    if !selected(name) {
        return None;
    }
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let next = || NEXT.fetch_add(1, Ordering::Relaxed);
    // One op of contender `side` (index into CONTENDERS).
    macro_rules! op {
        ($side:expr) => {
            match $side {
                0 => raw(next()).await,
                1 => fork(next()).await,
                2 => premix(next()).await,
                _ => seaorm(next()).await,
            }
        };
    }
    const N: usize = CONTENDERS.len();

    if let Ok(only) = std::env::var("ORM_COMPARE_SIDE") {
        let side = CONTENDERS
            .iter()
            .position(|c| *c == only)
            .expect("ORM_COMPARE_SIDE names a contender");
        for _ in 0..ALLOC_OPS {
            op!(side);
        }
        return None;
    }

    // One op each, warm (statements prepared), then one with its SQL captured.
    let mut captured = Vec::new();
    for side in 0..N {
        op!(side);
        let ((), statements) = capture::capture(async {
            op!(side);
            settle(pool).await;
        })
        .await;
        captured.push(statements);
    }
    let verdicts = CONTENDERS
        .iter()
        .zip(&captured)
        .map(|(contender, statements)| fairness::judge(name, contender, &captured[0], statements))
        .collect();

    for _ in 0..WARMUP {
        for side in 0..N {
            op!(side);
        }
    }
    let mut blocks = [0.0; N];
    for (side, slot) in blocks.iter_mut().enumerate() {
        let before = process_stats();
        for _ in 0..ALLOC_OPS {
            op!(side);
        }
        *slot = process_stats().since(&before).blocks() as f64 / ALLOC_OPS as f64;
    }

    let mut ns: [Vec<f64>; N] = Default::default();
    let mut ratios: [Vec<f64>; N] = Default::default();
    for round in 0..ROUNDS {
        let mut this_round = [0.0; N];
        for turn in 0..N {
            let side = (round + turn) % N;
            let start = Instant::now();
            for _ in 0..iterations {
                op!(side);
            }
            this_round[side] = start.elapsed().as_secs_f64() * 1e9 / iterations as f64;
        }
        for side in 0..N {
            ns[side].push(this_round[side]);
            ratios[side].push(this_round[side] / this_round[0]);
        }
    }
    Some(Result {
        scenario: name,
        ns: ns.map(median),
        ratio: ratios.map(median),
        blocks,
        verdicts,
    })
}

fn main() {
    fairness::self_check();
    capture::install();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut pool_options = String::new();
    let results: Vec<Result> = runtime.block_on(async {
        use premix_orm::prelude::Model as PublishedModel;
        use premix_orm_fork::prelude::Model as ForkModel;

        use sea_orm::{
            ActiveModelTrait, ColumnTrait, EntityTrait, LoaderTrait, NotSet, QueryFilter, QuerySelect,
            Set, SqlxSqliteConnector, Unchanged,
        };

        let pool = setup().await;
        let options = pool.options();
        pool_options = format!(
            "max_connections={} min_connections={} test_before_acquire={}",
            options.get_max_connections(),
            options.get_min_connections(),
            options.get_test_before_acquire()
        );
        // SeaORM on the very same sqlx pool.
        let db: &'static sea_orm::DatabaseConnection =
            Box::leak(Box::new(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool.clone())));
        let by_id = ours::User::find_in_pool(pool).filter_eq("id", 1).to_sql();
        let first_100 = ours::User::find_in_pool(pool).limit(100).to_sql();
        let by_id: &'static str = Box::leak(by_id.into_boxed_str());
        let first_100: &'static str = Box::leak(first_100.into_boxed_str());
        static SCRATCH_FORK: AtomicI32 = AtomicI32::new(0);

        let mut results = Vec::new();
        results.extend(
            scenario(
                pool,
                "select_by_pk",
                2000,
                |i| async move {
                    let row = sqlx::query_as::<_, RawUser>(by_id).bind(user_id(i)).fetch_optional(pool).await.unwrap();
                    black_box(row);
                },
                |i| async move {
                    black_box(<ours::User as ForkModel<sqlx::Sqlite>>::find_by_id(pool, user_id(i)).await.unwrap());
                },
                |i| async move {
                    black_box(<published::User as PublishedModel<sqlx::Sqlite>>::find_by_id(pool, user_id(i)).await.unwrap());
                },
                |i| async move {
                    black_box(sea::users::Entity::find_by_id(user_id(i)).one(db).await.unwrap());
                },
            )
            .await,
        );
        results.extend(
            scenario(
                pool,
                "builder_pk_lookup",
                2000,
                |i| async move {
                    let rows = sqlx::query_as::<_, RawUser>(by_id).bind(user_id(i)).fetch_all(pool).await.unwrap();
                    black_box(rows);
                },
                |i| async move {
                    black_box(ours::User::find_in_pool(pool).filter_eq("id", user_id(i)).all().await.unwrap());
                },
                |i| async move {
                    black_box(published::User::find_in_pool(pool).filter_eq("id", user_id(i)).all().await.unwrap());
                },
                |i| async move {
                    let rows = sea::users::Entity::find()
                        .filter(sea::users::Column::Id.eq(user_id(i)))
                        .all(db)
                        .await
                        .unwrap();
                    black_box(rows);
                },
            )
            .await,
        );
        results.extend(
            scenario(
                pool,
                "select_100",
                200,
                |_| async move {
                    let rows = sqlx::query_as::<_, RawUser>(first_100).bind(100_i64).fetch_all(pool).await.unwrap();
                    black_box(rows);
                },
                |_| async move {
                    black_box(ours::User::find_in_pool(pool).limit(100).all().await.unwrap());
                },
                |_| async move {
                    black_box(published::User::find_in_pool(pool).limit(100).all().await.unwrap());
                },
                |_| async move {
                    black_box(sea::users::Entity::find().limit(100).all(db).await.unwrap());
                },
            )
            .await,
        );
        results.extend(
            scenario(
                pool,
                "update",
                1500,
                |i| async move {
                    let done = sqlx::query("UPDATE users SET name = ?, age = ?, active = ? WHERE id = ?")
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
                    let mut user = ours::User { id: 7, name: String::new(), age: (i % 90) as i32, active: i % 2 == 0, posts: None };
                    black_box(user.update(pool).await.unwrap());
                },
                |i| async move {
                    let mut user = published::User { id: 7, name: String::new(), age: (i % 90) as i32, active: i % 2 == 0, posts: None };
                    black_box(user.update(pool).await.unwrap());
                },
                |i| async move {
                    let user = sea::users::ActiveModel {
                        id: Unchanged(7),
                        name: Set(String::new()),
                        age: Set((i % 90) as i32),
                        active: Set(i % 2 == 0),
                    };
                    black_box(user.update(db).await.unwrap());
                },
            )
            .await,
        );
        results.extend(
            scenario(
                pool,
                "insert",
                1500,
                |i| async move {
                    let id: i32 = sqlx::query_scalar("INSERT INTO posts (user_id, title, score) VALUES (?, ?, ?) RETURNING id")
                        .bind(999)
                        .bind("")
                        .bind(i as i64)
                        .fetch_one(pool)
                        .await
                        .unwrap();
                    black_box(id);
                },
                |i| async move {
                    let mut post = ours::Post { id: 0, user_id: 999, title: String::new(), score: i as i64 };
                    post.save(pool).await.unwrap();
                    SCRATCH_FORK.store(post.id, Ordering::Relaxed);
                },
                |i| async move {
                    let mut post = published::Post { id: 0, user_id: 999, title: String::new(), score: i as i64 };
                    post.save(pool).await.unwrap();
                    black_box(post.id);
                },
                |i| async move {
                    let post = sea::posts::ActiveModel {
                        id: NotSet,
                        user_id: Set(999),
                        title: Set(String::new()),
                        score: Set(i as i64),
                    };
                    black_box(post.insert(db).await.unwrap());
                },
            )
            .await,
        );
        results.extend(
            scenario(
                pool,
                "eager_50x10",
                100,
                |_| async move {
                    let parents = sqlx::query_as::<_, RawUser>("SELECT id, name, age, active FROM users WHERE id <= ?")
                        .bind(50)
                        .fetch_all(pool)
                        .await
                        .unwrap();
                    let placeholders = vec!["?"; 64].join(", ");
                    let sql = format!("SELECT id, user_id, title, score FROM posts WHERE user_id IN ({placeholders})");
                    let mut query = sqlx::query_as::<_, (i32, i32, String, i64)>(&sql);
                    for id in (1..=50).chain(std::iter::repeat_n(50, 14)) {
                        query = query.bind(id);
                    }
                    let mut by_parent: std::collections::HashMap<i32, Vec<(i32, i32, String, i64)>> = Default::default();
                    for post in query.fetch_all(pool).await.unwrap() {
                        by_parent.entry(post.1).or_default().push(post);
                    }
                    black_box((parents, by_parent));
                },
                |_| async move {
                    let users = ours::User::find_in_pool(pool).filter_lte("id", 50).include(ours::User::posts).all().await.unwrap();
                    black_box(users);
                },
                |_| async move {
                    let users = published::User::find_in_pool(pool).filter_lte("id", 50).include("posts").all().await.unwrap();
                    black_box(users);
                },
                |_| async move {
                    let users = sea::users::Entity::find()
                        .filter(sea::users::Column::Id.lte(50))
                        .all(db)
                        .await
                        .unwrap();
                    let posts = users.load_many(sea::posts::Entity, db).await.unwrap();
                    black_box((users, posts));
                },
            )
            .await,
        );
        results.extend(
            scenario(
                pool,
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
                    let mut post = ours::Post { id: next_scratch(), user_id: 1000, title: String::new(), score: 0 };
                    post.delete(pool).await.unwrap();
                },
                |_| async move {
                    let mut post = published::Post { id: next_scratch(), user_id: 1000, title: String::new(), score: 0 };
                    post.delete(pool).await.unwrap();
                },
                |_| async move {
                    let done = sea::posts::Entity::delete_by_id(next_scratch()).exec(db).await.unwrap();
                    black_box(done.rows_affected);
                },
            )
            .await,
        );
        results.extend(
            scenario(
                pool,
                "paged_50x10",
                20,
                |_| async move {
                    let sql = ours::User::find_in_pool(pool).limit(10).offset(0).to_sql();
                    for page in 0..50_i64 {
                        let rows = sqlx::query_as::<_, RawUser>(&sql).bind(10_i64).bind(page * 10).fetch_all(pool).await.unwrap();
                        black_box(rows);
                    }
                },
                |_| async move {
                    for page in 0..50 {
                        black_box(ours::User::find_in_pool(pool).limit(10).offset(page * 10).all().await.unwrap());
                    }
                },
                |_| async move {
                    for page in 0..50 {
                        black_box(published::User::find_in_pool(pool).limit(10).offset(page * 10).all().await.unwrap());
                    }
                },
                |_| async move {
                    for page in 0..50_u64 {
                        black_box(sea::users::Entity::find().limit(10).offset(page * 10).all(db).await.unwrap());
                    }
                },
            )
            .await,
        );
        results.extend(
            scenario(
                pool,
                "transaction_3_writes",
                500,
                |i| async move {
                    let mut tx = pool.begin().await.unwrap();
                    sqlx::query("INSERT INTO posts (user_id, title, score) VALUES (?, ?, ?) RETURNING id")
                        .bind(999)
                        .bind("")
                        .bind(i as i64)
                        .fetch_one(&mut *tx)
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
                    sqlx::query("DELETE FROM posts WHERE id = ?").bind(next_scratch()).execute(&mut *tx).await.unwrap();
                    tx.commit().await.unwrap();
                },
                |i| async move {
                    let mut tx = pool.begin().await.unwrap();
                    let mut post = ours::Post { id: 0, user_id: 999, title: String::new(), score: i as i64 };
                    post.save(&mut tx).await.unwrap();
                    let mut user = ours::User { id: 8, name: String::new(), age: (i % 90) as i32, active: true, posts: None };
                    user.update(&mut tx).await.unwrap();
                    let mut gone = ours::Post { id: next_scratch(), user_id: 1000, title: String::new(), score: 0 };
                    gone.delete(&mut tx).await.unwrap();
                    tx.commit().await.unwrap();
                },
                |i| async move {
                    let mut tx = pool.begin().await.unwrap();
                    let mut post = published::Post { id: 0, user_id: 999, title: String::new(), score: i as i64 };
                    post.save(&mut *tx).await.unwrap();
                    let mut user = published::User { id: 8, name: String::new(), age: (i % 90) as i32, active: true, posts: None };
                    user.update(&mut *tx).await.unwrap();
                    let mut gone = published::Post { id: next_scratch(), user_id: 1000, title: String::new(), score: 0 };
                    gone.delete(&mut *tx).await.unwrap();
                    tx.commit().await.unwrap();
                },
                |i| async move {
                    use sea_orm::TransactionTrait;
                    let txn = db.begin().await.unwrap();
                    let post = sea::posts::ActiveModel { id: NotSet, user_id: Set(999), title: Set(String::new()), score: Set(i as i64) };
                    post.insert(&txn).await.unwrap();
                    let user = sea::users::ActiveModel { id: Unchanged(8), name: Set(String::new()), age: Set((i % 90) as i32), active: Set(true) };
                    user.update(&txn).await.unwrap();
                    sea::posts::Entity::delete_by_id(next_scratch()).exec(&txn).await.unwrap();
                    txn.commit().await.unwrap();
                },
            )
            .await,
        );
        results.extend(
            scenario(
                pool,
                "eager_200x5",
                50,
                |_| async move {
                    let parents = sqlx::query_as::<_, RawUser>("SELECT id, name, age, active FROM users WHERE id >= ? AND id <= ?")
                        .bind(51)
                        .bind(250)
                        .fetch_all(pool)
                        .await
                        .unwrap();
                    let placeholders = vec!["?"; 256].join(", ");
                    let sql = format!("SELECT id, user_id, title, score FROM posts WHERE user_id IN ({placeholders})");
                    let mut query = sqlx::query_as::<_, (i32, i32, String, i64)>(&sql);
                    for id in (51..=250).chain(std::iter::repeat_n(250, 56)) {
                        query = query.bind(id);
                    }
                    let mut by_parent: std::collections::HashMap<i32, Vec<(i32, i32, String, i64)>> = Default::default();
                    for post in query.fetch_all(pool).await.unwrap() {
                        by_parent.entry(post.1).or_default().push(post);
                    }
                    black_box((parents, by_parent));
                },
                |_| async move {
                    let users = ours::User::find_in_pool(pool).filter_gte("id", 51).filter_lte("id", 250).include(ours::User::posts).all().await.unwrap();
                    black_box(users);
                },
                |_| async move {
                    let users = published::User::find_in_pool(pool).filter_gte("id", 51).filter_lte("id", 250).include("posts").all().await.unwrap();
                    black_box(users);
                },
                |_| async move {
                    let users = sea::users::Entity::find()
                        .filter(sea::users::Column::Id.gte(51))
                        .filter(sea::users::Column::Id.lte(250))
                        .all(db)
                        .await
                        .unwrap();
                    let posts = users.load_many(sea::posts::Entity, db).await.unwrap();
                    black_box((users, posts));
                },
            )
            .await,
        );
        results
    });

    if std::env::var_os("ORM_COMPARE_SIDE").is_some() {
        // A callgrind run of one side: nothing to compare or report.
        return;
    }
    report(&results, &pool_options);
}

fn report(results: &[Result], pool_options: &str) {
    println!("\norm_compare: in-memory SQLite, current-thread runtime");
    println!("pool, read back (one pool shared by every contender): {pool_options}");
    println!("\nfairness checklist (baseline: raw sqlx running the fork's SQL)");
    for r in results {
        for v in &r.verdicts {
            println!(
                "  {:<18} {:<7} {:<24} rows {:<5} {}",
                v.scenario,
                v.contender,
                v.label(),
                v.rows,
                v.statements.join(" ; ")
            );
            if let (false, Some(why)) = (v.same_shape, v.intentional) {
                println!("  {:<18} {:<7} reason: {why}", "", "");
            }
        }
    }
    println!(
        "\n{:<18} {:>10} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8}",
        "scenario",
        "raw ns",
        "fork/raw",
        "prmx/raw",
        "sea/raw",
        "raw blk",
        "fork blk",
        "prmx blk",
        "sea blk"
    );
    let mut json = Vec::new();
    for r in results {
        let show = |side: usize, value: String| {
            if r.verdicts[side].reportable() {
                value
            } else {
                "refused".into()
            }
        };
        println!(
            "{:<18} {:>10.0} {:>9} {:>9} {:>9} {:>8.2} {:>8} {:>8} {:>8}",
            r.scenario,
            r.ns[0],
            show(1, format!("{:.3}", r.ratio[1])),
            show(2, format!("{:.3}", r.ratio[2])),
            show(3, format!("{:.3}", r.ratio[3])),
            r.blocks[0],
            show(1, format!("{:.2}", r.blocks[1])),
            show(2, format!("{:.2}", r.blocks[2])),
            show(3, format!("{:.2}", r.blocks[3])),
        );
        for (side, contender) in CONTENDERS.iter().enumerate() {
            let v = &r.verdicts[side];
            json.push(serde_json::json!({
                "scenario": r.scenario,
                "contender": contender,
                "fairness": v.label(),
                "reported": v.reportable(),
                "intentional_difference": v.intentional,
                "statements": v.statements,
                "rows": v.rows,
                "median_ns_per_op": v.reportable().then_some(r.ns[side]),
                "ratio_to_raw": v.reportable().then_some(r.ratio[side]),
                "blocks_per_op": v.reportable().then_some(r.blocks[side]),
            }));
        }
    }
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("results");
    std::fs::create_dir_all(&out).unwrap();
    let text = serde_json::to_string_pretty(
        &serde_json::json!({"bench": "orm_compare", "rounds": ROUNDS, "results": json}),
    )
    .unwrap();
    std::fs::write(out.join("orm_compare.json"), text + "\n").unwrap();
    let mut csv = String::from(
        "scenario,contender,fairness,reported,rows,median_ns_per_op,ratio_to_raw,blocks_per_op\n",
    );
    for r in results {
        for (side, contender) in CONTENDERS.iter().enumerate() {
            let v = &r.verdicts[side];
            let number = |x: f64| {
                if v.reportable() {
                    format!("{x:.3}")
                } else {
                    String::new()
                }
            };
            csv.push_str(&format!(
                "{},{contender},{},{},{},{},{},{}\n",
                r.scenario,
                v.label(),
                v.reportable(),
                v.rows,
                number(r.ns[side]),
                number(r.ratio[side]),
                number(r.blocks[side]),
            ));
        }
    }
    std::fs::write(out.join("orm_compare.csv"), csv).unwrap();
    println!(
        "ratios are medians of {ROUNDS} per-round ratios; blocks = allocations + reallocations per op, process-wide"
    );
    println!("wrote benches/results/orm_compare.json and orm_compare.csv");
}
