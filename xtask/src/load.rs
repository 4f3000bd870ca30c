//! `cargo xtask load`: the seeded mix against one service instance, N
//! concurrent clients over loopback, bounded in count and time; prints
//! throughput and p50/p99, what was answered, and checks the ORM calls the
//! load caused against the service's own counters (`/snapshot`), exactly.
//!
//! Without `--target` it builds the service (release), starts it on
//! PostgreSQL (`DATABASE_URL`, or a throwaway cluster) or, with
//! `--sqlite`, on embedded in-memory SQLite, and stops it at the end.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use fleet::mix::OrmCall;
use fleet::{Balancer, LoadConfig, LoadReport};

use crate::flags::Flags;
use crate::service;

pub(crate) const USAGE: &str =
    "usage: cargo xtask load [--clients N] [--requests N] [--duration SECS] [--seed N] [--sqlite]
                        [--target URL [--metrics URL]]

  --clients N      concurrent clients (default 8)
  --requests N     requests at most (default 20000)
  --duration SECS  time at most (default 60)
  --seed N         the mix's seed (default 14)
  --sqlite         run the service on embedded in-memory SQLite instead of PostgreSQL
  --target URL     drive a service already running there (e.g. http://127.0.0.1:8080)
  --metrics URL    ... and compare with its /snapshot (e.g. http://127.0.0.1:9464)";

/// The load's settings from the flags.
pub(crate) fn load_config(
    flags: &Flags,
    requests: u64,
    duration_secs: u64,
) -> Result<LoadConfig, String> {
    Ok(LoadConfig {
        clients: flags.number("--clients", 8)?,
        requests: flags.number("--requests", requests)?,
        duration: Duration::from_secs(flags.number("--duration", duration_secs)?),
        seed: flags.number("--seed", 14)?,
    })
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let flags = Flags::parse(
        args,
        &[
            "--clients",
            "--requests",
            "--duration",
            "--seed",
            "--target",
            "--metrics",
        ],
        &["--sqlite"],
        USAGE,
    )?;
    let config = load_config(&flags, 20_000, 60)?;
    let runtime = service::runtime()?;
    let client = service::client()?;
    if let Some(target) = flags.text("--target") {
        let metrics = flags.text("--metrics").map(str::to_owned);
        return runtime.block_on(drive(target.to_owned(), metrics, &config, &client));
    }
    let bin = service::build(true)?;
    let (_cluster, database) = if flags.switch("--sqlite") {
        (None, "sqlite::memory:".to_owned())
    } else {
        service::database()?
    };
    let dir = fleet::process::WorkDir::new("premix-load")?;
    runtime.block_on(async {
        let schema = format!("premix_load_{}", std::process::id());
        let schema = database.starts_with("postgres").then_some(schema.as_str());
        let mut instance = service::start(&bin, &database, schema, true, &dir, &client).await?;
        println!("xtask: service at {} ({database})", instance.api);
        let driven = drive(
            instance.api.clone(),
            instance.metrics.clone(),
            &config,
            &client,
        )
        .await;
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
    let (base, seeded) = fleet::load::seed(&balancer, 0).await?;
    println!("seed: {}", seeded.summary());
    let before = match &metrics {
        Some(m) => Some(fleet::snapshot::fetch(client, m).await?),
        None => None,
    };
    println!(
        "xtask: {} clients, at most {} requests and {:?}, seed {}",
        config.clients, config.requests, config.duration, config.seed
    );
    let report = fleet::load::run(&balancer, &Arc::new(base), config).await;
    println!("load: {}", report.summary());
    print_answers(&report);
    if report.anomaly_count > 0 {
        return Err(format!(
            "{} requests could not be accounted for: {:?}",
            report.anomaly_count, report.anomalies
        ));
    }
    if let (Some(before), Some(metrics)) = (before, metrics) {
        let after = fleet::snapshot::fetch(client, &metrics).await?;
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
