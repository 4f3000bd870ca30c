//! Step 5a of the audit: the raw result files the benches wrote, folded
//! into the [`Summary`]. Where a file has the summary's shape it is read
//! straight into the summary's types (`summary.rs`: aliases for its names,
//! figures rounded to the precision the documents show, a missing field an
//! error); the structs here are the few raw shapes that differ, and the
//! functions compute every derived figure (differences, ratios, what
//! `instrument` costs). The verdicts are `findings.rs`'s.

use std::path::Path;
use std::process::Command;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::summary::*;
use super::thresholds::THRESHOLDS;
use crate::util::{output, read_json, results_dir};

/// Reads a result file that a run may not have produced: absent is `None`.
fn read_optional<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, String> {
    path.exists().then(|| read_json(path)).transpose()
}

/// Declares the raw result files' shapes that the summary does not share,
/// as the benches write them (only the fields read; a missing one is an
/// error).
macro_rules! raw {
    ($(struct $name:ident { $($(#[$fmeta:meta])* $field:ident: $ty:ty,)* })*) => {$(
        #[derive(Deserialize)]
        struct $name { $($(#[$fmeta])* $field: $ty,)* }
    )*};
}

raw! {
    struct RawCallgrind { method: String, results: Vec<CallgrindRow>, }
    struct RawGate { calls: u64, strict: bool, rows: Vec<RawGateResult>, }
    struct RawGateResult { scenario: String, backend: String, process_blocks: f64, op_blocks: Option<f64>, }
    struct RawQuickstart { ops: Vec<RawQuickstartOp>, cache_score: RawCacheScore, }
    struct RawCacheScore { stmt_hit_ratio: f64, sql_hit_ratio: f64, definition: String, }
    struct RawQuickstartOp {
        op: String, model: String, calls: u64, stmt_cache: RawStmtCache,
        stmt_hit_ratio: Option<f64>, sql_hit_ratio: Option<f64>, blocks_per_call: f64,
    }
    struct RawStmtCache { hits: u64, misses: u64, ambiguous: u64, }
    struct RawBloat { quickstart: RawBloatQuickstart, bench_binary_symbols: RawSymbols, }
    struct RawBloatQuickstart {
        command: String, instrument_on: RawBuild, instrument_off: RawBuild,
        file_size_delta: f64, text_section_size_delta: f64,
    }
    struct RawBuild { file_size: f64, text_section_size: f64, crates: Vec<RawNamedSize>, orm_functions: Vec<FunctionSize>, }
    struct RawNamedSize { name: String, size: f64, }
    struct RawSymbols { command: String, crates: Vec<RawSymbolCrate>, }
    struct RawSymbolCrate { #[serde(rename = "crate")] krate: String, functions: u64, bytes: f64, }
    struct RawBuildTiming { runs: u64, sqlx_prepare: Timing, instrument_feature: Timing, }
}

/// What `program args` prints, trimmed; `unknown` if it fails.
fn command_line(program: &str, args: &[&str]) -> String {
    output(Command::new(program).args(args))
        .map_or_else(|_| "unknown".to_owned(), |o| o.trim().to_owned())
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
fn fairness(rows: &[OrmRow]) -> Fairness {
    let mut fairness = Fairness::default();
    for r in rows {
        if fairness.counts.last().is_none_or(|c| c.run != r.run) {
            let run = r.run.clone();
            fairness.counts.push(FairnessCount {
                run,
                ..Default::default()
            });
        }
        let count = fairness.counts.last_mut().expect("pushed");
        *match (r.verdict.as_str(), r.reported) {
            ("pass", _) => &mut count.pass,
            (_, true) => &mut count.declared,
            _ => &mut count.refused,
        } += 1;
        if let Some(reason) = &r.declared
            && !fairness.reasons.contains(reason)
        {
            fairness.reasons.push(reason.clone());
        }
    }
    fairness
}

/// What `instrument` costs each scenario on each backend: the fork's ratio
/// to raw sqlx with it off (run `<backend>`) and on (run
/// `<backend>_instrument`), their quotient, and blocks per op.
fn instrument_cost(rows: &[OrmRow]) -> InstrumentCost {
    let mut out = Vec::new();
    for off in rows.iter().filter(|r| r.contender == "fork") {
        let on_run = format!("{}_instrument", off.run);
        let on = rows.iter().find(|r| {
            r.run == on_run && r.scenario == off.scenario && r.contender == "fork+instrument"
        });
        if let Some(on) = on {
            out.push(CostRow {
                backend: off.run.clone(),
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

/// The instruction counts and the differences and ratios drawn from them.
fn callgrind(doc: RawCallgrind) -> Result<Callgrind, String> {
    let rows = doc.results;
    let find = |scenario: &str, contender: &str| {
        rows.iter()
            .find(|r| r.scenario == scenario && r.contender == contender)
            .ok_or(format!("callgrind.json: no {scenario} row for {contender}"))
    };
    let gaps = rows
        .iter()
        .filter(|r| r.contender == "fork")
        .filter_map(|fork| {
            let raw = find(&fork.scenario, "raw").ok()?;
            Some(InstructionGap {
                scenario: fork.scenario.clone(),
                polling_thread: fork.polling_thread_instructions_per_op
                    - raw.polling_thread_instructions_per_op,
                all_threads: fork.all_threads_instructions_per_op
                    - raw.all_threads_instructions_per_op,
            })
        });
    let polling =
        |contender| find("select_by_pk", contender).map(|r| r.polling_thread_instructions_per_op);
    let all =
        |contender| find("select_by_pk", contender).map(|r| r.all_threads_instructions_per_op);
    let (raw, fork, on) = (
        polling("raw")?,
        polling("fork")?,
        polling("fork+instrument")?,
    );
    let (checked, premix) = (polling("sqlx_macro")?, polling("premix")?);
    let over = |a: i64, b: i64| round(a as f64 / b as f64, 3);
    Ok(Callgrind {
        method: doc.method,
        fork_minus_raw_by_scenario: gaps.collect(),
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

/// The allocation gate's windows with and without instrument: process-wide
/// heap blocks per call of each scenario, and what instrumentation adds.
fn alloc_gate(on: RawGate, off: &RawGate) -> Result<AllocGate, String> {
    let per_call = |blocks: f64| round(blocks / on.calls as f64, 2);
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
        rows.push(GateRow {
            op_blocks: per_call(op),
            on_blocks: per_call(r.process_blocks),
            off_blocks: per_call(twin.process_blocks),
            added_blocks: per_call(r.process_blocks - twin.process_blocks),
            scenario: r.scenario,
            backend: r.backend,
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

/// The sweep's points from `locality_sweep.csv`.
fn locality_points(csv: &str) -> Result<Vec<LocalityPoint>, String> {
    let point = |line: &str| {
        let (measure, numbers) = line.split_once(',')?;
        let x: Vec<f64> = numbers
            .split(',')
            .map(str::parse)
            .collect::<Result<_, _>>()
            .ok()?;
        let &[parents, vec_ns, hashmap_ns, vec_blocks, hashmap_blocks] = x.as_slice() else {
            return None;
        };
        Some(LocalityPoint {
            measure: measure.to_owned(),
            parents,
            vec_ns: round(vec_ns, 2),
            hashmap_ns: round(hashmap_ns, 2),
            hashmap_over_vec: round(hashmap_ns / vec_ns, 3),
            vec_blocks: round(vec_blocks, 3),
            hashmap_blocks: round(hashmap_blocks, 3),
        })
    };
    let bad = |line: &str| format!("locality_sweep.csv: bad line `{line}`");
    csv.lines()
        .skip(1)
        .map(|line| point(line).ok_or_else(|| bad(line)))
        .collect()
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

/// The build times and what each with costs over without (from the
/// medians as shown).
fn build_timing(doc: RawBuildTiming) -> BuildTiming {
    let compared = |timing: Timing| Compared {
        minus: round(timing.with_median - timing.without_median, 1),
        over: round(timing.with_median / timing.without_median, 3),
        timing,
    };
    BuildTiming {
        runs: doc.runs,
        prepare: compared(doc.sqlx_prepare),
        instrument: compared(doc.instrument_feature),
    }
}

fn kib(bytes: f64) -> f64 {
    round(bytes / 1024.0, 1)
}

fn bloat(doc: RawBloat) -> Bloat {
    let q = doc.quickstart;
    let build = |b: &RawBuild| Build {
        file_kib: kib(b.file_size),
        text_kib: kib(b.text_section_size),
        crates: b
            .crates
            .iter()
            .take(12)
            .map(|c| CrateSize {
                name: c.name.clone(),
                kib: kib(c.size),
            })
            .collect(),
        functions: b.orm_functions.iter().take(8).cloned().collect(),
    };
    // Crates whose size differs between the builds by a KiB or more.
    let size_of = |b: &RawBuild, name: &str| {
        b.crates
            .iter()
            .find(|c| c.name == name)
            .map_or(0.0, |c| c.size)
    };
    let mut deltas: Vec<CrateSize> = Vec::new();
    for c in q
        .instrument_on
        .crates
        .iter()
        .chain(&q.instrument_off.crates)
    {
        let delta = size_of(&q.instrument_on, &c.name) - size_of(&q.instrument_off, &c.name);
        if delta.abs() >= 1024.0 && !deltas.iter().any(|d| d.name == c.name) {
            deltas.push(CrateSize {
                name: c.name.clone(),
                kib: delta,
            });
        }
    }
    deltas.sort_by(|a, b| b.kib.total_cmp(&a.kib));
    deltas.iter_mut().for_each(|d| d.kib = kib(d.kib));
    let symbols = doc.bench_binary_symbols;
    Bloat {
        on: build(&q.instrument_on),
        off: build(&q.instrument_off),
        file_delta_kib: kib(q.file_size_delta),
        text_delta_kib: kib(q.text_section_size_delta),
        crate_deltas: deltas,
        command: q.command,
        symbols_command: symbols.command,
        symbols: symbols
            .crates
            .into_iter()
            .map(|c| CrateSymbols {
                krate: c.krate,
                functions: c.functions,
                kib: kib(c.bytes),
            })
            .collect(),
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
    let orm_compare: OrmCompare = read_json(&dir.join("orm_compare.json"))?;
    let gate_on = read_optional::<RawGate>(&dir.join("runs/alloc_gate_on.json"))?;
    let gate_off = read_optional::<RawGate>(&dir.join("runs/alloc_gate_off.json"))?;
    let service_load = read_optional::<ServiceLoad>(&dir.join("runs/service_load.json"))?;
    let csv = std::fs::read_to_string(dir.join("locality_sweep.csv"))
        .map_err(|e| format!("locality_sweep.csv: {e}"))?;
    let mut alloc: Alloc = read_json(&dir.join("runs/alloc_profile.json"))?;
    for p in &mut alloc.profiles {
        p.orm_lines.truncate(3);
    }
    Ok(Summary {
        header: read_json(&dir.join("audit_run.json"))?,
        fairness: fairness(&orm_compare.rows),
        instrument_cost: instrument_cost(&orm_compare.rows),
        orm_compare,
        callgrind: callgrind(read_json(&dir.join("callgrind.json"))?)?,
        instrument_overhead: read_json(&dir.join("runs/instrument_overhead.json"))?,
        locality: Locality {
            sweep: read_json(&dir.join("runs/locality_sweep.json"))?,
            points: locality_points(&csv)?,
        },
        alloc,
        alloc_gate: match (gate_on, gate_off) {
            (Some(on), Some(off)) => Some(alloc_gate(on, &off)?),
            _ => None,
        },
        service_load,
        cache: cache(read_json(&dir.join("runs/quickstart.json"))?),
        bloat: bloat(read_json(&dir.join("bloat.json"))?),
        expand: read_json(&dir.join("expand.json"))?,
        build_timing: build_timing(read_json(&dir.join("build_timing.json"))?),
        findings: Vec::new(),
        optimizations: Vec::new(),
    })
}
