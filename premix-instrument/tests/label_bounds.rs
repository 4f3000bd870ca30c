//! The label-cardinality invariant (ARCHITECTURE.md): whatever the input, a
//! call site tracks at most `MODELS_PER_CALL_SITE` models and the pool
//! gauges at most `TRACKED_POOLS` pools; the rest share the `_other` label
//! and keep their counts.

use premix_instrument::{
    CallSite, MODELS_PER_CALL_SITE, OVERFLOW_MODEL, OpHandle, PoolGauges, Snapshot, TRACKED_POOLS,
    instrument,
};

static SITE: CallSite = CallSite::new("label_bounds");

#[instrument(target = op)]
fn call(op: OpHandle) -> u8 {
    1
}

fn leaked(prefix: &str, i: usize) -> &'static str {
    Box::leak(format!("{prefix}{i}").into_boxed_str())
}

#[test]
fn models_past_the_bound_share_the_overflow_label_and_keep_their_calls() {
    let models = MODELS_PER_CALL_SITE + 36;
    for i in 0..models {
        for _ in 0..=i % 3 {
            call(SITE.target(leaked("bounded_model_", i), "sqlite"));
        }
    }
    let snapshot = Snapshot::take();
    let series: Vec<_> = snapshot
        .ops()
        .iter()
        .filter(|s| s.op == "label_bounds")
        .collect();
    assert_eq!(series.len(), MODELS_PER_CALL_SITE + 1, "{series:#?}");
    let calls_for = |range: std::ops::Range<usize>| range.map(|i| (i % 3 + 1) as u64).sum::<u64>();
    assert_eq!(
        snapshot
            .expect_on("label_bounds", OVERFLOW_MODEL, "sqlite")
            .ok,
        calls_for(MODELS_PER_CALL_SITE..models),
    );
    assert_eq!(
        series.iter().map(|s| s.ok).sum::<u64>(),
        calls_for(0..models),
    );
}

#[test]
fn pools_past_the_bound_share_the_overflow_label() {
    for i in 0..TRACKED_POOLS + 10 {
        PoolGauges::register("postgresql", leaked("bounded_pool_", i)).observe(1, 1, 4);
    }
    let pools = Snapshot::take();
    let pools = pools.pools();
    assert_eq!(pools.len(), TRACKED_POOLS + 1, "{pools:#?}");
    assert_eq!(
        pools.iter().filter(|p| p.pool == OVERFLOW_MODEL).count(),
        1,
        "{pools:#?}"
    );
}
