//! The **Architecture Invariant** lines of `ARCHITECTURE.md` that a command
//! can check, checked with `cargo tree` on the resolved dependency graph.

use std::process::Command;

use crate::util::{cargo, output};

/// One invariant: in the normal (non-dev) dependencies of `package` with
/// `features`, none of `forbidden` appears.
struct Invariant {
    says: &'static str,
    package: &'static str,
    features: &'static [&'static str],
    forbidden: &'static [&'static str],
}

/// Every invariant `cargo xtask invariants` checks, in the order checked.
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

/// Checks every invariant; the first broken one is the error.
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

/// `cargo tree` of `package`'s normal dependencies, one crate a line.
fn normal_tree(package: &str, features: &[&str]) -> Result<String, String> {
    output(
        Command::new(cargo())
            .args(["tree", "--locked", "--edges", "normal", "--prefix", "none"])
            .args(["--package", package])
            .args(features),
    )
}
