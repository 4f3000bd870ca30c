//! `cargo xtask dashboards`: the Grafana dashboard, the Prometheus recording
//! and alerting rules, the scrape config and the metric reference, generated
//! from one place: the panels and rules below, and premix-instrument's
//! metric catalogue. A test fails when a committed copy is stale, or when a
//! metric in the catalogue is used nowhere (or a query names one that does
//! not exist).

use std::fmt::Write as _;

use premix_instrument::names::{CATALOGUE, MetricKind};
use serde_json::{Value, json};

use crate::util::workspace_root;

/// A dashboard panel: a title, a unit, and one query per series.
pub(crate) struct Panel {
    pub(crate) title: &'static str,
    pub(crate) unit: &'static str,
    pub(crate) queries: &'static [(&'static str, &'static str)],
}

/// `$model`, `$op` and `$backend` are the dashboard's template variables.
pub(crate) const PANELS: &[Panel] = &[
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
pub(crate) const RECORDING_RULES: &[(&str, &str)] = &[
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
const ALERTS: &[(&str, &str, &str, &str)] = &[
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

/// Every generated file: path relative to the workspace, and contents.
pub(crate) fn generated() -> Vec<(&'static str, String)> {
    vec![
        ("dashboards/grafana/premix-overview.json", dashboard()),
        ("dashboards/prometheus/rules.yml", rules()),
        (
            "dashboards/prometheus/prometheus.yml",
            scrape_config("127.0.0.1:9464", "15s", "rules.yml"),
        ),
        ("dashboards/prometheus/prometheus-fleet.yml", fleet_config()),
        ("docs/metrics.md", metrics_doc()),
    ]
}

/// The fleet's scrape config, with example addresses: three instances of
/// the example service, and VictoriaMetrics as the long-term store (the
/// text `cargo xtask fleet` and the fleet test run, with their own ports).
fn fleet_config() -> String {
    let targets: Vec<String> = (9464..9467)
        .map(|port| format!("127.0.0.1:{port}"))
        .collect();
    format!(
        "# Generated by `cargo xtask dashboards`; edit xtask/src/dashboards.rs, not this file.\n\
         # A fleet: every instance's metrics port, the repo's rules, and every sample\n\
         # remote-written to VictoriaMetrics (see docs/guide/production.md).\n{}",
        fleet::config::prometheus_yml(
            &targets,
            "15s",
            "rules.yml",
            "http://127.0.0.1:8428/api/v1/write"
        )
    )
}

fn dashboard() -> String {
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
        "description": "Generated by `cargo xtask dashboards`; edit xtask/src/dashboards.rs, not this file.",
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

fn rules() -> String {
    let mut out = String::from(
        "# Generated by `cargo xtask dashboards`; edit xtask/src/dashboards.rs, not this file.\ngroups:\n  - name: premix-recording\n    rules:\n",
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

/// A scrape config for the example service on `target`.
pub(crate) fn scrape_config(target: &str, interval: &str, rules_file: &str) -> String {
    format!(
        "# Generated by `cargo xtask dashboards`; edit xtask/src/dashboards.rs, not this file.\n\
         # Scrapes the quickstart service: cargo run --release -p quickstart -- --serve {target}\n\
         global:\n  scrape_interval: {interval}\n  evaluation_interval: {interval}\n\
         rule_files:\n  - {rules_file}\n\
         scrape_configs:\n  - job_name: premix\n    static_configs:\n      - targets: [\"{target}\"]\n"
    )
}

fn metrics_doc() -> String {
    let mut out = String::from(
        "# Metric reference\n\n\
         Generated by `cargo xtask dashboards` from `premix_instrument::names::CATALOGUE`; edit \
         that, not this file.\n\n\
         All names carry the `premix_` prefix and base units; counters end in `_total`; histograms \
         are bucketed (`_bucket`, `_sum`, `_count`), never summaries, so they aggregate across \
         instances. Label values come from closed sets; never SQL text, bind values or ids.\n\n\
         | metric | type | labels | meaning | recorded where |\n|---|---|---|---|---|\n",
    );
    for def in CATALOGUE {
        let kind = match def.kind {
            MetricKind::Counter => "counter",
            MetricKind::Histogram => "histogram",
            MetricKind::Gauge => "gauge",
        };
        let _ = writeln!(
            out,
            "| `{}` | {kind} | {} | {} | {} |",
            def.name,
            def.labels
                .iter()
                .map(|l| format!("`{l}`"))
                .collect::<Vec<_>>()
                .join(", "),
            def.help,
            recorded_where(def.name),
        );
    }
    out.push_str(
        "\n## Label values\n\n\
         - `op`: `find_by_id`, `select`, `insert`, `update`, `delete`, `eager_load` (the ORM fork; \
         `premix_query!` statements count under the operation they perform), or any snake_case \
         literal given to `#[instrument(op = ...)]`.\n\
         - `model`: the model's table name (at most 64 (model, backend) pairs per call site; more \
         fold into `_other`).\n\
         - `backend`: `sqlite`, `postgresql`; `none` for instrumented code that names no database.\n\
         - `outcome`: `ok`, `error` (failed, see `kind`), `cancelled` (dropped before completion; a \
         stream dropped after it yielded an error is that error, not cancelled).\n\
         - `kind` (errors): `pool_timeout` (no connection within the acquire timeout), \
         `pool_closed`, `connection` (I/O, TLS, protocol, a crashed SQLite worker), `database` (the \
         database refused or failed the statement), `decode`, `not_found` (a row that had to \
         exist), `conflict` (a version conflict: nothing was written), `refused` (the ORM refused \
         the query before it reached the database: an unknown column, a raw filter without \
         `.allow_unsafe()`, invalid input), `panic`, `other`.\n\
         - `result`: `hit`, `miss`; statement-cache lookups also `unprepared` (no lookup), \
         `ambiguous` and `disagreement` (see below).\n\
         - `strategy`: `vec`, `hashmap`. `relation`: the `#[has_many]` field name.\n\
         - `pool`: `0`, `1`, ... in the order the ORM built its pools (`_other` past 16).\n\
         \n## When a statement-cache lookup cannot be told\n\n\
         sqlx keeps each connection's prepared statements in an LRU cache and says nothing about \
         a lookup. The ORM reads the connection's cache size around each statement: it grew, a \
         miss; it stayed put with room left, a hit. On a full cache a hit and a miss that evicted \
         another statement leave the size put: those lookups are `ambiguous`, never guessed, \
         unless the pool was built with `StatementCache::exact()` (`Premix::sqlite_pool`, \
         `Premix::postgres_pool`). Such a pool identifies each connection it hands out (a round \
         trip, in place of sqlx's liveness ping) and the ORM keeps a shadow of that connection's \
         cache, which classifies every lookup as a hit, a miss, or a miss with an eviction, at any \
         size. `ambiguous` remains where the ORM cannot tell which connection ran a statement: \
         pools it did not build or built without `exact()`, and connections the application \
         lends it (`&mut *tx`, `&mut *conn`). When other code runs statements on a connection of \
         an exact pool, the ORM notices (the application acquired it, or its cache size \
         disagrees with the shadow), forgets which statements that connection holds and learns \
         them again; a lookup it cannot tell meanwhile is a `disagreement`. Each such lookup \
         uses up one forgotten statement, so exactness returns after at most the cache's \
         capacity of them.\n\
         \n## Recording rules\n\n\
         Defined in `dashboards/prometheus/rules.yml`, with the definitions of \
         `premix_instrument::Snapshot::cache_score()`:\n\n",
    );
    for (record, expr) in RECORDING_RULES {
        let _ = writeln!(out, "- `{record}`: `{expr}`");
    }
    out
}

fn recorded_where(name: &str) -> &'static str {
    match name {
        n if n.starts_with("premix_op_") => {
            "every `#[instrument]`ed call, when it completes or is dropped (`premix-instrument/src/scope.rs`); exported at the next flush (`premix-instrument/src/export.rs`)"
        }
        n if n.starts_with("premix_stmt_cache") => {
            "the ORM fork around each statement on its held connection (`premix-orm-fork/src/observe/statements.rs`)"
        }
        n if n.starts_with("premix_sql_cache") => {
            "the ORM fork at each SQL-text cache lookup (`premix-orm-fork/src/observe/sites.rs`)"
        }
        n if n.starts_with("premix_pool_wait") => {
            "the ORM fork around each acquire from a pool (`premix-orm-fork/src/observe/statements.rs`)"
        }
        n if n.starts_with("premix_pool_") => {
            "sampled by the ORM fork when its operations acquire from a pool it built (`premix-orm-fork/src/observe/pools.rs`)"
        }
        _ => "the ORM fork after each eager load (`premix-orm-fork/src/eager.rs`)",
    }
}

/// Writes every generated file; with `check`, only says which are stale.
pub(crate) fn run(check: bool) -> Result<(), String> {
    let root = workspace_root();
    let mut stale = Vec::new();
    for (path, contents) in generated() {
        let full = root.join(path);
        let current = std::fs::read_to_string(&full).unwrap_or_default();
        if current == contents {
            continue;
        }
        if check {
            stale.push(path);
        } else {
            std::fs::create_dir_all(full.parent().expect("a parent")).map_err(|e| e.to_string())?;
            std::fs::write(&full, contents).map_err(|e| format!("{path}: {e}"))?;
            println!("xtask: wrote {path}");
        }
    }
    if stale.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "stale generated files {stale:?}: run `cargo xtask dashboards`"
        ))
    }
}

/// Every `premix_...` metric name an expression mentions, with histogram
/// suffixes removed.
#[cfg(test)]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_files_are_current() {
        if let Err(stale) = run(true) {
            panic!("{stale}");
        }
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
        let doc = metrics_doc();
        for def in CATALOGUE {
            assert!(
                doc.contains(def.name),
                "{} missing from docs/metrics.md",
                def.name
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
