//! The main job: a blog workload through the ORM fork with instrumentation
//! on, on embedded SQLite by default, then the report (per operation: calls,
//! latency, allocations, cache hit ratios; eager loads by strategy and size;
//! the cache score).
//!
//! ```text
//! cargo run --release -p quickstart [-- --ops N] [--postgres URL] [--serve ADDR]
//! ```
//!
//! The workload runs on one thread, with the SQLite worker thread serialized
//! behind it ([`premix_instrument::serial`]), so the allocation figures are
//! the same on every run; `--multi-thread` runs it on two runtime workers
//! instead, as a service would.
//!
//! `--serve 127.0.0.1:9464` installs the Prometheus exporter first, and after
//! the report keeps a slow steady workload running while serving `/metrics`,
//! until interrupted: the service the dashboards and rules are tested
//! against.

mod blog;
mod counts;
#[cfg(feature = "instrument")]
mod snapshot_json;

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use counts::Counts;
use premix_orm_fork::prelude::*;
use premix_orm_fork::{SqlDialect, StatementCache, sqlx};
use sqlx::Pool;

#[cfg(feature = "instrument")]
premix_instrument::install_counting_allocator!();

const USAGE: &str =
    "usage: quickstart [--ops N] [--postgres URL] [--serve ADDR [--no-steady]] [--multi-thread]

  --ops N          operations in the workload (default 5000)
  --postgres URL   run on PostgreSQL (schema premix_quickstart) instead of in-memory SQLite
  --serve ADDR     export /metrics on ADDR (e.g. 127.0.0.1:9464) and keep a steady workload running
  --no-steady      with --serve: keep serving, but run no further workload (counters stay put)
  --json PATH      also write the report's numbers as JSON to PATH
  --multi-thread   run on a two-worker runtime, the driver's threads free (allocation figures then
                   vary a little from run to run)";

