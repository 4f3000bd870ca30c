//! `cargo xtask bench-service`: the cost a user would feel. The same
//! seeded load against the service built with `instrument` on (counters,
//! counting allocator, exporter) and off (premix-instrument not compiled),
//! in interleaved rounds (on/off, then off/on, ...) in one run, each side
//! on a fresh schema of one PostgreSQL, each after a warm-up; medians per
//! side, the on/off ratios of the medians, and the median of each round's
//! own on/off ratio (the two sides of a round run back to back, so what the
//! rest of the machine does weighs on both). Besides throughput and
//! latency, the service process's CPU time per request (from
//! `/proc/PID/stat`), which other load on the machine disturbs least.
//!
//! [`Summary::document`] is what `cargo xtask bench-service` writes to
//! `benches/results/runs/service_load.json`, a flat object:
//!
//! | key | meaning |
//! |---|---|
//! | `run` | `"service_load"` |
//! | `backend`, `clients`, `requests_per_round`, `warmup_requests`, `seed`, `rounds` | the set-up |
//! | `per_round` | one row per round and side: `round`, `side` (`on`/`off`), `position` (1st or 2nd in its round), `requests`, `seconds`, `throughput_rps`, `p50_ms`, `p99_ms`, `service_cpu_us_per_request`, `anomalies` |
//! | `median_{on,off}_throughput_rps`, `median_{on,off}_p50_ms`, `median_{on,off}_p99_ms`, `median_{on,off}_service_cpu_us_per_request` | medians over the rounds |
//! | `throughput_ratio_on_off`, `p50_ratio_on_off`, `p99_ratio_on_off`, `service_cpu_ratio_on_off` | median on / median off |
//! | `paired_throughput_ratio_on_off`, `paired_p99_ratio_on_off`, `paired_service_cpu_ratio_on_off` | the median of the rounds' own on/off ratios |
//! | `best_{on,off}_throughput_rps`, `best_{on,off}_p99_ms`, `best_throughput_ratio_on_off`, `best_p99_ratio_on_off` | each side's best run (highest throughput, lowest p99): other work on the machine only slows runs down |
//! | `target_ratio` | 0.02: the target is throughput at least 0.98 of off, p99 at most 1.02 of off |
//! | `throughput_within_target`, `p99_within_target` | whether the paired ratios meet it |

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::load::MixArgs;
use crate::process::WorkDir;
use crate::{Balancer, LoadConfig, LoadReport, service};

/// How the bench is set up.
#[derive(Clone, Debug)]
pub struct BenchConfig {
    /// Rounds; each runs both builds, alternating which goes first.
    pub rounds: usize,
    /// The measured load of each round and side.
    pub load: LoadConfig,
    /// Unmeasured requests before it.
    pub warmup: u64,
}

/// The flags of `cargo xtask bench-service`.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    #[command(flatten)]
    mix: MixArgs,
    /// Rounds; each runs both builds, alternating which goes first
    #[arg(long, value_name = "N", default_value_t = BenchConfig::default().rounds)]
    rounds: usize,
    /// Measured requests per round and side
    #[arg(long, value_name = "N", default_value_t = BenchConfig::default().load.requests)]
    requests: u64,
    /// Unmeasured requests before them
    #[arg(long, value_name = "N", default_value_t = BenchConfig::default().warmup)]
    warmup: u64,
    /// Time bound of each measured run, in seconds
    #[arg(long, value_name = "SECS", default_value_t = BenchConfig::default().load.duration.as_secs())]
    duration: u64,
}

impl From<BenchArgs> for BenchConfig {
    fn from(args: BenchArgs) -> Self {
        Self {
            rounds: args.rounds,
            load: args.mix.load(args.requests, args.duration),
            warmup: args.warmup,
        }
    }
}

impl Default for BenchConfig {
    /// 9 rounds of 12000 requests (at most 300 s) from 8 clients, seed 14,
    /// after 2000 unmeasured ones.
    fn default() -> Self {
        Self {
            rounds: 9,
            load: LoadConfig {
                clients: 8,
                requests: 12_000,
                duration: Duration::from_secs(300),
                seed: 14,
            },
            warmup: 2_000,
        }
    }
}

/// The target: on within 2% of off.
const TARGET_RATIO: f64 = 0.02;

/// One measured run of one build.
#[derive(Debug)]
struct Run {
    round: usize,
    instrument: bool,
    position: usize,
    report: LoadReport,
    /// CPU time the service process used during the measured requests.
    cpu: Duration,
}

impl Run {
    fn throughput(&self) -> f64 {
        self.report.throughput()
    }

    fn p50_ms(&self) -> f64 {
        ms(self.report.latency(0.5))
    }

    fn p99_ms(&self) -> f64 {
        ms(self.report.latency(0.99))
    }

    fn cpu_us_per_request(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e6 / self.report.requests.max(1) as f64
    }
}

