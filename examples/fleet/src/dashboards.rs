//! What the Grafana dashboard and the Prometheus rules contain: the panels,
//! the recording rules and the alerts over premix's metrics, and their
//! rendering as the files in `dashboards/` (`cargo xtask dashboards` writes
//! them, and its test fails when a committed copy is stale). They live
//! beside the fleet because the fleet is where they are proven: its
//! Prometheus loads the rules, and [`crate::proof`] evaluates every panel
//! query and rule against what VictoriaMetrics stores and reads the
//! dashboard with Grafana's own model.

use std::fmt::Write as _;

use serde_json::{Value, json};

/// A dashboard panel: a title, a unit, and one query per series.
#[derive(Debug)]
pub struct Panel {
    /// Its title.
    pub title: &'static str,
    /// Grafana's unit for its axis (`s`, `percentunit`, `reqps`, ...).
    pub unit: &'static str,
    /// (legend, PromQL expression) of each series.
    pub queries: &'static [(&'static str, &'static str)],
}

/// The panels, in order. `$model`, `$op` and `$backend` are the
/// dashboard's template variables.
pub const PANELS: &[Panel] = &[
    Panel {
        title: "Call rate",
        unit: "reqps",
        queries: &[(
            "{{op}} {{model}} {{backend}}",
            r#"sum by (op, model, backend) (rate(premix_op_calls_total{model=~"$model", op=~"$op", backend=~"$backend"}[5m]))"#,
        )],
    },
    Panel {
        title: "Error ratio",
        unit: "percentunit",
        queries: &[(
            "{{op}} {{model}} {{backend}}",
            r#"premix:op_error_ratio:rate5m{model=~"$model", op=~"$op", backend=~"$backend"}"#,
        )],
    },
    Panel {
        title: "Errors by kind",
        unit: "reqps",
        queries: &[(
            "{{kind}} {{op}} {{model}} {{backend}}",
            r#"sum by (kind, op, model, backend) (rate(premix_op_errors_total{model=~"$model", op=~"$op", backend=~"$backend"}[5m]))"#,
        )],
    },
    Panel {
        title: "Latency p50 / p99 (waiting for a connection included)",
        unit: "s",
        queries: &[
            (
                "p50 {{op}} {{model}} {{backend}}",
                r#"histogram_quantile(0.5, sum by (le, op, model, backend) (rate(premix_op_duration_seconds_bucket{model=~"$model", op=~"$op", backend=~"$backend"}[5m])))"#,
            ),
            (
                "p99 {{op}} {{model}} {{backend}}",
                r#"histogram_quantile(0.99, sum by (le, op, model, backend) (rate(premix_op_duration_seconds_bucket{model=~"$model", op=~"$op", backend=~"$backend"}[5m])))"#,
            ),
        ],
    },
    Panel {
        title: "Waiting for a connection p99",
        unit: "s",
        queries: &[(
            "{{op}} {{model}} {{backend}}",
            r#"premix:pool_wait_seconds:p99_rate5m{model=~"$model", op=~"$op", backend=~"$backend"}"#,
        )],
    },
    Panel {
        title: "Pool connections (pools the ORM built)",
        unit: "short",
        queries: &[
            (
                "open {{backend}} pool {{pool}}",
                r#"sum by (backend, pool) (premix_pool_connections{backend=~"$backend"})"#,
            ),
            (
                "idle {{backend}} pool {{pool}}",
                r#"sum by (backend, pool) (premix_pool_idle_connections{backend=~"$backend"})"#,
            ),
            (
                "max {{backend}} pool {{pool}}",
                r#"sum by (backend, pool) (premix_pool_max_connections{backend=~"$backend"})"#,
            ),
        ],
    },
    Panel {
        title: "Allocations per call",
        unit: "short",
        queries: &[(
            "{{op}} {{model}} {{backend}}",
            r#"premix:op_allocations_per_call:rate5m{model=~"$model", op=~"$op", backend=~"$backend"}"#,
        )],
    },
    Panel {
        title: "Bytes allocated per call",
        unit: "bytes",
        queries: &[(
            "{{op}} {{model}} {{backend}}",
            r#"sum by (op, model, backend) (rate(premix_op_allocated_bytes_total{model=~"$model", op=~"$op", backend=~"$backend"}[5m])) / sum by (op, model, backend) (rate(premix_op_calls_total{model=~"$model", op=~"$op", backend=~"$backend"}[5m]))"#,
        )],
    },
    Panel {
        title: "Statement-cache hit ratio",
        unit: "percentunit",
        queries: &[
            (
                "{{op}} {{model}} {{backend}}",
                r#"premix:stmt_cache_hit_ratio:rate5m{model=~"$model", op=~"$op", backend=~"$backend"}"#,
            ),
            ("all, since start", "premix:stmt_cache_hit_ratio:total"),
        ],
    },
    Panel {
        title: "Statement-cache evictions and lookups that could not be told",
        unit: "short",
        queries: &[
            (
                "evictions {{op}} {{model}} {{backend}}",
                r#"sum by (op, model, backend) (rate(premix_stmt_cache_evictions_total{model=~"$model", op=~"$op", backend=~"$backend"}[5m]))"#,
            ),
            (
                "{{result}} {{op}} {{model}} {{backend}}",
                r#"sum by (result, op, model, backend) (rate(premix_stmt_cache_lookups_total{result=~"ambiguous|disagreement", model=~"$model", op=~"$op", backend=~"$backend"}[5m]))"#,
            ),
        ],
    },
    Panel {
        title: "SQL-cache hit ratio",
        unit: "percentunit",
        queries: &[
            (
                "{{op}} {{model}} {{backend}}",
                r#"premix:sql_cache_hit_ratio:rate5m{model=~"$model", op=~"$op", backend=~"$backend"}"#,
            ),
            ("all, since start", "premix:sql_cache_hit_ratio:total"),
        ],
    },
    Panel {
        title: "Eager loading: strategy mix",
        unit: "reqps",
        queries: &[(
            "{{model}}.{{relation}} {{strategy}} {{backend}}",
            r#"sum by (model, relation, strategy, backend) (rate(premix_eager_load_total{model=~"$model", backend=~"$backend"}[5m]))"#,
        )],
    },
    Panel {
        title: "Eager loading: time per parent",
        unit: "s",
        queries: &[(
            "{{model}}.{{relation}} {{strategy}} {{backend}}",
            r#"premix:eager_load_seconds_per_parent:rate5m{model=~"$model", backend=~"$backend"}"#,
        )],
    },
    Panel {
        title: "Eager loading: parents per load (p50)",
        unit: "short",
        queries: &[(
            "{{model}}.{{relation}} {{strategy}} {{backend}}",
            r#"histogram_quantile(0.5, sum by (le, model, relation, strategy, backend) (rate(premix_eager_load_parents_bucket{model=~"$model", backend=~"$backend"}[5m])))"#,
        )],
    },
];

