//! The measuring loop shared by the `orm_compare` binaries (one per
//! backend): for each scenario, the fairness check on the statements every
//! contender sends, blocks per op, then interleaved timing rounds with wall
//! and process CPU time; medians, in-run ratios to raw sqlx, and the results
//! file the runner (`cargo xtask bench`) merges.
//!
//! `ORM_COMPARE_SIDE=<contender>` (with `ORM_COMPARE_OPS`, default 100) turns
//! a binary into a callgrind subject: setup, then that many ops of that one
//! contender in each selected scenario, and nothing else.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use cpu_time::ProcessTime;
use premix_instrument::process_stats;

use crate::capture::{self, Statement};
use crate::fairness::{self, Verdict};

const ROUNDS: usize = 15;
const WARMUP: u64 = 100;
const ALLOC_OPS: u64 = 100;

/// The four contenders every scenario has, in column order; raw sqlx is the
/// baseline of every ratio.
pub const CONTENDERS: [&str; 4] = [
    "raw",
    // The fork as compiled into this binary: `cargo bench --features
    // instrument` builds it with its counters on, under its own name.
    if cfg!(feature = "instrument") {
        "fork+instrument"
    } else {
        "fork"
    },
    "premix",
    "seaorm",
];

/// One contender's numbers in one scenario.
pub struct Entry {
    pub contender: &'static str,
    pub verdict: Verdict,
    pub wall_ns: f64,
    pub cpu_ns: f64,
    pub ratio: f64,
    pub cpu_ratio: f64,
    pub blocks: f64,
}

/// One scenario's numbers.
pub struct Outcome {
    pub scenario: &'static str,
    pub entries: Vec<Entry>,
}

/// The most ops the single-side mode runs: its set-up is the same whatever
/// the count (so the difference of two runs cancels it on every thread).
pub const MAX_SIDE_OPS: u64 = 500;

/// The single-side mode for callgrind, when asked for.
pub fn side_mode() -> Option<(String, u64)> {
    let side = std::env::var("ORM_COMPARE_SIDE").ok()?;
    let ops = std::env::var("ORM_COMPARE_OPS")
        .ok()
        .map(|n| n.parse().expect("ORM_COMPARE_OPS is a count"))
        .unwrap_or(100);
    assert!(
        ops <= MAX_SIDE_OPS,
        "ORM_COMPARE_OPS is at most {MAX_SIDE_OPS}, got {ops}"
    );
    Some((side, ops))
}

/// Where the single-side mode's counted ops begin: the callgrind runner
/// passes `--zero-before=*callgrind_start*`, so set-up is not counted.
#[inline(never)]
pub fn callgrind_start() {
    std::hint::black_box(());
}

