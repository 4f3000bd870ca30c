//! The allocation-regression gate (see the crate docs). No libtest: its
//! threads would allocate inside the measured windows.
//!
//! PostgreSQL needs `DATABASE_URL` (`cargo xtask test` starts a cluster);
//! without it that half says it skips, except under CI.

use std::fmt::Write as _;
use std::process::ExitCode;
use std::str::FromStr;

use premix_alloc_gate::{CALLS, EXPECTED, Fixtures, SCENARIOS, Scenario, UNPINNED, run, seed};
use premix_instrument::{AllocStats, process_stats};
use premix_orm_fork::prelude::*;
use premix_orm_fork::{SqlDialect, StatementCache, sqlx};
use sqlx::Pool;

premix_instrument::install_counting_allocator!();

/// Calls before measuring: statement caches filled, call sites registered.
const WARM_UP: i32 = CALLS as i32;

/// One scenario's measured window.
struct Measured {
    scenario: &'static str,
    backend: &'static str,
    process: AllocStats,
    #[cfg(feature = "instrument")]
    op: premix_instrument::OpAllocations,
}

fn main() -> ExitCode {
    // The pinned figures are those of strict serialization: with
    // real-time priority refused, the SQLite worker runs at idle priority
    // and the channel waits fall differently. Then only the equality of
    // the op's figure and the process's is checked.
    let strict = match premix_instrument::serial::serialize_threads() {
        Ok(premix_instrument::serial::Serialization::Strict) => true,
        Ok(other) if std::env::var_os("CI").is_none() => {
            println!(
                "alloc gate: threads serialized as {other:?} (real-time priority refused: run as \
                 root or with CAP_SYS_NICE to check the pinned figures); checking only that each \
                 op is charged what the process allocated"
            );
            false
        }
        Ok(other) => {
            eprintln!("alloc gate: CI must serialize strictly, got {other:?}");
            return ExitCode::FAILURE;
        }
        Err(error) => {
            eprintln!("alloc gate: {error}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime");
    let measured = runtime.block_on(async {
        let mut measured = Vec::new();
        let sqlite = sqlite().await?;
        measure_all(&sqlite, &mut measured).await?;
        if let Some(postgres) = postgres().await? {
            measure_all(&postgres, &mut measured).await?;
        }
        Ok::<_, sqlx::Error>(measured)
    });
    let measured = match measured {
        Ok(measured) => measured,
        Err(error) => {
            eprintln!("alloc gate: a scenario failed: {error}");
            return ExitCode::FAILURE;
        }
    };
    let failures: Vec<String> = measured.iter().flat_map(|m| check(m, strict)).collect();
    print_table(&measured);
    if let Some(path) = std::env::var_os("PREMIX_ALLOC_GATE_JSON") {
        if let Err(error) = std::fs::write(&path, json(&measured, strict)) {
            eprintln!(
                "alloc gate: could not write {}: {error}",
                std::path::Path::new(&path).display()
            );
            return ExitCode::FAILURE;
        }
    }
    if failures.is_empty() {
        println!("alloc gate: {} scenarios as pinned", measured.len());
        ExitCode::SUCCESS
    } else {
        for failure in &failures {
            eprintln!("alloc gate: {failure}");
        }
        eprintln!(
            "\nIf the change is meant to move these figures, replace EXPECTED in \
             premix-orm-fork/alloc-gate/src/expected.rs with the table above and say why in the \
             commit message."
        );
        ExitCode::FAILURE
    }
}

/// The in-memory pool of one connection the fork builds, whose worker
/// thread the fork serializes when it opens.
#[cfg(feature = "instrument")]
async fn sqlite() -> Result<sqlx::SqlitePool, sqlx::Error> {
    Premix::smart_sqlite_pool("sqlite::memory:").await
}

/// The same pool without instrumentation: the fork does not look at its
/// worker thread, so the gate serializes it.
#[cfg(not(feature = "instrument"))]
async fn sqlite() -> Result<sqlx::SqlitePool, sqlx::Error> {
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    let pool = SqlitePoolOptions::new()
        .min_connections(0)
        .max_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                conn.lock_handle().await?.create_collation(
                    "gate_serialize",
                    |a: &str, b: &str| {
                        premix_instrument::serial::serialize_driver_thread();
                        a.cmp(b)
                    },
                )?;
                sqlx::query("SELECT 'a' < 'b' COLLATE gate_serialize")
                    .execute(conn)
                    .await?;
                Ok(())
            })
        });
    Premix::sqlite_pool(
        SqliteConnectOptions::from_str("sqlite::memory:")?.foreign_keys(true),
        pool,
        StatementCache::default(),
    )
    .await
}

