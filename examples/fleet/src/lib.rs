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
//!
//! Used by `cargo xtask load`, `cargo xtask fleet`, `cargo xtask
//! bench-service` and the service's fleet test. Nothing here installs
//! anything: `cargo xtask` puts Prometheus, VictoriaMetrics and the Grafana
//! SDK in place first.

pub mod config;
pub mod fleet;
pub mod grafana;
pub mod load;
pub mod mix;
pub mod process;
pub mod proof;
pub mod query;
mod rng;
pub mod snapshot;
pub mod tools;

pub use fleet::{FleetConfig, FleetReport};
pub use load::{Balancer, LoadConfig, LoadReport};
pub use tools::Tools;
