//! The Grafana foundation SDK (PyPI `grafana-foundation-sdk`, pinned in
//! `fleet::grafana::SDK_REQUIREMENT`) in a virtualenv of the repo's own
//! under `target/tools/`, created and filled with pip when missing, so the
//! fleet test can read the dashboard with Grafana's own model.

use std::path::PathBuf;
use std::process::Command;

fn venv() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| crate::dashboards::root().join("target"), PathBuf::from);
    target.join("tools/grafana-sdk")
}

fn run(command: &mut Command) -> Result<(), String> {
    let output = command
        .output()
        .map_err(|e| format!("could not run {command:?}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// The venv's Python, with the pinned SDK importable.
pub(crate) fn ensure_installed() -> Result<PathBuf, String> {
    let venv = venv();
    let python = venv.join("bin/python");
    let (_, pinned) = fleet::grafana::SDK_REQUIREMENT
        .split_once("==")
        .ok_or("SDK_REQUIREMENT is name==version")?;
    let installed = Command::new(&python)
        .args([
            "-c",
            "import importlib.metadata as m, grafana_foundation_sdk; print(m.version('grafana-foundation-sdk'))",
        ])
        .output()
        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).trim() == pinned);
    if installed {
        return Ok(python);
    }
    println!(
        "xtask: installing {} into {}",
        fleet::grafana::SDK_REQUIREMENT,
        venv.display()
    );
    if !python.is_file() {
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    }
    run(Command::new(&python).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        fleet::grafana::SDK_REQUIREMENT,
    ]))?;
    Ok(python)
}
