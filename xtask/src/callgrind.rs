//! Instruction counts per op, steadier than time on a shared machine: the
//! `orm_compare` binary in its single-side mode under
//! `valgrind --tool=callgrind --separate-threads=yes`, at two op counts, so
//! the difference divided by the extra ops is the cost of one op with
//! set-up cancelled out (the mode's set-up does not depend on the count,
//! and the polling thread is counted only from the marker after one
//! warm-up op); three such pairs, their median reported with every run's
//! figure. Per thread: the polling thread (where the ORM, the mapping and
//! the instrumentation run, plus the runtime's parking while it waits) and
//! all threads (adds sqlx's SQLite worker). Runs repeat within about 0.1%,
//! `instrument` on included; before the marker they did not: quanta's clock
//! calibration, on the first instrumented call, loops for a time rather
//! than a count and varied a run by millions of instructions.
//!
//! select_by_pk for every contender (and `instrument` on against off); the
//! other single-row scenarios for raw sqlx and the fork, so a wall-time gap
//! between those two can be told apart from work the fork adds.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;

use crate::util::{cargo, output, pretty, results_dir, write};

/// The two op counts of a pair of runs; per op = difference / (MANY - FEW).
const FEW: u64 = 50;
/// See [`FEW`].
const MANY: u64 = 250;
/// Pairs of runs per contender; the median per-op figure is reported, with
/// every run's beside it.
const REPEATS: usize = 3;

/// The bench executable cargo builds for `orm_compare` with `features`.
pub(crate) fn executable(features: &[&str]) -> Result<PathBuf, String> {
    let mut command = Command::new(cargo());
    command.args(["bench", "--locked", "--no-run", "--message-format=json"]);
    command.args(["-p", "premix-benches", "--bench", "orm_compare"]);
    if !features.is_empty() {
        command.args(["--features", &features.join(",")]);
    }
    output(&mut command)?
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["target"]["name"] == "orm_compare")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| "cargo named no orm_compare executable".to_owned())
}

/// The function in the bench's single-side mode from which counting starts
/// (`harness::callgrind_start`).
const MARKER: &str = "callgrind_start";

/// The single-row scenarios measured for raw sqlx and the fork besides
/// select_by_pk.
const SINGLE_ROW: [&str; 4] = ["builder_pk_lookup", "update", "insert", "delete"];

/// Instructions per thread (in thread order) of `ops` ops of `side` in
/// `scenario`.
fn instructions(exe: &Path, scenario: &str, side: &str, ops: u64) -> Result<Vec<u64>, String> {
    let dir = std::env::temp_dir().join(format!("premix-callgrind-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut valgrind = Command::new("valgrind");
    valgrind
        .args(["--tool=callgrind", "--separate-threads=yes"])
        // The polling thread counts from the bench's marker on: set-up and
        // the first op (with `instrument` on, the clock's calibration, whose
        // instruction count varies by millions) stay out.
        .arg(format!("--zero-before=*{MARKER}*"))
        .arg(format!(
            "--callgrind-out-file={}",
            dir.join("cg.out").display()
        ))
        .arg(exe)
        .arg(scenario)
        .env("ORM_COMPARE_SIDE", side)
        .env("ORM_COMPARE_OPS", ops.to_string());
    output(&mut valgrind).map_err(|e| format!("callgrind of {side} in {scenario}: {e}"))?;
    // One file per thread, `cg.out-<thread>` (plus an empty `cg.out`).
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains("cg.out-"))
        .collect();
    files.sort();
    let mut per_thread = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).map_err(|e| e.to_string())?;
        let total = text
            .lines()
            .find_map(|l| {
                l.strip_prefix("totals:")
                    .or_else(|| l.strip_prefix("summary:"))
            })
            .and_then(|n| n.split_whitespace().next()?.parse().ok())
            .ok_or_else(|| format!("{}: no totals line", file.display()))?;
        // Without the marker the polling thread would count set-up too.
        if per_thread.is_empty() && !text.contains(MARKER) {
            return Err(format!(
                "{}: the polling thread never reached `{MARKER}` (renamed or inlined?)",
                file.display()
            ));
        }
        per_thread.push(total);
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(per_thread)
}

/// Runs the matrix and writes `benches/results/callgrind.json`.
pub(crate) fn run() -> Result<(), String> {
    let plain = executable(&[])?;
    let instrumented = executable(&["instrument"])?;
    // (build, executable, scenario, contender)
    let mut matrix: Vec<(&str, &Path, &str, &str)> = ["raw", "sqlx_macro", "fork", "premix"]
        .map(|side| ("plain", plain.as_path(), "select_by_pk", side))
        .into();
    matrix.push((
        "instrument",
        &instrumented,
        "select_by_pk",
        "fork+instrument",
    ));
    for scenario in SINGLE_ROW {
        matrix.push(("plain", &plain, scenario, "raw"));
        matrix.push(("plain", &plain, scenario, "fork"));
    }
    let mut rows = Vec::new();
    println!(
        "{:<18} {:<18} {:>22} {:>22}",
        "scenario", "contender", "polling thread / op", "all threads / op"
    );
    for (build, exe, scenario, side) in matrix {
        let per_op = |a: u64, b: u64| ((b as f64 - a as f64) / (MANY - FEW) as f64).round() as i64;
        let (mut main, mut all) = (Vec::new(), Vec::new());
        for _ in 0..REPEATS {
            let few = instructions(exe, scenario, side, FEW)?;
            let many = instructions(exe, scenario, side, MANY)?;
            main.push(per_op(few[0], many[0]));
            all.push(per_op(few.iter().sum(), many.iter().sum()));
        }
        main.sort_unstable();
        all.sort_unstable();
        let (m, a) = (main[REPEATS / 2], all[REPEATS / 2]);
        println!("{scenario:<18} {side:<18} {m:>22} {a:>22}   (runs: {main:?} / {all:?})");
        rows.push(json!({
            "scenario": scenario,
            "build": build,
            "contender": side,
            "ops": [FEW, MANY],
            "polling_thread_instructions_per_op": m,
            "all_threads_instructions_per_op": a,
            "polling_thread_runs": main,
            "all_threads_runs": all,
        }));
    }
    let doc = json!({
        "bench": "callgrind",
        "method": format!(
            "valgrind --tool=callgrind --separate-threads=yes --zero-before=*{MARKER}* \
             on the orm_compare bench binary given one scenario, with \
             ORM_COMPARE_SIDE=<contender>, one warm-up op, then {FEW} and {MANY} ops; per op = \
             difference / {}; the median of {REPEATS} such pairs",
            MANY - FEW
        ),
        "results": rows,
    });
    write(&results_dir().join("callgrind.json"), &pretty(&doc))?;
    println!("xtask: wrote benches/results/callgrind.json");
    Ok(())
}
