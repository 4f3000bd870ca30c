//! `cargo xtask bench`: every bench, pinned to one CPU, then one merged set
//! of results in `benches/results/`:
//!
//! - `orm_compare` on SQLite and `orm_compare_pg` on a throwaway PostgreSQL
//!   cluster (or `DATABASE_URL`), each twice (the fork as is, then with
//!   `instrument`), each writing `runs/<run>.json`;
//! - `locality_sweep` and `instrument_overhead`;
//! - `alloc_profile` (dhat) and the quickstart workload's counters
//!   (`runs/quickstart.json`);
//! - callgrind: instructions per `select_by_pk` op for raw sqlx, `query_as!`,
//!   premix-orm and the fork with `instrument` off and on, and per op of the
//!   other single-row scenarios for raw sqlx and the fork (`callgrind.json`);
//! - the merge: `orm_compare.json`, `orm_compare.csv` and
//!   `fairness_checklist.md`.
//!
//! `--quick` skips the criterion half of `instrument_overhead` (its own
//! summary still runs).

use crate::cargo;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde_json::{Value, json};

use crate::postgres;

/// The steps `run_all` reports progress for.
pub(crate) const STEPS: usize = 12;

/// Where the benches write.
pub(crate) fn results_dir() -> PathBuf {
    workspace_root().join("benches/results")
}

pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_owned()
}

/// `taskset -c 1` when it exists: one CPU, so sqlx's SQLite worker and the
/// polling thread never wake each other across CPUs.
fn pinned() -> Command {
    let has_taskset = Command::new("taskset")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if has_taskset {
        let mut c = Command::new("taskset");
        c.args(["-c", "1"]).arg(cargo());
        c
    } else {
        println!("xtask: no taskset; benches run unpinned and their times are noisier");
        Command::new(cargo())
    }
}

/// Prints a step heading with its number, and how long the previous took.
/// With a budget, a step that would start after it has run out is refused.
pub(crate) struct Progress {
    total: usize,
    done: usize,
    started: Instant,
    step: Instant,
    budget: Option<std::time::Duration>,
}

impl Progress {
    pub(crate) fn new(total: usize, budget: Option<std::time::Duration>) -> Self {
        Self {
            total,
            done: 0,
            started: Instant::now(),
            step: Instant::now(),
            budget,
        }
    }

    pub(crate) fn step(&mut self, what: &str) -> Result<(), String> {
        if let Some(budget) = self.budget
            && self.started.elapsed() > budget
        {
            return Err(format!(
                "the time budget ({:.0} min) ran out before step {} of {} ({what}); \
                 the documents were not regenerated",
                budget.as_secs_f64() / 60.0,
                self.done + 1,
                self.total
            ));
        }
        if self.done > 0 {
            println!(
                "xtask: step {} took {:.0} s",
                self.done,
                self.step.elapsed().as_secs_f64()
            );
        }
        self.done += 1;
        self.step = Instant::now();
        println!(
            "\nxtask: [{}/{}] {what} ({:.0} s elapsed)",
            self.done,
            self.total,
            self.started.elapsed().as_secs_f64()
        );
        Ok(())
    }

    pub(crate) fn finish(&self) {
        println!(
            "xtask: step {} took {:.0} s; all done in {:.0} s",
            self.done,
            self.step.elapsed().as_secs_f64(),
            self.started.elapsed().as_secs_f64()
        );
    }
}

pub(crate) fn run(command: &mut Command) -> Result<(), String> {
    let status = command
        .status()
        .map_err(|e| format!("could not run {command:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} failed ({status})"))
    }
}

fn bench(
    name: &str,
    features: &[&str],
    extra: &[&str],
    database_url: Option<&str>,
) -> Result<(), String> {
    let mut command = pinned();
    command.args(["bench", "--locked", "-p", "premix-benches", "--bench", name]);
    if !features.is_empty() {
        command.args(["--features", &features.join(",")]);
    }
    command.arg("--").args(extra);
    if let Some(url) = database_url {
        command.env("DATABASE_URL", url);
    }
    run(&mut command)
}

/// Runs every bench and merges the results; the PostgreSQL bench gets a
/// throwaway cluster unless `DATABASE_URL` names a database.
pub(crate) fn run_all(quick: bool, progress: &mut Progress) -> Result<(), String> {
    let mut cluster = None;
    let database_url = match std::env::var("DATABASE_URL") {
        Ok(url) => url,
        Err(_) => {
            let started = postgres::Cluster::start()?;
            let url = started.url.clone();
            cluster = Some(started);
            url
        }
    };
    progress.step("orm_compare on SQLite (the fork as is)")?;
    bench("orm_compare", &[], &[], None)?;
    progress.step("orm_compare on SQLite (the fork with instrument on)")?;
    bench("orm_compare", &["instrument"], &[], None)?;
    progress.step("orm_compare_pg on PostgreSQL over 127.0.0.1 (the fork as is)")?;
    bench("orm_compare_pg", &[], &[], Some(&database_url))?;
    progress.step("orm_compare_pg on PostgreSQL over 127.0.0.1 (the fork with instrument on)")?;
    bench("orm_compare_pg", &["instrument"], &[], Some(&database_url))?;
    progress.step("allocation gate, with and without instrument (process-wide blocks per call)")?;
    for (features, file) in [
        (&[][..], "alloc_gate_on"),
        (&["--no-default-features"][..], "alloc_gate_off"),
    ] {
        let mut command = Command::new(cargo());
        command
            .args([
                "test",
                "--locked",
                "-p",
                "premix-alloc-gate",
                "--test",
                "gate",
            ])
            .args(features)
            .env("DATABASE_URL", &database_url)
            .env(
                "PREMIX_ALLOC_GATE_JSON",
                results_dir().join(format!("runs/{file}.json")),
            );
        run(&mut command)?;
    }
    progress.step("service on and off under load (cargo xtask bench-service)")?;
    crate::bench_service::run(&[])?;
    drop(cluster);
    progress.step("locality_sweep")?;
    bench("locality_sweep", &[], &[], None)?;
    progress.step("instrument_overhead")?;
    let filter: &[&str] = if quick { &["no-criterion"] } else { &[] };
    bench("instrument_overhead", &[], filter, None)?;
    progress.step("alloc_profile: allocation sites under dhat, beside the fork's counters")?;
    bench("alloc_profile", &["instrument"], &[], None)?;
    progress.step("quickstart workload with --json (cache efficiency per op and model)")?;
    let json_path = results_dir().join("runs/quickstart.json");
    run(Command::new(cargo())
        .args([
            "run",
            "--locked",
            "--release",
            "-p",
            "quickstart",
            "--",
            "--json",
        ])
        .arg(&json_path))?;
    progress.step("callgrind: instructions per single-row op")?;
    crate::callgrind::run()?;
    progress.step("merge results and the fairness checklist")?;
    merge()
}

