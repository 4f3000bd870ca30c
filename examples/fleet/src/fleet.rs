//! A fleet on one machine: three instances of the service on one
//! PostgreSQL, one Prometheus scraping them with the repo's rules and
//! writing every sample to VictoriaMetrics, the load against all three, and
//! one instance restarted mid-run. Everything listens on 127.0.0.1, is
//! bounded in time, and is stopped when the fleet is dropped (failure
//! and panic included).
//!
//! How the counts can be exact (see [`crate::proof`] for the checks):
//!
//! - Every series a service can produce exists at 0 from its start (the
//!   service declares them), so no series is ever new to the store in the
//!   middle of a window, and the first sample of a restarted instance is 0:
//!   a plain counter reset.
//! - The window opens and closes when nothing is running and the store
//!   holds exactly what each instance's in-process counters say (checked
//!   against `/snapshot`, series by series), so its first and last samples
//!   are the counts before and after the load.
//! - The instance to restart is first taken out of rotation and drained,
//!   and stopped only once the store holds its final counts; it is put back
//!   only once the store has scraped its zeros. Nothing counted is lost with
//!   the old process, and the reset is seen as one.
//! - `increase()` is VictoriaMetrics' (MetricsQL): the last sample before
//!   the window is its base, resets add the value before the reset, and
//!   nothing is extrapolated. Prometheus's own `increase()` extrapolates to
//!   the window's edges, so it is not exact; the report shows it beside.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::load::{self, Balancer, LoadConfig, LoadReport, MixArgs};
use crate::mix::BaseData;
use crate::process::{self, Running, WorkDir};
use crate::proof::{self, Proof};
use crate::query::{QueryApi, unix_now};
use crate::snapshot;
use crate::tools::Tools;

/// The flags of `cargo xtask fleet`; the rest of a [`FleetConfig`] is the
/// tools and files the caller puts in place.
#[derive(clap::Args, Debug)]
pub struct FleetArgs {
    #[command(flatten)]
    mix: MixArgs,
    /// Requests of the first leg, during which one instance restarts
    #[arg(long, value_name = "N", default_value_t = 20_000)]
    requests: u64,
    /// Requests once it is back
    #[arg(long, value_name = "N", default_value_t = 5_000)]
    pub after_restart: u64,
    /// Time bound of each leg, in seconds
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    duration: u64,
}

impl FleetArgs {
    /// The first leg's load.
    pub fn load(&self) -> LoadConfig {
        self.mix.load(self.requests, self.duration)
    }
}

/// How a fleet run is set up.
#[derive(Clone, Debug)]
pub struct FleetConfig {
    /// The service binary (built with `instrument`).
    pub service_bin: PathBuf,
    /// The PostgreSQL the instances share; each run uses a schema of its own.
    pub database_url: String,
    /// `dashboards/prometheus/rules.yml`.
    pub rules: PathBuf,
    /// `dashboards/grafana/premix-overview.json`.
    pub dashboard: PathBuf,
    /// A Python with the Grafana foundation SDK, for the dashboard check
    /// (`None`: that check is reported as skipped).
    pub grafana_python: Option<PathBuf>,
    /// The tools.
    pub tools: Tools,
    /// Instances (at least 2: one is restarted while the others serve).
    pub instances: usize,
    /// The load before and during the restart (it is restarted when half
    /// of these requests are answered).
    pub load: LoadConfig,
    /// Requests after the restarted instance is back, so it serves some.
    pub requests_after_restart: u64,
    /// Scrape and rule-evaluation interval.
    pub scrape_interval: Duration,
    /// The whole run at most.
    pub deadline: Duration,
}

/// What a fleet run measured and checked.
#[derive(Debug)]
pub struct FleetReport {
    /// The load of the whole window (both legs).
    pub load: LoadReport,
    /// The seeding before the window.
    pub seed: LoadReport,
    /// The checks.
    pub proof: Proof,
}