/// Recording rules: name and expression. Every one aggregates over
/// instances, so one rule serves one process and a fleet alike. The cache
/// ratios use the same definitions as `Snapshot::cache_score()`.
pub const RECORDING_RULES: &[(&str, &str)] = &[
    (
        "premix:op_error_ratio:rate5m",
        r#"sum by (op, model, backend) (rate(premix_op_calls_total{outcome="error"}[5m])) / sum by (op, model, backend) (rate(premix_op_calls_total[5m]))"#,
    ),
    (
        "premix:op_allocations_per_call:rate5m",
        "sum by (op, model, backend) (rate(premix_op_allocations_total[5m])) / sum by (op, model, backend) (rate(premix_op_calls_total[5m]))",
    ),
    (
        "premix:pool_wait_seconds:p99_rate5m",
        "histogram_quantile(0.99, sum by (le, op, model, backend) (rate(premix_pool_wait_seconds_bucket[5m])))",
    ),
    (
        "premix:stmt_cache_hit_ratio:rate5m",
        r#"sum by (op, model, backend) (rate(premix_stmt_cache_lookups_total{result="hit"}[5m])) / sum by (op, model, backend) (rate(premix_stmt_cache_lookups_total{result=~"hit|miss|ambiguous|disagreement"}[5m]))"#,
    ),
    (
        "premix:sql_cache_hit_ratio:rate5m",
        r#"sum by (op, model, backend) (rate(premix_sql_cache_lookups_total{result="hit"}[5m])) / sum by (op, model, backend) (rate(premix_sql_cache_lookups_total[5m]))"#,
    ),
    (
        "premix:stmt_cache_hit_ratio:total",
        r#"sum(premix_stmt_cache_lookups_total{result="hit"}) / sum(premix_stmt_cache_lookups_total{result=~"hit|miss|ambiguous|disagreement"})"#,
    ),
    (
        "premix:sql_cache_hit_ratio:total",
        r#"sum(premix_sql_cache_lookups_total{result="hit"}) / sum(premix_sql_cache_lookups_total)"#,
    ),
    (
        "premix:eager_load_seconds_per_parent:rate5m",
        "sum by (model, relation, strategy, backend) (rate(premix_eager_load_duration_seconds_sum[5m])) / sum by (model, relation, strategy, backend) (rate(premix_eager_load_parents_sum[5m]))",
    ),
];

