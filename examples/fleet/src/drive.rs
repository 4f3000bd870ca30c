//! `cargo xtask load`: the seeded mix against one service instance, N
//! concurrent clients over loopback, bounded in count and time; prints
//! throughput and p50/p99, what was answered, and checks the ORM calls the
//! load caused against the service's own counters (`/snapshot`), exactly.
//!
//! Without a target it builds the service (release), starts it on
//! PostgreSQL (`DATABASE_URL`, or a throwaway cluster) or on embedded
//! in-memory SQLite, and stops it at the end.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::load::MixArgs;
use crate::mix::OrmCall;
use crate::process::WorkDir;
use crate::{Balancer, LoadConfig, LoadReport, postgres, service};

/// What to drive, and how hard.
#[derive(Clone, Debug)]
pub struct DriveConfig {
    /// The load.
    pub load: LoadConfig,
    /// A service already running there (`http://127.0.0.1:8080`); `None`:
    /// build and start one.
    pub target: Option<String>,
    /// ... and its metrics listener, to compare with its `/snapshot`.
    pub metrics: Option<String>,
    /// The started service runs on embedded in-memory SQLite, not PostgreSQL.
    pub sqlite: bool,
}

/// The flags of `cargo xtask load`.
#[derive(clap::Args, Debug)]
pub struct DriveArgs {
    #[command(flatten)]
    mix: MixArgs,
    /// Requests at most
    #[arg(long, value_name = "N", default_value_t = 20_000)]
    requests: u64,
    /// Time at most, in seconds
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    duration: u64,
    /// Run the service on embedded in-memory SQLite instead of PostgreSQL
    #[arg(long)]
    sqlite: bool,
    /// Drive a service already running there (e.g. http://127.0.0.1:8080)
    #[arg(long, value_name = "URL")]
    target: Option<String>,
    /// ... and compare with its /snapshot (e.g. http://127.0.0.1:9464)
    #[arg(long, value_name = "URL", requires = "target")]
    metrics: Option<String>,
}

impl From<DriveArgs> for DriveConfig {
    fn from(args: DriveArgs) -> Self {
        Self {
            load: args.mix.load(args.requests, args.duration),
            target: args.target,
            metrics: args.metrics,
            sqlite: args.sqlite,
        }
    }
}

/// Drives the service the config names (or one it starts) and checks the
/// counts when it knows the service's metrics.
///
/// # Errors
/// The service could not be built, started or reached, some requests could
/// not be accounted for, or the service counted other ORM calls than the
/// load caused.
pub fn run(config: &DriveConfig) -> Result<(), String> {
    let runtime = service::runtime()?;
    let client = service::client()?;
    if let Some(target) = &config.target {
        let metrics = config.metrics.clone();
        return runtime.block_on(drive(target.clone(), metrics, &config.load, &client));
    }
    let bin = service::build(true)?;
    let (_cluster, database) = if config.sqlite {
        (None, "sqlite::memory:".to_owned())
    } else {
        postgres::database()?
    };
    let dir = WorkDir::new("premix-load")?;
    runtime.block_on(async {
        let schema = format!("premix_load_{}", std::process::id());
        let schema = database.starts_with("postgres").then_some(schema.as_str());
        let mut instance = service::start(&bin, &database, schema, true, &dir, &client).await?;
        println!("service at {} ({database})", instance.api);
        let metrics = instance.metrics.clone();
        let driven = drive(instance.api.clone(), metrics, &config.load, &client).await;
        let stopped = instance.process.terminate(Duration::from_secs(30)).await;
        driven.and(stopped.map(|_| ()))
    })
}

/// Seeds, runs the mix, prints, and compares with `/snapshot` when known.
async fn drive(
    target: String,
    metrics: Option<String>,
    config: &LoadConfig,
    client: &reqwest::Client,
) -> Result<(), String> {
    let balancer = Balancer::new(&[target], config.clients)?;
    let (base, seeded) = crate::load::seed(&balancer, 0).await?;
    println!("seed: {}", seeded.summary());
    let before = match &metrics {
        Some(m) => Some(crate::snapshot::fetch(client, m).await?),
        None => None,
    };
    println!(
        "{} clients, at most {} requests and {:?}, seed {}",
        config.clients, config.requests, config.duration, config.seed
    );
    let report = crate::load::run(&balancer, &Arc::new(base), config).await;
    println!("load: {}", report.summary());
    print_answers(&report);
    if report.anomaly_count > 0 {
        return Err(format!(
            "{} requests could not be accounted for: {:?}",
            report.anomaly_count, report.anomalies
        ));
    }
    if let (Some(before), Some(metrics)) = (before, metrics) {
        let after = crate::snapshot::fetch(client, &metrics).await?;
        compare(&report, &before.calls(), &after.calls())?;
    }
    Ok(())
}

fn print_answers(report: &LoadReport) {
    println!("  {:<24} {:>6} {:>8}", "request", "status", "count");
    for ((kind, status), count) in &report.answers {
        println!("  {:<24} {status:>6} {count:>8}", format!("{kind:?}"));
    }
}

type Calls = BTreeMap<(String, String, String), u64>;

/// The ORM calls the load caused against what the service counted meanwhile.
fn compare(report: &LoadReport, before: &Calls, after: &Calls) -> Result<(), String> {
    let mut caused: Calls = BTreeMap::new();
    for ((_, OrmCall { op, table, outcome }), count) in &report.tally.calls {
        *caused
            .entry((
                op.label().to_owned(),
                table.label().to_owned(),
                outcome.label().to_owned(),
            ))
            .or_default() += count;
    }
    let mut differ = Vec::new();
    let keys: std::collections::BTreeSet<_> = after.keys().chain(caused.keys()).collect();
    for key in keys {
        let now = after.get(key).copied().unwrap_or(0);
        let counted = now - before.get(key).copied().unwrap_or(0);
        let want = caused.get(key).copied().unwrap_or(0);
        if counted != want {
            differ.push(format!(
                "{key:?}: load caused {want}, service counted {counted}"
            ));
        }
    }
    let total: u64 = caused.values().sum();
    if differ.is_empty() {
        println!(
            "ORM calls the load caused: {total}; the service's counters moved by exactly as many, series by series ({} series)",
            after.len()
        );
        Ok(())
    } else {
        Err(format!(
            "the service counted other ORM calls than the load caused:\n{}",
            differ.join("\n")
        ))
    }
}
