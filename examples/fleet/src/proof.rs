//! The checks a fleet run must pass, each computed from what the servers
//! say (never from timing):
//!
//! 1. `increase(premix_op_calls_total[window])`, queried from
//!    VictoriaMetrics per (instance, op, model, outcome), equals the ORM
//!    calls the load caused there, exactly, the restarted instance
//!    included.
//! 2. The restart happened and the store saw it as a counter reset.
//! 3. The recording rules' fleet-wide cache ratios, as stored, equal the
//!    ratios of the three instances' in-process snapshots added up (whose
//!    sums Prometheus holds exactly).
//! 4. Every query of every dashboard panel, and every recording rule,
//!    returns series from the store.
//! 5. Grafana's dashboard model (the foundation SDK) reads the dashboard
//!    and keeps every field of it.
//! 6. `promtool` accepts the rules.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use serde::Deserialize;

use crate::fleet::{Fleet, FleetConfig, window};
use crate::load::LoadReport;
use crate::mix::Op;
use crate::query::unix_now;
use crate::snapshot::{self, CacheTotals};

/// One check and what it found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// What is checked.
    pub name: &'static str,
    /// Passed, failed, or could not run here.
    pub verdict: Verdict,
    /// The figures behind the verdict.
    pub detail: String,
}

/// A check's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// It holds.
    Passed,
    /// It does not.
    Failed,
    /// A tool it needs is missing.
    Skipped,
}

/// Every check of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Proof {
    /// In order.
    pub checks: Vec<Check>,
}

impl Proof {
    fn add(&mut self, name: &'static str, passed: bool, detail: String) {
        self.checks.push(Check {
            name,
            verdict: if passed {
                Verdict::Passed
            } else {
                Verdict::Failed
            },
            detail,
        });
    }

    /// Whether no check failed (skipped ones aside).
    #[must_use]
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.verdict != Verdict::Failed)
    }

    /// The checks as text, one block each.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::new();
        for check in &self.checks {
            let verdict = match check.verdict {
                Verdict::Passed => "PASS",
                Verdict::Failed => "FAIL",
                Verdict::Skipped => "SKIP",
            };
            let _ = writeln!(
                out,
                "[{verdict}] {}\n{}",
                check.name,
                check.detail.trim_end()
            );
        }
        out
    }
}

/// Runs `promtool <args> <file>`.
///
/// # Errors
/// promtool refused the file, with its output.
pub fn promtool(promtool: &Path, args: &[&str], file: &Path) -> Result<String, String> {
    let output = Command::new(promtool)
        .args(args)
        .arg(file)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", promtool.display()))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if output.status.success() {
        Ok(text)
    } else {
        Err(format!(
            "promtool {args:?} {} failed:\n{text}",
            file.display()
        ))
    }
}

#[derive(Deserialize)]
struct Dashboard {
    panels: Vec<Panel>,
}

#[derive(Deserialize)]
struct Panel {
    title: String,
    targets: Vec<Target>,
}

#[derive(Deserialize)]
struct Target {
    expr: String,
}

