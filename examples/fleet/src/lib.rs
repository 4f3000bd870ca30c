//! Drives the example service (`examples/service`) the way production
//! does, and proves what the counters say.
//!
//! - [`mix`]: a seeded mix of API requests, each with the ORM calls its
//!   answer means, so the load knows exactly what it caused.
//! - [`load`]: N concurrent clients over loopback, bounded in count and
//!   time, through a balancer that can drain an instance; throughput,
//!   p50/p99 and the tally of ORM calls.
//! - [`fleet`]: three instances on one PostgreSQL, Prometheus scraping
//!   them with the repo's rules and writing to VictoriaMetrics, one
//!   instance restarted mid-run; and [`proof`], the checks on what the store
//!   then holds.
//! - [`dashboards`] and [`config`]: what the Grafana dashboard, the
//!   Prometheus rules and the scrape configs in `dashboards/` contain
//!   (written by `cargo xtask dashboards`), beside the proof that runs them.
//! - [`service`]: one instance, built in release and started on loopback;
//!   [`postgres`]: a throwaway cluster when `DATABASE_URL` names none.
//! - [`drive`]: the load against one instance, its ORM calls checked
//!   against the service's counters (`cargo xtask load`).
//! - [`bench`](mod@bench): the service's cost, `instrument` on against off, in
//!   interleaved rounds (`cargo xtask bench-service`).
//!
//! Used by `cargo xtask load`, `cargo xtask fleet`, `cargo xtask
//! bench-service` and the service's tests. Nothing here installs
//! anything: `cargo xtask` puts Prometheus, VictoriaMetrics and the Grafana
//! SDK in place first.

pub mod bench;
pub mod config;
pub mod dashboards;
pub mod drive;
pub mod fleet;
pub mod grafana;
pub mod load;
pub mod mix;
pub mod postgres;
pub mod process;
pub mod proof;
pub mod query;
pub mod requests;
mod rng;
pub mod service;
pub mod snapshot;
pub mod tools;

pub use fleet::{FleetConfig, FleetReport};
pub use load::{Balancer, LoadConfig, LoadReport};
pub use tools::Tools;

/// Sends `request` (to `url`) and reads the answer's body as text; each
/// error names the URL.
async fn body_text(request: reqwest::RequestBuilder, url: &str) -> Result<String, String> {
    request
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?
        .text()
        .await
        .map_err(|e| format!("{url}: {e}"))
}
