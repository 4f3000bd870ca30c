//! The audit's one source of figures: `benches/results/summary.json`, as
//! typed structs. Why typed: a renamed or misspelt key is an error when the
//! file is read, not a dash in a published table. Every field is required
//! (the one default, `export_ns`, is a figure older runs did not measure);
//! `Option` marks only what a run may not have measured (the documents say
//! so in words). The figures are at the precision the documents show; the
//! raw result files are read into this shape, or folded into it, by
//! `collect.rs`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::util::text;

/// `x` rounded to `digits` decimals.
pub(crate) fn round(x: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}

/// A figure read as a whole number (ns per op, bytes), as the documents show it.
pub(super) fn whole<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    f64::deserialize(d).map(|x| x.round() as i64)
}

/// A figure read rounded to `DIGITS` decimals, as the documents show it.
pub(super) fn rounded<'de, D: serde::Deserializer<'de>, const DIGITS: i32>(
    d: D,
) -> Result<f64, D::Error> {
    f64::deserialize(d).map(|x| round(x, DIGITS))
}

/// A field that must be present even though its value may be null (serde
/// would otherwise read a missing `Option` as `None`).
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    Option::deserialize(d)
}

/// [`rounded`] for every figure of a list.
fn all_rounded<'de, D: serde::Deserializer<'de>, const DIGITS: i32>(
    d: D,
) -> Result<Vec<f64>, D::Error> {
    Vec::<f64>::deserialize(d).map(|v| v.into_iter().map(|x| round(x, DIGITS)).collect())
}

/// [`rounded`] for a figure that must be present but may be null.
fn rounded_or_null<'de, D: serde::Deserializer<'de>, const DIGITS: i32>(
    d: D,
) -> Result<Option<f64>, D::Error> {
    Option::<f64>::deserialize(d).map(|x| x.map(|x| round(x, DIGITS)))
}

