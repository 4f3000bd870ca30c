//! The Prometheus configuration of a fleet: every instance's metrics port
//! scraped as one job, the repo's rules, and `remote_write` to the
//! long-term store. `cargo xtask dashboards` writes the same text, with
//! example addresses, to `dashboards/prometheus/prometheus-fleet.yml`.

use std::fmt::Write as _;

/// `prometheus.yml` for `targets` (`host:port` of each `/metrics`),
/// scraped and evaluated every `interval` (e.g. `"15s"`), with
/// `rules_file`, writing every sample to `remote_write` (a
/// `.../api/v1/write` URL).
#[must_use]
pub fn prometheus_yml(
    targets: &[String],
    interval: &str,
    rules_file: &str,
    remote_write: &str,
) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "global:\n  scrape_interval: {interval}\n  evaluation_interval: {interval}\n\
         rule_files:\n  - {rules_file}\n\
         scrape_configs:\n  - job_name: premix\n    static_configs:\n      - targets:\n"
    );
    for target in targets {
        let _ = writeln!(out, "          - \"{target}\"");
    }
    let _ = write!(
        out,
        "remote_write:\n  - url: \"{remote_write}\"\n    queue_config:\n      \
         # Samples reach the store within a second; the default waits 5s.\n      \
         batch_send_deadline: 1s\n      min_backoff: 100ms\n      max_backoff: 5s\n"
    );
    out
}

#[cfg(test)]
mod tests {
    use super::prometheus_yml;

    #[test]
    fn every_target_and_the_store_are_named() {
        let yml = prometheus_yml(
            &["127.0.0.1:1".into(), "127.0.0.1:2".into()],
            "1s",
            "rules.yml",
            "http://127.0.0.1:3/api/v1/write",
        );
        assert!(
            yml.contains("          - \"127.0.0.1:1\"\n          - \"127.0.0.1:2\"\n"),
            "{yml}"
        );
        assert!(
            yml.contains("url: \"http://127.0.0.1:3/api/v1/write\""),
            "{yml}"
        );
        assert!(yml.contains("scrape_interval: 1s"), "{yml}");
    }
}
