//! Project chores, as `cargo xtask <task>` (the alias lives in
//! `.cargo/config.toml`): plain Rust instead of shell scripts, so they run
//! the same wherever cargo does. `cargo xtask --help` lists the tasks and
//! `cargo xtask <task> --help` their flags (the `Task` enum below); an
//! unknown task or flag is an error.
//!
//! `test` is what the README and CI run: the architecture invariants
//! (`invariants.rs`), then Prometheus and VictoriaMetrics from Debian's
//! packages and the Grafana foundation SDK in a venv if they are missing
//! (`tools.rs`), a throwaway PostgreSQL cluster unless `DATABASE_URL` is
//! set, every test of the workspace, and the allocation gate on its own.
//!
//! The other tasks live in `dashboards.rs`, `prepare.rs`, `bench.rs` (with
//! `callgrind.rs`) and `audit/`. `load`, `fleet` and `bench-service` drive
//! the example service through the `fleet` crate (`examples/fleet`), which
//! also declares their flags beside the configs they build; here they only
//! put the tools and a database in place.
//! What every task shares is in `util.rs`.

mod audit;
mod bench;
mod callgrind;
mod dashboards;
mod invariants;
mod prepare;
mod tools;
mod util;

use std::process::{Command, ExitCode};
use std::time::Duration;

use clap::{Parser, Subcommand};
use fleet::bench::BenchArgs;
use fleet::drive::DriveArgs;
use fleet::fleet::FleetArgs;
use fleet::{FleetConfig, LoadConfig, Tools};

use util::{cargo, run, workspace_root};

/// Project chores: tests, generated files, benches and the audit.
#[derive(Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

/// The tasks; each one's doc is its line in `cargo xtask --help`.
#[derive(Subcommand)]
enum Task {
    /// Check architecture invariants, then run the whole test suite
    Test {
        /// Passed on to `cargo test` as given (e.g. `-- --nocapture`)
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        cargo_test_args: Vec<String>,
    },
    /// Check architecture invariants only
    Invariants,
    /// Regenerate dashboards/, the rules and docs/metrics.md
    Dashboards {
        /// Only verify that the committed files are current
        #[arg(long)]
        check: bool,
    },
    /// Regenerate benches/.sqlx with cargo sqlx prepare
    Prepare {
        /// Also time it and the `instrument` feature's build cost, 3 runs each
        #[arg(long)]
        measure: bool,
    },
    /// Measure everything and regenerate the audit, benchmark results and summary
    Audit(audit::Options),
    /// Run every bench pinned to one CPU; results in benches/results/
    Bench {
        /// Skip the criterion half of instrument_overhead
        #[arg(long)]
        quick: bool,
    },
    /// Drive the example service with a seeded request mix; throughput, p50/p99
    Load(DriveArgs),
    /// Three service instances, Prometheus, VictoriaMetrics, a restart, and the exact-count checks
    Fleet(FleetArgs),
    /// The service's load with instrument on and off, interleaved; benches/results/runs/service_load.json
    BenchService(BenchArgs),
}

