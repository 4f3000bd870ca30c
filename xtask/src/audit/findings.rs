//! The audit's findings and optimizations. Why split this way: the verdict
//! of each (which title, which status, which comparative word) is decided
//! here, from the measurements against [`THRESHOLDS`], so it flips when the
//! data does; the sentences live in `templates/findings.md.j2`, one macro
//! per title, text and status, and print only figures read from the summary.

use minijinja::Value;
use serde_json::{Value as Json, json};

use super::render::{check, context, environment, unmark};
use super::summary::{Finding, Optimization, OrmRow, Profile, Summary};
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

/// The orm_compare row of `contender` in `scenario` of `run`.
fn row<'s>(s: &'s Summary, run: &str, scenario: &str, contender: &str) -> Option<&'s OrmRow> {
    let wanted = |r: &&OrmRow| r.run == run && r.scenario == scenario && r.contender == contender;
    s.orm_compare.rows.iter().find(wanted)
}

/// The index of a dhat profile.
fn profile(s: &Summary, side: &str, scenario: &str) -> Option<usize> {
    let wanted = |p: &Profile| p.side == side && p.scenario == scenario;
    s.alloc.profiles.iter().position(wanted)
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

/// What the verdicts are decided from, for the templates: the decisions,
/// the few counts derived here, and the scenarios and indices that name the
/// rows to print (the templates read every figure from its field).
fn verdicts(s: &Summary) -> Result<Json, String> {
    let t = THRESHOLDS;
    let missing = |what: &str| format!("summary: no {what}");
    let sqlite_fork: Vec<&OrmRow> = (s.orm_compare.rows.iter())
        .filter(|r| r.run == "sqlite" && r.contender == "fork")
        .collect();
    let by_ratio = |a: &&&OrmRow, b: &&&OrmRow| a.wall_ratio.total_cmp(&b.wall_ratio);
    let worst = sqlite_fork.iter().max_by(by_ratio);
    let (worst, best) = (
        worst.ok_or(missing("sqlite fork row"))?,
        sqlite_fork.iter().min_by(by_ratio),
    );
    let fewer_blocks = sqlite_fork
        .iter()
        .filter(|f| row(s, "sqlite", &f.scenario, "raw").is_some_and(|raw| f.blocks <= raw.blocks));
    let over = sqlite_fork
        .iter()
        .filter(|r| r.wall_ratio > t.fork_ratio_parity);
    let gaps = &s.callgrind.fork_minus_raw_by_scenario;
    let gap = gaps.iter().find(|g| g.scenario == worst.scenario);
    let control = if worst.scenario == "delete" {
        "update"
    } else {
        "delete"
    };
    let acquire = orm_line(s, "fork", &worst.scenario, "executor.rs")
        .or_else(|| orm_line(s, "fork", "update", "executor.rs"));
    let refs = |instrumented: bool| -> u64 {
        let files = s.expand.files.iter().filter(|f| f.file.contains("/fork_"));
        let files = files.filter(|f| f.file.contains("_instrument") == instrumented);
        files
            .filter_map(|f| f.counts.get("premix_instrument"))
            .sum()
    };
    let cost = &s.instrument_cost;
    let cost_within = Option::zip(cost.worst.as_ref(), cost.most_blocks.as_ref())
        .map(|(w, b)| w.on_over_off <= cost.time_target && b.extra_blocks <= cost.blocks_target);
    let join = |sc| row(s, "sqlite", sc, "raw_join").ok_or(missing("raw_join row"));
    let join_ratio = join("eager_50x10")?
        .wall_ratio
        .min(join("eager_200x5")?.wall_ratio);
    let (premix_pk, fork_pk) = (
        profile(s, "premix", "select_by_pk"),
        profile(s, "fork", "select_by_pk"),
    );
    let blocks = |p: Option<usize>| p.map_or(f64::NAN, |p| s.alloc.profiles[p].blocks_per_op);
    let agreement = fork_pk.and_then(|p| {
        let p = &s.alloc.profiles[p];
        Some(p.charged_blocks_per_op? - p.blocks_per_op)
    });
    let agreement = agreement.map(|d| match d.abs() < 0.005 {
        true => "the same figure".to_owned(),
        false => format!("{d:+.2} blocks per op from dhat's"),
    });
    let decode = orm_line(s, "fork", "select_100", "__decode");
    let select_100 = profile(s, "fork", "select_100");
    let decode_dominates = decode
        .filter(|_| select_100.is_some())
        .is_some_and(|(p, l)| {
            let p = &s.alloc.profiles[p];
            p.orm_lines[l].blocks_per_op / p.blocks_per_op > t.decode_share
        });
    let blocks_of =
        |contender| row(s, "sqlite", "select_100", contender).map_or(f64::NAN, |r| r.blocks);
    let ops = &s.cache.ops;
    let hit_pct = |i: &usize| ops[*i].stmt_hit_pct.unwrap_or(0.0);
    let lowest = (0..ops.len())
        .filter(|&i| ops[i].stmt_hit_pct.is_some())
        .min_by(|a, b| hit_pct(a).total_cmp(&hit_pct(b)));
    let pg = ["pg_select_by_pk", "pg_insert", "pg_10_concurrent_selects"]
        .map(|sc| row(s, "postgres", sc, "fork"));
    let pg_raw = row(s, "postgres", "pg_select_by_pk", "raw");
    let operation = |name| s.expand.operations.iter().find(|o| o.operation == name);
    let find_by_id = operation("find_by_id").ok_or(missing("find_by_id expansion"))?;
    let static_dispatch = find_by_id.fork.as_ref().is_some_and(|c| {
        c.get("dyn ").copied().unwrap_or(0) == 0 && c.get("fmt::format(").copied().unwrap_or(0) == 0
    });
    let paged =
        |contender| row(s, "sqlite", "paged_50x10", contender).ok_or(missing("paged_50x10 row"));
    let crossover = (s.locality.sweep.crossovers.iter())
        .find(|c| c.measure == "grouping_only")
        .and_then(|c| c.hashmap_faster_from_parents);
    let cache_high =
        s.cache.stmt_score_pct >= t.cache_hit_pct && s.cache.sql_score_pct >= t.cache_hit_pct;
    Ok(json!({
        "parity": t.fork_ratio_parity, "sqlite_fork": sqlite_fork.len(),
        "best": best.map(|r| &r.scenario), "worst": worst.scenario, "over": over.count(),
        "fewer_blocks": fewer_blocks.count(), "at_parity": worst.wall_ratio <= t.fork_ratio_parity,
        "gap": gap.is_some(), "adds_none": gap.is_some_and(|g| g.polling_thread <= 0 && g.all_threads <= 0),
        "control": control, "acquire": acquire, "refs_off": refs(false), "refs_on": refs(true),
        "deltas": s.bloat.crate_deltas.len().min(4),
        "off_smaller": s.bloat.file_delta_kib > 0.0, "off_text_smaller": s.bloat.text_delta_kib > 0.0,
        "instrument_adds": s.callgrind.instrument_on_minus_off > 0, "cost_within": cost_within,
        "time_over": cost.worst.as_ref().is_some_and(|w| w.on_over_off > cost.time_target),
        "join_slower": join_ratio > t.join_parity,
        "premix_pk": premix_pk, "fork_pk": fork_pk,
        "premix_more": blocks(premix_pk) - blocks(fork_pk) >= t.premix_extra_blocks,
        "premix_top": orm_line(s, "premix", "select_by_pk", "premix-core"), "agreement": agreement,
        "decode": decode, "select_100": select_100, "decode_dominates": decode_dominates,
        "decode_share": t.decode_share * 100.0,
        "raw_minus_fork_blocks": super::summary::round(blocks_of("raw") - blocks_of("fork"), 2),
        "lowest": lowest, "cache_pct": t.cache_hit_pct, "cache_high": cache_high,
        "pg_measured": pg.iter().all(Option::is_some) && pg_raw.is_some(),
        "pg_hidden": pg.iter().flatten().all(|r| r.wall_ratio <= t.postgres_ratio_parity),
        "pg_parity": t.postgres_ratio_parity,
        "prepare_faster": s.build_timing.prepare.over < 1.0,
        "static_dispatch": static_dispatch,
        "per_page": paged("premix")?.prepared > t.statements_per_paging,
        "fork_pages_ok": paged("fork")?.prepared <= t.statements_per_paging,
        "below_crossover": crossover.is_some_and(|c| s.locality.sweep.default_threshold < c),
    }))
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
