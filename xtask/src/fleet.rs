//! `cargo xtask fleet`: three instances of the service (release build) on
//! one PostgreSQL (`DATABASE_URL`, or a throwaway cluster), Debian's
//! Prometheus scraping them with the repo's rules and remote-writing to
//! Debian's VictoriaMetrics (both installed when missing), the load against
//! all three, one instance restarted mid-run, then the checks of
//! `fleet::proof`. Everything listens on 127.0.0.1 and is stopped at the
//! end, on failure too. The fleet test runs the same code, smaller.

use std::time::Duration;

use fleet::{FleetConfig, Tools};

use crate::flags::Flags;
use crate::{dashboards, grafana_sdk, load, prometheus, service};

pub(crate) const USAGE: &str = "usage: cargo xtask fleet [--clients N] [--requests N] [--after-restart N] [--duration SECS] [--seed N]

  --clients N        concurrent clients (default 8)
  --requests N       requests of the first leg, during which one instance restarts (default 20000)
  --after-restart N  requests once it is back (default 5000)
  --duration SECS    time bound of each leg (default 120)
  --seed N           the mix's seed (default 14)";

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let flags = Flags::parse(
        args,
        &[
            "--clients",
            "--requests",
            "--after-restart",
            "--duration",
            "--seed",
        ],
        &[],
        USAGE,
    )?;
    let load = load::load_config(&flags, 20_000, 120)?;
    let after_restart = flags.number("--after-restart", 5_000)?;
    prometheus::ensure_installed()?;
    prometheus::ensure_victoria_metrics()?;
    let grafana_python = grafana_sdk::ensure_installed()?;
    let service_bin = service::build(true)?;
    let (_cluster, database_url) = service::database()?;
    let root = dashboards::root();
    let config = FleetConfig {
        service_bin,
        database_url,
        rules: root.join("dashboards/prometheus/rules.yml"),
        dashboard: root.join("dashboards/grafana/premix-overview.json"),
        grafana_python: Some(grafana_python),
        tools: Tools::find()?,
        instances: 3,
        load,
        requests_after_restart: after_restart,
        scrape_interval: Duration::from_secs(1),
        deadline: Duration::from_secs(600),
    };
    println!("xtask: a fleet of 3 instances, Prometheus and VictoriaMetrics on 127.0.0.1");
    let report = service::runtime()?.block_on(fleet::fleet::run(config))?;
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
