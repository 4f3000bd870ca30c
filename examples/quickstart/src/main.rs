//! The main job: a small users workload on in-memory SQLite through plain
//! sqlx functions, each instrumented with `#[instrument]` behind this
//! crate's `instrument` feature (on by default), then a per-operation report.
//!
//! Run it with `cargo run -p quickstart --release`. Build it with
//! `--no-default-features` and the same code compiles without
//! premix-instrument at all.

mod store;

#[cfg(feature = "instrument")]
premix_instrument::install_counting_allocator!();

use std::process::ExitCode;

use sqlx::sqlite::SqlitePoolOptions;

const USERS: i64 = 500;
const LOOKUPS: i64 = 2_000;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("quickstart failed: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), sqlx::Error> {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await?;
    store::create_schema(&pool).await?;

    for i in 0..USERS {
        store::insert_user(&pool, &format!("user{i}"), i % 90).await?;
    }
    let mut age_sum = 0;
    for i in 0..LOOKUPS {
        let id = 1 + i % USERS;
        if let Some(user) = store::find_by_id(&pool, id).await? {
            age_sum += user.age;
        }
    }
    let mut selected = 0;
    for age in [18, 30, 65] {
        let users = store::older_than(&pool, age, 50).await?;
        selected += users
            .iter()
            .filter(|u| u.name.starts_with("user") && u.id > 0)
            .count();
    }
    for id in (1..=USERS).step_by(5) {
        store::rename(&pool, id, "renamed").await?;
    }
    for id in (1..=USERS).step_by(10) {
        store::delete(&pool, id).await?;
    }
    // A query against a table that does not exist: a returned error, counted
    // under outcome "error".
    if store::find_in_missing_table(&pool).await.is_ok() {
        return Err(sqlx::Error::Protocol("a missing table answered".into()));
    }

    println!(
        "workload: {USERS} users, {LOOKUPS} lookups (age sum {age_sum}), {selected} rows selected\n"
    );
    report();
    Ok(())
}

#[cfg(feature = "instrument")]
fn report() {
    let snapshot = premix_instrument::Snapshot::take();
    println!("premix-instrument report: in-memory SQLite, plain sqlx functions\n");
    print!("{}", premix_instrument::report::render(&snapshot));
    println!(
        "\nallocations are those made on the polling thread (task attribution); the sqlx \
         SQLite worker thread's are not included"
    );
}

#[cfg(not(feature = "instrument"))]
fn report() {
    println!("built without the `instrument` feature: nothing was counted");
}
