//! Prometheus for the end-to-end dashboard test: Debian's `prometheus`
//! package (which brings `promtool`), installed with apt when missing.

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

/// Makes sure `prometheus` and `promtool` are on PATH.
pub(crate) fn ensure_installed() -> Result<(), String> {
    if on_path("prometheus") && on_path("promtool") {
        return Ok(());
    }
    println!("xtask: installing Prometheus from Debian's packages");
    apt_get(&["update", "-qq"])?;
    apt_get(&[
        "install",
        "-y",
        "-qq",
        "--no-install-recommends",
        "prometheus",
    ])?;
    if on_path("prometheus") && on_path("promtool") {
        Ok(())
    } else {
        Err("the prometheus package installed no prometheus/promtool on PATH".into())
    }
}
