//! `cargo xtask dashboards`: the Grafana dashboard, the Prometheus recording
//! and alerting rules and scrape configs (their contents are in the fleet
//! crate, `fleet::dashboards` and `fleet::config`, beside the proof that
//! evaluates them), and the metric reference (`templates/metrics.md.j2`,
//! from premix-instrument's metric catalogue). A test fails when a committed
//! copy is stale, or when a metric in the catalogue is charted nowhere (or a
//! query names one that does not exist).

use fleet::config::{example_fleet_yml, scrape_yml};
use fleet::dashboards::{RECORDING_RULES, dashboard_json, rules_yml};
use minijinja::{Value, context};
use premix_instrument::names::{CATALOGUE, MetricKind};

use crate::util::{environment, workspace_root, write};

/// Every generated file: path relative to the workspace, and contents.
pub(crate) fn generated() -> Vec<(&'static str, String)> {
    vec![
        ("dashboards/grafana/premix-overview.json", dashboard_json()),
        ("dashboards/prometheus/rules.yml", rules_yml()),
        (
            "dashboards/prometheus/prometheus.yml",
            scrape_yml("127.0.0.1:9464", "15s", "rules.yml"),
        ),
        (
            "dashboards/prometheus/prometheus-fleet.yml",
            example_fleet_yml(),
        ),
        ("docs/metrics.md", metrics_doc()),
    ]
}

/// `docs/metrics.md`, from `templates/metrics.md.j2`: every metric of the
/// catalogue, the label values, and the recording rules.
fn metrics_doc() -> String {
    let metrics: Vec<Value> = CATALOGUE
        .iter()
        .map(|def| {
            let kind = match def.kind {
                MetricKind::Counter => "counter",
                MetricKind::Histogram => "histogram",
                MetricKind::Gauge => "gauge",
            };
            let (name, labels, help) = (def.name, def.labels, def.help);
            context! { name, kind, labels, help }
        })
        .collect();
    let source = include_str!("../templates/metrics.md.j2");
    environment()
        .render_str(source, context! { metrics, rules => RECORDING_RULES })
        .expect("the metric reference renders")
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
            write(&full, &contents)?;
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
    fn the_reference_names_every_metric() {
        let doc = metrics_doc();
        for def in CATALOGUE {
            assert!(
                doc.contains(def.name),
                "{} missing from docs/metrics.md",
                def.name
            );
        }
    }
}