/// One service instance and how to start it again.
#[derive(Debug)]
pub(crate) struct Instance {
    pub(crate) api: String,
    pub(crate) metrics: String,
    /// The `instance` label Prometheus gives it.
    pub(crate) label: String,
    command: Vec<String>,
    log: PathBuf,
    pub(crate) process: Running,
}

/// Everything running; dropped in field order, the work dir last.
pub(crate) struct Fleet {
    pub(crate) instances: Vec<Instance>,
    pub(crate) prometheus: Running,
    pub(crate) victoria: Running,
    pub(crate) client: reqwest::Client,
    pub(crate) store: QueryApi,
    pub(crate) scraper: QueryApi,
    config: FleetConfig,
    // Held to be removed last, after every process has stopped.
    _dir: WorkDir,
}

/// How long the store may take to show what the instances counted.
const CATCH_UP: Duration = Duration::from_secs(60);
/// How long a process may take to start or stop.
const START_STOP: Duration = Duration::from_secs(60);

fn ms(seconds: f64) -> String {
    format!("{}ms", (seconds * 1000.0).round() as u64)
}

impl Fleet {
    async fn start(config: FleetConfig) -> Result<Self, String> {
        let dir = WorkDir::new("premix-fleet")?;
        let client = crate::service::client()?;

        // The store first, so Prometheus can write from its first scrape.
        let vm_addr = process::free_loopback()?;
        let mut victoria = Running::spawn(
            "victoria-metrics",
            std::process::Command::new(&config.tools.victoria_metrics)
                .arg(format!(
                    "-storageDataPath={}",
                    dir.path().join("vm").display()
                ))
                .arg(format!("-httpListenAddr={vm_addr}"))
                .arg("-retentionPeriod=1d")
                .arg("-search.disableCache")
                .arg("-search.latencyOffset=0s")
                .arg("-loggerLevel=ERROR"),
            &dir.path().join("victoria-metrics.log"),
        )?;
        let vm_base = format!("http://{vm_addr}");
        process::wait_ready(
            &client,
            &format!("{vm_base}/health"),
            &mut victoria,
            START_STOP,
        )
        .await?;

        // The instances, one after the other (each creates the tables if
        // missing), in a schema of this run's own.
        let schema = format!("premix_fleet_{}", std::process::id());
        let mut instances = Vec::with_capacity(config.instances);
        for n in 0..config.instances {
            let api = process::free_loopback()?;
            let metrics = process::free_loopback()?;
            let command = vec![
                "--listen".to_owned(),
                api.to_string(),
                "--metrics".to_owned(),
                metrics.to_string(),
                "--database".to_owned(),
                config.database_url.clone(),
                "--schema".to_owned(),
                schema.clone(),
                "--pool".to_owned(),
                "4".to_owned(),
            ];
            let log = dir.path().join(format!("service-{n}.log"));
            let process = start_service(
                &client,
                &config.service_bin,
                &command,
                &log,
                &api.to_string(),
            )
            .await?;
            instances.push(Instance {
                api: format!("http://{api}"),
                metrics: format!("http://{metrics}"),
                label: metrics.to_string(),
                command,
                log,
                process,
            });
        }

        // Prometheus, with the repo's rules, scraping every instance.
        std::fs::copy(&config.rules, dir.path().join("rules.yml"))
            .map_err(|e| format!("{}: {e}", config.rules.display()))?;
        let interval = format!("{}ms", config.scrape_interval.as_millis());
        let targets: Vec<String> = instances.iter().map(|i| i.label.clone()).collect();
        let yml = crate::config::prometheus_yml(
            &targets,
            &interval,
            "rules.yml",
            &format!("{vm_base}/api/v1/write"),
        );
        let config_path = dir.path().join("prometheus.yml");
        std::fs::write(&config_path, yml).map_err(|e| e.to_string())?;
        proof::promtool(&config.tools.promtool, &["check", "config"], &config_path)?;
        let prom_addr = process::free_loopback()?;
        let mut prometheus = Running::spawn(
            "prometheus",
            std::process::Command::new(&config.tools.prometheus)
                .arg(format!("--config.file={}", config_path.display()))
                .arg(format!(
                    "--storage.tsdb.path={}",
                    dir.path().join("prometheus").display()
                ))
                .arg(format!("--web.listen-address={prom_addr}"))
                .arg("--storage.tsdb.retention.time=1d"),
            &dir.path().join("prometheus.log"),
        )?;
        let prom_base = format!("http://{prom_addr}");
        process::wait_ready(
            &client,
            &format!("{prom_base}/-/ready"),
            &mut prometheus,
            START_STOP,
        )
        .await?;

        Ok(Self {
            store: QueryApi::victoria_metrics(vm_base, client.clone()),
            scraper: QueryApi::prometheus(prom_base, client.clone()),
            instances,
            prometheus,
            victoria,
            client,
            config,
            _dir: dir,
        })
    }

