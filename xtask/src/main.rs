//! Project chores, as `cargo xtask <task>` (the alias lives in
//! `.cargo/config.toml`). Plain Rust instead of shell scripts, so they run the
//! same wherever cargo does.
//!
//! - `test`: what the README and CI run. Checks the architecture invariants
//!   with `cargo tree`, installs Prometheus from Debian's packages if it is
//!   missing (as root), starts a throwaway PostgreSQL cluster unless
//!   `DATABASE_URL` is set, then runs every test in the workspace.
//! - `invariants`: only the invariant checks.
//! - `dashboards`: regenerates the Grafana dashboard, Prometheus rules and
//!   scrape config, and docs/metrics.md (`--check`: fail if stale).
//! - `prepare`: regenerates the `query!` offline data in `benches/.sqlx`
//!   (`--measure`: also times it, and the `instrument` feature's build cost).
//! - `audit`: regenerates docs/audits/ZERO_OVERHEAD_AUDIT.md,
//!   docs/bench/BENCHMARK_RESULTS.md and benches/results/summary.md from
//!   fresh measurements (see `audit/mod.rs`).
//! - `bench`: every bench, pinned to one CPU, with merged results and the
//!   fairness checklist in `benches/results/` (see `bench.rs`).
//! - `load`: the example service under a seeded load (see `load.rs`).
//! - `fleet`: three instances of it under Prometheus and VictoriaMetrics,
//!   one restarted mid-run, and the checks on the counts (see `fleet.rs`).
//! - `bench-service`: the service's throughput and latency with
//!   `instrument` on and off (see `bench_service.rs`).

mod audit;
mod bench;
mod bench_service;
mod callgrind;
mod dashboards;
mod flags;
mod fleet;
mod grafana_sdk;
mod invariants;
mod load;
mod postgres;
mod prepare;
mod prometheus;
mod service;
mod tools;

use std::process::{Command, ExitCode};

const USAGE: &str = "usage: cargo xtask <task>

tasks:
  test         check architecture invariants, then run the whole test suite
  invariants   check architecture invariants only
  dashboards   regenerate dashboards/, the rules and docs/metrics.md (--check: only verify)
  prepare      regenerate benches/.sqlx with cargo sqlx prepare (--measure: time it, 3 runs)
  audit        measure everything and regenerate the audit, benchmark results and summary
               (--budget-minutes N, default 60; --reuse-build-timing; --summarize-only)
  bench        run every bench pinned to one CPU; results in benches/results/ (--quick: skip criterion)
  load         drive the example service with a seeded request mix; throughput, p50/p99 (--help: options)
  fleet        three service instances, Prometheus, VictoriaMetrics, a restart, and the exact-count checks
  bench-service  the service's load with instrument on and off, interleaved; benches/results/runs/service_load.json";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => invariants::check().and_then(|()| test(&args[1..])),
        Some("invariants") => invariants::check(),
        Some("dashboards") => dashboards::run(args.get(1).is_some_and(|a| a == "--check")),
        Some("prepare") => prepare::run_prepare(args.iter().any(|a| a == "--measure")),
        Some("audit") if args.iter().any(|a| a == "--summarize-only") => audit::summarize(),
        Some("audit") => audit_options(&args[1..]).and_then(audit::run),
        Some("bench") => {
            let quick = args.iter().any(|a| a == "--quick");
            let mut progress = bench::Progress::new(bench::STEPS, None);
            let result = bench::run_all(quick, &mut progress);
            progress.finish();
            result
        }
        Some("load") => load::run(&args[1..]),
        Some("fleet") => fleet::run(&args[1..]),
        Some("bench-service") => bench_service::run(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown task `{other}`\n\n{USAGE}")),
        None => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo xtask audit`'s flags; anything else is refused.
fn audit_options(args: &[String]) -> Result<audit::Options, String> {
    let mut options = audit::Options {
        budget_minutes: 60,
        reuse_build_timing: false,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--budget-minutes" => {
                let minutes = args.next().and_then(|n| n.parse().ok());
                options.budget_minutes =
                    minutes.ok_or("--budget-minutes takes a number of minutes")?;
            }
            "--reuse-build-timing" => options.reuse_build_timing = true,
            other => return Err(format!("audit: unknown flag `{other}`\n\n{USAGE}")),
        }
    }
    Ok(options)
}

/// The cargo running this xtask (`CARGO`), or `cargo` from PATH.
pub(crate) fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// Runs the workspace's tests with a PostgreSQL to test against; extra
/// arguments go to `cargo test`.
fn test(extra: &[String]) -> Result<(), String> {
    let in_ci = std::env::var_os("CI").is_some();
    for (what, installed) in [
        ("Prometheus", prometheus::ensure_installed()),
        ("VictoriaMetrics", prometheus::ensure_victoria_metrics()),
    ] {
        if let Err(why) = installed {
            if in_ci {
                return Err(format!(
                    "CI needs {what} and it could not be installed: {why}"
                ));
            }
            println!("xtask: the tests that need {what} will skip: {why}");
        }
    }
    let grafana_python = match grafana_sdk::ensure_installed() {
        Ok(python) => Some(python),
        Err(why) if in_ci => {
            return Err(format!(
                "CI needs the Grafana foundation SDK and it could not be installed: {why}"
            ));
        }
        Err(why) => {
            println!("xtask: the Grafana dashboard-model check will skip: {why}");
            None
        }
    };
    // Kept alive until the tests end; dropping it stops the cluster.
    let mut cluster = None;
    if std::env::var_os("DATABASE_URL").is_none() {
        match postgres::Cluster::start() {
            Ok(started) => cluster = Some(started),
            Err(why) if std::env::var_os("CI").is_some() => {
                return Err(format!(
                    "CI needs PostgreSQL and none could be started: {why}"
                ));
            }
            Err(why) => println!("xtask: PostgreSQL tests will skip: {why}"),
        }
    }
    let database_url = cluster.as_ref().map(|c| c.url.clone());
    let mut env = Vec::new();
    if let Some(url) = database_url {
        env.push(("DATABASE_URL", url.into()));
    }
    if let Some(python) = grafana_python {
        env.push(("PREMIX_GRAFANA_PYTHON", python.into_os_string()));
    }
    cargo_with_env(
        &[
            "test",
            "--workspace",
            "--locked",
            "--exclude",
            "premix-alloc-gate",
        ],
        extra,
        &env,
    )?;
    // The allocation gate on its own: built with the workspace, sqlx would
    // carry the features other members turn on (chrono, json, uuid), which
    // move the pinned figures. Then once more without instrumentation: what
    // the process allocates must be what the instrumented ops are charged.
    for features in [&[][..], &["--no-default-features"][..]] {
        let mut args = vec!["test", "--locked", "-p", "premix-alloc-gate"];
        args.extend_from_slice(features);
        cargo_with_env(&args, &[], &env)?;
    }
    Ok(())
}

/// Runs cargo (the one running this xtask) with `args` and `extra`, and
/// `env` set.
fn cargo_with_env(
    args: &[&str],
    extra: &[String],
    env: &[(&str, std::ffi::OsString)],
) -> Result<(), String> {
    let cargo = cargo();
    println!("xtask: cargo {} {}", args.join(" "), extra.join(" "));
    let mut command = Command::new(&cargo);
    command.args(args).args(extra);
    for (name, value) in env {
        command.env(name, value);
    }
    let status = command
        .status()
        .map_err(|e| format!("could not run {cargo}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo {} failed ({status})", args.join(" ")))
    }
}
