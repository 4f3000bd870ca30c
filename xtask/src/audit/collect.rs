//! Step 5a of the audit: every raw result file the benches wrote, read into
//! typed structs (only the fields used; a missing one is an error) and
//! folded into the [`Summary`]: figures rounded to the precision the
//! documents show, and every derived figure (differences, ratios, what
//! `instrument` costs) computed here. The verdicts are `findings.rs`'s.

use std::path::Path;
use std::process::Command;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::summary::*;
use super::thresholds::THRESHOLDS;
use crate::bench::results_dir;

/// Reads and parses one result file.
fn read<T: DeserializeOwned>(path: &Path) -> Result<T, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: {e} (run `cargo xtask bench` first)", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Reads a result file that a run may not have produced: absent is `None`.
fn read_optional<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, String> {
    if path.exists() {
        read(path).map(Some)
    } else {
        Ok(None)
    }
}

/// Declares the raw result files' shapes, as the benches write them (only
/// the fields read; a missing one is an error).
macro_rules! raw {
    ($(struct $name:ident { $($(#[$fmeta:meta])* $field:ident: $ty:ty,)* })*) => {$(
        #[derive(Deserialize)]
        struct $name { $($(#[$fmeta])* $field: $ty,)* }
    )*};
}

raw! {
    struct RawVerdicts { results: Vec<RawVerdict>, }
    struct RawVerdict { run: String, fairness: String, reported: bool, intentional_difference: Option<String>, }
    struct RawCallgrind { method: String, results: Vec<CallgrindRow>, }
    struct RawOverhead { rounds: u64, calls_per_round: u64, results: Vec<RawOverheadResult>, }
    struct RawOverheadResult {
        scenario: String, plain_ns_per_call: f64,
        instrumented_ns_per_call: f64, overhead_ns_per_call: f64,
        op_blocks_per_call: f64, process_extra_blocks_per_call: f64,
        /// Not measured by runs before the exporter's cost was split out.
        export_ns_per_call: Option<f64>,
    }
    struct RawLocality {
        rounds: u64, children_per_parent: u64,
        default_vec_grouping_max_parents: u64, crossovers: Vec<Crossover>,
    }
    struct RawAllocProfile { method: String, profiles: Vec<RawProfileResult>, }
    struct RawProfileResult {
        side: String, scenario: String, ops: u64,
        blocks_per_op: f64, #[serde(deserialize_with = "whole")] bytes_per_op: i64,
        charged_blocks_per_op: Option<f64>, driver_blocks_per_op: Option<f64>,
        orm_lines: Vec<RawLine>, made_at: Vec<RawLine>,
    }
    struct RawLine { site: String, function: String, blocks_per_op: f64, bytes_per_op: i64, }
    struct RawGate { calls: u64, strict: bool, rows: Vec<RawGateResult>, }
    struct RawGateResult {
        scenario: String, backend: String, process_blocks: f64,
        op_blocks: Option<f64>,
    }
    struct RawQuickstart { ops: Vec<RawQuickstartOp>, cache_score: RawCacheScore, }
    struct RawCacheScore { stmt_hit_ratio: f64, sql_hit_ratio: f64, definition: String, }
    struct RawQuickstartOp {
        op: String, model: String, calls: u64,
        stmt_cache: RawStmtCache, stmt_hit_ratio: Option<f64>,
        sql_hit_ratio: Option<f64>, blocks_per_call: f64,
    }
    struct RawStmtCache { hits: u64, misses: u64, ambiguous: u64, }
    struct RawBloat { quickstart: RawBloatQuickstart, bench_binary_symbols: RawSymbols, }
    struct RawBloatQuickstart {
        command: String, instrument_on: RawBuild, instrument_off: RawBuild,
        file_size_delta: f64, text_section_size_delta: f64,
    }
    struct RawBuild {
        file_size: f64, text_section_size: f64,
        crates: Vec<RawNamedSize>, orm_functions: Vec<RawFunction>,
    }
    struct RawNamedSize { name: String, size: f64, }
    struct RawFunction { #[serde(rename = "crate")] krate: String, name: String, size: u64, }
    struct RawSymbols { command: String, crates: Vec<RawSymbolCrate>, }
    struct RawSymbolCrate { #[serde(rename = "crate")] krate: String, functions: u64, bytes: f64, }
    struct RawBuildTiming { runs: u64, sqlx_prepare: RawPrepare, instrument_feature: RawFeature, }
    struct RawPrepare {
        command: String, sqlx_prepare_profile_seconds: Vec<f64>,
        dev_profile_seconds: Vec<f64>, sqlx_prepare_profile_median_seconds: f64,
        dev_profile_median_seconds: f64,
    }
    struct RawFeature {
        command: String, with_seconds: Vec<f64>, without_seconds: Vec<f64>,
        with_median_seconds: f64, without_median_seconds: f64,
    }
}

fn command_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Commit, date, machine, toolchain and command of a measuring run, taken
/// when it starts (`benches/results/audit_run.json`).
pub(crate) fn header() -> Header {
    let dirty = !command_line("git", &["status", "--porcelain", "--untracked-files=no"]).is_empty();
    let commit = command_line("git", &["rev-parse", "--short=12", "HEAD"]);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU", |(_, m)| m.trim());
    let memory_gib = std::fs::read_to_string("/proc/meminfo").ok().and_then(|t| {
        let kib: f64 = t.lines().next()?.split_whitespace().nth(1)?.parse().ok()?;
        Some(round(kib / 1024.0 / 1024.0, 0))
    });
    Header {
        commit: if dirty {
            format!("{commit} (with uncommitted changes)")
        } else {
            commit
        },
        date: command_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        machine: format!(
            "{} vCPUs ({cpu}), {} GiB RAM, Linux {}",
            std::thread::available_parallelism().map_or(0, usize::from),
            memory_gib.map_or_else(|| "?".to_owned(), |g| g.to_string()),
            command_line("uname", &["-r"])
        ),
        toolchain: command_line("rustc", &["-V"]),
        command: "cargo xtask audit".to_owned(),
    }
}

/// Pass / declared / refused counts per run, and the declared reasons.
fn fairness(merged: &RawVerdicts) -> Fairness {
    let mut counts: Vec<FairnessCount> = Vec::new();
    let mut reasons: Vec<String> = Vec::new();
    for r in &merged.results {
        if counts.last().is_none_or(|c| c.run != r.run) {
            let run = r.run.clone();
            counts.push(FairnessCount {
                run,
                pass: 0,
                declared: 0,
                refused: 0,
            });
        }
        let count = counts.last_mut().expect("pushed");
        match (r.fairness.as_str(), r.reported) {
            ("pass", _) => count.pass += 1,
            (_, true) => count.declared += 1,
            _ => count.refused += 1,
        }
        if let Some(reason) = &r.intentional_difference
            && !reasons.contains(reason)
        {
            reasons.push(reason.clone());
        }
    }
    Fairness { counts, reasons }
}

/// What `instrument` costs each scenario on each backend: the fork's ratio
/// to raw sqlx with it off (run `<backend>`) and on (run
/// `<backend>_instrument`), their quotient, and blocks per op.
fn instrument_cost(rows: &[OrmRow]) -> InstrumentCost {
    let mut out = Vec::new();
    for backend in ["sqlite", "postgres"] {
        let on_run = format!("{backend}_instrument");
        for off in rows
            .iter()
            .filter(|r| r.run == backend && r.contender == "fork")
        {
            let Some(on) = rows.iter().find(|r| {
                r.run == on_run && r.scenario == off.scenario && r.contender == "fork+instrument"
            }) else {
                continue;
            };
            out.push(CostRow {
                backend: backend.to_owned(),
                scenario: off.scenario.clone(),
                off_ratio: off.wall_ratio,
                on_ratio: on.wall_ratio,
                on_over_off: round(on.wall_ratio / off.wall_ratio, 3),
                off_blocks: off.blocks,
                on_blocks: on.blocks,
                extra_blocks: round(on.blocks - off.blocks, 2),
            });
        }
    }
    let largest =
        |key: fn(&CostRow) -> f64| out.iter().max_by(|a, b| key(a).total_cmp(&key(b))).cloned();
    InstrumentCost {
        time_target: THRESHOLDS.instrument_time,
        blocks_target: THRESHOLDS.instrument_blocks,
        worst: largest(|r| r.on_over_off),
        most_blocks: largest(|r| r.extra_blocks),
        rows: out,
    }
}

fn callgrind(doc: RawCallgrind) -> Result<Callgrind, String> {
    let rows = doc.results;
    let count = |scenario: &str, contender: &str, all_threads: bool| {
        rows.iter()
            .find(|r| r.scenario == scenario && r.contender == contender)
            .map(|r| match all_threads {
                true => r.all_threads_instructions_per_op,
                false => r.polling_thread_instructions_per_op,
            })
            .ok_or(format!("callgrind.json: no {scenario} row for {contender}"))
    };
    let mut gaps = Vec::new();
    for scenario in rows
        .iter()
        .filter(|r| r.contender == "fork")
        .map(|r| &r.scenario)
    {
        if rows
            .iter()
            .any(|r| r.scenario == *scenario && r.contender == "raw")
        {
            gaps.push(InstructionGap {
                scenario: scenario.clone(),
                polling_thread: count(scenario, "fork", false)? - count(scenario, "raw", false)?,
                all_threads: count(scenario, "fork", true)? - count(scenario, "raw", true)?,
            });
        }
    }
    let polling = |contender: &str| count("select_by_pk", contender, false);
    let all = |contender: &str| count("select_by_pk", contender, true);
    let (raw, fork, on) = (
        polling("raw")?,
        polling("fork")?,
        polling("fork+instrument")?,
    );
    let (checked, premix) = (polling("sqlx_macro")?, polling("premix")?);
    let over = |a: i64, b: i64| round(a as f64 / b as f64, 3);
    Ok(Callgrind {
        method: doc.method,
        fork_minus_raw_by_scenario: gaps,
        fork_minus_raw: fork - raw,
        fork_over_raw: over(fork, raw),
        sqlx_macro_minus_raw: checked - raw,
        premix_minus_raw: premix - raw,
        premix_over_raw: over(premix, raw),
        instrument_on_minus_off: on - fork,
        instrument_on_minus_off_all_threads: all("fork+instrument")? - all("fork")?,
        instrument_on_over_off: over(on, fork),
        rows,
    })
}

fn instrument_overhead(doc: RawOverhead) -> InstrumentOverhead {
    let rows = doc.results.into_iter().map(|r| OverheadRow {
        scenario: r.scenario,
        plain_ns: round(r.plain_ns_per_call, 1),
        instrumented_ns: round(r.instrumented_ns_per_call, 1),
        overhead_ns: round(r.overhead_ns_per_call, 1),
        op_blocks: round(r.op_blocks_per_call, 3),
        process_extra_blocks: round(r.process_extra_blocks_per_call, 4),
        export_ns: r.export_ns_per_call.map(|x| round(x, 1)),
    });
    InstrumentOverhead {
        rounds: doc.rounds,
        calls_per_round: doc.calls_per_round,
        rows: rows.collect(),
    }
}

/// The allocation gate's windows with and without instrument: process-wide
/// heap blocks per call of each scenario, and what instrumentation adds.
fn alloc_gate(on: RawGate, off: &RawGate) -> Result<AllocGate, String> {
    let per_call = |blocks: f64| blocks / on.calls as f64;
    let mut rows = Vec::new();
    for r in on.rows {
        let twin = off
            .rows
            .iter()
            .find(|o| o.scenario == r.scenario && o.backend == r.backend);
        let twin = twin.ok_or(format!("alloc_gate_off.json: no {} row", r.scenario))?;
        let op = r.op_blocks.ok_or(format!(
            "alloc_gate_on.json: {} has no op_blocks",
            r.scenario
        ))?;
        let (on_blocks, off_blocks) = (per_call(r.process_blocks), per_call(twin.process_blocks));
        rows.push(GateRow {
            scenario: r.scenario,
            backend: r.backend,
            op_blocks: round(per_call(op), 2),
            on_blocks: round(on_blocks, 2),
            off_blocks: round(off_blocks, 2),
            added_blocks: round(on_blocks - off_blocks, 2),
        });
    }
    let most_added = rows.iter().map(|r| r.added_blocks).fold(f64::MIN, f64::max);
    Ok(AllocGate {
        calls: on.calls,
        strict: on.strict,
        rows,
        most_added_blocks: most_added,
        added_target: THRESHOLDS.instrument_blocks,
        added_within_target: most_added <= THRESHOLDS.instrument_blocks,
    })
}

/// The sweep's parameters, and its points from `locality_sweep.csv`.
fn locality(doc: RawLocality, csv: &str) -> Result<Locality, String> {
    let mut points = Vec::new();
    for line in csv.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let bad = || format!("locality_sweep.csv: bad line `{line}`");
        let x = |i: usize| {
            cells
                .get(i)
                .and_then(|v| v.parse::<f64>().ok())
                .ok_or_else(bad)
        };
        points.push(LocalityPoint {
            measure: cells[0].to_owned(),
            parents: x(1)?,
            vec_ns: round(x(2)?, 2),
            hashmap_ns: round(x(3)?, 2),
            hashmap_over_vec: round(x(3)? / x(2)?, 3),
            vec_blocks: round(x(4)?, 3),
            hashmap_blocks: round(x(5)?, 3),
        });
    }
    Ok(Locality {
        rounds: doc.rounds,
        children_per_parent: doc.children_per_parent,
        default_threshold: doc.default_vec_grouping_max_parents,
        crossovers: doc.crossovers,
        points,
    })
}

/// What to do about an allocation site, by where it is.
fn fix_for(side: &str, site: &str, function: &str) -> &'static str {
    match (side, site, function) {
        ("fork", s, _) if s.starts_with("(sqlx's SQLite worker") => {
            "none in the ORM: the connection's worker thread (statement execution, row buffers), \
             which the instrumented fork charges to the operation holding the connection"
        }
        (_, s, _) if s.starts_with("(sqlx's SQLite worker") => {
            "none in the ORM: sqlx's SQLite worker thread (statement execution, row buffers)"
        }
        (_, s, _) if s.starts_with("(no such frame") => {
            "none in the ORM: the runtime's own work (tasks, timers)"
        }
        ("fork", _, f) if f.contains("acquire") => {
            "none: taking a pooled connection, which raw sqlx's `&Pool` path does too (F3, O1)"
        }
        (_, _, f) if f.contains("__decode") => {
            "none: the row's owned Strings, which raw sqlx's FromRow makes too"
        }
        ("fork", _, _) => "none: sqlx's statement execution, which raw sqlx pays too",
        (_, s, _) if s.contains("executor.rs") => {
            "upstream (premix-orm): sqlx's `&Pool` path through its Executor wrapper"
        }
        (_, s, _) if s.contains("query.rs") => {
            "upstream (premix-orm): its builder (`SELECT *`, rows decoded by name)"
        }
        _ => "upstream (premix-orm): its derive output (trait objects, format! per call)",
    }
}

fn alloc(doc: RawAllocProfile) -> Alloc {
    let profiles = doc.profiles.into_iter().map(|p| {
        let top = |lines: Vec<RawLine>| -> Vec<AllocLine> {
            let fix = |l: &RawLine| fix_for(&p.side, &l.site, &l.function).to_owned();
            let line = |l: RawLine| AllocLine {
                fix: fix(&l),
                site: l.site,
                function: l.function,
                blocks_per_op: l.blocks_per_op,
                bytes_per_op: l.bytes_per_op,
            };
            lines.into_iter().take(3).map(line).collect()
        };
        Profile {
            orm_lines: top(p.orm_lines),
            made_at: top(p.made_at),
            blocks_per_op: round(p.blocks_per_op, 2),
            bytes_per_op: p.bytes_per_op,
            charged_blocks_per_op: p.charged_blocks_per_op.map(|x| round(x, 2)),
            driver_blocks_per_op: p.driver_blocks_per_op.map(|x| round(x, 2)),
            side: p.side,
            scenario: p.scenario,
            ops: p.ops,
        }
    });
    Alloc {
        method: doc.method,
        profiles: profiles.collect(),
    }
}

fn cache(doc: RawQuickstart) -> Cache {
    let percent = |x: f64| round(x * 100.0, 1);
    let ops = doc.ops.into_iter().map(|o| CacheOp {
        op: o.op,
        model: o.model,
        calls: o.calls,
        stmt_hits: o.stmt_cache.hits,
        stmt_misses: o.stmt_cache.misses,
        stmt_ambiguous: o.stmt_cache.ambiguous,
        stmt_hit_pct: o.stmt_hit_ratio.map(percent),
        sql_hit_pct: o.sql_hit_ratio.map(percent),
        blocks_per_call: round(o.blocks_per_call, 2),
    });
    Cache {
        ops: ops.collect(),
        stmt_score_pct: percent(doc.cache_score.stmt_hit_ratio),
        sql_score_pct: percent(doc.cache_score.sql_hit_ratio),
        definition: doc.cache_score.definition,
    }
}

fn build_timing(doc: RawBuildTiming) -> BuildTiming {
    let (prepare, feature) = (doc.sqlx_prepare, doc.instrument_feature);
    let seconds = |v: &[f64]| v.iter().map(|x| round(*x, 1)).collect();
    let (profile, dev) = (
        prepare.sqlx_prepare_profile_median_seconds,
        prepare.dev_profile_median_seconds,
    );
    let (with, without) = (feature.with_median_seconds, feature.without_median_seconds);
    BuildTiming {
        runs: doc.runs,
        prepare_profile_seconds: seconds(&prepare.sqlx_prepare_profile_seconds),
        prepare_dev_seconds: seconds(&prepare.dev_profile_seconds),
        prepare_command: prepare.command,
        prepare_profile_median: round(profile, 1),
        prepare_dev_median: round(dev, 1),
        prepare_profile_minus_dev: round(profile - dev, 1),
        prepare_profile_over_dev: round(profile / dev, 3),
        instrument_with_seconds: seconds(&feature.with_seconds),
        instrument_without_seconds: seconds(&feature.without_seconds),
        instrument_command: feature.command,
        instrument_with_median: round(with, 1),
        instrument_without_median: round(without, 1),
        instrument_build_cost: round(with - without, 1),
        instrument_build_over: round(with / without, 3),
    }
}

fn bloat(doc: RawBloat) -> Bloat {
    let q = doc.quickstart;
    let kib = |bytes: f64| round(bytes / 1024.0, 1);
    let crates = |b: &RawBuild| -> Vec<CrateSize> {
        b.crates
            .iter()
            .take(12)
            .map(|c| CrateSize {
                name: c.name.clone(),
                kib: kib(c.size),
            })
            .collect()
    };
    let functions = |b: &RawBuild| -> Vec<FunctionSize> {
        let function = |f: &RawFunction| FunctionSize {
            krate: f.krate.clone(),
            name: f.name.clone(),
            bytes: f.size,
        };
        b.orm_functions.iter().take(8).map(function).collect()
    };
    // Crates whose size differs between the builds by a KiB or more.
    let size_of = |b: &RawBuild, name: &str| {
        b.crates
            .iter()
            .find(|c| c.name == name)
            .map_or(0.0, |c| c.size)
    };
    let mut names: Vec<&str> = Vec::new();
    for c in q
        .instrument_on
        .crates
        .iter()
        .chain(&q.instrument_off.crates)
    {
        if !names.contains(&c.name.as_str()) {
            names.push(&c.name);
        }
    }
    let mut deltas: Vec<(f64, &str)> = names
        .into_iter()
        .map(|name| {
            (
                size_of(&q.instrument_on, name) - size_of(&q.instrument_off, name),
                name,
            )
        })
        .filter(|(delta, _)| delta.abs() >= 1024.0)
        .collect();
    deltas.sort_by(|a, b| b.0.total_cmp(&a.0));
    let symbol = |c: &RawSymbolCrate| CrateSymbols {
        krate: c.krate.clone(),
        functions: c.functions,
        kib: kib(c.bytes),
    };
    Bloat {
        on_file_kib: kib(q.instrument_on.file_size),
        off_file_kib: kib(q.instrument_off.file_size),
        on_text_kib: kib(q.instrument_on.text_section_size),
        off_text_kib: kib(q.instrument_off.text_section_size),
        file_delta_kib: kib(q.file_size_delta),
        text_delta_kib: kib(q.text_section_size_delta),
        on_crates: crates(&q.instrument_on),
        off_crates: crates(&q.instrument_off),
        on_functions: functions(&q.instrument_on),
        off_functions: functions(&q.instrument_off),
        crate_deltas: deltas
            .into_iter()
            .map(|(d, name)| CrateSize {
                name: name.to_owned(),
                kib: kib(d),
            })
            .collect(),
        command: q.command,
        symbols_command: doc.bench_binary_symbols.command.clone(),
        symbols: doc.bench_binary_symbols.crates.iter().map(symbol).collect(),
    }
}

/// Builds the summary from the result files; findings and optimizations
/// are left empty for `findings::judge` to fill.
///
/// # Errors
/// A result file that is missing (other than a run that may be skipped) or
/// does not have the fields this code reads.
pub(crate) fn build() -> Result<Summary, String> {
    let dir = results_dir();
    let orm_compare: OrmCompare = read(&dir.join("orm_compare.json"))?;
    let gate_on = read_optional::<RawGate>(&dir.join("runs/alloc_gate_on.json"))?;
    let gate_off = read_optional::<RawGate>(&dir.join("runs/alloc_gate_off.json"))?;
    let service_load = read_optional::<ServiceLoad>(&dir.join("runs/service_load.json"))?;
    let csv = std::fs::read_to_string(dir.join("locality_sweep.csv"))
        .map_err(|e| format!("locality_sweep.csv: {e}"))?;
    Ok(Summary {
        header: read(&dir.join("audit_run.json"))?,
        fairness: fairness(&read(&dir.join("orm_compare.json"))?),
        instrument_cost: instrument_cost(&orm_compare.rows),
        orm_compare,
        callgrind: callgrind(read(&dir.join("callgrind.json"))?)?,
        instrument_overhead: instrument_overhead(read(&dir.join("runs/instrument_overhead.json"))?),
        locality: locality(read(&dir.join("runs/locality_sweep.json"))?, &csv)?,
        alloc: alloc(read(&dir.join("runs/alloc_profile.json"))?),
        alloc_gate: match (gate_on, gate_off) {
            (Some(on), Some(off)) => Some(alloc_gate(on, &off)?),
            _ => None,
        },
        service_load: service_load.map(rounded_service_load),
        cache: cache(read(&dir.join("runs/quickstart.json"))?),
        bloat: bloat(read(&dir.join("bloat.json"))?),
        expand: read(&dir.join("expand.json"))?,
        build_timing: build_timing(read(&dir.join("build_timing.json"))?),
        findings: Vec::new(),
        optimizations: Vec::new(),
    })
}

/// The service's medians and ratios at the documents' precision.
fn rounded_service_load(mut s: ServiceLoad) -> ServiceLoad {
    for x in [
        &mut s.target_ratio,
        &mut s.median_on_throughput_rps,
        &mut s.median_off_throughput_rps,
        &mut s.median_on_p99_ms,
        &mut s.median_off_p99_ms,
        &mut s.median_on_service_cpu_us_per_request,
        &mut s.median_off_service_cpu_us_per_request,
        &mut s.throughput_ratio_on_off,
        &mut s.p99_ratio_on_off,
        &mut s.service_cpu_ratio_on_off,
        &mut s.paired_throughput_ratio_on_off,
        &mut s.paired_p99_ratio_on_off,
        &mut s.paired_service_cpu_ratio_on_off,
    ] {
        *x = round(*x, 3);
    }
    s
}