    /// Waits until the store holds, for every one of `which`, exactly the
    /// calls its `/snapshot` reports, every series present; returns when.
    pub(crate) async fn caught_up(&mut self, which: &[usize]) -> Result<f64, String> {
        let deadline = Instant::now() + CATCH_UP;
        loop {
            let mut behind = None;
            for &n in which {
                self.instances[n].process.check_alive()?;
                let counted = snapshot::fetch(&self.client, &self.instances[n].metrics)
                    .await?
                    .calls();
                let expr = format!(
                    "premix_op_calls_total{{instance=\"{}\"}}",
                    self.instances[n].label
                );
                let stored: std::collections::BTreeMap<_, _> = self
                    .store
                    .instant(&expr, None)
                    .await?
                    .into_iter()
                    .map(|s| {
                        let key = (
                            s.label("op").to_owned(),
                            s.label("model").to_owned(),
                            s.label("outcome").to_owned(),
                        );
                        (key, s.value)
                    })
                    .collect();
                let same = stored.len() == counted.len()
                    && counted
                        .iter()
                        .all(|(key, count)| stored.get(key).is_some_and(|v| *v == *count as f64));
                if !same {
                    behind = Some(format!(
                        "instance {n}: {} series counted, {} stored",
                        counted.len(),
                        stored.len()
                    ));
                    break;
                }
            }
            match behind {
                None => return Ok(unix_now()),
                Some(why) if Instant::now() > deadline => {
                    return Err(format!(
                        "the store did not catch up within {CATCH_UP:?}: {why}"
                    ));
                }
                Some(_) => tokio::time::sleep(Duration::from_millis(250)).await,
            }
        }
    }

    /// Drains instance `n`, waits until its counts are stored, stops it
    /// (SIGTERM: it finishes in-flight requests), starts it again on the same
    /// ports, waits until the store has its zeros, and puts it back.
    async fn restart(&mut self, n: usize, balancer: &Balancer) -> Result<(u32, u32), String> {
        balancer.drain(n, START_STOP).await?;
        self.caught_up(&[n]).await?;
        let old_pid = self.instances[n].process.pid();
        self.instances[n].process.terminate(START_STOP).await?;
        let instance = &self.instances[n];
        let api = instance.api.trim_start_matches("http://").to_owned();
        let log = instance.log.with_extension("restarted.log");
        let process = start_service(
            &self.client,
            &self.config.service_bin,
            &instance.command,
            &log,
            &api,
        )
        .await?;
        self.instances[n].process = process;
        self.caught_up(&[n]).await?;
        balancer.activate(n);
        Ok((old_pid, self.instances[n].process.pid()))
    }

    /// Stops everything in order, checking that each stopped cleanly.
    async fn stop(mut self) -> Result<(), String> {
        let mut failures = Vec::new();
        for instance in &mut self.instances {
            if let Err(e) = instance.process.terminate(START_STOP).await {
                failures.push(e);
            }
        }
        for process in [&mut self.prometheus, &mut self.victoria] {
            if let Err(e) = process.terminate(START_STOP).await {
                failures.push(e);
            }
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(failures.join("\n"))
        }
    }

