//! A plain-text table of a [`Snapshot`], for terminals and logs.

use std::fmt::Write as _;
use std::time::Duration;

use crate::{ErrorKind, Snapshot};

/// Renders one row per (op, model, backend): calls, errors, p50/p99 latency
/// (waiting for a connection included), allocation blocks and bytes per
/// call, statement-cache and SQL-cache hit ratios; then the errors by kind
/// and the pools, if any; then, if there were eager loads, one row per
/// (model, relation, strategy, parent-count bucket) with loads and cost per
/// parent; then the overall cache score.
#[must_use]
pub fn render(snapshot: &Snapshot) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<12} {:<12} {:<10} {:>7} {:>6} {:>9} {:>9} {:>11} {:>10} {:>8} {:>8}",
        "op",
        "model",
        "backend",
        "calls",
        "errors",
        "p50",
        "p99",
        "allocs/call",
        "bytes/call",
        "stmt hit",
        "sql hit"
    );
    for s in snapshot.ops() {
        let _ = writeln!(
            out,
            "{:<12} {:<12} {:<10} {:>7} {:>6} {:>9} {:>9} {:>11} {:>10} {:>8} {:>8}",
            s.op,
            s.model,
            s.backend,
            s.calls(),
            s.errors,
            human(s.p50()),
            human(s.p99()),
            s.blocks_per_call()
                .map_or_else(|| "-".into(), |b| format!("{b:.2}")),
            s.bytes_per_call()
                .map_or_else(|| "-".into(), |b| format!("{b:.0}")),
            percent(s.stmt_cache.hit_ratio()),
            percent(s.sql_cache.hit_ratio()),
        );
    }
    let failing: Vec<_> = snapshot.ops().iter().filter(|s| s.errors > 0).collect();
    if !failing.is_empty() {
        out.push_str("\nerrors by kind:\n");
        for s in failing {
            let kinds: Vec<String> = ErrorKind::ALL
                .iter()
                .filter(|k| s.errors_of(**k) > 0)
                .map(|k| format!("{} {}", k.as_label(), s.errors_of(*k)))
                .collect();
            let _ = writeln!(
                out,
                "  {} {} ({}): {}",
                s.op,
                s.model,
                s.backend,
                kinds.join(", ")
            );
        }
    }
    if !snapshot.pools().is_empty() {
        out.push_str("\npools (as the last operation that asked for a connection found them):\n");
        for p in snapshot.pools() {
            let _ = writeln!(
                out,
                "  {} pool {}: {} open, {} idle, at most {}",
                p.backend, p.pool, p.size, p.idle, p.max
            );
        }
    }
    if !snapshot.eager().is_empty() {
        let _ = writeln!(
            out,
            "\n{:<14} {:<14} {:<8} {:>13} {:>7} {:>13} {:>14}",
            "eager model",
            "relation",
            "strategy",
            "parents",
            "loads",
            "time/parent",
            "allocs/parent"
        );
        for e in snapshot.eager() {
            for b in e.buckets.iter().filter(|b| b.loads > 0) {
                let range = if b.parents_max == u64::MAX {
                    format!("{}+", b.parents_min)
                } else if b.parents_min == b.parents_max {
                    b.parents_min.to_string()
                } else {
                    format!("{}-{}", b.parents_min, b.parents_max)
                };
                let _ = writeln!(
                    out,
                    "{:<14} {:<14} {:<8} {:>13} {:>7} {:>13} {:>14}",
                    e.model,
                    e.relation,
                    e.strategy,
                    range,
                    b.loads,
                    human(b.time_per_parent()),
                    b.blocks_per_parent()
                        .map_or_else(|| "-".into(), |v| format!("{v:.2}")),
                );
            }
        }
    }
    let score = snapshot.cache_score();
    if !score.ops.is_empty() {
        let _ = writeln!(
            out,
            "\ncache score: statements {} hit, SQL text {} hit",
            percent(score.stmt_hit_ratio),
            percent(score.sql_hit_ratio)
        );
    }
    out
}

fn percent(ratio: Option<f64>) -> String {
    ratio.map_or_else(|| "-".into(), |r| format!("{:.1}%", r * 100.0))
}

fn human(duration: Option<Duration>) -> String {
    let Some(d) = duration else {
        return "-".into();
    };
    let nanos = d.as_nanos();
    if nanos < 1_000 {
        format!("{nanos} ns")
    } else if nanos < 1_000_000 {
        format!("{:.1} µs", nanos as f64 / 1e3)
    } else if nanos < 1_000_000_000 {
        format!("{:.1} ms", nanos as f64 / 1e6)
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        let cases = [
            (None, "-"),
            (Some(Duration::from_nanos(850)), "850 ns"),
            (Some(Duration::from_nanos(12_340)), "12.3 µs"),
            (Some(Duration::from_micros(4_500)), "4.5 ms"),
            (Some(Duration::from_millis(2_500)), "2.50 s"),
        ];
        for (input, expected) in cases {
            assert_eq!(human(input), expected);
        }
    }

    #[test]
    fn percentages() {
        assert_eq!(percent(None), "-");
        assert_eq!(percent(Some(0.5)), "50.0%");
        assert_eq!(percent(Some(1.0)), "100.0%");
    }

    #[test]
    fn an_empty_snapshot_renders_the_header_only() {
        let text = render(&Snapshot::default());
        assert_eq!(text.lines().count(), 1);
        assert!(text.starts_with("op "));
    }
}
