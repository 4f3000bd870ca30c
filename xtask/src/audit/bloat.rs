//! Step 3 of the audit: binary size. `cargo bloat` on the quickstart
//! (release), every crate and the ORM's largest functions, with `instrument` on (its
//! default) and off; and the symbols of the orm_compare bench binary, where
//! the fork and the published premix-orm are linked side by side, read with
//! `nm`: how many monomorphised functions each crate contributes and their
//! size (static dispatch shows as one instance per model and backend).
//! Written to `benches/results/bloat.json`.

use std::process::Command;

use serde_json::{Value, json};

use crate::util::{cargo, output, pretty, results_dir, workspace_root, write};

/// ORM functions listed.
const TOP_FUNCTIONS: usize = 15;

/// `cargo bloat` of the quickstart with `args`: its JSON report.
fn cargo_bloat(args: &[&str]) -> Result<Value, String> {
    let mut command = Command::new(cargo());
    command.current_dir(workspace_root());
    command.args([
        "bloat",
        "--release",
        "-p",
        "quickstart",
        "--message-format",
        "json",
    ]);
    let stdout = output(command.args(args))?;
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .ok_or("cargo bloat printed no JSON")?;
    serde_json::from_str(line).map_err(|e| format!("cargo bloat's JSON: {e}"))
}

/// Sizes, top crates and the ORM's largest functions for one build.
fn quickstart(features: &[&str]) -> Result<Value, String> {
    // Every crate (`-n 0`), so the two builds can be compared crate by crate.
    let crates = cargo_bloat(&[features, &["--crates", "-n", "0"]].concat())?;
    let n = TOP_FUNCTIONS.to_string();
    let functions = cargo_bloat(&[features, &["-n", &n, "--filter", "premix"]].concat())?;
    Ok(json!({
        "file_size": crates["file-size"],
        "text_section_size": crates["text-section-size"],
        "crates": crates["crates"],
        "orm_functions": functions["functions"],
    }))
}

/// Count and total size of the symbols whose name contains each needle.
fn symbols(exe: &std::path::Path) -> Result<Value, String> {
    let text = output(
        Command::new("nm")
            .args(["-C", "--print-size", "--defined-only"])
            .arg(exe),
    )?;
    let mut out = Vec::new();
    for (label, needle) in [
        ("premix-orm-fork", "premix_orm_fork::"),
        ("premix-orm 1.0.9-alpha (premix_core)", "premix_core::"),
        ("sea-orm", "sea_orm::"),
        ("sqlx-core", "sqlx_core::"),
    ] {
        let (mut count, mut bytes) = (0u64, 0u64);
        // `address size kind name`; text symbols are of kind t or T.
        for line in text.lines() {
            let fields: Vec<&str> = line.splitn(4, ' ').collect();
            if let [_, size, "t" | "T", name] = fields[..]
                && name.contains(needle)
            {
                count += 1;
                bytes += u64::from_str_radix(size, 16).unwrap_or(0);
            }
        }
        out.push(json!({"crate": label, "functions": count, "bytes": bytes}));
    }
    Ok(Value::Array(out))
}

/// Measures both builds and the bench binary's symbols; writes `bloat.json`.
pub(crate) fn run() -> Result<(), String> {
    println!("xtask: cargo bloat on the quickstart, instrument on");
    let on = quickstart(&[])?;
    println!("xtask: cargo bloat on the quickstart, instrument off");
    let off = quickstart(&["--no-default-features"])?;
    let delta = |key: &str| on[key].as_i64().unwrap_or(0) - off[key].as_i64().unwrap_or(0);
    let exe = crate::callgrind::executable(&[])?;
    let doc = json!({
        "bench": "bloat",
        "quickstart": {
            "command": "cargo bloat --release -p quickstart [--no-default-features] --crates / -n N --filter premix",
            "instrument_on": on,
            "instrument_off": off,
            "file_size_delta": delta("file_size"),
            "text_section_size_delta": delta("text_section_size"),
        },
        "bench_binary_symbols": {
            "command": "nm -C --print-size --defined-only <orm_compare bench binary>, text symbols",
            "crates": symbols(&exe)?,
        },
    });
    write(&results_dir().join("bloat.json"), &pretty(&doc))?;
    println!("xtask: wrote benches/results/bloat.json");
    Ok(())
}