/// Alerts: name, expression, duration, summary.
pub const ALERTS: &[(&str, &str, &str, &str)] = &[
    (
        "PremixStatementCacheHitRatioDrop",
        "premix:stmt_cache_hit_ratio:rate5m < 0.9",
        "10m",
        "Prepared-statement cache hit ratio of {{ $labels.op }} on {{ $labels.model }} is {{ $value | humanizePercentage }}",
    ),
    (
        "PremixAllocationsPerCallRegression",
        "premix:op_allocations_per_call:rate5m > 1.5 * (premix:op_allocations_per_call:rate5m offset 1d)",
        "30m",
        "{{ $labels.op }} on {{ $labels.model }} allocates 1.5x more per call than a day ago",
    ),
    (
        "PremixErrorBurst",
        "premix:op_error_ratio:rate5m > 0.05",
        "5m",
        "More than 5% of {{ $labels.op }} calls on {{ $labels.model }} ({{ $labels.backend }}) fail",
    ),
    (
        "PremixPoolExhausted",
        r#"sum by (backend) (rate(premix_op_errors_total{kind=~"pool_timeout|pool_closed"}[5m])) > 0"#,
        "2m",
        "{{ $labels.backend }} operations cannot get a connection: the pool is exhausted or closed",
    ),
    (
        "PremixPoolWaitHigh",
        "premix:pool_wait_seconds:p99_rate5m > 0.1",
        "10m",
        "{{ $labels.op }} on {{ $labels.model }} waits {{ $value | humanizeDuration }} (p99) for a connection",
    ),
];

/// `dashboards/grafana/premix-overview.json`.
#[must_use]
pub fn dashboard_json() -> String {
    let variable = |name: &str, metric: &str| {
        json!({
            "name": name,
            "label": name,
            "type": "query",
            "datasource": {"type": "prometheus", "uid": "${DS_PROMETHEUS}"},
            // No `definition`: Grafana's dashboard model has no such field
            // (the fleet test reads the file with the Grafana foundation SDK).
            "query": {"query": format!("label_values({metric}, {name})"), "refId": name},
            "includeAll": true,
            "multi": true,
            "allValue": ".*",
            "current": {"selected": true, "text": ["All"], "value": ["$__all"]},
            "refresh": 2,
        })
    };
    let panels: Vec<Value> = PANELS
        .iter()
        .enumerate()
        .map(|(i, panel)| {
            let targets: Vec<Value> = panel
                .queries
                .iter()
                .enumerate()
                .map(|(n, (legend, expr))| {
                    json!({
                        "datasource": {"type": "prometheus", "uid": "${DS_PROMETHEUS}"},
                        "expr": expr,
                        "legendFormat": legend,
                        "refId": char::from(b'A' + u8::try_from(n).unwrap_or(0)).to_string(),
                    })
                })
                .collect();
            json!({
                "id": i + 1,
                "type": "timeseries",
                "title": panel.title,
                "datasource": {"type": "prometheus", "uid": "${DS_PROMETHEUS}"},
                "gridPos": {"h": 8, "w": 12, "x": (i % 2) * 12, "y": (i / 2) * 8},
                "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
                "options": {"legend": {"displayMode": "table", "placement": "bottom"}},
                "targets": targets,
            })
        })
        .collect();
    let dashboard = json!({
        "__inputs": [{
            "name": "DS_PROMETHEUS",
            "label": "Prometheus",
            "description": "The Prometheus that scrapes the application's /metrics",
            "type": "datasource",
            "pluginId": "prometheus",
            "pluginName": "Prometheus",
        }],
        "__requires": [
            {"type": "grafana", "id": "grafana", "name": "Grafana", "version": "9.0.0"},
            {"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"},
            {"type": "panel", "id": "timeseries", "name": "Time series", "version": ""},
        ],
        "title": "premix overview",
        "uid": "premix-overview",
        "description": "Generated by `cargo xtask dashboards`; edit examples/fleet/src/dashboards.rs, not this file.",
        "tags": ["premix"],
        "timezone": "browser",
        "schemaVersion": 38,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-1h", "to": "now"},
        "templating": {"list": [
            variable("model", "premix_op_calls_total"),
            variable("op", "premix_op_calls_total"),
            variable("backend", "premix_op_calls_total"),
        ]},
        "panels": panels,
    });
    let mut text = serde_json::to_string_pretty(&dashboard).expect("JSON renders");
    text.push('\n');
    text
}

