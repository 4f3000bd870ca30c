//! Step 2 of the audit: `cargo expand` of what runs for find_by_id, a
//! builder select (`all`) and an eager load: the fork's derive output and
//! its library operations (with `instrument` off and on), the published
//! premix-orm's derive output on the same models, and the hand-written raw
//! sqlx reference (`benches/benches/common/models.rs`, module `raw`).
//! Saved under `docs/audits/expanded/` as `*.rs.txt` (Rust to read, not a
//! source for tools that walk the tree); counted into
//! `benches/results/expand.json` for the point-by-point comparison.

use std::process::Command;

use serde_json::{Value, json};

use crate::bench::{pretty, results_dir, workspace_root, write};

/// One expansion: what it shows, and the cargo arguments that select it.
struct Expansion {
    file: &'static str,
    what: &'static str,
    args: &'static [&'static str],
}

#[rustfmt::skip]
const EXPANSIONS: &[Expansion] = &[
    Expansion { file: "fork_models.rs.txt", what: "the fork's #[derive(Model)] on the bench's User and Post", args: &["-p", "premix-benches", "--bench", "orm_compare", "models::ours"] },
    Expansion { file: "premix_models.rs.txt", what: "published premix-orm 1.0.9-alpha's #[derive(Model)] on the same models", args: &["-p", "premix-benches", "--bench", "orm_compare", "models::published"] },
    Expansion { file: "sqlx_reference.rs.txt", what: "hand-written raw sqlx: FromRow, query_as! find by id and first N, two-query eager load", args: &["-p", "premix-benches", "--bench", "orm_compare", "models::raw"] },
    Expansion { file: "fork_find_by_id.rs.txt", what: "the fork's find_by_id (library, instrument off)", args: &["-p", "premix-orm-fork", "--lib", "ops::find_by_id_as"] },
    Expansion { file: "fork_find_by_id_instrument.rs.txt", what: "the fork's find_by_id with instrument on", args: &["-p", "premix-orm-fork", "--lib", "--features", "instrument", "ops::find_by_id_as"] },
    Expansion { file: "fork_select.rs.txt", what: "the fork's builder select, behind all() (instrument off)", args: &["-p", "premix-orm-fork", "--lib", "query::select::select"] },
    Expansion { file: "fork_select_instrument.rs.txt", what: "the fork's builder select with instrument on", args: &["-p", "premix-orm-fork", "--lib", "--features", "instrument", "query::select::select"] },
    Expansion { file: "fork_eager.rs.txt", what: "the fork's eager has-many load (instrument off)", args: &["-p", "premix-orm-fork", "--lib", "eager::load_has_many_as"] },
    Expansion { file: "fork_eager_instrument.rs.txt", what: "the fork's eager has-many load with instrument on", args: &["-p", "premix-orm-fork", "--lib", "--features", "instrument", "eager::load_has_many_as"] },
];

/// What the comparison counts in each expansion: each a needle and what
/// finding it means.
pub(crate) const INDICATORS: &[(&str, &str)] = &[
    ("dyn ", "trait objects (dynamic dispatch)"),
    (
        "Box::pin",
        "boxed futures (an allocation and dynamic dispatch per call)",
    ),
    ("fmt::format(", "strings formatted at run time (format!)"),
    (".clone()", "clones"),
    ("try_get(\"", "columns decoded by name"),
    ("premix_instrument", "references to the instrumentation"),
];

fn count(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

/// The body of the first `fn <name>` in `text` (to its matching brace).
pub(crate) fn function_body<'t>(text: &'t str, name: &str) -> Option<&'t str> {
    let start = text.find(&format!("fn {name}"))?;
    let open = start + text[start..].find('{')?;
    let mut depth = 0usize;
    for (i, c) in text[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&text[start..=open + i]);
                }
            }
            _ => {}
        }
    }
    None
}

fn expand(expansion: &Expansion) -> Result<String, String> {
    let cargo = crate::cargo();
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace_root())
        .arg("expand")
        .args(expansion.args);
    let output = command
        .output()
        .map_err(|e| format!("could not run cargo expand: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo expand {} failed:\n{}",
            expansion.args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Counts of every indicator in `text`.
fn indicators(text: &str) -> Value {
    let mut counts = serde_json::Map::new();
    counts.insert("lines".into(), json!(text.lines().count()));
    for (needle, _) in INDICATORS {
        counts.insert((*needle).into(), json!(count(text, needle)));
    }
    Value::Object(counts)
}

/// Runs every expansion, saves it, and writes the counts.
pub(crate) fn run() -> Result<(), String> {
    let dir = workspace_root().join("docs/audits/expanded");
    let mut files = Vec::new();
    let mut texts = std::collections::HashMap::new();
    for expansion in EXPANSIONS {
        println!("xtask: cargo expand {}", expansion.args.join(" "));
        let text = expand(expansion)?;
        let command = format!("cargo expand {}", expansion.args.join(" "));
        let saved = format!(
            "// {}.\n// Generated by `cargo xtask audit` with `{command}`; do not edit.\n\n{text}",
            expansion.what
        );
        write(&dir.join(expansion.file), &saved)?;
        files.push(json!({
            "file": format!("docs/audits/expanded/{}", expansion.file),
            "what": expansion.what,
            "command": command,
            "counts": indicators(&text),
        }));
        texts.insert(expansion.file, text);
    }
    // The same three operations, side by side: the fork's library function,
    // premix's derive-generated method, the raw sqlx reference function.
    let body = |file: &str, name: &str| {
        texts
            .get(file)
            .and_then(|t| function_body(t, name))
            .map(indicators)
            .unwrap_or(Value::Null)
    };
    let operations = json!([
        {
            "operation": "find_by_id",
            "fork": body("fork_find_by_id.rs.txt", "find_by_id_as"),
            "premix": body("premix_models.rs.txt", "find_by_id"),
            "sqlx": body("sqlx_reference.rs.txt", "find_by_id"),
        },
        {
            "operation": "all (builder select)",
            "fork": body("fork_select.rs.txt", "select"),
            "premix": body("premix_models.rs.txt", "find_in_pool"),
            "sqlx": body("sqlx_reference.rs.txt", "first_users"),
        },
        {
            "operation": "eager has-many load",
            "fork": body("fork_eager.rs.txt", "load_has_many_as"),
            "premix": body("premix_models.rs.txt", "eager_load"),
            "sqlx": body("sqlx_reference.rs.txt", "users_with_posts"),
        },
        {
            "operation": "row decoding",
            "fork": body("fork_models.rs.txt", "__decode"),
            "premix": body("premix_models.rs.txt", "from_row"),
            "sqlx": body("sqlx_reference.rs.txt", "from_row"),
        },
    ]);
    let doc = json!({"bench": "expand", "files": files, "operations": operations});
    write(&results_dir().join("expand.json"), &pretty(&doc))?;
    println!("xtask: wrote docs/audits/expanded/ and benches/results/expand.json");
    Ok(())
}
