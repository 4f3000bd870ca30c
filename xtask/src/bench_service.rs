//! `cargo xtask bench-service`: the cost a user would feel. The same
//! seeded load against the service built with `instrument` on (counters,
//! counting allocator, exporter) and off (premix-instrument not compiled),
//! in interleaved rounds (on/off, then off/on, ...) in one run, each side
//! on a fresh schema of one PostgreSQL, each round after a warm-up; medians
//! per side and the on/off ratios of throughput and latency.
//!
//! Results go to `benches/results/runs/service_load.json`, a flat object:
//!
//! | key | meaning |
//! |---|---|
//! | `run` | `"service_load"` |
//! | `backend`, `clients`, `requests_per_round`, `warmup_requests`, `seed`, `rounds` | the set-up |
//! | `per_round` | one row per round and side: `round`, `side` (`on`/`off`), `position` (1st or 2nd in its round), `requests`, `seconds`, `throughput_rps`, `p50_ms`, `p99_ms`, `anomalies` |
//! | `median_on_throughput_rps`, `median_off_throughput_rps`, `median_on_p50_ms`, `median_off_p50_ms`, `median_on_p99_ms`, `median_off_p99_ms` | medians over the rounds |
//! | `throughput_ratio_on_off`, `p50_ratio_on_off`, `p99_ratio_on_off` | median on / median off |
//! | `target_ratio` | 0.02: the target is throughput at least 0.98 of off, p99 at most 1.02 of off |
//! | `throughput_within_target`, `p99_within_target` | whether the medians meet it |

use std::sync::Arc;
use std::time::Duration;

use fleet::{Balancer, LoadConfig, LoadReport};
use serde_json::json;

use crate::flags::Flags;
use crate::{bench, load, service};

pub(crate) const USAGE: &str = "usage: cargo xtask bench-service [--rounds N] [--clients N] [--requests N] [--warmup N] [--seed N]

  --rounds N    rounds; each runs both builds, alternating which goes first (default 7)
  --clients N   concurrent clients (default 8)
  --requests N  measured requests per round and side (default 20000)
  --warmup N    unmeasured requests before them (default 3000)
  --duration S  time bound of each measured run (default 300)
  --seed N      the mix's seed (default 14)";

/// The target: on within 2% of off.
const TARGET_RATIO: f64 = 0.02;

struct Round {
    round: usize,
    instrument: bool,
    position: usize,
    report: LoadReport,
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let flags = Flags::parse(
        args,
        &[
            "--rounds",
            "--clients",
            "--requests",
            "--warmup",
            "--seed",
            "--duration",
        ],
        &[],
        USAGE,
    )?;
    let rounds: usize = flags.number("--rounds", 7)?;
    let config = load::load_config(&flags, 20_000, 300)?;
    let warmup: u64 = flags.number("--warmup", 3_000)?;
    let bins = [service::build(true)?, service::build(false)?];
    let (_cluster, database) = service::database()?;
    let dir = fleet::process::WorkDir::new("premix-bench-service")?;
    let client = service::client()?;
    let runtime = service::runtime()?;
    let mut results = Vec::new();
    for round in 1..=rounds {
        let order = if round % 2 == 1 {
            [true, false]
        } else {
            [false, true]
        };
        for (position, instrument) in order.into_iter().enumerate() {
            let bin = &bins[usize::from(!instrument)];
            let schema = format!(
                "bench_{}_{round}_{}",
                if instrument { "on" } else { "off" },
                std::process::id()
            );
            let report = runtime.block_on(async {
                let mut instance =
                    service::start(bin, &database, Some(&schema), instrument, &dir, &client)
                        .await?;
                let measured = measure(&instance.api, &config, warmup).await;
                instance.process.terminate(Duration::from_secs(30)).await?;
                measured
            })?;
            println!(
                "round {round} instrument {:<3} {}",
                if instrument { "on" } else { "off" },
                report.summary()
            );
            results.push(Round {
                round,
                instrument,
                position: position + 1,
                report,
            });
        }
    }
    let document = document(&results, &config, warmup, rounds);
    println!(
        "\n| build | throughput (req/s) | p50 (ms) | p99 (ms) |\n|---|---|---|---|\n| instrument on | {:.0} | {:.3} | {:.3} |\n| instrument off | {:.0} | {:.3} | {:.3} |\n| on / off | {:.4} | {:.4} | {:.4} |",
        document["median_on_throughput_rps"]
            .as_f64()
            .unwrap_or(f64::NAN),
        document["median_on_p50_ms"].as_f64().unwrap_or(f64::NAN),
        document["median_on_p99_ms"].as_f64().unwrap_or(f64::NAN),
        document["median_off_throughput_rps"]
            .as_f64()
            .unwrap_or(f64::NAN),
        document["median_off_p50_ms"].as_f64().unwrap_or(f64::NAN),
        document["median_off_p99_ms"].as_f64().unwrap_or(f64::NAN),
        document["throughput_ratio_on_off"]
            .as_f64()
            .unwrap_or(f64::NAN),
        document["p50_ratio_on_off"].as_f64().unwrap_or(f64::NAN),
        document["p99_ratio_on_off"].as_f64().unwrap_or(f64::NAN),
    );
    let path = bench::results_dir().join("runs/service_load.json");
    bench::write(&path, &bench::pretty(&document))?;
    println!("xtask: wrote {}", path.display());
    Ok(())
}