struct Args {
    ops: u64,
    postgres: Option<String>,
    serve: Option<SocketAddr>,
    steady: bool,
    json: Option<String>,
    multi_thread: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        ops: 5000,
        postgres: None,
        serve: None,
        steady: true,
        json: None,
        multi_thread: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .ok_or_else(|| format!("{name} needs a value\n\n{USAGE}"))
        };
        match flag.as_str() {
            "--ops" => {
                let v = value("--ops")?;
                args.ops = v
                    .parse()
                    .map_err(|_| format!("--ops takes a number, got `{v}`"))?;
            }
            "--postgres" => args.postgres = Some(value("--postgres")?),
            "--serve" => {
                let v = value("--serve")?;
                args.serve = Some(
                    v.parse()
                        .map_err(|_| format!("--serve takes ADDR:PORT, got `{v}`"))?,
                );
            }
            "--no-steady" => args.steady = false,
            "--json" => args.json = Some(value("--json")?),
            "--multi-thread" => args.multi_thread = true,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument `{other}`\n\n{USAGE}")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let runtime = if args.multi_thread {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    };
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("quickstart: no tokio runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("quickstart failed: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    // The recorder must be in place before the first instrumented call.
    #[cfg(feature = "instrument")]
    let exporter = match args.serve {
        Some(addr) => Some(premix_instrument::install_prometheus(
            premix_instrument::PrometheusConfig::default().listen(addr),
        )?),
        None => None,
    };
    #[cfg(not(feature = "instrument"))]
    if args.serve.is_some() {
        return Err("--serve needs the `instrument` feature".into());
    }
    let counts = Counts::arrange(args.multi_thread, args.serve.is_some());

    match &args.postgres {
        None => {
            let pool = Premix::smart_sqlite_pool("sqlite::memory:").await?;
            workload(&pool, &args, "in-memory SQLite").await?;
            report(args.json.as_deref(), &counts.footer(true))?;
            keep_working(&pool, &args);
        }
        Some(url) => {
            let pool = postgres_pool(url).await?;
            workload(&pool, &args, "PostgreSQL").await?;
            report(args.json.as_deref(), &counts.footer(false))?;
            keep_working(&pool, &args);
        }
    }

    #[cfg(feature = "instrument")]
    if let (Some(exporter), Some(addr)) = (exporter, args.serve) {
        let steady = if args.steady {
            "steady workload running"
        } else {
            "no further workload"
        };
        println!("\nserving http://{addr}/metrics; {steady} (Ctrl-C to stop)");
        drop(exporter);
        tokio::signal::ctrl_c().await?;
    }
    Ok(())
}

async fn postgres_pool(url: &str) -> Result<sqlx::PgPool, sqlx::Error> {
    use std::str::FromStr;

    use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
    let mut admin: sqlx::PgConnection = sqlx::Connection::connect(url).await?;
    sqlx::raw_sql(
        "DROP SCHEMA IF EXISTS premix_quickstart CASCADE; CREATE SCHEMA premix_quickstart",
    )
    .execute(&mut admin)
    .await?;
    let options = PgConnectOptions::from_str(url)?.options([("search_path", "premix_quickstart")]);
    Premix::postgres_pool(
        options,
        PgPoolOptions::new().max_connections(4),
        StatementCache::default(),
    )
    .await
}

async fn workload<DB: SqlDialect>(
    pool: &Pool<DB>,
    args: &Args,
    backend: &str,
) -> Result<(), sqlx::Error>
where
    blog::User: Model<DB>,
    blog::Post: Model<DB>,
    blog::Comment: Model<DB>,
{
    let started = Instant::now();
    blog::seed(pool).await?;
    let mut progress = Progress::new(args.ops);
    for i in 0..args.ops {
        blog::step(pool, i).await?;
        progress.tick(i + 1);
    }
    progress.finish();
    println!(
        "blog workload on {backend}: {} operations after seeding {} users, in {:.2?}\n",
        args.ops,
        blog::USERS,
        started.elapsed()
    );
    Ok(())
}

/// With `--serve` (and without `--no-steady`): keeps the exporter's series
/// moving for scrapers, in the background.
fn keep_working<DB: SqlDialect>(pool: &Pool<DB>, args: &Args)
where
    blog::User: Model<DB>,
    blog::Post: Model<DB>,
    blog::Comment: Model<DB>,
{
    if args.serve.is_some() && args.steady {
        let pool = pool.clone();
        tokio::spawn(async move {
            for i in 0.. {
                if blog::step(&pool, i).await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
    }
}

#[cfg(feature = "instrument")]
fn report(json: Option<&str>, footer: &str) -> std::io::Result<()> {
    let snapshot = premix_instrument::Snapshot::take();
    print!("{}", premix_instrument::report::render(&snapshot));
    if let Some(path) = json {
        snapshot_json::write(&snapshot, path)?;
    }
    println!("\n{footer}");
    Ok(())
}

#[cfg(not(feature = "instrument"))]
fn report(json: Option<&str>, _footer: &str) -> std::io::Result<()> {
    println!("built without the `instrument` feature: nothing was counted");
    if json.is_some() {
        return Err(std::io::Error::other(
            "--json needs the `instrument` feature",
        ));
    }
    Ok(())
}

/// A one-line progress bar on stderr, drawn only on a terminal.
struct Progress {
    total: u64,
    shown: u64,
    terminal: bool,
}

impl Progress {
    fn new(total: u64) -> Self {
        Self {
            total,
            shown: u64::MAX,
            terminal: std::io::stderr().is_terminal(),
        }
    }

    fn tick(&mut self, done: u64) {
        let percent = done * 100 / self.total.max(1);
        if !self.terminal || percent == self.shown {
            return;
        }
        self.shown = percent;
        let filled = (percent / 4) as usize;
        eprint!(
            "\r[{}{}] {percent:>3}% ({done}/{})",
            "#".repeat(filled),
            " ".repeat(25 - filled),
            self.total
        );
        let _ = std::io::stderr().flush();
    }

    fn finish(&self) {
        if self.terminal {
            eprintln!();
        }
    }
}
