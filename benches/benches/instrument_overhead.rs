//! What `#[instrument]` costs per call, with the Prometheus recorder
//! installed (so metric emission is included).
//!
//! Scenarios, each an instrumented function beside its plain twin:
//! `noop_async`, `one_alloc_async`, `noop_sync`, `one_alloc_sync`. Criterion
//! times each one; afterwards an interleaved run (plain and instrumented
//! alternating, 21 rounds, medians) prints ns per call, the overhead, the
//! ratio, and the allocations per call charged to the op and made
//! process-wide. A call only adds to in-process counters; the export step
//! (`premix_instrument::export::flush`, every second on the exporter's
//! thread) hands them to the Prometheus recorder later. Its cost per
//! exported call is measured too, so that nothing the instrumentation costs
//! is left out of the table.
//!
//! Run: `cargo bench -p premix-benches --bench instrument_overhead`
//! (pin it to one CPU on a noisy machine: `taskset -c 1 cargo bench ...`).

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use criterion::Criterion;
use premix_instrument::{
    PrometheusConfig, PrometheusExporter, Snapshot, install_prometheus, instrument, measure,
};

premix_instrument::install_counting_allocator!();

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

async fn noop_async_plain(x: u64) -> u64 {
    x.wrapping_mul(3)
}

#[instrument(op = "noop_async", model = "bench")]
async fn noop_async_instrumented(x: u64) -> u64 {
    x.wrapping_mul(3)
}

async fn one_alloc_async_plain(x: u64) -> usize {
    black_box(Box::new(x)).as_ref().count_ones() as usize
}

#[instrument(op = "one_alloc_async", model = "bench")]
async fn one_alloc_async_instrumented(x: u64) -> usize {
    black_box(Box::new(x)).as_ref().count_ones() as usize
}

fn noop_sync_plain(x: u64) -> u64 {
    x.wrapping_mul(3)
}

#[instrument(op = "noop_sync", model = "bench")]
fn noop_sync_instrumented(x: u64) -> u64 {
    x.wrapping_mul(3)
}

fn one_alloc_sync_plain(x: u64) -> usize {
    black_box(Box::new(x)).as_ref().count_ones() as usize
}

#[instrument(op = "one_alloc_sync", model = "bench")]
fn one_alloc_sync_instrumented(x: u64) -> usize {
    black_box(Box::new(x)).as_ref().count_ones() as usize
}

/// One scenario: a plain call and its instrumented twin, each one call per
/// invocation.
struct Scenario {
    name: &'static str,
    plain: fn(u64) -> u64,
    instrumented: fn(u64) -> u64,
}

const SCENARIOS: [Scenario; 4] = [
    Scenario {
        name: "noop_async",
        plain: |x| block_on(noop_async_plain(x)),
        instrumented: |x| block_on(noop_async_instrumented(x)),
    },
    Scenario {
        name: "one_alloc_async",
        plain: |x| block_on(one_alloc_async_plain(x)) as u64,
        instrumented: |x| block_on(one_alloc_async_instrumented(x)) as u64,
    },
    Scenario {
        name: "noop_sync",
        plain: noop_sync_plain,
        instrumented: noop_sync_instrumented,
    },
    Scenario {
        name: "one_alloc_sync",
        plain: |x| one_alloc_sync_plain(x) as u64,
        instrumented: |x| one_alloc_sync_instrumented(x) as u64,
    },
];

fn criterion_benches(c: &mut Criterion) {
    for scenario in &SCENARIOS {
        let mut group = c.benchmark_group(scenario.name);
        group.bench_function("plain", |b| {
            let mut i = 0_u64;
            b.iter(|| {
                i += 1;
                (scenario.plain)(black_box(i))
            });
        });
        group.bench_function("instrumented", |b| {
            let mut i = 0_u64;
            b.iter(|| {
                i += 1;
                (scenario.instrumented)(black_box(i))
            });
        });
        group.finish();
    }
}

const CALLS_PER_ROUND: u64 = 200_000;
const ROUNDS: usize = 21;

fn ns_per_call(f: fn(u64) -> u64) -> f64 {
    let start = Instant::now();
    for i in 0..CALLS_PER_ROUND {
        black_box(f(black_box(i)));
    }
    duration_ns(start.elapsed()) / CALLS_PER_ROUND as f64
}

