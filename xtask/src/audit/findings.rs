//! The audit's findings and optimizations. Why split this way: the verdict
//! of each (which title, which status, which comparative word) is decided
//! here, from the measurements against [`THRESHOLDS`], so it flips when the
//! data does; the sentences live in `templates/findings.md.j2`, one macro
//! per title, text and status, and print only figures read from the summary.

use minijinja::Value;
use serde_json::{Value as Json, json};

use super::render::{check, context, environment, unmark};
use super::summary::{Finding, Optimization, OrmRow, Summary};
use super::thresholds::THRESHOLDS;

/// A finding's fixed facts: what measured it and which files it concerns.
#[rustfmt::skip]
const FINDINGS: [(&str, &str, &[&str]); 12] = [
    ("F1", "cargo expand (docs/audits/expanded/fork_*.rs.txt), cargo bloat on the quickstart", &["premix-orm-fork/src/ops.rs", "premix-orm-fork/src/query/select.rs", "premix-orm-fork/src/eager.rs"]),
    ("F2", "orm_compare (sqlite run), callgrind select_by_pk", &["premix-orm-fork/src/ops.rs", "premix-orm-fork/src/query/select.rs"]),
    ("F3", "orm_compare (sqlite run), callgrind (single-row scenarios), alloc_profile (dhat, ORM lines)", &["premix-orm-fork/src/executor.rs", "premix-orm-fork/src/ops.rs"]),
    ("F4", "orm_compare and orm_compare_pg (runs with instrument off and on), callgrind, instrument_overhead", &["premix-orm-fork/src/observe/statements.rs", "premix-orm-fork/src/executor.rs", "premix-instrument/src/scope.rs"]),
    ("F5", "orm_compare (sqlite run, raw_join contender)", &["benches/benches/common/models.rs", "premix-orm-fork/src/eager.rs"]),
    ("F6", "alloc_profile (dhat), orm_compare", &["premix-core-1.0.9-alpha/src/executor.rs", "benches/benches/common/fairness.rs"]),
    ("F7", "alloc_profile (dhat), orm_compare", &["premix-orm-fork/macros/src/model/expand.rs", "premix-orm-fork/src/query/select.rs"]),
    ("F8", "quickstart --json (premix-instrument counters)", &["premix-orm-fork/src/observe/statements.rs", "premix-orm-fork/src/eager.rs"]),
    ("F9", "orm_compare_pg", &["benches/benches/orm_compare_pg/main.rs"]),
    ("F10", "cargo xtask prepare --measure", &[".cargo/config.toml", "xtask/src/prepare.rs"]),
    ("F11", "cargo expand (docs/audits/expanded/)", &["premix-orm-fork/src/ops.rs", "premix-orm-fork/macros/src/model/expand.rs"]),
    ("F12", "orm_compare (prepared-statement policy check)", &["premix-core-1.0.9-alpha/src/query.rs", "premix-orm-fork/src/sql.rs"]),
];

/// An optimization's fixed facts: its proposal, the finding it answers and
/// its files; its text and status are template macros.
#[rustfmt::skip]
const OPTIMIZATIONS: [(&str, &str, &str, &[&str]); 4] = [
    ("O1", "Run single statements through the pool's executor when nothing needs the connection", "F3", &["premix-orm-fork/src/executor.rs", "premix-orm-fork/src/ops.rs"]),
    ("O2", "Count statement-cache lookups without the SQLite settle ping", "F4", &["premix-orm-fork/src/observe/statements.rs"]),
    ("O3", "Group eager children in a Vec up to the measured crossover", "F5", &["premix-orm-fork/src/eager.rs"]),
    ("O4", "Pad IN lists to powers of two and bind LIMIT/OFFSET", "F8", &["premix-orm-fork/src/sql.rs", "premix-orm-fork/src/eager.rs"]),
];

/// The index of an orm_compare row.
fn row(s: &Summary, run: &str, scenario: &str, contender: &str) -> Option<usize> {
    let wanted = |r: &OrmRow| r.run == run && r.scenario == scenario && r.contender == contender;
    s.orm_compare.rows.iter().position(wanted)
}

