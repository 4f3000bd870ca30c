//! `cargo xtask prepare`: regenerates the `query!`/`query_as!` offline data
//! (`benches/.sqlx`, committed; builds read it because `.cargo/config.toml`
//! sets `SQLX_OFFLINE=true`) with `cargo sqlx prepare`, against a throwaway
//! SQLite database made from `benches/migrations`, building with the
//! `sqlx-prepare` profile.
//!
//! `--measure`: also times a prepare from a clean target directory three
//! times with the profile and three times without (the dev profile), and a
//! clean build of the fork with and without `instrument`, three times each;
//! medians go to `benches/results/build_timing.json`.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use serde_json::json;

use crate::tools;
use crate::util::{cargo, pretty, results_dir, run, workspace_root, write};

/// Timed runs of each side with `--measure`.
const RUNS: usize = 3;

/// A fresh SQLite database with the bench schema; returns its URL.
fn throwaway_database(dir: &Path) -> Result<String, String> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let url = format!("sqlite:{}", dir.join("prepare.db").display());
    run(Command::new("sqlx").args(["database", "create", "--database-url", &url]))?;
    run(Command::new("sqlx")
        .args(["migrate", "run", "--database-url", &url, "--source"])
        .arg(workspace_root().join("benches/migrations")))?;
    Ok(url)
}

/// `cargo sqlx prepare` for the bench crate; `profile` None = dev. Returns
/// the seconds it took.
fn prepare(url: &str, profile: Option<&str>, target_dir: Option<&Path>) -> Result<f64, String> {
    let mut command = Command::new(cargo());
    command
        .current_dir(workspace_root().join("benches"))
        .args(["sqlx", "prepare", "--", "--benches", "--locked"])
        .env("DATABASE_URL", url)
        .env("SQLX_OFFLINE", "false");
    if let Some(profile) = profile {
        command.args(["--profile", profile]);
    }
    if let Some(dir) = target_dir {
        command.env("CARGO_TARGET_DIR", dir);
    }
    let start = Instant::now();
    run(&mut command)?;
    Ok(start.elapsed().as_secs_f64())
}

/// The middle value (`RUNS` is odd).
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Times `step(with)` for `with` true and false, `RUNS` times each,
/// alternating which goes first so drift on a shared machine hits both
/// alike; each run starts from an empty `target`. Returns (with, without).
fn alternate(
    target: &Path,
    mut step: impl FnMut(bool) -> Result<(), String>,
) -> Result<(Vec<f64>, Vec<f64>), String> {
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for round in 0..RUNS {
        for flag in [round % 2 == 0, round % 2 != 0] {
            let _ = std::fs::remove_dir_all(target);
            let start = Instant::now();
            step(flag)?;
            let seconds = start.elapsed().as_secs_f64();
            if flag { &mut with } else { &mut without }.push(seconds);
        }
    }
    let _ = std::fs::remove_dir_all(target);
    Ok((with, without))
}

/// Regenerates `benches/.sqlx`; with `measure`, then times the builds.
pub(crate) fn run_prepare(measure: bool) -> Result<(), String> {
    tools::ensure(&tools::SQLX_CLI)?;
    let dir = std::env::temp_dir().join(format!("premix-prepare-{}", std::process::id()));
    let url = throwaway_database(&dir)?;
    let seconds = prepare(&url, Some("sqlx-prepare"), None)?;
    println!("xtask: benches/.sqlx regenerated in {seconds:.1} s");
    if measure {
        measure_builds(&url)?;
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Times prepares and the fork's builds (see the module docs) and writes
/// `benches/results/build_timing.json`.
fn measure_builds(url: &str) -> Result<(), String> {
    let target = workspace_root().join("target/build-timing");
    let (with_profile, dev) = alternate(&target, |use_profile| {
        let profile = use_profile.then_some("sqlx-prepare");
        println!(
            "xtask: timing cargo sqlx prepare, profile {}",
            profile.unwrap_or("dev")
        );
        prepare(url, profile, Some(&target)).map(drop)
    })?;
    let (instrumented, plain) = alternate(&target, |instrument| {
        println!("xtask: timing a clean build of the fork, instrument {instrument}");
        let mut command = Command::new(cargo());
        command
            .args(["build", "--locked", "-p", "premix-orm-fork"])
            .env("CARGO_TARGET_DIR", &target);
        if instrument {
            command.args(["--features", "instrument"]);
        }
        run(&mut command)
    })?;
    let doc = json!({
        "bench": "build_timing",
        "runs": RUNS,
        "sqlx_prepare": {
            "command": "cargo sqlx prepare -- --benches --locked [--profile sqlx-prepare], clean target directory",
            "sqlx_prepare_profile_seconds": with_profile,
            "dev_profile_seconds": dev,
            "sqlx_prepare_profile_median_seconds": median(with_profile.clone()),
            "dev_profile_median_seconds": median(dev.clone()),
        },
        "instrument_feature": {
            "command": "cargo build --locked -p premix-orm-fork [--features instrument], dev profile, clean target directory",
            "without_seconds": plain,
            "with_seconds": instrumented,
            "without_median_seconds": median(plain.clone()),
            "with_median_seconds": median(instrumented.clone()),
        },
    });
    write(&results_dir().join("build_timing.json"), &pretty(&doc))?;
    println!("xtask: wrote benches/results/build_timing.json");
    Ok(())
}