/// Merges `runs/*.json` of orm_compare into one JSON, one CSV and the
/// checklist.
fn merge() -> Result<(), String> {
    let dir = results_dir();
    let mut rows = Vec::new();
    let mut settings = Vec::new();
    for run in [
        "sqlite",
        "sqlite_instrument",
        "postgres",
        "postgres_instrument",
    ] {
        let run_json = read_json(&dir.join(format!("runs/{run}.json")))?;
        settings.push(json!({"run": run, "setting": run_json["setting"]}));
        for row in run_json["results"].as_array().into_iter().flatten() {
            let mut row = row.clone();
            row["run"] = json!(run);
            rows.push(row);
        }
    }
    let merged = json!({"bench": "orm_compare", "settings": settings, "results": rows});
    write(&dir.join("orm_compare.json"), &pretty(&merged))?;

    let mut csv = String::from(
        "run,scenario,contender,fairness,reported,rows,wall_ns_per_op,cpu_ns_per_op,\
         wall_ratio_to_raw,cpu_ratio_to_raw,blocks_per_op\n",
    );
    let number = |v: &Value| v.as_f64().map(|x| format!("{x:.3}")).unwrap_or_default();
    for r in &rows {
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{}\n",
            text(&r["run"]),
            text(&r["scenario"]),
            text(&r["contender"]),
            text(&r["fairness"]),
            r["reported"],
            r["rows"],
            number(&r["wall_ns_per_op"]),
            number(&r["cpu_ns_per_op"]),
            number(&r["wall_ratio_to_raw"]),
            number(&r["cpu_ratio_to_raw"]),
            number(&r["blocks_per_op"]),
        ));
    }
    write(&dir.join("orm_compare.csv"), &csv)?;
    write(&dir.join("fairness_checklist.md"), &checklist(&rows))?;
    println!(
        "xtask: wrote benches/results/orm_compare.json, orm_compare.csv, fairness_checklist.md"
    );
    Ok(())
}

/// The checklist as a Markdown table: per run, scenario and contender, the
/// computed verdict and, for a declared difference, its reason.
pub(crate) fn checklist(rows: &[Value]) -> String {
    let mut out = String::from(
        "# Fairness checklist\n\n\
         Computed by the orm_compare harness (`benches/benches/common/fairness.rs`): the SQL \
         each contender sent, captured from sqlx's statement events, normalised and compared \
         with raw sqlx's, the rows returned or changed, and the prepared-statement policy (the \
         statements a contender leaves in emptied statement caches against the distinct texts \
         it sent: all prepared, or not, as raw sqlx). A contender whose statements or rows \
         differ is refused unless the difference is declared, with its reason; a different \
         policy is always refused. Every contender of a run shares one pool.\n\n\
         | run | scenario | contender | verdict | rows | prepared / distinct statements | reported |\n\
         |---|---|---|---|---|---|---|\n",
    );
    let mut reasons: Vec<String> = Vec::new();
    for r in rows {
        let verdict = text(&r["fairness"]);
        let mut shown = verdict.clone();
        if let Some(reason) = r["intentional_difference"].as_str() {
            let n = match reasons.iter().position(|x| x == reason) {
                Some(i) => i + 1,
                None => {
                    reasons.push(reason.to_owned());
                    reasons.len()
                }
            };
            shown = format!("{verdict} [{n}]");
        }
        out.push_str(&format!(
            "| {} | {} | {} | {shown} | {} | {} / {} | {} |\n",
            text(&r["run"]),
            text(&r["scenario"]),
            text(&r["contender"]),
            r["rows"],
            r["prepared_statements"],
            r["distinct_statements"],
            if r["reported"].as_bool() == Some(true) {
                "yes"
            } else {
                "refused"
            },
        ));
    }
    out.push_str("\nDeclared differences:\n\n");
    for (i, reason) in reasons.iter().enumerate() {
        out.push_str(&format!("{}. {reason}\n", i + 1));
    }
    out
}

pub(crate) fn text(v: &Value) -> String {
    v.as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| v.to_string())
}

pub(crate) fn read_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: {e} (run `cargo xtask bench` first)", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

pub(crate) fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).expect("a JSON value prints") + "\n"
}

pub(crate) fn write(path: &Path, contents: &str) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    std::fs::write(path, contents).map_err(|e| format!("{}: {e}", path.display()))
}