/// The index of a dhat profile.
fn profile(s: &Summary, side: &str, scenario: &str) -> Option<usize> {
    s.alloc
        .profiles
        .iter()
        .position(|p| p.side == side && p.scenario == scenario)
}

/// The first ORM line of a profile whose site or function contains `needle`,
/// as (profile, line) indices.
fn orm_line(s: &Summary, side: &str, scenario: &str, needle: &str) -> Option<(usize, usize)> {
    let p = profile(s, side, scenario)?;
    let lines = &s.alloc.profiles[p].orm_lines;
    let l = lines
        .iter()
        .position(|l| l.site.contains(needle) || l.function.contains(needle))?;
    Some((p, l))
}

/// What the verdicts are decided from, for the templates: row indices into
/// the summary (so every figure printed is read from its field), the
/// decisions, and the few counts derived here.
fn verdicts(s: &Summary) -> Result<Json, String> {
    let t = THRESHOLDS;
    let rows = &s.orm_compare.rows;
    let need = |found: Option<usize>, what: &str| found.ok_or(format!("summary: no {what}"));
    let sqlite_fork: Vec<usize> = (0..rows.len())
        .filter(|&i| rows[i].run == "sqlite" && rows[i].contender == "fork")
        .collect();
    let by_ratio = |a: &usize, b: &usize| rows[*a].wall_ratio.total_cmp(&rows[*b].wall_ratio);
    let worst = need(
        sqlite_fork.iter().copied().max_by(by_ratio),
        "sqlite fork row",
    )?;
    let best = sqlite_fork
        .iter()
        .copied()
        .min_by(by_ratio)
        .expect("one row at least");
    let worst_name = rows[worst].scenario.as_str();
    let raw_of = |i: usize| row(s, "sqlite", &rows[i].scenario, "raw");
    let mut fewer_blocks = 0;
    for &i in &sqlite_fork {
        fewer_blocks += usize::from(raw_of(i).is_some_and(|r| rows[i].blocks <= rows[r].blocks));
    }
    let over = sqlite_fork
        .iter()
        .filter(|&&i| rows[i].wall_ratio > t.fork_ratio_parity)
        .count();
    let cg_row = |scenario: &str, contender: &str| {
        s.callgrind
            .rows
            .iter()
            .position(|r| r.scenario == scenario && r.contender == contender)
    };
    let gap = s
        .callgrind
        .fork_minus_raw_by_scenario
        .iter()
        .position(|g| g.scenario == worst_name);
    let adds_none = gap
        .map(|g| &s.callgrind.fork_minus_raw_by_scenario[g])
        .is_some_and(|g| g.polling_thread <= 0 && g.all_threads <= 0);
    let control = if worst_name == "delete" {
        "update"
    } else {
        "delete"
    };
    let acquire = orm_line(s, "fork", worst_name, "executor.rs")
        .or_else(|| orm_line(s, "fork", "update", "executor.rs"));
    let refs = |instrumented: bool| -> u64 {
        let files = s.expand.files.iter().filter(|f| f.file.contains("/fork_"));
        let files = files.filter(|f| f.file.contains("_instrument") == instrumented);
        files
            .filter_map(|f| f.counts.get("premix_instrument"))
            .sum()
    };
    let cost = &s.instrument_cost;
    let cost_within = match (&cost.worst, &cost.most_blocks) {
        (Some(w), Some(b)) => {
            Some(w.on_over_off <= cost.time_target && b.extra_blocks <= cost.blocks_target)
        }
        _ => None,
    };
    let join = |sc: &str| need(row(s, "sqlite", sc, "raw_join"), "raw_join row");
    let (join_50, join_200) = (join("eager_50x10")?, join("eager_200x5")?);
    let join_slower = rows[join_50].wall_ratio.min(rows[join_200].wall_ratio) > t.join_parity;
    let (premix_pk, fork_pk) = (
        profile(s, "premix", "select_by_pk"),
        profile(s, "fork", "select_by_pk"),
    );
    let blocks = |p: Option<usize>| p.map_or(f64::NAN, |p| s.alloc.profiles[p].blocks_per_op);
    let premix_more = blocks(premix_pk) - blocks(fork_pk) >= t.premix_extra_blocks;
    let premix_top = premix_pk.and_then(|p| {
        let l = s.alloc.profiles[p]
            .orm_lines
            .iter()
            .position(|l| l.site.contains("premix-core"))?;
        Some((p, l))
    });
    let agreement = fork_pk.and_then(|p| {
        let p = &s.alloc.profiles[p];
        Some(p.charged_blocks_per_op? - p.blocks_per_op)
    });
    let decode = orm_line(s, "fork", "select_100", "__decode");
    let select_100 = profile(s, "fork", "select_100");
    let decode_dominates = match (decode, select_100) {
        (Some((p, l)), Some(_)) => {
            let p = &s.alloc.profiles[p];
            p.orm_lines[l].blocks_per_op / p.blocks_per_op > t.decode_share
        }
        _ => false,
    };
    let blocks_of = |contender: &str| {
        row(s, "sqlite", "select_100", contender).map_or(f64::NAN, |i| rows[i].blocks)
    };
    let cache = &s.cache;
    let lowest = (0..cache.ops.len())
        .filter(|&i| cache.ops[i].stmt_hit_pct.is_some())
        .min_by(|&a, &b| {
            cache.ops[a]
                .stmt_hit_pct
                .unwrap_or(0.0)
                .total_cmp(&cache.ops[b].stmt_hit_pct.unwrap_or(0.0))
        });
    let pg: Vec<Option<usize>> = ["pg_select_by_pk", "pg_insert", "pg_10_concurrent_selects"]
        .iter()
        .map(|sc| row(s, "postgres", sc, "fork"))
        .collect();
    let pg_raw = row(s, "postgres", "pg_select_by_pk", "raw");
    let pg_measured = pg.iter().all(Option::is_some) && pg_raw.is_some();
    let pg_hidden = pg
        .iter()
        .flatten()
        .all(|&i| rows[i].wall_ratio <= t.postgres_ratio_parity);
    let operation = |name: &str| s.expand.operations.iter().position(|o| o.operation == name);
    let find = need(operation("find_by_id"), "find_by_id expansion")?;
    let static_dispatch = s.expand.operations[find].fork.as_ref().is_some_and(|c| {
        c.get("dyn ").copied().unwrap_or(0) == 0 && c.get("fmt::format(").copied().unwrap_or(0) == 0
    });
    let paged = |contender: &str| {
        need(
            row(s, "sqlite", "paged_50x10", contender),
            "paged_50x10 row",
        )
    };
    let (paged_premix, paged_fork) = (paged("premix")?, paged("fork")?);
    let crossovers = &s.locality.sweep.crossovers;
    let crossover_index = crossovers.iter().position(|c| c.measure == "grouping_only");
    let crossover = crossover_index.map(|i| &crossovers[i]);
    let mut v = json!({
        "parity": t.fork_ratio_parity, "sqlite_fork": sqlite_fork.len(), "best": best,
        "worst": worst, "over": over, "fewer_blocks": fewer_blocks,
        "at_parity": rows[worst].wall_ratio <= t.fork_ratio_parity,
        "cg_fork": cg_row("select_by_pk", "fork"), "cg_raw": cg_row("select_by_pk", "raw"),
        "cg_worst_fork": cg_row(worst_name, "fork"), "cg_worst_raw": cg_row(worst_name, "raw"),
        "gap": gap, "adds_none": adds_none, "control": need(row(s, "sqlite", control, "fork"), "control row")?,
        "acquire": acquire, "refs_off": refs(false), "refs_on": refs(true),
        "deltas": s.bloat.crate_deltas.len().min(4),
        "off_smaller": s.bloat.file_delta_kib > 0.0, "off_text_smaller": s.bloat.text_delta_kib > 0.0,
        "instrument_adds": s.callgrind.instrument_on_minus_off > 0, "cost_within": cost_within,
        "time_over": cost.worst.as_ref().is_some_and(|w| w.on_over_off > cost.time_target),
    });
    let more = json!({
        "join_50": join_50, "join_200": join_200, "join_slower": join_slower,
        "premix_pk": premix_pk, "fork_pk": fork_pk, "premix_more": premix_more, "premix_top": premix_top,
        "premix_update": row(s, "sqlite", "update", "premix"),
        "agreement": agreement.map(|d| if d.abs() < 0.005 { "the same figure".to_owned() } else { format!("{d:+.2} blocks per op from dhat's") }),
        "decode": decode, "select_100": select_100, "decode_dominates": decode_dominates,
        "decode_share": t.decode_share * 100.0,
        "raw_minus_fork_blocks": super::summary::round(blocks_of("raw") - blocks_of("fork"), 2),
        "lowest": lowest, "cache_pct": t.cache_hit_pct,
        "cache_high": cache.stmt_score_pct >= t.cache_hit_pct && cache.sql_score_pct >= t.cache_hit_pct,
    });
    let rest = json!({
        "pg": pg, "pg_raw": pg_raw, "pg_measured": pg_measured, "pg_hidden": pg_hidden,
        "pg_parity": t.postgres_ratio_parity,
        "prepare_faster": s.build_timing.prepare_profile_over_dev < 1.0,
        "find": find, "decoding": operation("row decoding"), "static_dispatch": static_dispatch,
        "paged_premix": paged_premix, "paged_fork": paged_fork,
        "per_page": s.orm_compare.rows[paged_premix].prepared > t.statements_per_paging,
        "fork_pages_ok": s.orm_compare.rows[paged_fork].prepared <= t.statements_per_paging,
        "crossover": crossover_index,
        "below_crossover": crossover.and_then(|c| c.hashmap_faster_from_parents)
            .is_some_and(|c| s.locality.sweep.default_threshold < c),
    });
    // Three objects because one would pass json!'s recursion limit.
    for part in [more, rest] {
        if let (Json::Object(v), Json::Object(part)) = (&mut v, part) {
            v.extend(part);
        }
    }
    Ok(v)
}

