//! The dashboard read by Grafana's own dashboard model, offline: Grafana
//! itself is not installable here, but Grafana Labs publishes that model as
//! the Grafana Foundation SDK (`grafana-foundation-sdk` on PyPI), generated
//! from the same schema Grafana reads dashboards with. `grafana_check.py`
//! reads the file with it and lists what the model does not accept.

use std::path::Path;
use std::process::Command;

use serde::Deserialize;

/// The pinned SDK: the build for Grafana 11.6 (the package's versions are
/// `EPOCH!GRAFANA_VERSION`).
pub const SDK_REQUIREMENT: &str = "grafana-foundation-sdk==1769699379!11.6.0";

/// What the model made of a dashboard.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct DashboardCheck {
    /// Panels read.
    pub panels: usize,
    /// Queries read.
    pub targets: usize,
    /// Template variables read.
    pub variables: usize,
    /// What the model did not accept; empty when it read everything.
    pub problems: Vec<String>,
}

/// Reads `dashboard` with the SDK installed for `python` (a venv's
/// interpreter).
///
/// # Errors
/// The interpreter cannot run the script, or the script printed no report.
pub fn check_dashboard(python: &Path, dashboard: &Path) -> Result<DashboardCheck, String> {
    let output = Command::new(python)
        .arg("-c")
        .arg(include_str!("grafana_check.py"))
        .arg(dashboard)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    if !output.status.success() {
        return Err(format!(
            "{} failed ({}): {}",
            python.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| {
        format!(
            "the check printed no report ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}
