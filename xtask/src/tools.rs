//! The cargo subcommands the audit and `prepare` use, found on PATH or
//! installed from crates.io (pinned, `--locked`), with a clear message when
//! neither works.

use crate::cargo;
use std::process::Command;

/// A cargo subcommand and the crate that provides it.
pub(crate) struct Tool {
    /// As invoked: `cargo <subcommand>`.
    pub(crate) subcommand: &'static str,
    pub(crate) krate: &'static str,
    pub(crate) version: &'static str,
    /// Extra `cargo install` arguments (features).
    pub(crate) install_args: &'static [&'static str],
}

pub(crate) const SQLX_CLI: Tool = Tool {
    subcommand: "sqlx",
    krate: "sqlx-cli",
    // The CLI of the sqlx the workspace pins.
    version: "0.8.6",
    install_args: &["--no-default-features", "--features", "sqlite,rustls"],
};

pub(crate) const CARGO_EXPAND: Tool = Tool {
    subcommand: "expand",
    krate: "cargo-expand",
    version: "1.0.127",
    install_args: &[],
};

pub(crate) const CARGO_BLOAT: Tool = Tool {
    subcommand: "bloat",
    krate: "cargo-bloat",
    version: "0.12.1",
    install_args: &[],
};

/// The tool's version line, if `cargo <subcommand> --version` works.
fn installed(tool: &Tool) -> Option<String> {
    let output = Command::new(cargo())
        .args([tool.subcommand, "--version"])
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
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
    let status = Command::new(cargo())
        .args(["install", "--locked", tool.krate, "--version", tool.version])
        .args(tool.install_args)
        .status()
        .map_err(|e| format!("could not run cargo install: {e}"))?;
    match (status.success(), installed(tool)) {
        (true, Some(version)) => Ok(version),
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
