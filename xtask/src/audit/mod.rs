//! `cargo xtask audit`: regenerates the zero-overhead audit, the benchmark
//! results and the summary from fresh measurements, in order:
//!
//! 1. tooling: finds or installs cargo-expand, cargo-bloat and sqlx-cli, and
//!    checks for valgrind and nm;
//! 2. `cargo expand` of the ORM code paths (`expand.rs`);
//! 3. `cargo bloat` with and without `instrument`, and the bench binary's
//!    symbols (`bloat.rs`);
//! 4. every bench, as `cargo xtask bench` runs them (`../bench.rs`);
//! 5. build timing: `cargo xtask prepare --measure` (skipped with
//!    `--reuse-build-timing`, which keeps `benches/results/build_timing.json`);
//! 6. the summary (`summary.rs`, `findings.rs`) and the documents
//!    (`render.rs`).
//!
//! `--budget-minutes N` (default 60) bounds the run: a step that would start
//! after the budget has run out is refused, and nothing is rendered.

mod bloat;
mod expand;
mod findings;
mod render;
mod summary;

use std::process::Command;
use std::time::Duration;

use crate::bench::{self, Progress, pretty, results_dir, workspace_root, write};
use crate::{prepare, tools};

/// How `cargo xtask audit` runs (its flags).
pub(crate) struct Options {
    /// A step that would start after this many minutes is refused.
    pub(crate) budget_minutes: u64,
    /// Keep `benches/results/build_timing.json` instead of timing builds.
    pub(crate) reuse_build_timing: bool,
}

/// A program the audit runs that cargo cannot install.
fn require(program: &str, arg: &str, how: &str) -> Result<(), String> {
    let found = Command::new(program)
        .arg(arg)
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        println!("xtask: found {program}");
        Ok(())
    } else {
        Err(format!("{program} is missing: {how}"))
    }
}

pub(crate) fn run(options: Options) -> Result<(), String> {
    let Options {
        budget_minutes: budget,
        reuse_build_timing,
    } = options;
    let mut progress = Progress::new(5 + bench::STEPS, Some(Duration::from_secs(budget * 60)));

    progress.step("tooling check")?;
    write(
        &results_dir().join("audit_run.json"),
        &pretty(&summary::header()),
    )?;
    let missing: Vec<String> = [&tools::CARGO_EXPAND, &tools::CARGO_BLOAT, &tools::SQLX_CLI]
        .into_iter()
        .filter_map(|tool| tools::ensure(tool).err())
        .chain(require("valgrind", "--version", "apt-get install valgrind").err())
        .chain(require("nm", "--version", "apt-get install binutils").err())
        .collect();
    if !missing.is_empty() {
        return Err(format!("missing tools:\n  {}", missing.join("\n  ")));
    }

    progress.step("cargo expand: the generated code of find_by_id, all and eager load")?;
    expand::run()?;
    progress.step("cargo bloat: the quickstart with and without instrument; symbols")?;
    bloat::run()?;
    bench::run_all(false, &mut progress)?;
    progress.step("build timing: cargo sqlx prepare with and without its profile; instrument")?;
    if reuse_build_timing {
        println!("xtask: --reuse-build-timing: keeping benches/results/build_timing.json");
    } else {
        prepare::run_prepare(true)?;
    }
    progress.step("summarize and render the documents")?;
    summarize()?;
    progress.finish();
    Ok(())
}

/// Builds the summary from the result files in `benches/results/` and
/// renders the documents from it; alone (`cargo xtask audit
/// --summarize-only`) it measures nothing, for a change to the summary or
/// the renderer.
pub(crate) fn summarize() -> Result<(), String> {
    let summary = summary::build()?;
    write(&results_dir().join("summary.json"), &pretty(&summary))?;
    write(&results_dir().join("summary.csv"), &summary::csv(&summary))?;
    for (path, text) in render::documents(&summary) {
        write(&workspace_root().join(path), &text)?;
        println!("xtask: wrote {path}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn committed_summary() -> serde_json::Value {
        bench::read_json(&results_dir().join("summary.json")).expect("summary.json is committed")
    }

    #[test]
    fn documents_are_rendered_from_the_committed_summary() {
        for (path, text) in render::documents(&committed_summary()) {
            let committed = std::fs::read_to_string(workspace_root().join(path))
                .unwrap_or_else(|e| panic!("{path}: {e}"));
            assert!(
                committed == text,
                "{path} differs from what benches/results/summary.json renders to; run \
                 `cargo xtask audit` (or `--summarize-only` after a renderer change), don't edit it"
            );
        }
    }

    #[test]
    fn every_figure_in_the_documents_is_in_the_results() {
        let summary_text = std::fs::read_to_string(results_dir().join("summary.json")).unwrap();
        let known: std::collections::HashSet<String> =
            render::figures(&summary_text).into_iter().collect();
        for (path, _) in render::documents(&committed_summary()) {
            let text = std::fs::read_to_string(workspace_root().join(path)).unwrap();
            let figures = render::figures(&text);
            assert!(figures.len() > 50, "{path}: only {} figures", figures.len());
            let missing: Vec<&String> = figures.iter().filter(|f| !known.contains(*f)).collect();
            assert!(
                missing.is_empty(),
                "{path} shows figures that are not in benches/results/summary.json: {missing:?}"
            );
        }
    }

    #[test]
    fn figures_are_read_as_a_reader_sees_them() {
        assert_eq!(
            render::figures("eager_50x10 at 1.050x, F3, 8664 ns, 99.9%, v0.8, 1.0.9-alpha, x:42."),
            ["1.05", "8664", "99.9", "1.0.9", "42"]
        );
    }

    #[test]
    fn a_figure_not_in_the_results_is_caught() {
        let summary = committed_summary();
        let summary_text = pretty(&summary);
        let known: std::collections::HashSet<String> =
            render::figures(&summary_text).into_iter().collect();
        let (_, mut text) = render::documents(&summary).remove(2);
        text.push_str("\nA typed figure: 123456.789\n");
        let missing: Vec<String> = render::figures(&text)
            .into_iter()
            .filter(|f| !known.contains(f))
            .collect();
        assert_eq!(missing, ["123456.789"]);
    }
}
