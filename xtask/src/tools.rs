//! The programs the chores need, found or installed when missing, with a
//! clear message when neither works:
//!
//! - the cargo subcommands the audit and `prepare` use, from crates.io
//!   (pinned, `--locked`);
//! - the servers the end-to-end tests and the fleet run, from Debian's
//!   packages with apt: `prometheus` (which brings `promtool`) and
//!   `victoria-metrics` (the single-node store a fleet remote-writes to).
//!   The packages' own services are not started (there is no init system
//!   here, and their postinst leaves them stopped); the tests start their
//!   own, on 127.0.0.1;
//! - the Grafana foundation SDK (PyPI `grafana-foundation-sdk`, pinned in
//!   `fleet::grafana::SDK_REQUIREMENT`) in a virtualenv of the repo's own
//!   under `target/tools/`, so the fleet test can read the dashboard with
//!   Grafana's own model.

use std::path::PathBuf;
use std::process::Command;

use fleet::grafana::SDK_REQUIREMENT;
use fleet::tools::on_path;

use crate::util::{cargo, output, run};

/// A cargo subcommand and the crate that provides it.
pub(crate) struct Tool {
    /// As invoked: `cargo <subcommand>`.
    pub(crate) subcommand: &'static str,
    /// The crate that provides it.
    pub(crate) krate: &'static str,
    /// The pinned version.
    pub(crate) version: &'static str,
    /// Extra `cargo install` arguments (features).
    pub(crate) install_args: &'static [&'static str],
}

/// sqlx-cli, for `cargo xtask prepare`.
pub(crate) const SQLX_CLI: Tool = Tool {
    subcommand: "sqlx",
    krate: "sqlx-cli",
    // The CLI of the sqlx the workspace pins.
    version: "0.8.6",
    install_args: &["--no-default-features", "--features", "sqlite,rustls"],
};

/// cargo-expand, for the audit's expansions.
pub(crate) const CARGO_EXPAND: Tool = Tool {
    subcommand: "expand",
    krate: "cargo-expand",
    version: "1.0.127",
    install_args: &[],
};

/// cargo-bloat, for the audit's code sizes.
pub(crate) const CARGO_BLOAT: Tool = Tool {
    subcommand: "bloat",
    krate: "cargo-bloat",
    version: "0.12.1",
    install_args: &[],
};

/// The tool's version line, if `cargo <subcommand> --version` works.
fn installed(tool: &Tool) -> Option<String> {
    let version = output(Command::new(cargo()).args([tool.subcommand, "--version"]));
    version.ok().map(|v| v.trim().to_owned())
}

/// Finds the tool or installs it; says which, or what is missing and how to
/// get it.
pub(crate) fn ensure(tool: &Tool) -> Result<String, String> {
    if let Some(version) = installed(tool) {
        println!("xtask: found cargo {} ({version})", tool.subcommand);
        return Ok(version);
    }
    println!(
        "xtask: cargo {} is missing; installing {} {} from crates.io",
        tool.subcommand, tool.krate, tool.version
    );
    let installing = run(Command::new(cargo())
        .args(["install", "--locked", tool.krate, "--version", tool.version])
        .args(tool.install_args));
    match (installing, installed(tool)) {
        (Ok(()), Some(version)) => Ok(version),
        _ => Err(format!(
            "cargo {} is missing and could not be installed; install it with \
             `cargo install --locked {} --version {} {}`",
            tool.subcommand,
            tool.krate,
            tool.version,
            tool.install_args.join(" ")
        )),
    }
}

/// Makes sure every one of `tools` is on PATH, installing Debian's
/// `package` when one is missing.
fn ensure_package(package: &str, tools: &[&str]) -> Result<(), String> {
    if tools.iter().all(|t| on_path(t).is_some()) {
        return Ok(());
    }
    println!("xtask: installing {package} from Debian's packages");
    let apt_get = |args: &[&str]| {
        run(Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive"))
    };
    apt_get(&["update", "-qq"])?;
    apt_get(&["install", "-y", "-qq", "--no-install-recommends", package])?;
    match tools.iter().find(|t| on_path(t).is_none()) {
        None => Ok(()),
        Some(missing) => Err(format!(
            "the {package} package installed no {missing} on PATH"
        )),
    }
}

/// Makes sure `prometheus` and `promtool` are on PATH.
pub(crate) fn ensure_prometheus() -> Result<(), String> {
    ensure_package("prometheus", &["prometheus", "promtool"])
}

/// Makes sure `victoria-metrics` is on PATH.
pub(crate) fn ensure_victoria_metrics() -> Result<(), String> {
    ensure_package("victoria-metrics", &["victoria-metrics"])
}

/// The Grafana SDK venv's Python, with the pinned SDK importable.
pub(crate) fn ensure_grafana_sdk() -> Result<PathBuf, String> {
    let venv = fleet::service::target_dir().join("tools/grafana-sdk");
    let python = venv.join("bin/python");
    let (_, pinned) = SDK_REQUIREMENT
        .split_once("==")
        .ok_or("SDK_REQUIREMENT is name==version")?;
    let check = "import importlib.metadata as m, grafana_foundation_sdk; \
                 print(m.version('grafana-foundation-sdk'))";
    let installed = output(Command::new(&python).args(["-c", check]));
    if installed.is_ok_and(|version| version.trim() == pinned) {
        return Ok(python);
    }
    println!(
        "xtask: installing {SDK_REQUIREMENT} into {}",
        venv.display()
    );
    if !python.is_file() {
        output(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    }
    output(
        Command::new(&python)
            .args(["-m", "pip", "install", "--quiet"])
            .args(["--disable-pip-version-check", SDK_REQUIREMENT]),
    )?;
    Ok(python)
}