fn duration_ns(d: Duration) -> f64 {
    d.as_secs_f64() * 1e9
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Interleaved rounds, so drift on a shared machine hits both sides alike.
fn summary(exporter: &PrometheusExporter) {
    println!(
        "\ninstrument_overhead summary ({ROUNDS} interleaved rounds x {CALLS_PER_ROUND} calls, medians)"
    );
    println!(
        "{:<16} {:>10} {:>14} {:>12} {:>8} {:>16} {:>20} {:>16}",
        "scenario",
        "plain ns",
        "instrumented",
        "overhead ns",
        "ratio",
        "op blocks/call",
        "process blocks/call",
        "export ns/call"
    );
    let mut rows = Vec::new();
    for scenario in &SCENARIOS {
        let (mut plain, mut instrumented) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            plain.push(ns_per_call(scenario.plain));
            instrumented.push(ns_per_call(scenario.instrumented));
        }
        let (plain, instrumented) = (median(plain), median(instrumented));

        // Export and fold what criterion and the rounds left behind now: a
        // flush costs per call exported, and one landing inside the window
        // would be charged to these calls.
        let _ = exporter.render();
        let before = Snapshot::take();
        let mut export_ns = 0.0;
        let ((), process) = measure(|| {
            for i in 0..CALLS_PER_ROUND {
                black_box((scenario.instrumented)(black_box(i)));
            }
            // Exporting those calls, off their own path but in this window:
            // the flush hands the recorder every sample (the exporter's
            // histogram reads the clock and pushes each one), its upkeep
            // folds them; what they allocate is part of the cost.
            let exporting = Instant::now();
            premix_instrument::export::flush();
            exporter.handle().run_upkeep();
            export_ns = duration_ns(exporting.elapsed()) / CALLS_PER_ROUND as f64;
        });
        let ((), plain_process) = measure(|| {
            for i in 0..CALLS_PER_ROUND {
                black_box((scenario.plain)(black_box(i)));
            }
            premix_instrument::export::flush();
            exporter.handle().run_upkeep();
        });
        let stats = Snapshot::take().since(&before);
        let op = stats.expect(scenario.name, "bench");
        let own_blocks = op.blocks_per_call().unwrap_or_default();
        let extra_process =
            (process.blocks() as f64 - plain_process.blocks() as f64) / CALLS_PER_ROUND as f64;
        rows.push(serde_json::json!({
            "scenario": scenario.name,
            "plain_ns_per_call": plain,
            "instrumented_ns_per_call": instrumented,
            "overhead_ns_per_call": instrumented - plain,
            "op_blocks_per_call": own_blocks,
            "process_extra_blocks_per_call": extra_process,
            "export_ns_per_call": export_ns,
        }));
        println!(
            "{:<16} {:>10.1} {:>14.1} {:>12.1} {:>8.2} {:>16.3} {:>20.4} {:>16.1}",
            scenario.name,
            plain,
            instrumented,
            instrumented - plain,
            instrumented / plain,
            own_blocks,
            extra_process,
            export_ns,
        );
    }
    println!(
        "op blocks/call: what the op was charged (the body's own allocations); \
         process blocks/call: extra blocks per call process-wide versus the plain twin; \
         export ns/call: the flush and upkeep that hand the calls to the Prometheus recorder, \
         per call, on the exporter's thread"
    );
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("results/runs");
    std::fs::create_dir_all(&dir).unwrap();
    let json = serde_json::json!({
        "run": "instrument_overhead",
        "rounds": ROUNDS,
        "calls_per_round": CALLS_PER_ROUND,
        "results": rows,
    });
    let text = serde_json::to_string_pretty(&json).unwrap();
    std::fs::write(dir.join("instrument_overhead.json"), text + "\n").unwrap();
    println!("wrote benches/results/runs/instrument_overhead.json");
}

fn main() {
    // The summary flushes by hand, inside its measured windows; the
    // background flush would land anywhere.
    let exporter = install_prometheus(
        PrometheusConfig::default()
            .without_listener()
            .upkeep_interval(Duration::from_secs(3600)),
    )
    .expect("install the Prometheus recorder");
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    criterion_benches(&mut criterion);
    criterion.final_summary();
    summary(&exporter);
}