    /// Every process's log tail, for a failure message.
    fn logs(&self) -> String {
        let mut out = String::new();
        for instance in &self.instances {
            out.push_str(&instance.process.log_tail());
            out.push('\n');
        }
        out.push_str(&self.prometheus.log_tail());
        out.push('\n');
        out.push_str(&self.victoria.log_tail());
        out
    }
}

async fn start_service(
    client: &reqwest::Client,
    bin: &std::path::Path,
    command: &[String],
    log: &std::path::Path,
    api: &str,
) -> Result<Running, String> {
    let mut process = Running::spawn(
        "service",
        std::process::Command::new(bin)
            .args(command)
            .env_remove("DATABASE_URL"),
        log,
    )?;
    process::wait_ready(
        client,
        &format!("http://{api}/healthz"),
        &mut process,
        START_STOP,
    )
    .await?;
    Ok(process)
}

/// Runs the fleet and its checks; everything is stopped before it returns.
///
/// # Errors
/// Something could not be started, stopped or reached (a failed *check* is
/// not an error: it is in the report's [`Proof`]).
pub async fn run(config: FleetConfig) -> Result<FleetReport, String> {
    let deadline = config.deadline;
    let started = Instant::now();
    let mut fleet = Fleet::start(config.clone()).await?;
    let outcome = tokio::time::timeout(
        deadline.saturating_sub(started.elapsed()),
        drive(&mut fleet, &config),
    )
    .await;
    match outcome {
        Ok(Ok(report)) => {
            fleet.stop().await?;
            Ok(report)
        }
        Ok(Err(e)) => Err(format!("{e}\n{}", fleet.logs())),
        Err(_) => Err(format!(
            "the fleet run took longer than {deadline:?}\n{}",
            fleet.logs()
        )),
    }
}

async fn drive(fleet: &mut Fleet, config: &FleetConfig) -> Result<FleetReport, String> {
    let bases: Vec<String> = fleet.instances.iter().map(|i| i.api.clone()).collect();
    let balancer = Balancer::new(&bases, config.load.clients)?;
    let (base, seed) = load::seed(&balancer, 0).await?;
    let base: Arc<BaseData> = Arc::new(base);
    let all: Vec<usize> = (0..fleet.instances.len()).collect();

    // The window opens on a quiet, fully stored fleet.
    let window_start = fleet.caught_up(&all).await? + 1.0;
    sleep_until(window_start + 1.0).await;

    let restarted = 1;
    let leg = {
        let (balancer, base, load) = (
            Arc::clone(&balancer),
            Arc::clone(&base),
            config.load.clone(),
        );
        tokio::spawn(async move { load::run(&balancer, &base, &load).await })
    };
    let halfway = balancer.completed() + config.load.requests / 2;
    while balancer.completed() < halfway && !leg.is_finished() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pids = fleet.restart(restarted, &balancer).await?;
    let mut report = leg.await.map_err(|e| format!("the load failed: {e}"))?;
    let after = LoadConfig {
        requests: config.requests_after_restart,
        seed: config.load.seed.wrapping_add(1),
        ..config.load.clone()
    };
    let second = load::run(&balancer, &base, &after).await;
    report.append(second);

    // The window closes on a quiet, fully stored fleet.
    let window_end = fleet.caught_up(&all).await? + 1.0;
    sleep_until(window_end + 1.0).await;

    let proof = proof::check(
        fleet,
        config,
        &report,
        window_start,
        window_end,
        restarted,
        pids,
    )
    .await?;
    Ok(FleetReport {
        load: report,
        seed,
        proof,
    })
}

async fn sleep_until(unix_time: f64) {
    let wait = unix_time - unix_now();
    if wait > 0.0 {
        tokio::time::sleep(Duration::from_secs_f64(wait)).await;
    }
}

pub(crate) fn window(start: f64, end: f64) -> String {
    ms(end - start)
}
