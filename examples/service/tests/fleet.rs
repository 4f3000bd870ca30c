//! The fleet proof, small: three instances of this service on one
//! PostgreSQL, a real Prometheus (Debian's package) scraping them with the
//! repo's rules and writing to a real VictoriaMetrics (Debian's package),
//! the seeded load against all three, one instance restarted mid-run. Then,
//! from what VictoriaMetrics stores:
//!
//! - `increase()` of `premix_op_calls_total` over the window equals, per
//!   instance, op, model and outcome, the ORM calls the load caused (known
//!   from each request and its answer), exactly, across the restart;
//! - the recording rules' fleet-wide cache ratios equal the three
//!   instances' in-process snapshots added up;
//! - every dashboard panel query and recording rule returns series;
//!
//! and Grafana's own dashboard model (the foundation SDK) reads the
//! dashboard JSON without dropping a field.
//!
//! `cargo xtask test` provides PostgreSQL (`DATABASE_URL`), installs
//! Prometheus and VictoriaMetrics, and a Python with the SDK
//! (`PREMIX_GRAFANA_PYTHON`). Under `CI` anything missing fails the test;
//! elsewhere the test says what it lacks and skips. Every process is
//! stopped at the end, on failure too (`fleet::process::Running` guards).

use std::path::{Path, PathBuf};
use std::time::Duration;

use fleet::proof::Verdict;
use fleet::{FleetConfig, LoadConfig, Tools};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// What the test lacks, or a skip outside CI.
fn need<T>(what: Result<T, String>) -> Option<T> {
    match what {
        Ok(found) => Some(found),
        Err(why) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must run the fleet test: {why}"
            );
            eprintln!("skipping the fleet test: {why}");
            None
        }
    }
}

#[test]
fn a_fleet_counts_every_orm_call_exactly_across_a_restart() {
    let Some(database_url) =
        need(std::env::var("DATABASE_URL").map_err(|_| "DATABASE_URL is not set".to_owned()))
    else {
        return;
    };
    let Some(tools) = need(Tools::find()) else {
        return;
    };
    let grafana_python = need(
        std::env::var_os("PREMIX_GRAFANA_PYTHON")
            .map(PathBuf::from)
            .filter(|p| p.is_file())
            .ok_or_else(|| {
                "PREMIX_GRAFANA_PYTHON names no Python with grafana-foundation-sdk".to_owned()
            }),
    );
    let config = FleetConfig {
        service_bin: PathBuf::from(env!("CARGO_BIN_EXE_service")),
        database_url,
        rules: repo().join("dashboards/prometheus/rules.yml"),
        dashboard: repo().join("dashboards/grafana/premix-overview.json"),
        grafana_python,
        tools,
        instances: 3,
        load: LoadConfig {
            clients: 6,
            requests: 3000,
            duration: Duration::from_secs(60),
            seed: 14,
        },
        requests_after_restart: 900,
        scrape_interval: Duration::from_secs(1),
        deadline: Duration::from_secs(110),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    let report = match runtime.block_on(fleet::fleet::run(config)) {
        Ok(report) => report,
        Err(error) => panic!("the fleet did not run: {error}"),
    };
    println!("seed: {}", report.seed.summary());
    println!("load: {}", report.load.summary());
    println!("{}", report.proof.render());
    assert!(
        report.proof.passed(),
        "a check failed:\n{}",
        report.proof.render()
    );
    if std::env::var_os("CI").is_some() {
        assert!(
            report
                .proof
                .checks
                .iter()
                .all(|c| c.verdict == Verdict::Passed),
            "CI runs every check"
        );
    }
}