/// Fills the summary's findings and optimizations: the verdicts decided
/// here, the sentences from the template, every figure in them checked
/// against its field.
///
/// # Errors
/// A summary without a row a verdict needs, a template error, or a figure
/// that is not its field's value.
pub(crate) fn judge(s: &mut Summary) -> Result<(), String> {
    s.findings.clear();
    s.optimizations.clear();
    let json = serde_json::to_value(&*s).map_err(|e| e.to_string())?;
    let v = Value::from_serialize(verdicts(s)?);
    let env = environment();
    let template = env
        .get_template("findings.md.j2")
        .map_err(|e| e.to_string())?;
    let captured = template.render_captured(()).map_err(|e| e.to_string())?;
    let state = captured.state();
    let args = [context(&json, ""), v];
    let say = |name: String| -> Result<String, String> {
        let marked = state
            .call_macro(&name, &args)
            .map_err(|e| format!("{name}: {e:#}"))?;
        let (text, figures) = unmark(marked.trim());
        check(&figures, &json).map_err(|e| format!("{name}:\n{e}"))?;
        Ok(text)
    };
    for (id, evidence, files) in FINDINGS {
        s.findings.push(Finding {
            id: id.to_owned(),
            title: say(format!("{id}_title"))?,
            text: say(format!("{id}_text"))?,
            evidence: evidence.to_owned(),
            files: files.iter().map(|f| (*f).to_owned()).collect(),
        });
    }
    for (id, title, addresses, files) in OPTIMIZATIONS {
        s.optimizations.push(Optimization {
            id: id.to_owned(),
            title: title.to_owned(),
            addresses: addresses.to_owned(),
            text: say(format!("{id}_text"))?,
            status: say(format!("{id}_status"))?,
            files: files.iter().map(|f| (*f).to_owned()).collect(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{FINDINGS, OPTIMIZATIONS};

    #[test]
    fn every_file_a_finding_names_exists() {
        let root = crate::util::workspace_root();
        let files = FINDINGS.iter().flat_map(|(_, _, files)| *files);
        let files = files.chain(OPTIMIZATIONS.iter().flat_map(|(_, _, _, files)| *files));
        for file in files.filter(|f| !f.starts_with("premix-core-")) {
            assert!(
                root.join(file).exists(),
                "{file} is named by a finding and does not exist"
            );
        }
    }
}
