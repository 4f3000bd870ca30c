//! The metrics port: `/metrics` for Prometheus, `/snapshot` for the
//! in-process counters, and every series this service can produce declared
//! at zero before the first request.
//!
//! Why declare series? A counter that appears only with its first increment
//! has no earlier sample, and after a restart its first sample is whatever
//! it counted before the first scrape: `increase()` then has to guess
//! whether that value is new (the fleet test's exact counts depend on it
//! not guessing). Declared at start, every series of a fresh process is
//! scraped at 0 first, so a restart is a plain counter reset to 0, which
//! Prometheus and VictoriaMetrics both handle exactly. This is Prometheus's
//! own advice for label sets known in advance. The counters are declared
//! through call sites of the service's own, which share their labels (and
//! so their exported series) with the ORM's.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use premix_instrument::{CallSite, PrometheusConfig, PrometheusExporter};

use crate::models::{Comment, Post, Resource, User};

/// Installs the exporter as the global recorder, without its own listener:
/// the service serves `/metrics` itself, beside `/snapshot`.
pub(crate) fn install() -> Result<PrometheusExporter, premix_instrument::Error> {
    premix_instrument::install_prometheus(PrometheusConfig::default().without_listener())
}

static FIND_BY_ID: CallSite = CallSite::new("find_by_id");
static SELECT: CallSite = CallSite::new("select");
static INSERT: CallSite = CallSite::new("insert");
static UPDATE: CallSite = CallSite::new("update");
static DELETE: CallSite = CallSite::new("delete");
static EAGER_LOAD: CallSite = CallSite::new("eager_load");

/// Every (op, model) a request can cause (see the crate docs' table).
pub(crate) fn declared() -> Vec<(&'static CallSite, &'static str)> {
    let tables = [User::PATH, Post::PATH, Comment::PATH];
    let mut pairs = Vec::new();
    for site in [&FIND_BY_ID, &SELECT, &INSERT, &UPDATE, &DELETE] {
        pairs.extend(tables.iter().map(|table| (site, *table)));
    }
    // Comments have no relations to load.
    pairs.extend([(&EAGER_LOAD, User::PATH), (&EAGER_LOAD, Post::PATH)]);
    pairs
}

/// Registers every series this service can produce, at zero, and hands
/// them to the exporter now.
pub(crate) fn declare_series(backend: &'static str) {
    for (site, table) in declared() {
        let _ = site.target(table, backend);
    }
    premix_instrument::export::flush();
}

/// `/metrics` and `/snapshot`.
pub(crate) fn router(exporter: PrometheusExporter) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(move || {
                let exporter = exporter.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                        exporter.render(),
                    )
                }
            }),
        )
        .route(
            "/snapshot",
            get(|| async {
                axum::Json(crate::snapshot::Snapshot::from(
                    &premix_instrument::Snapshot::take(),
                ))
                .into_response()
            }),
        )
}