/// Seeds, warms up (unmeasured), then runs the measured load.
async fn measure(api: &str, config: &LoadConfig, warmup: u64) -> Result<LoadReport, String> {
    let balancer = Balancer::new(&[api.to_owned()], config.clients)?;
    let (base, _) = fleet::load::seed(&balancer, 0).await?;
    let base = Arc::new(base);
    let warm = LoadConfig {
        requests: warmup,
        seed: config.seed.wrapping_add(1),
        ..config.clone()
    };
    let warmed = fleet::load::run(&balancer, &base, &warm).await;
    let report = fleet::load::run(&balancer, &base, config).await;
    if warmed.anomaly_count + report.anomaly_count > 0 {
        return Err(format!(
            "requests could not be accounted for: {:?}",
            report.anomalies
        ));
    }
    Ok(report)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn ms(d: Option<Duration>) -> f64 {
    d.map_or(f64::NAN, |d| d.as_secs_f64() * 1e3)
}

fn document(
    results: &[Round],
    config: &LoadConfig,
    warmup: u64,
    rounds: usize,
) -> serde_json::Value {
    let side = |instrument: bool, figure: fn(&LoadReport) -> f64| {
        median(
            results
                .iter()
                .filter(|r| r.instrument == instrument)
                .map(|r| figure(&r.report))
                .collect(),
        )
    };
    let throughput = |r: &LoadReport| r.throughput();
    let p50 = |r: &LoadReport| ms(r.latency(0.5));
    let p99 = |r: &LoadReport| ms(r.latency(0.99));
    let (on_rps, off_rps) = (side(true, throughput), side(false, throughput));
    let (on_p50, off_p50) = (side(true, p50), side(false, p50));
    let (on_p99, off_p99) = (side(true, p99), side(false, p99));
    let per_round: Vec<_> = results
        .iter()
        .map(|r| {
            json!({
                "round": r.round,
                "side": if r.instrument { "on" } else { "off" },
                "position": r.position,
                "requests": r.report.requests,
                "seconds": r.report.elapsed.as_secs_f64(),
                "throughput_rps": r.report.throughput(),
                "p50_ms": ms(r.report.latency(0.5)),
                "p99_ms": ms(r.report.latency(0.99)),
                "anomalies": r.report.anomaly_count,
            })
        })
        .collect();
    json!({
        "run": "service_load",
        "backend": "postgresql",
        "clients": config.clients,
        "requests_per_round": config.requests,
        "warmup_requests": warmup,
        "seed": config.seed,
        "rounds": rounds,
        "per_round": per_round,
        "median_on_throughput_rps": on_rps,
        "median_off_throughput_rps": off_rps,
        "median_on_p50_ms": on_p50,
        "median_off_p50_ms": off_p50,
        "median_on_p99_ms": on_p99,
        "median_off_p99_ms": off_p99,
        "throughput_ratio_on_off": on_rps / off_rps,
        "p50_ratio_on_off": on_p50 / off_p50,
        "p99_ratio_on_off": on_p99 / off_p99,
        "target_ratio": TARGET_RATIO,
        "throughput_within_target": on_rps / off_rps >= 1.0 - TARGET_RATIO,
        "p99_within_target": on_p99 / off_p99 <= 1.0 + TARGET_RATIO,
    })
}