type CallKey = (usize, &'static str, &'static str, &'static str);

pub(crate) async fn check(
    fleet: &mut Fleet,
    config: &FleetConfig,
    load: &LoadReport,
    start: f64,
    end: f64,
    restarted: usize,
    (old_pid, new_pid): (u32, u32),
) -> Result<Proof, String> {
    let mut proof = Proof::default();
    let range = window(start, end);

    // 1. Counts.
    let index_of: BTreeMap<String, usize> = fleet
        .instances
        .iter()
        .enumerate()
        .map(|(n, i)| (i.label.clone(), n))
        .collect();
    let expr =
        format!("sum by (instance, op, model, outcome) (increase(premix_op_calls_total[{range}]))");
    let mut observed: BTreeMap<CallKey, f64> = BTreeMap::new();
    let mut strangers = Vec::new();
    for sample in fleet.store.instant(&expr, Some(end)).await? {
        let Some(&n) = index_of.get(sample.label("instance")) else {
            strangers.push(sample.label("instance").to_owned());
            continue;
        };
        let op = Op::ALL
            .iter()
            .find(|o| o.label() == sample.label("op"))
            .map(|o| o.label());
        let key = (
            n,
            op.unwrap_or("?"),
            label_static(sample.label("model")),
            label_static(sample.label("outcome")),
        );
        *observed.entry(key).or_default() += sample.value;
    }
    let expected: BTreeMap<CallKey, f64> = load
        .tally
        .calls
        .iter()
        .map(|((n, call), count)| {
            (
                (
                    *n,
                    call.op.label(),
                    call.table.label(),
                    call.outcome.label(),
                ),
                *count as f64,
            )
        })
        .collect();
    let keys: BTreeSet<CallKey> = observed.keys().chain(expected.keys()).copied().collect();
    let mut mismatches = Vec::new();
    let mut per_op: BTreeMap<(&str, &str, &str), (f64, f64)> = BTreeMap::new();
    for key in &keys {
        let want = expected.get(key).copied().unwrap_or(0.0);
        let got = observed.get(key).copied().unwrap_or(f64::NAN);
        if want != got && !(want == 0.0 && got.is_nan()) {
            mismatches.push(format!(
                "instance {} {} {} {}: load caused {want}, increase() {got}",
                key.0, key.1, key.2, key.3
            ));
        }
        let entry = per_op.entry((key.1, key.2, key.3)).or_default();
        entry.0 += want;
        entry.1 += if got.is_nan() { 0.0 } else { got };
    }
    let expected_total: f64 = expected.values().sum();
    let observed_total: f64 = observed.values().sum();
    let prometheus_total = fleet
        .scraper
        .instant(
            &format!("sum(increase(premix_op_calls_total[{range}]))"),
            Some(end),
        )
        .await?
        .first()
        .map_or(f64::NAN, |s| s.value);
    let mut detail = format!(
        "window {range} ({} requests, {} anomalies); VictoriaMetrics increase() {observed_total} = \
         {expected_total} ORM calls the load caused; per instance and series: {} compared, {} differ \
         (Prometheus's own increase(), extrapolated: {prometheus_total:.1})\n",
        load.requests,
        load.anomaly_count,
        keys.len(),
        mismatches.len(),
    );
    let _ = writeln!(
        detail,
        "  {:<11} {:<9} {:<8} {:>10} {:>12}",
        "op", "model", "outcome", "load", "increase()"
    );
    for ((op, model, outcome), (want, got)) in &per_op {
        if *want > 0.0 || *got > 0.0 {
            let _ = writeln!(
                detail,
                "  {op:<11} {model:<9} {outcome:<8} {want:>10} {got:>12}"
            );
        }
    }
    for line in mismatches.iter().take(20) {
        let _ = writeln!(detail, "  MISMATCH {line}");
    }
    for anomaly in &load.anomalies {
        let _ = writeln!(detail, "  ANOMALY {anomaly}");
    }
    if !strangers.is_empty() {
        let _ = writeln!(detail, "  series of unknown instances: {strangers:?}");
    }
    proof.add(
        "increase() of premix_op_calls_total from VictoriaMetrics equals the ORM calls the load caused, per instance, across the restart",
        mismatches.is_empty() && load.anomaly_count == 0 && strangers.is_empty() && expected_total > 0.0,
        detail,
    );

    // 2. The restart, as the store saw it.
    let label = &fleet.instances[restarted].label;
    let resets = fleet
        .store
        .instant(
            &format!("sum(resets(premix_op_calls_total{{instance=\"{label}\"}}[{range}]))"),
            Some(end),
        )
        .await?
        .first()
        .map_or(0.0, |s| s.value);
    let served_after = fleet.instances[restarted].process.pid() == new_pid
        && snapshot::fetch(&fleet.client, &fleet.instances[restarted].metrics)
            .await?
            .calls()
            .values()
            .sum::<u64>()
            > 0;
    proof.add(
        "one instance was restarted mid-run: the store saw its counters reset, and it served requests after",
        old_pid != new_pid && resets >= 1.0 && served_after,
        format!(
            "instance {restarted} ({label}): pid {old_pid} -> {new_pid}; {resets} series reset in the window; \
             calls counted by the new process: {served_after}\n"
        ),
    );

    // 3. Cache ratios: rules as stored, against the snapshots added up.
    let mut totals = CacheTotals::default();
    for instance in &fleet.instances {
        totals.add(&snapshot::fetch(&fleet.client, &instance.metrics).await?);
    }
    let now = wait_for_rules(fleet, end).await?;
    let value = |samples: Vec<crate::query::Sample>| samples.first().map_or(f64::NAN, |s| s.value);
    let stmt_rule = value(
        fleet
            .store
            .instant("premix:stmt_cache_hit_ratio:total", Some(now))
            .await?,
    );
    let sql_rule = value(
        fleet
            .store
            .instant("premix:sql_cache_hit_ratio:total", Some(now))
            .await?,
    );
    let mut sums = Vec::new();
    for expr in [
        r#"sum(premix_stmt_cache_lookups_total{result="hit"})"#,
        r#"sum(premix_stmt_cache_lookups_total{result=~"hit|miss|ambiguous|disagreement"})"#,
        r#"sum(premix_sql_cache_lookups_total{result="hit"})"#,
        "sum(premix_sql_cache_lookups_total)",
    ] {
        sums.push(value(fleet.scraper.instant(expr, Some(now)).await?));
    }
    let snapshot_sums = [
        totals.stmt_hits,
        totals.stmt_lookups,
        totals.sql_hits,
        totals.sql_lookups,
    ]
    .map(|n| n as f64);
    let close = |a: f64, b: f64| (a - b).abs() <= RATIO_TOLERANCE * b.abs();
    let (stmt_ratio, sql_ratio) = (totals.stmt_ratio(), totals.sql_ratio());
    proof.add(
        "the recording rules' fleet-wide cache ratios equal the three instances' snapshots added up",
        sums == snapshot_sums && close(stmt_rule, stmt_ratio) && close(sql_rule, sql_ratio),
        format!(
            "statements: {} hits / {} lookups in the snapshots = {stmt_ratio:.15}; premix:stmt_cache_hit_ratio:total stored {stmt_rule:.15}\n\
             SQL text:   {} hits / {} lookups in the snapshots = {sql_ratio:.15}; premix:sql_cache_hit_ratio:total stored {sql_rule:.15}\n\
             the sums the rules divide, from Prometheus: {sums:?} (snapshots: {snapshot_sums:?}); ratios compared to within \
             {RATIO_TOLERANCE:e} relative (VictoriaMetrics keeps 12 significant decimal digits of a float)\n",
            totals.stmt_hits, totals.stmt_lookups, totals.sql_hits, totals.sql_lookups,
        ),
    );

    // 4. Every dashboard query and rule, from the store.
    let text = std::fs::read_to_string(&config.dashboard)
        .map_err(|e| format!("{}: {e}", config.dashboard.display()))?;
    let dashboard: Dashboard =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", config.dashboard.display()))?;
    let mut empty = Vec::new();
    let mut detail = String::new();
    for panel in &dashboard.panels {
        for target in &panel.targets {
            let expr = target
                .expr
                .replace("$model", ".*")
                .replace("$op", ".*")
                .replace("$backend", ".*");
            let series = fleet.store.instant(&expr, Some(now)).await?.len();
            let _ = writeln!(detail, "  {series:>4} series  {}", panel.title);
            if series == 0 {
                empty.push(expr);
            }
        }
    }
    let rules = std::fs::read_to_string(&config.rules).map_err(|e| e.to_string())?;
    let rule_names: Vec<&str> = rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- record: "))
        .collect();
    for rule in &rule_names {
        let series = fleet.store.instant(rule, Some(now)).await?.len();
        let _ = writeln!(detail, "  {series:>4} series  rule {rule}");
        if series == 0 {
            empty.push((*rule).to_owned());
        }
    }
    proof.add(
        "every dashboard panel query and every recording rule returns series from VictoriaMetrics",
        empty.is_empty() && !dashboard.panels.is_empty(),
        format!(
            "{detail}{}",
            if empty.is_empty() {
                String::new()
            } else {
                format!("  empty: {empty:?}\n")
            }
        ),
    );

    // 5. Grafana's own model.
    match &config.grafana_python {
        None => proof.checks.push(Check {
            name: "Grafana's dashboard model (foundation SDK) reads the dashboard and keeps every field",
            verdict: Verdict::Skipped,
            detail: "no Python with grafana-foundation-sdk given (cargo xtask test installs one)\n".to_owned(),
        }),
        Some(python) => {
            let read = crate::grafana::check_dashboard(python, &config.dashboard)?;
            proof.add(
                "Grafana's dashboard model (foundation SDK) reads the dashboard and keeps every field",
                read.problems.is_empty() && read.panels > 0,
                format!(
                    "{} ({}): {} panels, {} queries, {} variables read; problems: {:?}\n",
                    crate::grafana::SDK_REQUIREMENT,
                    config.dashboard.display(),
                    read.panels,
                    read.targets,
                    read.variables,
                    read.problems
                ),
            );
        }
    }

    // 6. promtool on the rules and on the committed fleet config (the
    // config this run used was checked before Prometheus started).
    let fleet_yml = config.rules.with_file_name("prometheus-fleet.yml");
    let checked =
        promtool(&config.tools.promtool, &["check", "rules"], &config.rules).and_then(|rules| {
            promtool(&config.tools.promtool, &["check", "config"], &fleet_yml)
                .map(|fleet| format!("{rules}{fleet}"))
        });
    proof.add(
        "promtool accepts the rules and dashboards/prometheus/prometheus-fleet.yml",
        checked.is_ok(),
        match checked {
            Ok(text) | Err(text) => format!("  {}\n", text.trim().replace('\n', "\n  ")),
        },
    );
    Ok(proof)
}

/// How close a stored ratio must be to the exact one. VictoriaMetrics keeps
/// a value as a decimal mantissa and exponent with 12 significant digits
/// (seen here: 0.866766467065868 is stored as 0.866766467066), so the last
/// digits of a ratio change; counts, integers, are stored exactly.
pub const RATIO_TOLERANCE: f64 = 1e-11;

/// Waits until the store has a rule evaluation made after `after` (so on
/// the final counts); returns a time to query at.
async fn wait_for_rules(fleet: &Fleet, after: f64) -> Result<f64, String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let now = unix_now();
        let expr = format!(
            "count_over_time(premix:stmt_cache_hit_ratio:total[{}])",
            window(after, now)
        );
        if fleet
            .store
            .instant(&expr, Some(now))
            .await?
            .iter()
            .any(|s| s.value >= 1.0)
        {
            return Ok(now);
        }
        if std::time::Instant::now() > deadline {
            return Err(
                "no rule evaluation on the final counts reached the store within 60s".to_owned(),
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

/// The label values the tally uses, as `&'static str`.
fn label_static(value: &str) -> &'static str {
    const KNOWN: [&str; 6] = ["users", "posts", "comments", "ok", "error", "cancelled"];
    KNOWN.iter().find(|k| **k == value).copied().unwrap_or("?")
}
