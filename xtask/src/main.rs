//! Project chores, as `cargo xtask <task>` (the alias lives in
//! `.cargo/config.toml`). Plain Rust instead of shell scripts, so they run the
//! same wherever cargo does.
//!
//! - `test`: what the README and CI run. Checks the architecture invariants
//!   with `cargo tree`, then runs every test in the workspace.
//! - `invariants`: only the invariant checks.

mod invariants;

use std::process::{Command, ExitCode};

const USAGE: &str = "usage: cargo xtask <task>

tasks:
  test         check architecture invariants, then run the whole test suite
  invariants   check architecture invariants only";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => invariants::check().and_then(|()| test(&args[1..])),
        Some("invariants") => invariants::check(),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown task `{other}`\n\n{USAGE}")),
        None => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the workspace's tests; extra arguments go to `cargo test`.
fn test(extra: &[String]) -> Result<(), String> {
    cargo(&["test", "--workspace", "--locked"], extra)
}

/// Runs cargo (the one running this xtask) with `args` and `extra`.
pub(crate) fn cargo(args: &[&str], extra: &[String]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    println!("xtask: cargo {} {}", args.join(" "), extra.join(" "));
    let status = Command::new(&cargo)
        .args(args)
        .args(extra)
        .status()
        .map_err(|e| format!("could not run {cargo}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo {} failed ({status})", args.join(" ")))
    }
}
