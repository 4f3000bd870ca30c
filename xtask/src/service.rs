//! What the service chores share: a release build of `examples/service`
//! (with `instrument` on, or off for the bench), a database for it, and one
//! running instance on 127.0.0.1 (stopped when dropped).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use fleet::process::{self, Running, WorkDir};

use crate::postgres;

/// Where cargo puts its builds.
pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| crate::dashboards::root().join("target"), PathBuf::from)
}

/// Builds the service in release, with `instrument` (`on`) or without, and
/// returns a copy of the binary that the other build will not overwrite.
pub(crate) fn build(instrument: bool) -> Result<PathBuf, String> {
    let mut command = Command::new(crate::cargo());
    command.args(["build", "--release", "--locked", "--quiet", "-p", "service"]);
    if !instrument {
        command.arg("--no-default-features");
    }
    println!(
        "xtask: building the service (release, instrument {})",
        if instrument { "on" } else { "off" }
    );
    crate::bench::run(&mut command)?;
    let built = target_dir().join("release/service");
    let kept = target_dir().join(format!(
        "service-bins/service-instrument-{}",
        if instrument { "on" } else { "off" }
    ));
    std::fs::create_dir_all(kept.parent().expect("a parent")).map_err(|e| e.to_string())?;
    std::fs::copy(&built, &kept).map_err(|e| format!("{}: {e}", built.display()))?;
    Ok(kept)
}

/// `DATABASE_URL`, or a throwaway cluster (kept alive by the returned
/// guard) when it is not set.
pub(crate) fn database() -> Result<(Option<postgres::Cluster>, String), String> {
    match std::env::var("DATABASE_URL") {
        Ok(url) => Ok((None, url)),
        Err(_) => {
            let cluster = postgres::Cluster::start()?;
            let url = cluster.url.clone();
            Ok((Some(cluster), url))
        }
    }
}

/// One running service.
pub(crate) struct Instance {
    pub(crate) api: String,
    /// `None` when built without `instrument`.
    pub(crate) metrics: Option<String>,
    pub(crate) process: Running,
}

/// Starts `bin` on `database` (PostgreSQL in `schema`, when given) with
/// free loopback ports, and waits until it answers.
pub(crate) async fn start(
    bin: &std::path::Path,
    database: &str,
    schema: Option<&str>,
    instrument: bool,
    dir: &WorkDir,
    client: &reqwest::Client,
) -> Result<Instance, String> {
    let api = process::free_loopback()?;
    let metrics = process::free_loopback()?;
    let mut command = Command::new(bin);
    command
        .env_remove("DATABASE_URL")
        .args([
            "--listen",
            &api.to_string(),
            "--metrics",
            &metrics.to_string(),
        ])
        .args(["--database", database]);
    if let Some(schema) = schema {
        command.args(["--schema", schema]);
    }
    let log = dir.path().join(format!("service-{}.log", api.port()));
    let mut process = Running::spawn("service", &mut command, &log)?;
    let api = format!("http://{api}");
    process::wait_ready(
        client,
        &format!("{api}/healthz"),
        &mut process,
        Duration::from_secs(60),
    )
    .await?;
    Ok(Instance {
        api,
        metrics: instrument.then(|| format!("http://{metrics}")),
        process,
    })
}

/// A Tokio runtime for a chore.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("no Tokio runtime: {e}"))
}

/// An HTTP client for a chore's own requests (not the load's).
pub(crate) fn client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .no_proxy()
        .build()
        .map_err(|e| e.to_string())
}
