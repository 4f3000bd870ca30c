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
//! 6. the summary (`collect.rs` into `summary.rs`'s types), the verdicts
//!    (`findings.rs`, against `thresholds.rs`) and the documents (`render.rs`
//!    and `xtask/templates/`).
//!
//! `--budget-minutes N` (default 60) bounds the run: a step that would start
//! after the budget has run out is refused, and nothing is rendered.

mod bloat;
mod collect;
mod expand;
mod findings;
mod render;
mod summary;
mod thresholds;

use std::process::Command;
use std::time::Duration;

use crate::util::{Progress, output, pretty, results_dir, workspace_root, write};
use crate::{bench, prepare, tools};

/// The flags of `cargo xtask audit`: how a measuring run is bounded and
/// what it may reuse, or that it measures nothing.
#[derive(clap::Args)]
pub(crate) struct Options {
    /// Refuse to start a step once this many minutes have passed
    #[arg(long, value_name = "N", default_value_t = 60)]
    budget_minutes: u64,
    /// Keep benches/results/build_timing.json instead of timing builds again
    #[arg(long)]
    reuse_build_timing: bool,
    /// Measure nothing: rebuild the summary and documents from the results
    #[arg(long)]
    summarize_only: bool,
}

/// A program the audit runs that cargo cannot install.
fn require(program: &str, arg: &str, how: &str) -> Result<(), String> {
    output(Command::new(program).arg(arg))
        .map(|_| println!("xtask: found {program}"))
        .map_err(|_| format!("{program} is missing: {how}"))
}

/// Measures everything and regenerates the documents (see the module
/// docs); with `--summarize-only`, only the latter ([`summarize`]).
///
/// # Errors
/// A missing tool, a failed step, a step refused by the budget, or what
/// [`summarize`] returns.
pub(crate) fn run(options: Options) -> Result<(), String> {
    if options.summarize_only {
        return summarize();
    }
    let budget = Duration::from_secs(options.budget_minutes * 60);
    let mut progress = Progress::new(5 + bench::STEPS, Some(budget));

    progress.step("tooling check")?;
    let header = serde_json::to_string_pretty(&collect::header()).map_err(|e| e.to_string())?;
    write(&results_dir().join("audit_run.json"), &(header + "\n"))?;
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
    if options.reuse_build_timing {
        println!("xtask: --reuse-build-timing: keeping benches/results/build_timing.json");
    } else {
        prepare::run_prepare(true)?;
    }
    progress.step("summarize and render the documents")?;
    summarize()?;
    progress.finish();
    Ok(())
}

