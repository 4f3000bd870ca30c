//! Pins what finding a user costs in allocations.

use premix_orm::prelude::*;

premix_instrument::install_counting_allocator!();

#[derive(Model, Debug)]
struct User {
    id: i32,
    name: String,
}

#[tokio::test]
async fn finding_a_user_stays_cheap() {
    // SQLite's worker thread shares this test's CPU and runs only while the
    // test waits for it, so the counts are the same on every run.
    premix_instrument::serial::serialize_threads().unwrap();
    let pool = Premix::smart_sqlite_pool("sqlite::memory:").await.unwrap();
    Premix::sync::<premix_orm::sqlx::Sqlite, User>(&pool)
        .await
        .unwrap();
    let mut ada = User {
        id: 0,
        name: "Ada".into(),
    };
    ada.save(&pool).await.unwrap();
    User::find_by_id(&pool, 1).await.unwrap(); // prepares the statement
    Premix::wait_idle(&pool).await.unwrap();

    let before = premix_instrument::Snapshot::take();
    User::find_by_id(&pool, 1).await.unwrap();
    // Returning the connection to the pool is part of the call's cost.
    Premix::wait_idle(&pool).await.unwrap();
    let stats = premix_instrument::Snapshot::take().since(&before);
    stats
        .expect("find_by_id", "users")
        .assert_calls(1)
        .assert_blocks_per_call(20);
}