/// Runs the task; a failure is printed and makes the exit code 1.
fn main() -> ExitCode {
    let result = match Cli::parse().task {
        // The arguments as given: clap drops a leading `--`, which `cargo
        // test` needs before the test binaries' own arguments.
        Task::Test { .. } => {
            let cargo_test_args: Vec<String> = std::env::args().skip(2).collect();
            invariants::check().and_then(|()| test(&cargo_test_args))
        }
        Task::Invariants => invariants::check(),
        Task::Dashboards { check } => dashboards::run(check),
        Task::Prepare { measure } => prepare::run_prepare(measure),
        Task::Audit(options) => audit::run(options),
        Task::Bench { quick } => {
            let mut progress = util::Progress::new(bench::STEPS, None);
            let result = bench::run_all(quick, &mut progress);
            progress.finish();
            result
        }
        Task::Load(args) => fleet::drive::run(&args.into()),
        Task::Fleet(args) => run_fleet(args.load(), args.after_restart),
        Task::BenchService(args) => fleet::postgres::database()
            .and_then(|(_cluster, database)| bench::service(&args.into(), &database)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the workspace's tests with what they need in place; extra
/// arguments go to `cargo test`. What cannot be had fails the run in CI
/// (`CI` set); elsewhere the tests that need it skip.
fn test(extra: &[String]) -> Result<(), String> {
    let in_ci = std::env::var_os("CI").is_some();
    let need = |what: &str, found: Result<(), String>| match found {
        Err(why) if in_ci => Err(format!("CI needs {what} and it could not be had: {why}")),
        Err(why) => {
            println!("xtask: the tests that need {what} will skip: {why}");
            Ok(())
        }
        Ok(()) => Ok(()),
    };
    need("Prometheus", tools::ensure_prometheus())?;
    need("VictoriaMetrics", tools::ensure_victoria_metrics())?;
    let mut env = Vec::new();
    let python = tools::ensure_grafana_sdk()
        .map(|python| env.push(("PREMIX_GRAFANA_PYTHON", python.into_os_string())));
    need("the Grafana foundation SDK", python)?;
    // Kept alive until the tests end; dropping it stops the cluster.
    let mut cluster = None;
    if std::env::var_os("DATABASE_URL").is_none() {
        let started = fleet::postgres::Cluster::start().map(|started| {
            env.push(("DATABASE_URL", started.url.clone().into()));
            cluster = Some(started);
        });
        need("PostgreSQL", started)?;
    }
    let cargo_test = |args: &str, extra: &[String]| {
        println!("xtask: cargo {args} {}", extra.join(" "));
        let mut command = Command::new(cargo());
        command.args(args.split_whitespace()).args(extra);
        run(command.envs(env.iter().cloned()))
    };
    cargo_test(
        "test --workspace --locked --exclude premix-alloc-gate",
        extra,
    )?;
    // The allocation gate on its own: built with the workspace, sqlx would
    // carry the features other members turn on (chrono, json, uuid), which
    // move the pinned figures. Then once more without instrumentation: what
    // the process allocates must be what the instrumented ops are charged.
    for features in ["", "--no-default-features"] {
        cargo_test(
            &format!("test --locked -p premix-alloc-gate {features}"),
            &[],
        )?;
    }
    drop(cluster);
    Ok(())
}

/// `cargo xtask fleet`: `fleet::fleet::run` (the service's fleet test runs
/// it smaller) with Prometheus, VictoriaMetrics and the Grafana SDK
/// installed when missing, a release build, and `DATABASE_URL` or a
/// throwaway PostgreSQL.
fn run_fleet(load: LoadConfig, requests_after_restart: u64) -> Result<(), String> {
    tools::ensure_prometheus()?;
    tools::ensure_victoria_metrics()?;
    let grafana_python = tools::ensure_grafana_sdk()?;
    let service_bin = fleet::service::build(true)?;
    let (_cluster, database_url) = fleet::postgres::database()?;
    let root = workspace_root();
    let config = FleetConfig {
        service_bin,
        database_url,
        rules: root.join("dashboards/prometheus/rules.yml"),
        dashboard: root.join("dashboards/grafana/premix-overview.json"),
        grafana_python: Some(grafana_python),
        tools: Tools::find()?,
        instances: 3,
        load,
        requests_after_restart,
        scrape_interval: Duration::from_secs(1),
        deadline: Duration::from_secs(600),
    };
    println!("xtask: a fleet of 3 instances, Prometheus and VictoriaMetrics on 127.0.0.1");
    let report = fleet::service::runtime()?.block_on(fleet::fleet::run(config))?;
    println!("seed: {}", report.seed.summary());
    println!("load: {}", report.load.summary());
    println!("{}", report.proof.render());
    if report.proof.passed() {
        println!("xtask: every check passed; everything stopped");
        Ok(())
    } else {
        Err("a fleet check failed (see above)".to_owned())
    }
}
