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
//! - the allocation gate with and without `instrument`
//!   (`runs/alloc_gate_{on,off}.json`) and the example service's load with
//!   `instrument` on and off (`runs/service_load.json`, see `fleet::bench`);
//! - the merge: `orm_compare.json`, `orm_compare.csv` and
//!   `fairness_checklist.md`.
//!
//! `--quick` skips the criterion half of `instrument_overhead` (its own
//! summary still runs).

use std::process::Command;

use fleet::bench::BenchConfig;
use minijinja::context;
use serde_json::{Value, json};

use crate::util::{Progress, cargo, environment, pretty, read_json, results_dir, run, text, write};

/// The steps `run_all` reports progress for.
pub(crate) const STEPS: usize = 12;

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

/// One criterion bench of `premix-benches`, pinned, with `features`,
/// `extra` arguments for the bench binary and `database_url` when given.
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
    let (cluster, database_url) = fleet::postgres::database()?;
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
        command.args([
            "test",
            "--locked",
            "-p",
            "premix-alloc-gate",
            "--test",
            "gate",
        ]);
        let json = results_dir().join(format!("runs/{file}.json"));
        command.args(features).env("DATABASE_URL", &database_url);
        command.env("PREMIX_ALLOC_GATE_JSON", json);
        run(&mut command)?;
    }
    progress.step("service on and off under load (cargo xtask bench-service)")?;
    service(&BenchConfig::default(), &database_url)?;
    drop(cluster);
    progress.step("locality_sweep")?;
    bench("locality_sweep", &[], &[], None)?;
    progress.step("instrument_overhead")?;
    let filter: &[&str] = if quick { &["no-criterion"] } else { &[] };
    bench("instrument_overhead", &[], filter, None)?;
    progress.step("alloc_profile: allocation sites under dhat, beside the fork's counters")?;
    bench("alloc_profile", &["instrument"], &[], None)?;
    progress.step("quickstart workload with --json (cache efficiency per op and model)")?;
    let mut quickstart = Command::new(cargo());
    quickstart.args([
        "run",
        "--locked",
        "--release",
        "-p",
        "quickstart",
        "--",
        "--json",
    ]);
    run(quickstart.arg(results_dir().join("runs/quickstart.json")))?;
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
        let run_json: Value = read_json(&dir.join(format!("runs/{run}.json")))?;
        settings.push(json!({"run": run, "setting": run_json["setting"]}));
        for row in run_json["results"].as_array().into_iter().flatten() {
            let mut row = row.clone();
            row["run"] = json!(run);
            rows.push(row);
        }
    }
    let merged = json!({"bench": "orm_compare", "settings": settings, "results": rows});
    write(&dir.join("orm_compare.json"), &pretty(&merged))?;

    // The CSV's columns: the row's fields of that name, as text, as JSON,
    // and as numbers to three decimals.
    const TEXT: [&str; 4] = ["run", "scenario", "contender", "fairness"];
    const RAW: [&str; 2] = ["reported", "rows"];
    const NUMBERS: [&str; 5] = [
        "wall_ns_per_op",
        "cpu_ns_per_op",
        "wall_ratio_to_raw",
        "cpu_ratio_to_raw",
        "blocks_per_op",
    ];
    let number = |v: &Value| v.as_f64().map(|x| format!("{x:.3}")).unwrap_or_default();
    let mut csv = [&TEXT[..], &RAW, &NUMBERS].concat().join(",") + "\n";
    for r in &rows {
        let fields: Vec<String> = (TEXT.iter().map(|k| text(&r[k])))
            .chain(RAW.iter().map(|k| r[k].to_string()))
            .chain(NUMBERS.iter().map(|k| number(&r[k])))
            .collect();
        csv.push_str(&(fields.join(",") + "\n"));
    }
    write(&dir.join("orm_compare.csv"), &csv)?;
    write(&dir.join("fairness_checklist.md"), &checklist(&rows))?;
    println!(
        "xtask: wrote benches/results/orm_compare.json, orm_compare.csv, fairness_checklist.md"
    );
    Ok(())
}

/// The checklist (`templates/fairness_checklist.md.j2`): per run, scenario
/// and contender, the computed verdict and, for a declared difference, its
/// reason.
fn checklist(rows: &[Value]) -> String {
    let mut reasons: Vec<&str> = Vec::new();
    for reason in rows
        .iter()
        .filter_map(|r| r["intentional_difference"].as_str())
    {
        if !reasons.contains(&reason) {
            reasons.push(reason);
        }
    }
    let source = include_str!("../templates/fairness_checklist.md.j2");
    environment()
        .render_str(source, context! { rows, reasons })
        .expect("the checklist renders")
}

#[cfg(test)]
#[test]
fn the_committed_checklist_is_what_the_merged_rows_render_to() {
    let merged: Value = read_json(&results_dir().join("orm_compare.json")).expect("committed");
    let committed = std::fs::read_to_string(results_dir().join("fairness_checklist.md"));
    assert_eq!(
        checklist(merged["results"].as_array().expect("rows")),
        committed.expect("committed")
    );
}

/// The example service's load with `instrument` on and off (see
/// `fleet::bench`), on `database`; writes `runs/service_load.json`.
pub(crate) fn service(config: &BenchConfig, database: &str) -> Result<(), String> {
    let summary = fleet::bench::run(config, database)?;
    println!("\n{}", summary.table());
    let path = results_dir().join("runs/service_load.json");
    write(&path, &pretty(&summary.document()))?;
    println!("xtask: wrote {}", path.display());
    Ok(())
}
