//! Zero cost when off: with the `instrument` feature disabled, this crate's
//! build graph does not contain premix-instrument at all (so the attribute
//! cannot be there either). Checked with `cargo tree`, both ways, so that the
//! test fails if the feature wiring breaks in either direction.

use std::process::Command;

fn normal_dependencies(features: &[&str]) -> String {
    let output = Command::new(env!("CARGO"))
        .args(["tree", "--offline", "--edges", "normal", "--prefix", "none"])
        .args(["--package", env!("CARGO_PKG_NAME")])
        .args(features)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

#[test]
fn without_the_feature_premix_instrument_is_not_a_dependency() {
    let off = normal_dependencies(&["--no-default-features"]);
    assert!(off.contains("sqlx"), "unexpected tree:\n{off}");
    assert!(
        !off.contains("premix-instrument"),
        "still depends on it:\n{off}"
    );

    let on = normal_dependencies(&["--features", "instrument"]);
    assert!(
        on.contains("premix-instrument v"),
        "feature wiring broken:\n{on}"
    );
    assert!(on.contains("premix-instrument-macros v"), "{on}");
}