/// Builds both sides, runs the rounds on the PostgreSQL at `database` and
/// returns their summary.
///
/// # Errors
/// A build, the database, a service or the load failed, or some requests
/// could not be accounted for.
pub fn run(config: &BenchConfig, database: &str) -> Result<Summary, String> {
    let (rounds, warmup) = (config.rounds, config.warmup);
    let bins = [service::build(true)?, service::build(false)?];
    let dir = WorkDir::new("premix-bench-service")?;
    let client = service::client()?;
    let runtime = service::runtime()?;
    let ticks = ticks_per_second();
    let mut runs = Vec::new();
    for round in 1..=rounds {
        let order = if round % 2 == 1 {
            [true, false]
        } else {
            [false, true]
        };
        for (position, instrument) in order.into_iter().enumerate() {
            let side = if instrument { "on" } else { "off" };
            let schema = format!("bench_{side}_{round}_{}", std::process::id());
            let bin = &bins[usize::from(!instrument)];
            let (report, cpu) = runtime.block_on(async {
                let mut instance =
                    service::start(bin, database, Some(&schema), instrument, &dir, &client).await?;
                let pid = instance.process.pid();
                let measured =
                    measure(&instance.api, &config.load, warmup, || cpu_time(pid, ticks)).await;
                instance.process.terminate(Duration::from_secs(30)).await?;
                measured
            })?;
            let run = Run {
                round,
                instrument,
                position: position + 1,
                report,
                cpu,
            };
            println!(
                "round {round} instrument {side:<3} {}; service CPU {:.1} us/request",
                run.report.summary(),
                run.cpu_us_per_request()
            );
            runs.push(run);
        }
    }
    Ok(Summary::of(runs, config.clone()))
}

/// Seeds, warms up (unmeasured), then runs the measured load; returns it
/// with the service's CPU time during it (read by `cpu`).
async fn measure(
    api: &str,
    config: &LoadConfig,
    warmup: u64,
    cpu: impl Fn() -> Result<Duration, String>,
) -> Result<(LoadReport, Duration), String> {
    let balancer = Balancer::new(&[api.to_owned()], config.clients)?;
    let (base, _) = crate::load::seed(&balancer, 0).await?;
    let base = Arc::new(base);
    let warm = LoadConfig {
        requests: warmup,
        seed: config.seed.wrapping_add(1),
        ..config.clone()
    };
    let warmed = crate::load::run(&balancer, &base, &warm).await;
    let before = cpu()?;
    let report = crate::load::run(&balancer, &base, config).await;
    let used = cpu()?.saturating_sub(before);
    if warmed.anomaly_count + report.anomaly_count > 0 {
        return Err(format!(
            "requests could not be accounted for: {:?}",
            report.anomalies
        ));
    }
    Ok((report, used))
}

/// User plus system CPU time of process `pid` so far, from
/// `/proc/PID/stat`, whose times are in clock ticks.
fn cpu_time(pid: u32, ticks_per_second: f64) -> Result<Duration, String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).map_err(|e| e.to_string())?;
    // The command name is in parentheses and may hold spaces; after it come
    // field 3 (state) onwards, so utime (14) and stime (15) are 11 and 12.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or("malformed /proc stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .ok_or_else(|| format!("malformed /proc stat: {stat}"))
    };
    Ok(Duration::from_secs_f64(
        (ticks(11)? + ticks(12)?) / ticks_per_second,
    ))
}

fn ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
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

/// A figure's median over one side's runs.
fn side(runs: &[Run], instrument: bool, figure: fn(&Run) -> f64) -> f64 {
    median(
        runs.iter()
            .filter(|r| r.instrument == instrument)
            .map(figure)
            .collect(),
    )
}

/// A figure's best over one side's runs (`pick`: `f64::max` or `f64::min`).
fn extreme(
    runs: &[Run],
    instrument: bool,
    figure: fn(&Run) -> f64,
    pick: fn(f64, f64) -> f64,
) -> f64 {
    runs.iter()
        .filter(|r| r.instrument == instrument)
        .map(figure)
        .reduce(pick)
        .unwrap_or(f64::NAN)
}

/// The median of each round's on/off ratio of a figure.
fn paired(runs: &[Run], rounds: usize, figure: fn(&Run) -> f64) -> f64 {
    median(
        (1..=rounds)
            .filter_map(|round| {
                let of = |on| runs.iter().find(|r| r.round == round && r.instrument == on);
                Some(figure(of(true)?) / figure(of(false)?))
            })
            .collect(),
    )
}

/// Every run, the medians per side and the ratios.
#[derive(Debug)]
pub struct Summary {
    runs: Vec<Run>,
    config: BenchConfig,
    /// (on, off) medians.
    throughput: (f64, f64),
    p50: (f64, f64),
    p99: (f64, f64),
    cpu: (f64, f64),
    /// (on, off) best runs: the highest throughput, the lowest p99. Other
    /// work on the machine only ever slows a run down, so the best of many
    /// is the least disturbed.
    best_throughput: (f64, f64),
    best_p99: (f64, f64),
    /// Medians of the rounds' own on/off ratios.
    paired_throughput: f64,
    paired_p99: f64,
    paired_cpu: f64,
}

