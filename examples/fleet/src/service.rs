//! One instance of the example service as the chores run it: a release
//! build (with `instrument` on, or off for the on/off bench), started on
//! free loopback ports, and stopped when dropped. The fleet starts its
//! instances the same way, and every chore talks to them with [`client`].

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::process::{self, Running, WorkDir};

/// Where cargo puts its builds: `CARGO_TARGET_DIR`, or the workspace's
/// `target/`.
#[must_use]
pub fn target_dir() -> PathBuf {
    // This crate is `examples/fleet` in the workspace.
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2);
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || workspace.expect("a workspace").join("target"),
        PathBuf::from,
    )
}

/// Builds the service in release, with `instrument` or without, with the
/// cargo running the caller (`CARGO`, else `cargo` from PATH), and returns
/// a copy of the binary that the other build will not overwrite.
///
/// # Errors
/// The build failed or its binary could not be copied.
pub fn build(instrument: bool) -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let side = if instrument { "on" } else { "off" };
    let mut command = Command::new(&cargo);
    command.args(["build", "--release", "--locked", "--quiet", "-p", "service"]);
    if !instrument {
        command.arg("--no-default-features");
    }
    println!("building the service (release, instrument {side})");
    let status = command
        .status()
        .map_err(|e| format!("could not run {cargo}: {e}"))?;
    if !status.success() {
        return Err(format!("{command:?} failed ({status})"));
    }
    let built = target_dir().join("release/service");
    let kept = target_dir().join(format!("service-bins/service-instrument-{side}"));
    std::fs::create_dir_all(kept.parent().expect("a parent")).map_err(|e| e.to_string())?;
    std::fs::copy(&built, &kept).map_err(|e| format!("{}: {e}", built.display()))?;
    Ok(kept)
}

/// One running service.
#[derive(Debug)]
pub struct Instance {
    /// Its API, `http://127.0.0.1:PORT`.
    pub api: String,
    /// Its metrics listener; `None` when built without `instrument`.
    pub metrics: Option<String>,
    /// The process; stopped when dropped.
    pub process: Running,
}

/// Starts `bin` on `database` (PostgreSQL in `schema`, when given) with
/// free loopback ports and its log in `dir`, and waits until it answers.
///
/// # Errors
/// It could not be started, or did not answer within a minute.
pub async fn start(
    bin: &Path,
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
        .args(["--listen", &api.to_string()])
        .args(["--metrics", &metrics.to_string()])
        .args(["--database", database]);
    if let Some(schema) = schema {
        command.args(["--schema", schema]);
    }
    let log = dir.path().join(format!("service-{}.log", api.port()));
    let mut process = Running::spawn("service", &mut command, &log)?;
    let api = format!("http://{api}");
    let ready = format!("{api}/healthz");
    process::wait_ready(client, &ready, &mut process, Duration::from_secs(60)).await?;
    Ok(Instance {
        api,
        metrics: instrument.then(|| format!("http://{metrics}")),
        process,
    })
}

/// A multi-threaded Tokio runtime for a chore.
///
/// # Errors
/// The runtime could not be built.
pub fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("no Tokio runtime: {e}"))
}

/// An HTTP client for a chore's own requests (not the load's): loopback,
/// no proxy, 30 s per request.
///
/// # Errors
/// The client could not be built.
pub fn client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .no_proxy()
        .build()
        .map_err(|e| e.to_string())
}