/// Builds the summary from the result files in `benches/results/`, decides
/// the verdicts and renders the documents from it; alone (`cargo xtask audit
/// --summarize-only`) it measures nothing, for a change to the summary, the
/// verdicts or the templates.
///
/// # Errors
/// A result file that is missing or malformed, a template error, or a
/// figure that is not the value of its field.
pub(crate) fn summarize() -> Result<(), String> {
    let mut summary = collect::build()?;
    findings::judge(&mut summary)?;
    let json = serde_json::to_value(&summary).map_err(|e| e.to_string())?;
    write(&results_dir().join("summary.json"), &pretty(&json))?;
    write(&results_dir().join("summary.csv"), &summary::csv(&summary))?;
    for document in render::documents(&summary)? {
        write(&workspace_root().join(document.path), &document.text)?;
        let figures = document.figures.len();
        println!(
            "xtask: wrote {} ({figures} figures, each its field's value)",
            document.path
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::render::{Figure, check, documents};
    use super::*;

    fn committed_summary() -> summary::Summary {
        let text = std::fs::read_to_string(results_dir().join("summary.json")).expect("committed");
        serde_json::from_str(&text).expect("summary.json has every field the documents read")
    }

    fn title(s: &summary::Summary, id: &str) -> String {
        let finding = s.findings.iter().find(|f| f.id == id).expect("finding");
        finding.title.clone()
    }

    #[test]
    fn documents_are_rendered_from_the_committed_summary() {
        for document in documents(&committed_summary()).expect("renders and checks") {
            let committed = std::fs::read_to_string(workspace_root().join(document.path))
                .unwrap_or_else(|e| panic!("{}: {e}", document.path));
            assert!(
                committed == document.text,
                "{} differs from what benches/results/summary.json renders to; run \
                 `cargo xtask audit` (or `--summarize-only` after a template change), don't edit it",
                document.path
            );
            let figures = document.figures.len();
            assert!(figures > 40, "{}: only {figures} figures", document.path);
        }
    }

    #[test]
    fn the_committed_verdicts_are_the_ones_the_data_gives() {
        let committed = committed_summary();
        let mut judged = committed.clone();
        findings::judge(&mut judged).expect("judges");
        for (was, is) in committed.findings.iter().zip(&judged.findings) {
            assert_eq!((&was.title, &was.text), (&is.title, &is.text));
        }
        for (was, is) in committed.optimizations.iter().zip(&judged.optimizations) {
            assert_eq!(was.status, is.status);
        }
    }

    #[test]
    fn the_fork_verdict_flips_when_the_fork_is_slower() {
        let mut summary = committed_summary();
        let set_fork_ratio = |s: &mut summary::Summary, ratio: fn(f64) -> f64| {
            for r in &mut s.orm_compare.rows {
                if r.run == "sqlite" && r.contender == "fork" {
                    r.wall_ratio = ratio(r.wall_ratio);
                }
            }
        };
        // The fork at or under raw sqlx's time everywhere: the favourable verdict.
        set_fork_ratio(&mut summary, |x| x.min(1.0));
        findings::judge(&mut summary).expect("judges");
        assert_eq!(
            title(&summary, "F2"),
            "The fork costs what raw sqlx costs on SQLite"
        );
        assert!(summary.optimizations[0].status.starts_with("not needed:"));
        // The fork 1.5x slower than raw sqlx: the title says so, with the figure.
        set_fork_ratio(&mut summary, |_| 1.5);
        findings::judge(&mut summary).expect("judges");
        let f2 = title(&summary, "F2");
        assert!(
            f2.starts_with("The fork costs more than raw sqlx in 10 of 10"),
            "{f2}"
        );
        assert!(f2.contains("1.500x"), "{f2}");
        // F3 and O1 follow the slowest scenario: with every ratio at 1.5x it
        // is one callgrind does not measure, so O1 is open again.
        assert_eq!(title(&summary, "F3"), "The fork's largest gap to raw sqlx");
        let o1 = &summary.optimizations[0];
        assert!(o1.status.starts_with("open:"), "{}", o1.status);
    }

    #[test]
    fn a_figure_rendered_from_the_wrong_field_is_caught() {
        let json = serde_json::to_value(committed_summary()).expect("serializes");
        let cg = &json["callgrind"];
        let figure = |path: &str, shown: String| Figure {
            path: path.to_owned(),
            shown,
        };
        let right = figure(
            "/callgrind/fork_minus_raw",
            cg["fork_minus_raw"].to_string(),
        );
        assert_eq!(check(&[right], &json), Ok(()));
        // The ratio printed where the difference's field is claimed.
        let wrong = figure("/callgrind/fork_minus_raw", cg["fork_over_raw"].to_string());
        assert!(check(&[wrong], &json).is_err());
        // Fewer decimals of the right field are the same figure.
        let ratio = cg["fork_over_raw"].as_f64().expect("a number");
        let rounded = figure("/callgrind/fork_over_raw", format!("{ratio:.1}"));
        assert_eq!(check(&[rounded], &json), Ok(()));
        let nowhere = figure("/callgrind/no_such_field", "1".to_owned());
        assert!(check(&[nowhere], &json).is_err());
    }

    #[test]
    fn a_changed_field_changes_its_figures_in_every_document() {
        let mut summary = committed_summary();
        summary.callgrind.fork_minus_raw = 123_456;
        let documents = documents(&summary).expect("renders and checks");
        let shown: Vec<&Figure> = documents
            .iter()
            .flat_map(|d| &d.figures)
            .filter(|f| f.path == "/callgrind/fork_minus_raw")
            .collect();
        assert!(shown.len() >= 2, "{shown:?}");
        assert!(
            shown
                .iter()
                .all(|f| f.shown.trim_start_matches('+') == "123456")
        );
    }
}