/// Declares summary structs: serialized and read back, every field
/// required (`Option`s too, through `present`). Where a raw result file has
/// the same shape, it is read straight into them (`alias` for its names).
macro_rules! record {
    ($($(#[$meta:meta])* struct $name:ident { $($(#[$fmeta:meta])* $field:ident: $ty:ty,)* })*) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, Default, Serialize, Deserialize)]
        pub(crate) struct $name { $($(#[$fmeta])* pub(crate) $field: $ty,)* }
    )*};
}

record! {
    /// Everything the documents show.
    struct Summary {
        header: Header,
        orm_compare: OrmCompare,
        fairness: Fairness,
        callgrind: Callgrind,
        instrument_overhead: InstrumentOverhead,
        locality: Locality,
        alloc: Alloc,
        #[serde(deserialize_with = "present")] alloc_gate: Option<AllocGate>,
        #[serde(deserialize_with = "present")] service_load: Option<ServiceLoad>,
        cache: Cache,
        bloat: Bloat,
        expand: Expand,
        build_timing: BuildTiming,
        instrument_cost: InstrumentCost,
        findings: Vec<Finding>,
        optimizations: Vec<Optimization>,
    }
    /// Commit, date, machine, toolchain and command of the measuring run.
    struct Header { command: String, commit: String, date: String, machine: String, toolchain: String, }
    /// The ORM comparison's rows and each run's setting; read from
    /// `orm_compare.json` through the aliases as well as from the summary.
    struct OrmCompare { settings: Vec<Setting>, #[serde(alias = "results")] rows: Vec<OrmRow>, }
    /// How one orm_compare run was set up.
    struct Setting { run: String, setting: String, }
    /// One contender in one scenario of one run, at the documents' precision
    /// (rounding twice is rounding once, so the summary reads back the same).
    struct OrmRow {
        run: String, scenario: String, contender: String,
        #[serde(alias = "fairness")] verdict: String, reported: bool, rows: u64,
        #[serde(alias = "prepared_statements")] prepared: u64,
        #[serde(alias = "distinct_statements")] distinct: u64,
        #[serde(alias = "wall_ns_per_op", deserialize_with = "whole")] wall_ns: i64,
        #[serde(alias = "cpu_ns_per_op", deserialize_with = "whole")] cpu_ns: i64,
        #[serde(alias = "wall_ratio_to_raw", deserialize_with = "rounded::<_, 3>")] wall_ratio: f64,
        #[serde(alias = "cpu_ratio_to_raw", deserialize_with = "rounded::<_, 3>")] cpu_ratio: f64,
        #[serde(alias = "blocks_per_op", deserialize_with = "rounded::<_, 2>")] blocks: f64,
        #[serde(alias = "intentional_difference", deserialize_with = "present")] declared: Option<String>,
    }
    /// Fairness verdict counts per run and the declared differences.
    struct Fairness { counts: Vec<FairnessCount>, reasons: Vec<String>, }
    /// Pass / declared / refused counts of one run.
    struct FairnessCount { run: String, pass: u64, declared: u64, refused: u64, }
    /// Instruction counts and the comparisons drawn from them.
    struct Callgrind {
        method: String, rows: Vec<CallgrindRow>, fork_minus_raw_by_scenario: Vec<InstructionGap>,
        fork_minus_raw: i64, fork_over_raw: f64, sqlx_macro_minus_raw: i64, premix_minus_raw: i64,
        premix_over_raw: f64, instrument_on_minus_off: i64, instrument_on_minus_off_all_threads: i64,
        instrument_on_over_off: f64,
    }
    /// callgrind's count for one scenario and contender (as measured).
    struct CallgrindRow {
        scenario: String, build: String, contender: String, ops: Vec<u64>,
        polling_thread_instructions_per_op: i64, all_threads_instructions_per_op: i64,
        polling_thread_runs: Vec<i64>, all_threads_runs: Vec<i64>,
    }
    /// The fork's instructions per op minus raw sqlx's in one scenario.
    struct InstructionGap { scenario: String, polling_thread: i64, all_threads: i64, }
    /// The instrumentation's own cost per call (`runs/instrument_overhead.json`).
    struct InstrumentOverhead { rounds: u64, calls_per_round: u64, #[serde(alias = "results")] rows: Vec<OverheadRow>, }
    /// One instrument_overhead scenario, per call; `export_ns` only where
    /// measured (runs from before the exporter's cost was split out lack it).
    struct OverheadRow {
        scenario: String,
        #[serde(alias = "plain_ns_per_call", deserialize_with = "rounded::<_, 1>")] plain_ns: f64,
        #[serde(alias = "instrumented_ns_per_call", deserialize_with = "rounded::<_, 1>")] instrumented_ns: f64,
        #[serde(alias = "overhead_ns_per_call", deserialize_with = "rounded::<_, 1>")] overhead_ns: f64,
        #[serde(alias = "op_blocks_per_call", deserialize_with = "rounded::<_, 3>")] op_blocks: f64,
        #[serde(alias = "process_extra_blocks_per_call", deserialize_with = "rounded::<_, 4>")] process_extra_blocks: f64,
        #[serde(alias = "export_ns_per_call", default, deserialize_with = "rounded_or_null::<_, 1>")] export_ns: Option<f64>,
    }
    /// The eager loader's Vec-or-HashMap sweep: its parameters
    /// (`runs/locality_sweep.json`) and points (`locality_sweep.csv`).
    struct Locality { #[serde(flatten)] sweep: Sweep, points: Vec<LocalityPoint>, }
    /// How the sweep ran and where it found HashMap overtaking Vec.
    struct Sweep {
        rounds: u64, children_per_parent: u64,
        #[serde(alias = "default_vec_grouping_max_parents")] default_threshold: u64, crossovers: Vec<Crossover>,
    }
    /// Where HashMap grouping overtakes Vec, if it does in the range swept.
    struct Crossover {
        measure: String,
        #[serde(deserialize_with = "present")] hashmap_faster_from_parents: Option<u64>,
    }
    /// One parent count of the sweep.
    struct LocalityPoint {
        measure: String, parents: f64, vec_ns: f64, hashmap_ns: f64, hashmap_over_vec: f64,
        vec_blocks: f64, hashmap_blocks: f64,
    }
    /// dhat's profiles (`runs/alloc_profile.json`).
    struct Alloc { method: String, profiles: Vec<Profile>, }
    /// One side's profile of one scenario; `charged`/`driver` only where the
    /// fork's own counters were read.
    struct Profile {
        side: String, scenario: String, ops: u64,
        #[serde(deserialize_with = "rounded::<_, 2>")] blocks_per_op: f64,
        #[serde(deserialize_with = "whole")] bytes_per_op: i64,
        #[serde(deserialize_with = "rounded_or_null::<_, 2>")] charged_blocks_per_op: Option<f64>,
        #[serde(deserialize_with = "rounded_or_null::<_, 2>")] driver_blocks_per_op: Option<f64>,
        orm_lines: Vec<AllocLine>,
    }
    /// One allocating line (what to do about it is the audit template's).
    struct AllocLine { site: String, function: String, blocks_per_op: f64, bytes_per_op: i64, }
    /// The allocation gate's windows with and without instrument.
    struct AllocGate {
        calls: u64, strict: bool, rows: Vec<GateRow>, most_added_blocks: f64, added_target: f64,
        added_within_target: bool,
    }
    /// Blocks per call of one gate scenario.
    struct GateRow {
        scenario: String, backend: String, op_blocks: f64, on_blocks: f64, off_blocks: f64,
        added_blocks: f64,
    }
    /// The example service under load, instrument on and off
    /// (`runs/service_load.json`; medians and ratios to three decimals).
    struct ServiceLoad {
        backend: String, clients: u64, rounds: u64, requests_per_round: u64,
        #[serde(deserialize_with = "rounded::<_, 3>")] target_ratio: f64,
        #[serde(deserialize_with = "rounded::<_, 3>")] median_on_throughput_rps: f64,
        #[serde(deserialize_with = "rounded::<_, 3>")] median_off_throughput_rps: f64,
        #[serde(deserialize_with = "rounded::<_, 3>")] median_on_p99_ms: f64,
        #[serde(deserialize_with = "rounded::<_, 3>")] median_off_p99_ms: f64,
        #[serde(deserialize_with = "rounded::<_, 3>")] median_on_service_cpu_us_per_request: f64,
        #[serde(deserialize_with = "rounded::<_, 3>")] median_off_service_cpu_us_per_request: f64,
        #[serde(deserialize_with = "rounded::<_, 3>")] throughput_ratio_on_off: f64,
        #[serde(deserialize_with = "rounded::<_, 3>")] p99_ratio_on_off: f64,
        #[serde(deserialize_with = "rounded::<_, 3>")] service_cpu_ratio_on_off: f64,
        #[serde(deserialize_with = "rounded::<_, 3>")] paired_throughput_ratio_on_off: f64,
        #[serde(deserialize_with = "rounded::<_, 3>")] paired_p99_ratio_on_off: f64,
        #[serde(deserialize_with = "rounded::<_, 3>")] paired_service_cpu_ratio_on_off: f64,
    }
    /// Cache efficiency over the quickstart workload.
    struct Cache { ops: Vec<CacheOp>, stmt_score_pct: f64, sql_score_pct: f64, definition: String, }
    /// One (op, model)'s cache counts; hit percentages only with lookups.
    struct CacheOp {
        op: String, model: String, calls: u64, stmt_hits: u64, stmt_misses: u64,
        stmt_ambiguous: u64, #[serde(deserialize_with = "present")] stmt_hit_pct: Option<f64>,
        #[serde(deserialize_with = "present")] sql_hit_pct: Option<f64>, blocks_per_call: f64,
    }
    /// Binary sizes with and without instrument, and the bench's symbols.
    struct Bloat {
        command: String, on: Build, off: Build, file_delta_kib: f64, text_delta_kib: f64,
        crate_deltas: Vec<CrateSize>, symbols_command: String, symbols: Vec<CrateSymbols>,
    }
    /// One build of the quickstart: its sizes, largest crates and ORM functions.
    struct Build { file_kib: f64, text_kib: f64, crates: Vec<CrateSize>, functions: Vec<FunctionSize>, }
    /// A crate's size in KiB.
    struct CrateSize { name: String, kib: f64, }
    /// One of the ORM's largest functions (as cargo bloat lists it).
    struct FunctionSize { #[serde(rename = "crate")] krate: String, name: String, #[serde(alias = "size")] bytes: u64, }
    /// A crate's monomorphised functions in the bench binary.
    struct CrateSymbols { #[serde(rename = "crate")] krate: String, functions: u64, kib: f64, }
    /// The expansions and their counts (`expand.rs`, as written).
    struct Expand { bench: String, files: Vec<ExpandFile>, operations: Vec<Operation>, }
    /// One saved expansion.
    struct ExpandFile { file: String, what: String, command: String, counts: BTreeMap<String, u64>, }
    /// One operation's counts per side; `None` where an expansion lacks it.
    struct Operation {
        operation: String,
        #[serde(deserialize_with = "present")] fork: Option<BTreeMap<String, u64>>,
        #[serde(deserialize_with = "present")] premix: Option<BTreeMap<String, u64>>,
        #[serde(deserialize_with = "present")] sqlx: Option<BTreeMap<String, u64>>,
    }
    /// Build times (`build_timing.json`): cargo sqlx prepare with its
    /// profile and without, and the fork built with `instrument` and without.
    struct BuildTiming { runs: u64, prepare: Compared, instrument: Compared, }
    /// One timing, with the medians' difference and ratio.
    struct Compared { #[serde(flatten)] timing: Timing, minus: f64, over: f64, }
    /// Seconds of each run with and without, and their medians, to 0.1 s.
    struct Timing {
        command: String,
        #[serde(alias = "sqlx_prepare_profile_seconds", deserialize_with = "all_rounded::<_, 1>")] with_seconds: Vec<f64>,
        #[serde(alias = "dev_profile_seconds", deserialize_with = "all_rounded::<_, 1>")] without_seconds: Vec<f64>,
        #[serde(alias = "sqlx_prepare_profile_median_seconds", alias = "with_median_seconds", deserialize_with = "rounded::<_, 1>")] with_median: f64,
        #[serde(alias = "dev_profile_median_seconds", alias = "without_median_seconds", deserialize_with = "rounded::<_, 1>")] without_median: f64,
    }
    /// What instrument costs each scenario, against its targets.
    struct InstrumentCost {
        time_target: f64, blocks_target: f64, rows: Vec<CostRow>,
        #[serde(deserialize_with = "present")] worst: Option<CostRow>,
        #[serde(deserialize_with = "present")] most_blocks: Option<CostRow>,
    }
    /// The fork with instrument off and on in one scenario.
    struct CostRow {
        backend: String, scenario: String, off_ratio: f64, on_ratio: f64, on_over_off: f64,
        off_blocks: f64, on_blocks: f64, extra_blocks: f64,
    }
    /// A finding: its verdict title and sentences, computed from the run.
    struct Finding { id: String, title: String, text: String, evidence: String, files: Vec<String>, }
    /// An optimization and its computed status.
    struct Optimization {
        id: String, title: String, addresses: String, text: String, status: String,
        files: Vec<String>,
    }
}

/// The orm_compare rows as CSV: these fields of each, as the summary's
/// JSON prints them (1.0, not Rust's 1).
pub(crate) fn csv(summary: &Summary) -> String {
    const COLUMNS: [&str; 13] = [
        "run",
        "scenario",
        "contender",
        "verdict",
        "reported",
        "rows",
        "prepared",
        "distinct",
        "wall_ns",
        "cpu_ns",
        "wall_ratio",
        "cpu_ratio",
        "blocks",
    ];
    let mut out = COLUMNS.join(",") + "\n";
    for r in &summary.orm_compare.rows {
        let r = serde_json::to_value(r).expect("a row serializes");
        let cells: Vec<String> = COLUMNS.iter().map(|c| text(&r[c])).collect();
        out.push_str(&(cells.join(",") + "\n"));
    }
    out
}