/// Scenario names on the command line (`cargo bench ... -- update`); none
/// means all.
pub fn selected(name: &str) -> bool {
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    wanted.is_empty() || wanted.iter().any(|w| name.contains(w.as_str()))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The type of "no extra contender" in [`scenario`].
pub type NoExtra = Option<(&'static str, fn(u64) -> std::future::Ready<()>)>;

/// No extra contender, for [`scenario`].
pub fn no_extra() -> NoExtra {
    None
}

/// A comparison binary's `main`: checks the fairness judge, captures the
/// statements every contender sends, installs a Prometheus recorder with
/// the `instrument` feature (the fork's counters on, as in production),
/// runs `scenarios` on a current-thread runtime (they answer the setting
/// they ran in and their outcomes) and, unless this is a one-side run,
/// reports them as `run` (`<run>_instrument` with the feature).
pub fn run_comparison(run: &str, scenarios: impl Future<Output = (String, Vec<Outcome>)>) {
    fairness::self_check();
    capture::install();
    #[cfg(feature = "instrument")]
    let _exporter = premix_instrument::install_prometheus(
        premix_instrument::PrometheusConfig::default().without_listener(),
    )
    .expect("the only recorder in this process");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (setting, outcomes) = runtime.block_on(scenarios);
    if side_mode().is_none() {
        let run = if cfg!(feature = "instrument") {
            format!("{run}_instrument")
        } else {
            run.to_owned()
        };
        report(&run, &setting, &outcomes);
    }
}

/// How the one pool every contender shares is set, read back from it.
pub fn shared_pool<DB: sqlx::Database>(options: &sqlx::pool::PoolOptions<DB>) -> String {
    format!(
        "one pool shared by every contender, read back: max_connections={} \
         min_connections={} test_before_acquire={}",
        options.get_max_connections(),
        options.get_min_connections(),
        options.get_test_before_acquire()
    )
}

/// Runs one scenario: fairness check, allocations, interleaved timing.
/// `extra` is a fifth contender that only some scenarios have (`query_as!`,
/// a single-JOIN reference), judged and reported like the others.
/// `settle` must make the driver log every statement already sent (a round
/// trip on the connection), so a capture ends complete. `statements(clear)`
/// empties (when asked) and counts the statement caches of every pooled
/// connection: with it the harness checks each contender's
/// prepared-statement policy.
#[allow(clippy::too_many_arguments)] // one closure per contender reads best here
pub async fn scenario(
    settle: &impl AsyncFn(),
    statements: &impl AsyncFn(bool) -> usize,
    name: &'static str,
    iterations: u64,
    mut raw: impl AsyncFnMut(u64),
    mut fork: impl AsyncFnMut(u64),
    mut premix: impl AsyncFnMut(u64),
    mut seaorm: impl AsyncFnMut(u64),
    extra: Option<(&'static str, impl AsyncFnMut(u64))>,
) -> Option<Outcome> {
    if !selected(name) {
        return None;
    }
    let (extra_name, mut extra) = match extra {
        Some((n, e)) => (Some(n), Some(e)),
        None => (None, None),
    };
    let names: Vec<&'static str> = CONTENDERS.iter().copied().chain(extra_name).collect();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let next = || NEXT.fetch_add(1, Ordering::Relaxed);
    // One op of contender `side` (index into `names`).
    macro_rules! op {
        ($side:expr) => {
            match $side {
                0 => raw(next()).await,
                1 => fork(next()).await,
                2 => premix(next()).await,
                3 => seaorm(next()).await,
                _ => extra.as_mut().expect("only named contenders run")(next()).await,
            }
        };
    }
    let n = names.len();

    if let Some((only, ops)) = side_mode() {
        let side = names.iter().position(|c| *c == only)?;
        // One op first, so lazy set-up (statement preparation; with
        // `instrument` on, the clock's calibration, which runs for a time,
        // not a count) happens before callgrind starts counting.
        op!(side);
        callgrind_start();
        for _ in 0..ops {
            op!(side);
        }
        return None;
    }

    // Per contender, on emptied statement caches: one op (which prepares what
    // it prepares), the count of cached statements, then one op with its SQL
    // captured.
    let mut captured: Vec<Vec<Statement>> = Vec::new();
    let mut prepared = Vec::new();
    for side in 0..n {
        statements(true).await;
        op!(side);
        prepared.push(statements(false).await);
        let ((), sent) = capture::capture(async {
            op!(side);
            settle().await;
        })
        .await;
        captured.push(sent);
    }

    for _ in 0..WARMUP {
        for side in 0..n {
            op!(side);
        }
    }
    let mut blocks = vec![0.0; n];
    for (side, slot) in blocks.iter_mut().enumerate() {
        let before = process_stats();
        for _ in 0..ALLOC_OPS {
            op!(side);
        }
        *slot = process_stats().since(&before).blocks() as f64 / ALLOC_OPS as f64;
    }

    let mut wall = vec![Vec::new(); n];
    let mut cpu = vec![Vec::new(); n];
    let mut ratios = vec![Vec::new(); n];
    let mut cpu_ratios = vec![Vec::new(); n];
    for round in 0..ROUNDS {
        let mut this_round = vec![(0.0, 0.0); n];
        for turn in 0..n {
            let side = (round + turn) % n;
            let (start, start_cpu) = (Instant::now(), ProcessTime::now());
            for _ in 0..iterations {
                op!(side);
            }
            let per_op = |d: std::time::Duration| d.as_secs_f64() * 1e9 / iterations as f64;
            this_round[side] = (per_op(start.elapsed()), per_op(start_cpu.elapsed()));
        }
        for side in 0..n {
            wall[side].push(this_round[side].0);
            cpu[side].push(this_round[side].1);
            ratios[side].push(this_round[side].0 / this_round[0].0);
            cpu_ratios[side].push(this_round[side].1 / this_round[0].1);
        }
    }
    let entries = (0..n)
        .map(|side| Entry {
            contender: names[side],
            verdict: fairness::judge(
                name,
                names[side],
                (&captured[0], prepared[0]),
                (&captured[side], prepared[side]),
            ),
            wall_ns: median(std::mem::take(&mut wall[side])),
            cpu_ns: median(std::mem::take(&mut cpu[side])),
            ratio: median(std::mem::take(&mut ratios[side])),
            cpu_ratio: median(std::mem::take(&mut cpu_ratios[side])),
            blocks: blocks[side],
        })
        .collect();
    Some(Outcome {
        scenario: name,
        entries,
    })
}

/// Prints the checklist and the table, and writes
/// `benches/results/runs/<run>.json`, which `cargo xtask bench` merges.
pub fn report(run: &str, setting: &str, outcomes: &[Outcome]) {
    println!("\n{run}: {setting}");
    println!("\nfairness checklist (baseline: raw sqlx)");
    for o in outcomes {
        for e in &o.entries {
            let v = &e.verdict;
            println!(
                "  {:<20} {:<16} {:<24} rows {:<5} prepared {}/{} {}",
                o.scenario,
                e.contender,
                v.label(),
                v.rows,
                v.prepared,
                v.distinct,
                v.statements.join(" ; ")
            );
            if let (false, Some(why)) = (v.same_shape && v.same_rows, v.intentional) {
                println!("  {:<20} {:<16} reason: {why}", "", "");
            }
        }
    }
    println!(
        "\n{:<20} {:<16} {:>11} {:>11} {:>9} {:>9} {:>9}",
        "scenario", "contender", "wall ns/op", "cpu ns/op", "wall/raw", "cpu/raw", "blocks/op"
    );
    let mut json = Vec::new();
    for o in outcomes {
        for e in &o.entries {
            let shown = e.verdict.reportable();
            if shown {
                println!(
                    "{:<20} {:<16} {:>11.0} {:>11.0} {:>9.3} {:>9.3} {:>9.2}",
                    o.scenario, e.contender, e.wall_ns, e.cpu_ns, e.ratio, e.cpu_ratio, e.blocks
                );
            } else {
                println!(
                    "{:<20} {:<16} refused: {}",
                    o.scenario,
                    e.contender,
                    e.verdict.label()
                );
            }
            let number = |x: f64| shown.then_some(x);
            json.push(serde_json::json!({
                "scenario": o.scenario,
                "contender": e.contender,
                "fairness": e.verdict.label(),
                "reported": shown,
                "intentional_difference": e.verdict.intentional,
                "statements": e.verdict.statements,
                "rows": e.verdict.rows,
                "prepared_statements": e.verdict.prepared,
                "distinct_statements": e.verdict.distinct,
                "wall_ns_per_op": number(e.wall_ns),
                "cpu_ns_per_op": number(e.cpu_ns),
                "wall_ratio_to_raw": number(e.ratio),
                "cpu_ratio_to_raw": number(e.cpu_ratio),
                "blocks_per_op": number(e.blocks),
            }));
        }
    }
    println!(
        "medians of {ROUNDS} rounds, contenders interleaved; ratios are medians of per-round \
         ratios; cpu = process CPU time (all threads); blocks = allocations + reallocations per \
         op, process-wide"
    );
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("results/runs");
    std::fs::create_dir_all(&dir).unwrap();
    let text = serde_json::to_string_pretty(&serde_json::json!({
        "run": run,
        "setting": setting,
        "rounds": ROUNDS,
        "results": json,
    }))
    .unwrap();
    let path = dir.join(format!("{run}.json"));
    std::fs::write(&path, text + "\n").unwrap();
    println!("wrote {}", path.display());
}