/// YAML scalars are written double-quoted, with `\` and `"` escaped.
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// `dashboards/prometheus/rules.yml`: the recording rules, then the alerts.
#[must_use]
pub fn rules_yml() -> String {
    let mut out = String::from(
        "# Generated by `cargo xtask dashboards`; edit examples/fleet/src/dashboards.rs, not this file.\ngroups:\n  - name: premix-recording\n    rules:\n",
    );
    for (record, expr) in RECORDING_RULES {
        let _ = writeln!(
            out,
            "      - record: {record}\n        expr: {}",
            quoted(expr)
        );
    }
    out.push_str("  - name: premix-alerts\n    rules:\n");
    for (alert, expr, duration, summary) in ALERTS {
        let _ = writeln!(
            out,
            "      - alert: {alert}\n        expr: {}\n        for: {duration}\n        labels:\n          severity: warning\n        annotations:\n          summary: {}",
            quoted(expr),
            quoted(summary)
        );
    }
    out
}

// The catalogue is premix-instrument's (a dev-dependency): every metric it
// exports is charted or ruled on, and every metric a query names exists.
#[cfg(test)]
mod tests {
    use premix_instrument::names::CATALOGUE;

    use super::*;

    /// Every `premix_...` metric name an expression mentions, with histogram
    /// suffixes removed.
    fn metrics_named(expr: &str) -> Vec<String> {
        let mut names = Vec::new();
        let mut rest = expr;
        while let Some(at) = rest.find("premix_") {
            let tail = &rest[at..];
            let end = tail
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(tail.len());
            let name = &tail[..end];
            let base = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| {
                    name.strip_suffix(s)
                        .filter(|b| CATALOGUE.iter().any(|d| d.name == *b))
                })
                .unwrap_or(name);
            names.push(base.to_owned());
            rest = &tail[end..];
        }
        names
    }

    #[test]
    fn every_metric_is_charted_and_every_charted_metric_exists() {
        let exprs: Vec<&str> = PANELS
            .iter()
            .flat_map(|p| p.queries.iter().map(|(_, e)| *e))
            .chain(RECORDING_RULES.iter().map(|(_, e)| *e))
            .collect();
        let used: Vec<String> = exprs.iter().flat_map(|e| metrics_named(e)).collect();
        for def in CATALOGUE {
            assert!(
                used.iter().any(|u| u == def.name),
                "{} is in no panel or rule: add one, then run `cargo xtask dashboards`",
                def.name
            );
        }
        for name in &used {
            assert!(
                CATALOGUE.iter().any(|d| d.name == name),
                "a query uses `{name}`, which premix-instrument does not export"
            );
        }
        for (record, _) in RECORDING_RULES {
            let charted = PANELS
                .iter()
                .any(|p| p.queries.iter().any(|(_, e)| e.contains(record)));
            let alerted = ALERTS.iter().any(|(_, e, _, _)| e.contains(record));
            assert!(
                charted || alerted,
                "recording rule {record} is used by no panel or alert"
            );
        }
    }

    #[test]
    fn metric_names_are_found_in_expressions() {
        let cases = [
            (
                "rate(premix_op_calls_total[5m])",
                vec!["premix_op_calls_total"],
            ),
            (
                "premix_op_duration_seconds_bucket{le=\"1\"}",
                vec!["premix_op_duration_seconds"],
            ),
            ("premix:op_error_ratio:rate5m", vec![]),
        ];
        for (expr, want) in cases {
            assert_eq!(metrics_named(expr), want, "{expr}");
        }
    }
}
