//! The service's `/snapshot` (its in-process counters), as the fleet reads
//! it. The service writes these fields; unknown ones are ignored, a
//! missing one is an error.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The body of `/snapshot`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct ServiceSnapshot {
    /// The service's process id.
    pub pid: u32,
    /// Counters per (op, model, backend).
    pub ops: Vec<OpCounts>,
}

/// The counters of one (op, model, backend).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct OpCounts {
    /// `op` label.
    pub op: String,
    /// `model` label.
    pub model: String,
    /// `backend` label.
    pub backend: String,
    /// Calls that succeeded.
    pub ok: u64,
    /// Calls that failed.
    pub error: u64,
    /// Calls dropped before they completed.
    pub cancelled: u64,
    /// Prepared-statement cache lookups.
    pub stmt_cache: StmtCache,
    /// SQL-text cache lookups.
    pub sql_cache: SqlCache,
}

/// Prepared-statement cache counts.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct StmtCache {
    /// Hits.
    pub hits: u64,
    /// Misses.
    pub misses: u64,
    /// Lookups on a full cache that could not be told.
    pub ambiguous: u64,
    /// Lookups that could not be told after other code used the connection.
    pub disagreement: u64,
}

/// SQL-text cache counts.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct SqlCache {
    /// Hits.
    pub hits: u64,
    /// Misses.
    pub misses: u64,
}

/// Cache lookups added up over every op: what the `:total` recording rules
/// divide.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheTotals {
    /// Statement-cache hits.
    pub stmt_hits: u64,
    /// Statement-cache lookups (hits, misses, ambiguous, disagreement).
    pub stmt_lookups: u64,
    /// SQL-cache hits.
    pub sql_hits: u64,
    /// SQL-cache lookups.
    pub sql_lookups: u64,
}

impl CacheTotals {
    /// Adds `snapshot`'s lookups.
    pub fn add(&mut self, snapshot: &ServiceSnapshot) {
        for op in &snapshot.ops {
            let s = op.stmt_cache;
            self.stmt_hits += s.hits;
            self.stmt_lookups += s.hits + s.misses + s.ambiguous + s.disagreement;
            self.sql_hits += op.sql_cache.hits;
            self.sql_lookups += op.sql_cache.hits + op.sql_cache.misses;
        }
    }

    /// Statement-cache hits / lookups.
    #[must_use]
    pub fn stmt_ratio(&self) -> f64 {
        self.stmt_hits as f64 / self.stmt_lookups as f64
    }

    /// SQL-cache hits / lookups.
    #[must_use]
    pub fn sql_ratio(&self) -> f64 {
        self.sql_hits as f64 / self.sql_lookups as f64
    }
}

impl ServiceSnapshot {
    /// Calls per (op, model, outcome label), zeros included.
    #[must_use]
    pub fn calls(&self) -> BTreeMap<(String, String, String), u64> {
        let mut calls = BTreeMap::new();
        for op in &self.ops {
            for (outcome, count) in [
                ("ok", op.ok),
                ("error", op.error),
                ("cancelled", op.cancelled),
            ] {
                *calls
                    .entry((op.op.clone(), op.model.clone(), outcome.to_owned()))
                    .or_default() += count;
            }
        }
        calls
    }
}

/// Reads `GET {metrics_base}/snapshot`.
///
/// # Errors
/// The service could not be reached or answered something else.
pub async fn fetch(
    client: &reqwest::Client,
    metrics_base: &str,
) -> Result<ServiceSnapshot, String> {
    let url = format!("{metrics_base}/snapshot");
    let body = crate::body_text(client.get(&url), &url).await?;
    serde_json::from_str(&body).map_err(|e| format!("{url}: {e}: {body}"))
}
