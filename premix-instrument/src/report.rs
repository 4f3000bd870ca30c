//! A plain-text table of a [`Snapshot`], for terminals and logs.

use std::fmt::Write as _;
use std::time::Duration;

use crate::Snapshot;

/// Renders one row per (op, model): calls, errors, p50/p99 latency,
/// allocation blocks and bytes per call, statement-cache and SQL-cache hit
/// ratios; then, if there were eager loads, one row per (model, relation,
/// strategy, parent-count bucket) with loads and cost per parent; then the
/// overall cache score.
#[must_use]
pub fn render(snapshot: &Snapshot) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<16} {:<14} {:>8} {:>6} {:>10} {:>10} {:>11} {:>11} {:>9} {:>9}",
        "op",
        "model",
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
            "{:<16} {:<14} {:>8} {:>6} {:>10} {:>10} {:>11} {:>11} {:>9} {:>9}",
            s.op,
            s.model,
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
                    e.strategy.as_label(),
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
