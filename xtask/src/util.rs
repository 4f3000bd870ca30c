//! What every chore shares: where the workspace, its results and cargo are,
//! running a command, reading and writing result files, the template engine
//! of the generated Markdown, and the numbered steps of a long run. Every other module may use this one and it uses
//! none of them, so the modules form no cycle.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde_json::Value;

/// The cargo running this xtask (`CARGO`), or `cargo` from PATH.
pub(crate) fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// The workspace's root directory.
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_owned()
}

/// Where the benches and the audit write: `benches/results`.
pub(crate) fn results_dir() -> PathBuf {
    workspace_root().join("benches/results")
}

/// Runs `command` with the terminal as its output.
pub(crate) fn run(command: &mut Command) -> Result<(), String> {
    let status = command
        .status()
        .map_err(|e| format!("could not run {command:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} failed ({status})"))
    }
}

/// Runs `command` quietly and returns its stdout; on failure the error
/// carries everything it printed.
pub(crate) fn output(command: &mut Command) -> Result<String, String> {
    let output = command
        .output()
        .map_err(|e| format!("could not run {command:?}: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if output.status.success() {
        Ok(stdout)
    } else {
        Err(format!(
            "{command:?} failed ({}):\n{stdout}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// A JSON value as text: a string without its quotes.
pub(crate) fn text(v: &Value) -> String {
    v.as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| v.to_string())
}

/// Reads a results file (written by `cargo xtask bench`) into `T`.
pub(crate) fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: {e} (run `cargo xtask bench` first)", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// A JSON value as a results file holds it: pretty, ending in a newline.
pub(crate) fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).expect("a JSON value prints") + "\n"
}

/// Writes `contents` to `path`, creating its directory.
pub(crate) fn write(path: &Path, contents: &str) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    std::fs::write(path, contents).map_err(|e| format!("{}: {e}", path.display()))
}

/// A template engine as every generated Markdown file uses it: a missing
/// value is an error, and a block tag's line leaves no blank line behind.
pub(crate) fn environment() -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_keep_trailing_newline(true);
    env
}

/// Prints a step heading with its number, and how long the previous took.
/// With a budget, a step that would start after it has run out is refused.
pub(crate) struct Progress {
    total: usize,
    done: usize,
    started: Instant,
    step: Instant,
    budget: Option<Duration>,
}

impl Progress {
    /// A run of `total` steps, within `budget` if given.
    pub(crate) fn new(total: usize, budget: Option<Duration>) -> Self {
        Self {
            total,
            done: 0,
            started: Instant::now(),
            step: Instant::now(),
            budget,
        }
    }

    /// Starts the next step, `what`; refused once the budget has run out.
    pub(crate) fn step(&mut self, what: &str) -> Result<(), String> {
        if let Some(budget) = self.budget
            && self.started.elapsed() > budget
        {
            return Err(format!(
                "the time budget ({:.0} min) ran out before step {} of {} ({what}); \
                 the documents were not regenerated",
                budget.as_secs_f64() / 60.0,
                self.done + 1,
                self.total
            ));
        }
        if self.done > 0 {
            println!(
                "xtask: step {} took {:.0} s",
                self.done,
                self.step.elapsed().as_secs_f64()
            );
        }
        self.done += 1;
        self.step = Instant::now();
        println!(
            "\nxtask: [{}/{}] {what} ({:.0} s elapsed)",
            self.done,
            self.total,
            self.started.elapsed().as_secs_f64()
        );
        Ok(())
    }

    /// Prints how long the last step and the whole run took.
    pub(crate) fn finish(&self) {
        println!(
            "xtask: step {} took {:.0} s; all done in {:.0} s",
            self.done,
            self.step.elapsed().as_secs_f64(),
            self.started.elapsed().as_secs_f64()
        );
    }
}
