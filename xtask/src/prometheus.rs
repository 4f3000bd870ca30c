//! The servers the end-to-end tests and the fleet run, from Debian's
//! packages, installed with apt when missing: `prometheus` (which brings
//! `promtool`) and `victoria-metrics` (the single-node store a fleet
//! remote-writes to). The packages' own services are not started (there is
//! no init system here, and their postinst leaves them stopped); the tests
//! start their own, on 127.0.0.1.

use std::process::Command;

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|dir| dir.join(tool).is_file()))
}

fn apt_get(args: &[&str]) -> Result<(), String> {
    let status = Command::new("apt-get")
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .map_err(|e| format!("could not run apt-get: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("apt-get {} failed ({status})", args.join(" ")))
    }
}

/// Makes sure every one of `tools` is on PATH, installing Debian's
/// `package` when one is missing.
fn ensure_package(package: &str, tools: &[&str]) -> Result<(), String> {
    if tools.iter().all(|t| on_path(t)) {
        return Ok(());
    }
    println!("xtask: installing {package} from Debian's packages");
    apt_get(&["update", "-qq"])?;
    apt_get(&["install", "-y", "-qq", "--no-install-recommends", package])?;
    match tools.iter().find(|t| !on_path(t)) {
        None => Ok(()),
        Some(missing) => Err(format!(
            "the {package} package installed no {missing} on PATH"
        )),
    }
}

/// Makes sure `prometheus` and `promtool` are on PATH.
pub(crate) fn ensure_installed() -> Result<(), String> {
    ensure_package("prometheus", &["prometheus", "promtool"])
}

/// Makes sure `victoria-metrics` is on PATH.
pub(crate) fn ensure_victoria_metrics() -> Result<(), String> {
    ensure_package("victoria-metrics", &["victoria-metrics"])
}