impl Summary {
    fn of(runs: Vec<Run>, config: BenchConfig) -> Self {
        let (all, rounds) = (&runs[..], config.rounds);
        let both = |figure: fn(&Run) -> f64| (side(all, true, figure), side(all, false, figure));
        Self {
            throughput: both(Run::throughput),
            p50: both(Run::p50_ms),
            p99: both(Run::p99_ms),
            cpu: both(Run::cpu_us_per_request),
            best_throughput: (
                extreme(all, true, Run::throughput, f64::max),
                extreme(all, false, Run::throughput, f64::max),
            ),
            best_p99: (
                extreme(all, true, Run::p99_ms, f64::min),
                extreme(all, false, Run::p99_ms, f64::min),
            ),
            paired_throughput: paired(all, rounds, Run::throughput),
            paired_p99: paired(all, rounds, Run::p99_ms),
            paired_cpu: paired(all, rounds, Run::cpu_us_per_request),
            runs,
            config,
        }
    }

    /// The medians and ratios as a Markdown table.
    #[must_use]
    pub fn table(&self) -> String {
        let ratio = |(on, off): (f64, f64)| on / off;
        format!(
            "| build | throughput (req/s) | p50 (ms) | p99 (ms) | service CPU (us/request) |\n\
             |---|---|---|---|---|\n\
             | instrument on | {:.0} | {:.3} | {:.3} | {:.1} |\n\
             | instrument off | {:.0} | {:.3} | {:.3} | {:.1} |\n\
             | on / off, of the medians | {:.4} | {:.4} | {:.4} | {:.4} |\n\
             | on / off, median of {} rounds' own ratios | {:.4} | | {:.4} | {:.4} |\n\
             | on / off, best run of each side | {:.4} ({:.0} / {:.0}) | | {:.4} ({:.3} / {:.3}) | |",
            self.throughput.0,
            self.p50.0,
            self.p99.0,
            self.cpu.0,
            self.throughput.1,
            self.p50.1,
            self.p99.1,
            self.cpu.1,
            ratio(self.throughput),
            ratio(self.p50),
            ratio(self.p99),
            ratio(self.cpu),
            self.config.rounds,
            self.paired_throughput,
            self.paired_p99,
            self.paired_cpu,
            ratio(self.best_throughput),
            self.best_throughput.0,
            self.best_throughput.1,
            ratio(self.best_p99),
            self.best_p99.0,
            self.best_p99.1,
        )
    }

    /// The results file (see the module docs).
    #[must_use]
    pub fn document(&self) -> serde_json::Value {
        let (config, warmup) = (&self.config.load, self.config.warmup);
        let per_round: Vec<_> = self
            .runs
            .iter()
            .map(|r| {
                json!({
                    "round": r.round,
                    "side": if r.instrument { "on" } else { "off" },
                    "position": r.position,
                    "requests": r.report.requests,
                    "seconds": r.report.elapsed.as_secs_f64(),
                    "throughput_rps": r.throughput(),
                    "p50_ms": r.p50_ms(),
                    "p99_ms": r.p99_ms(),
                    "service_cpu_us_per_request": r.cpu_us_per_request(),
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
            "rounds": self.config.rounds,
            "per_round": per_round,
            "median_on_throughput_rps": self.throughput.0,
            "median_off_throughput_rps": self.throughput.1,
            "median_on_p50_ms": self.p50.0,
            "median_off_p50_ms": self.p50.1,
            "median_on_p99_ms": self.p99.0,
            "median_off_p99_ms": self.p99.1,
            "median_on_service_cpu_us_per_request": self.cpu.0,
            "median_off_service_cpu_us_per_request": self.cpu.1,
            "throughput_ratio_on_off": self.throughput.0 / self.throughput.1,
            "p50_ratio_on_off": self.p50.0 / self.p50.1,
            "p99_ratio_on_off": self.p99.0 / self.p99.1,
            "service_cpu_ratio_on_off": self.cpu.0 / self.cpu.1,
            "paired_throughput_ratio_on_off": self.paired_throughput,
            "paired_p99_ratio_on_off": self.paired_p99,
            "paired_service_cpu_ratio_on_off": self.paired_cpu,
            "best_on_throughput_rps": self.best_throughput.0,
            "best_off_throughput_rps": self.best_throughput.1,
            "best_on_p99_ms": self.best_p99.0,
            "best_off_p99_ms": self.best_p99.1,
            "best_throughput_ratio_on_off": self.best_throughput.0 / self.best_throughput.1,
            "best_p99_ratio_on_off": self.best_p99.0 / self.best_p99.1,
            "target_ratio": TARGET_RATIO,
            "throughput_within_target": self.paired_throughput >= 1.0 - TARGET_RATIO,
            "p99_within_target": self.paired_p99 <= 1.0 + TARGET_RATIO,
        })
    }
}
