//! A plain-text table of a [`Snapshot`], for terminals and logs.

use std::fmt::Write as _;
use std::time::Duration;

use crate::Snapshot;

/// Renders one row per (op, model): calls, errors, p50/p99 latency,
/// allocation blocks and bytes per call.
#[must_use]
pub fn render(snapshot: &Snapshot) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<16} {:<14} {:>8} {:>6} {:>10} {:>10} {:>11} {:>11}",
        "op", "model", "calls", "errors", "p50", "p99", "allocs/call", "bytes/call"
    );
    for s in snapshot.ops() {
        let _ = writeln!(
            out,
            "{:<16} {:<14} {:>8} {:>6} {:>10} {:>10} {:>11} {:>11}",
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
        );
    }
    out
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
    fn an_empty_snapshot_renders_the_header_only() {
        let text = render(&Snapshot::default());
        assert_eq!(text.lines().count(), 1);
        assert!(text.starts_with("op "));
    }
}