/// A pool of one connection on a fresh schema, or `None` without
/// `DATABASE_URL` outside CI.
async fn postgres() -> Result<Option<sqlx::PgPool>, sqlx::Error> {
    use sqlx::Connection as _;
    use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
    let url = match std::env::var("DATABASE_URL") {
        Ok(url) => url,
        Err(_) if std::env::var_os("CI").is_some() => {
            return Err(sqlx::Error::Configuration(
                "CI must run the PostgreSQL half: DATABASE_URL is not set".into(),
            ));
        }
        Err(_) => {
            println!("alloc gate: PostgreSQL skipped (DATABASE_URL not set)");
            return Ok(None);
        }
    };
    let mut admin = sqlx::PgConnection::connect(&url).await?;
    sqlx::raw_sql(
        "DROP SCHEMA IF EXISTS premix_alloc_gate CASCADE; CREATE SCHEMA premix_alloc_gate",
    )
    .execute(&mut admin)
    .await?;
    admin.close().await?;
    let options = PgConnectOptions::from_str(&url)?.options([("search_path", "premix_alloc_gate")]);
    let pool = Premix::postgres_pool(
        options,
        PgPoolOptions::new().max_connections(1),
        StatementCache::default().exact(),
    )
    .await?;
    Ok(Some(pool))
}

async fn measure_all<DB: SqlDialect>(
    pool: &Pool<DB>,
    measured: &mut Vec<Measured>,
) -> Result<(), sqlx::Error>
where
    premix_alloc_gate::User: Model<DB>,
    premix_alloc_gate::Post: Model<DB>,
{
    seed(pool).await?;
    let mut fixtures = Fixtures::default();
    for scenario in SCENARIOS {
        measured.push(measure(pool, scenario, &mut fixtures).await?);
    }
    Ok(())
}

async fn measure<DB: SqlDialect>(
    pool: &Pool<DB>,
    scenario: &Scenario,
    fixtures: &mut Fixtures,
) -> Result<Measured, sqlx::Error>
where
    premix_alloc_gate::User: Model<DB>,
    premix_alloc_gate::Post: Model<DB>,
{
    for call in 0..WARM_UP {
        run(pool, scenario, call, fixtures).await?;
    }
    Premix::wait_idle(pool).await?;
    #[cfg(feature = "instrument")]
    let before = premix_instrument::Snapshot::take();
    let process_before = process_stats();
    for call in WARM_UP..WARM_UP + CALLS as i32 {
        run(pool, scenario, call, fixtures).await?;
    }
    Premix::wait_idle(pool).await?;
    let process = process_stats().since(&process_before);
    #[cfg(feature = "instrument")]
    let op = {
        let window = premix_instrument::Snapshot::take().since(&before);
        let stats = window.expect_on(scenario.op, scenario.model, DB::BACKEND.label());
        assert_eq!(stats.calls(), CALLS, "{}: calls counted", scenario.name);
        // Every op the scenario ran: an eager load is an op of its own
        // after the select.
        window
            .ops()
            .iter()
            .fold(premix_instrument::OpAllocations::default(), |sum, op| {
                sum + op.allocations
            })
    };
    Ok(Measured {
        scenario: scenario.name,
        backend: DB::BACKEND.label(),
        process,
        #[cfg(feature = "instrument")]
        op,
    })
}

