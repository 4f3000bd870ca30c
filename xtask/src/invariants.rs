//! The **Architecture Invariant** lines of `ARCHITECTURE.md` that a command
//! can check, checked with `cargo tree` on the resolved dependency graph.

use std::process::Command;

/// One invariant: in the normal (non-dev) dependencies of `package` with
/// `features`, none of `forbidden` appears.
struct Invariant {
    says: &'static str,
    package: &'static str,
    features: &'static [&'static str],
    forbidden: &'static [&'static str],
}

const INVARIANTS: &[Invariant] = &[
    Invariant {
        says: "the macro crate never depends on sqlx or on its runtime crate",
        package: "premix-instrument-macros",
        features: &[],
        forbidden: &["sqlx", "premix-instrument v", "metrics"],
    },
    Invariant {
        says: "the runtime's core pulls in no exporter, profiler or database",
        package: "premix-instrument",
        features: &[],
        forbidden: &[
            "sqlx",
            "metrics-exporter-prometheus",
            "dhat",
            "hyper",
            "tokio",
        ],
    },
    Invariant {
        says: "the ORM fork without `instrument` does not depend on premix-instrument",
        package: "premix-orm-fork",
        features: &[],
        forbidden: &["premix-instrument"],
    },
    Invariant {
        says: "the fork's derive crate never depends on sqlx or on the fork",
        package: "premix-orm-fork-macros",
        features: &[],
        forbidden: &["sqlx", "premix-orm-fork v", "premix-instrument"],
    },
    Invariant {
        says: "an app built without `instrument` does not depend on premix-instrument",
        package: "quickstart",
        features: &["--no-default-features"],
        forbidden: &["premix-instrument"],
    },
    Invariant {
        says: "the example service built without `instrument` does not depend on premix-instrument",
        package: "service",
        features: &["--no-default-features"],
        forbidden: &["premix-instrument"],
    },
];

pub(crate) fn check() -> Result<(), String> {
    for invariant in INVARIANTS {
        let tree = normal_tree(invariant.package, invariant.features)?;
        let broken: Vec<_> = invariant
            .forbidden
            .iter()
            .filter(|name| {
                tree.lines()
                    .skip(1) // the package itself
                    .any(|line| line.starts_with(*name))
            })
            .collect();
        if !broken.is_empty() {
            return Err(format!(
                "architecture invariant broken: {} ({} depends on {broken:?}); \
                 see ARCHITECTURE.md",
                invariant.says, invariant.package
            ));
        }
        println!("xtask: invariant holds: {}", invariant.says);
    }
    Ok(())
}

fn normal_tree(package: &str, features: &[&str]) -> Result<String, String> {
    let cargo = crate::cargo();
    let output = Command::new(&cargo)
        .args(["tree", "--locked", "--edges", "normal", "--prefix", "none"])
        .args(["--package", package])
        .args(features)
        .output()
        .map_err(|e| format!("could not run {cargo} tree: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo tree -p {package} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    String::from_utf8(output.stdout).map_err(|e| e.to_string())
}
