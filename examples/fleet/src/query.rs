//! Instant queries through the Prometheus HTTP API, which Prometheus and
//! VictoriaMetrics both serve (`/api/v1/query`), read into structs.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Deserialize;

/// Seconds since the epoch, now, as the query API takes them.
#[must_use]
pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// One series of an instant vector.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// Its value.
    pub value: f64,
}

impl Sample {
    /// A label's value, or "".
    #[must_use]
    pub fn label(&self, name: &str) -> &str {
        self.labels.get(name).map_or("", String::as_str)
    }
}

#[derive(Deserialize)]
struct Response {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(rename = "resultType")]
    result_type: String,
    result: serde_json::Value,
}

#[derive(Deserialize)]
struct Series {
    metric: BTreeMap<String, String>,
    value: (f64, String),
}

/// A server that answers `/api/v1/query`.
#[derive(Clone, Debug)]
pub struct QueryApi {
    base: String,
    client: reqwest::Client,
    /// VictoriaMetrics caches query results and, unless told not to, shifts
    /// queries near "now" back by its latency offset; `nocache=1` turns
    /// both off.
    nocache: bool,
}

impl QueryApi {
    /// Prometheus at `base` (`http://127.0.0.1:PORT`).
    #[must_use]
    pub fn prometheus(base: String, client: reqwest::Client) -> Self {
        Self {
            base,
            client,
            nocache: false,
        }
    }

    /// VictoriaMetrics at `base`.
    #[must_use]
    pub fn victoria_metrics(base: String, client: reqwest::Client) -> Self {
        Self {
            base,
            client,
            nocache: true,
        }
    }

    /// Evaluates `expr` at `time` (seconds since the epoch; now when
    /// `None`); a scalar result is one sample without labels.
    ///
    /// # Errors
    /// The server refused the query or could not be reached.
    pub async fn instant(&self, expr: &str, time: Option<f64>) -> Result<Vec<Sample>, String> {
        let mut params = vec![("query", expr.to_owned())];
        if let Some(time) = time {
            params.push(("time", format!("{time:.3}")));
        }
        if self.nocache {
            params.push(("nocache", "1".to_owned()));
        }
        let url = format!("{}/api/v1/query", self.base);
        let body = crate::body_text(self.client.post(&url).form(&params), &url).await?;
        let response: Response =
            serde_json::from_str(&body).map_err(|e| format!("{url}: {e}: {body}"))?;
        if response.status != "success" {
            return Err(format!(
                "query `{expr}` failed: {}",
                response.error.unwrap_or(body)
            ));
        }
        let data = response.data.ok_or_else(|| format!("no data: {body}"))?;
        let parse = |text: &str| text.parse::<f64>().map_err(|e| format!("`{text}`: {e}"));
        match data.result_type.as_str() {
            "vector" => {
                let series: Vec<Series> =
                    serde_json::from_value(data.result).map_err(|e| e.to_string())?;
                series
                    .into_iter()
                    .map(|s| {
                        Ok(Sample {
                            labels: s.metric,
                            value: parse(&s.value.1)?,
                        })
                    })
                    .collect()
            }
            "scalar" => {
                let (_, value): (f64, String) =
                    serde_json::from_value(data.result).map_err(|e| e.to_string())?;
                Ok(vec![Sample {
                    labels: BTreeMap::new(),
                    value: parse(&value)?,
                }])
            }
            other => Err(format!("query `{expr}`: unexpected result type {other}")),
        }
    }
}