fn check(m: &Measured, strict: bool) -> Vec<String> {
    let mut failures = Vec::new();
    let what = format!("{} on {}", m.scenario, m.backend);
    #[cfg(feature = "instrument")]
    {
        if (m.op.blocks(), m.op.bytes) != (m.process.blocks(), m.process.allocated_bytes) {
            failures.push(format!(
                "{what}: the op was charged {} blocks, {} bytes over {CALLS} calls, but the \
                 process allocated {} blocks, {} bytes",
                m.op.blocks(),
                m.op.bytes,
                m.process.blocks(),
                m.process.allocated_bytes
            ));
        }
    }
    if !strict {
        return failures;
    }
    let expected = EXPECTED
        .iter()
        .find(|e| e.scenario == m.scenario && e.backend == m.backend);
    let Some(expected) = expected else {
        if !UNPINNED
            .iter()
            .any(|(s, b, _)| *s == m.scenario && *b == m.backend)
        {
            failures.push(format!("{what}: no pinned figures"));
        }
        return failures;
    };
    #[cfg(feature = "instrument")]
    {
        if (m.op.blocks(), m.op.bytes) != (expected.blocks, expected.bytes) {
            failures.push(format!(
                "{what}: {CALLS} calls were pinned at {} blocks, {} bytes ({}); measured {} \
                 blocks, {} bytes ({})",
                expected.blocks,
                expected.bytes,
                per_call(expected.blocks, expected.bytes),
                m.op.blocks(),
                m.op.bytes,
                per_call(m.op.blocks(), m.op.bytes),
            ));
        }
    }
    #[cfg(not(feature = "instrument"))]
    if m.process.blocks() != expected.blocks {
        failures.push(format!(
            "{what}, built without instrumentation: the instrumented op is charged {} blocks for \
             {CALLS} calls; without instrumentation the process allocated {}",
            expected.blocks,
            m.process.blocks()
        ));
    }
    failures
}

/// The windows as JSON for the audit (`PREMIX_ALLOC_GATE_JSON`): the
/// process-wide figures of this build, and the ops' where instrumented.
fn json(measured: &[Measured], strict: bool) -> String {
    let rows: Vec<String> = measured
        .iter()
        .map(|m| {
            #[cfg(feature = "instrument")]
            let op = format!(
                r#", "op_blocks": {}, "op_bytes": {}"#,
                m.op.blocks(),
                m.op.bytes
            );
            #[cfg(not(feature = "instrument"))]
            let op = String::new();
            format!(
                r#"{{"scenario": "{}", "backend": "{}", "process_blocks": {}, "process_bytes": {}{op}}}"#,
                m.scenario,
                m.backend,
                m.process.blocks(),
                m.process.allocated_bytes
            )
        })
        .collect();
    format!(
        "{{\"run\": \"alloc_gate\", \"instrument\": {}, \"strict\": {strict}, \"calls\": {CALLS}, \"rows\": [\n  {}\n]}}\n",
        cfg!(feature = "instrument"),
        rows.join(",\n  ")
    )
}

/// A window's figures per call, for people.
fn per_call(blocks: u64, bytes: u64) -> String {
    let calls = CALLS as f64;
    format!(
        "{:.2} blocks, {:.1} bytes per call",
        blocks as f64 / calls,
        bytes as f64 / calls
    )
}

/// The measured figures in `expected.rs`'s syntax (without
/// instrumentation, the process-wide ones, whose bytes are not pinned: the
/// fork returns a connection with a task of its own, of another size).
fn print_table(measured: &[Measured]) {
    let mut table = String::from("pub const EXPECTED: &[Expected] = &[\n");
    for m in measured {
        #[cfg(feature = "instrument")]
        let (blocks, bytes) = (m.op.blocks(), m.op.bytes);
        #[cfg(not(feature = "instrument"))]
        let (blocks, bytes) = (m.process.blocks(), m.process.allocated_bytes);
        let _ = writeln!(
            table,
            "    Expected {{ scenario: {:?}, backend: {:?}, blocks: {blocks}, bytes: {bytes} }}, // {}",
            m.scenario,
            m.backend,
            per_call(blocks, bytes)
        );
    }
    table.push_str("];");
    println!("{table}");
}
