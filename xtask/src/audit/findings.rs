//! The audit's findings and optimizations, computed from the summary: the
//! sentences are fixed, the figures and the comparative words come from the
//! run, and each names the measurement behind it and the files it concerns.

use serde_json::{Value, json};

use super::summary::round;
use crate::bench::text;

/// A figure of the orm_compare table.
fn cell(s: &Value, run: &str, scenario: &str, contender: &str, key: &str) -> f64 {
    s["orm_compare"]["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["run"] == run && r["scenario"] == scenario && r["contender"] == contender)
        .and_then(|r| r[key].as_f64())
        .unwrap_or(f64::NAN)
}

fn profile<'s>(s: &'s Value, side: &str, scenario: &str) -> Option<&'s Value> {
    s["alloc"]["profiles"]
        .as_array()?
        .iter()
        .find(|p| p["side"] == side && p["scenario"] == scenario)
}

/// The first ORM line of a profile whose site or function contains `needle`.
fn orm_line<'s>(s: &'s Value, side: &str, scenario: &str, needle: &str) -> Option<&'s Value> {
    profile(s, side, scenario)?["orm_lines"]
        .as_array()?
        .iter()
        .find(|l| text(&l["site"]).contains(needle) || text(&l["function"]).contains(needle))
}

/// The fork's slowest SQLite scenario against raw sqlx, and its ratio.
fn fork_worst(s: &Value) -> (String, f64) {
    s["orm_compare"]["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["run"] == "sqlite" && r["contender"] == "fork")
        .filter_map(|r| Some((text(&r["scenario"]), r["wall_ratio"].as_f64()?)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or_default()
}

/// callgrind's fork-minus-raw instructions per op in `scenario`, polling
/// thread and all threads, when measured.
fn fork_minus_raw_instructions(s: &Value, scenario: &str) -> Option<(i64, i64)> {
    let row = s["callgrind"]["fork_minus_raw_by_scenario"]
        .as_array()?
        .iter()
        .find(|r| r["scenario"] == scenario)?;
    Some((
        row["polling_thread"].as_i64()?,
        row["all_threads"].as_i64()?,
    ))
}

/// A callgrind figure for one scenario and contender.
fn instructions(s: &Value, scenario: &str, contender: &str, key: &str) -> Value {
    s["callgrind"]["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["scenario"] == scenario && r["contender"] == contender)
        .map_or(Value::Null, |r| r[key].clone())
}

fn faster_or_slower(ratio: f64) -> &'static str {
    if ratio > 1.0 { "slower" } else { "no slower" }
}

fn finding(id: &str, title: &str, text: String, evidence: &str, files: &[&str]) -> Value {
    json!({"id": id, "title": title, "text": text, "evidence": evidence, "files": files})
}

pub(crate) fn findings(s: &Value) -> Value {
    let mut out = Vec::new();

    // F1: zero cost when off.
    let references = |instrumented: bool| -> u64 {
        s["expand"]["files"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| text(&f["file"]).contains("/fork_"))
            .filter(|f| text(&f["file"]).contains("_instrument") == instrumented)
            .filter_map(|f| f["counts"]["premix_instrument"].as_u64())
            .sum()
    };
    let b = &s["bloat"];
    out.push(finding(
        "F1",
        "Instrumentation compiled out leaves nothing behind",
        format!(
            "With `instrument` off, the expansions of the fork's find_by_id, builder select and \
             eager load hold {} references to premix_instrument (with it on: {}), and the \
             quickstart binary is {} KiB smaller ({} KiB against {} KiB; text section {} KiB \
             smaller). The largest parts of that difference: {}.",
            references(false),
            references(true),
            b["file_delta_kib"],
            b["off_file_kib"],
            b["on_file_kib"],
            b["text_delta_kib"],
            b["crate_deltas"]
                .as_array()
                .into_iter()
                .flatten()
                .take(4)
                .map(|d| format!("{} {} KiB", text(&d["name"]), d["kib"]))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        "cargo expand (docs/audits/expanded/fork_*.rs), cargo bloat on the quickstart",
        &[
            "premix-orm-fork/src/ops.rs",
            "premix-orm-fork/src/query.rs",
            "premix-orm-fork/src/eager.rs",
        ],
    ));

    // F2: the fork against raw sqlx on SQLite.
    let scenarios: Vec<String> = s["orm_compare"]["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["run"] == "sqlite" && r["contender"] == "fork")
        .map(|r| text(&r["scenario"]))
        .collect();
    let ratios: Vec<f64> = scenarios
        .iter()
        .map(|sc| cell(s, "sqlite", sc, "fork", "wall_ratio"))
        .collect();
    let fewer_blocks = scenarios
        .iter()
        .filter(|sc| {
            cell(s, "sqlite", sc, "fork", "blocks") <= cell(s, "sqlite", sc, "raw", "blocks")
        })
        .count();
    let (_, worst_ratio) = fork_worst(s);
    let best = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let cg = &s["callgrind"];
    let polling = |contender: &str| {
        instructions(
            s,
            "select_by_pk",
            contender,
            "polling_thread_instructions_per_op",
        )
    };
    out.push(finding(
        "F2",
        "The fork costs what raw sqlx costs on SQLite",
        format!(
            "Across {} SQLite scenarios the fork runs at {best:.3}x to {worst_ratio:.3}x raw \
             sqlx's wall time (medians of per-round ratios) and allocates no more blocks per op \
             than raw sqlx in {fewer_blocks} of them. On the polling thread a select_by_pk op \
             costs the fork {} instructions against raw sqlx's {} ({:+} per op).",
            scenarios.len(),
            polling("fork"),
            polling("raw"),
            cg["fork_minus_raw"].as_f64().unwrap_or(f64::NAN)
        ),
        "orm_compare (sqlite run), callgrind select_by_pk",
        &["premix-orm-fork/src/ops.rs", "premix-orm-fork/src/query.rs"],
    ));

    // F3: the fork's worst scenario: work it adds, or waiting.
    let (worst, worst_ratio) = fork_worst(s);
    let acquire = orm_line(s, "fork", &worst, "executor.rs")
        .or_else(|| orm_line(s, "fork", "update", "executor.rs"))
        .map_or((Value::Null, "executor.rs".to_owned()), |l| {
            (l["blocks_per_op"].clone(), text(&l["site"]))
        });
    let per_op = |contender: &str, key: &str| instructions(s, &worst, contender, key);
    let (title, measured) = match fork_minus_raw_instructions(s, &worst) {
        Some((polling, all)) => {
            let adds_none = polling <= 0 && all <= 0;
            let verdict = if adds_none {
                "The fork executes no more instructions than raw sqlx there, on either count, \
                 so the gap is not work the fork adds; it lies, most likely, in how the \
                 polling thread and sqlx's SQLite worker hand over the one pinned CPU, which \
                 instruction counts do not see"
            } else {
                "The fork executes more instructions than raw sqlx there, which accounts for \
                 part of the gap"
            };
            (
                if adds_none {
                    "The fork's largest gap to raw sqlx is not work it adds"
                } else {
                    "The fork's largest gap to raw sqlx shows in its instruction count"
                },
                format!(
                    "callgrind counts {} instructions per op on the polling thread for the fork \
                     against {} for raw sqlx ({polling:+}), and {} against {} over all threads \
                     ({all:+}). {verdict}.",
                    per_op("fork", "polling_thread_instructions_per_op"),
                    per_op("raw", "polling_thread_instructions_per_op"),
                    per_op("fork", "all_threads_instructions_per_op"),
                    per_op("raw", "all_threads_instructions_per_op"),
                ),
            )
        }
        None => (
            "The fork's largest gap to raw sqlx",
            format!("callgrind does not measure {worst}."),
        ),
    };
    let control = if worst == "delete" {
        "update"
    } else {
        "delete"
    };
    out.push(finding(
        "F3",
        title,
        format!(
            "The fork's largest ratio to raw sqlx on SQLite is {worst} at {worst_ratio:.3}x \
             wall time. {measured} dhat attributes {} blocks per op to the fork's explicit \
             connection acquire ({}); raw sqlx's `&Pool` executor acquires one inside sqlx, and \
             {control}, which acquires the way {worst} does, runs at {:.3}x.",
            acquire.0,
            acquire.1,
            cell(s, "sqlite", control, "fork", "wall_ratio"),
        ),
        "orm_compare (sqlite run), callgrind (single-row scenarios), alloc_profile (dhat, ORM \
         lines)",
        &[
            "premix-orm-fork/src/executor.rs",
            "premix-orm-fork/src/ops.rs",
        ],
    ));

    // F4: what `instrument` costs, on both backends, against its targets.
    let cost = &s["instrument_cost"];
    let worst = &cost["worst"];
    let most_blocks = &cost["most_blocks"];
    let time_target = cost["time_target"].as_f64().unwrap_or(f64::NAN);
    let blocks_target = cost["blocks_target"].as_f64().unwrap_or(f64::NAN);
    let worst_ratio = worst["on_over_off"].as_f64().unwrap_or(f64::NAN);
    let extra_blocks = most_blocks["extra_blocks"].as_f64().unwrap_or(f64::NAN);
    let title = if worst_ratio <= time_target && extra_blocks <= blocks_target {
        format!(
            "With instrument on, every scenario runs within {time_target}x of the fork with it \
             off, and allocates at most {blocks_target} blocks more per op"
        )
    } else if worst_ratio > time_target {
        format!(
            "With instrument on, {} on {} runs at {worst_ratio:.3}x the fork with it off, over \
             the {time_target}x target",
            text(&worst["scenario"]),
            text(&worst["backend"])
        )
    } else {
        format!(
            "With instrument on, {} on {} allocates {extra_blocks} blocks more per op, over the \
             {blocks_target} target",
            text(&most_blocks["scenario"]),
            text(&most_blocks["backend"])
        )
    };
    let per_call = s["instrument_overhead"]["rows"]
        .as_array()
        .and_then(|r| r.first())
        .cloned()
        .unwrap_or(Value::Null);
    out.push(finding(
        "F4",
        &title,
        format!(
            "Each scenario's time with `instrument` on over its time with it off, both as ratios \
             to raw sqlx in their own runs: at most {worst_ratio:.3}x ({} on {}); blocks per op \
             process-wide at most {extra_blocks} more ({} on {}). No operation makes a round trip \
             of its own: a statement-cache lookup is classified from the connection's cache size \
             read around the statement (SQLite's single-row fetches are read to their end when \
             the size after them is needed, instead of the ping the fork used to send), or from a \
             shadow of the connection's cache on pools built with `StatementCache::exact()`, which \
             trades sqlx's liveness ping for an identifying round trip and is opt-in. callgrind: \
             {} more instructions per select_by_pk on the polling thread ({}x), {} over all \
             threads. The in-process bookkeeping costs {} ns per call (instrument_overhead, \
             noop_async); handing a call to the Prometheus recorder costs {} ns more, off the \
             call's path, on the exporter's thread.",
            text(&worst["scenario"]),
            text(&worst["backend"]),
            text(&most_blocks["scenario"]),
            text(&most_blocks["backend"]),
            cg["instrument_on_minus_off"],
            cg["instrument_on_over_off"],
            cg["instrument_on_minus_off_all_threads"],
            per_call["overhead_ns"],
            per_call["export_ns"],
        ),
        "orm_compare and orm_compare_pg (runs with instrument off and on), callgrind, \
         instrument_overhead",
        &[
            "premix-orm-fork/src/observe/statements.rs",
            "premix-orm-fork/src/executor.rs",
            "premix-instrument/src/scope.rs",
        ],
    ));

    // F5: one JOIN against two queries.
    let join = |scenario: &str| cell(s, "sqlite", scenario, "raw_join", "wall_ratio");
    out.push(finding(
        "F5",
        "Two queries beat a single JOIN for has-many loads here",
        format!(
            "A single LEFT JOIN is {} than raw sqlx's two queries: {:.3}x for 50x10 and {:.3}x \
             for 200x5, with {} and {} blocks per op against {} and {}: the join sends each \
             user's columns once per post and decodes them again. The fork's two-query loader \
             ran at {:.3}x and {:.3}x.",
            faster_or_slower(join("eager_50x10").min(join("eager_200x5"))),
            join("eager_50x10"),
            join("eager_200x5"),
            cell(s, "sqlite", "eager_50x10", "raw_join", "blocks"),
            cell(s, "sqlite", "eager_200x5", "raw_join", "blocks"),
            cell(s, "sqlite", "eager_50x10", "raw", "blocks"),
            cell(s, "sqlite", "eager_200x5", "raw", "blocks"),
            cell(s, "sqlite", "eager_50x10", "fork", "wall_ratio"),
            cell(s, "sqlite", "eager_200x5", "fork", "wall_ratio"),
        ),
        "orm_compare (sqlite run, raw_join contender)",
        &[
            "benches/benches/common/models.rs",
            "premix-orm-fork/src/eager.rs",
        ],
    ));

    // F6: the published premix-orm.
    let blocks = |side: &str| {
        profile(s, side, "select_by_pk").map_or(f64::NAN, |p| {
            p["blocks_per_op"].as_f64().unwrap_or(f64::NAN)
        })
    };
    let premix_top = profile(s, "premix", "select_by_pk")
        .and_then(|p| {
            p["orm_lines"]
                .as_array()?
                .iter()
                .find(|l| text(&l["site"]).contains("premix-core"))
                .cloned()
        })
        .unwrap_or(Value::Null);
    out.push(finding(
        "F6",
        "The published premix-orm allocates more per lookup",
        format!(
            "Under dhat a select_by_pk makes {} blocks per op with the published premix-orm and \
             {} with the fork; {} premix's heaviest line is {} ({} blocks per op), where it \
             hands the query to sqlx. It also sends `SELECT *` and inlines LIMIT (fairness \
             checklist), and rewrites the primary key in update ({:.3}x raw sqlx).",
            blocks("premix"),
            blocks("fork"),
            charged_sentence(s),
            text(&premix_top["site"]),
            premix_top["blocks_per_op"],
            cell(s, "sqlite", "update", "premix", "wall_ratio")
        ),
        "alloc_profile (dhat), orm_compare",
        &[
            "premix-core-1.0.9-alpha/src/executor.rs",
            "benches/benches/common/fairness.rs",
        ],
    ));

    // F7: decoding.
    let decode = orm_line(s, "fork", "select_100", "__decode")
        .cloned()
        .unwrap_or(Value::Null);
    out.push(finding(
        "F7",
        "Row decoding dominates multi-row selects, as it does for raw sqlx",
        format!(
            "In select_100 the fork's derive-generated decode ({}) makes {} of the {} blocks per \
             op (one String per row for `name`); raw sqlx's FromRow makes the same String, and \
             the two differ by {} blocks per op in orm_compare.",
            text(&decode["site"]),
            decode["blocks_per_op"],
            profile(s, "fork", "select_100").map_or(Value::Null, |p| p["blocks_per_op"].clone()),
            round(
                cell(s, "sqlite", "select_100", "raw", "blocks")
                    - cell(s, "sqlite", "select_100", "fork", "blocks"),
                2
            )
        ),
        "alloc_profile (dhat), orm_compare",
        &[
            "premix-orm-fork/macros/src/expand_model.rs",
            "premix-orm-fork/src/query.rs",
        ],
    ));

    // F8: cache efficiency.
    let lowest = s["cache"]["ops"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|o| o["stmt_hit_pct"].is_number())
        .min_by(|a, b| {
            a["stmt_hit_pct"]
                .as_f64()
                .unwrap_or(0.0)
                .total_cmp(&b["stmt_hit_pct"].as_f64().unwrap_or(0.0))
        })
        .cloned()
        .unwrap_or(Value::Null);
    out.push(finding(
        "F8",
        "The statement and SQL-text caches hit almost always",
        format!(
            "Over the quickstart workload the cache score is {}% for prepared statements and {}% \
             for SQL text. The lowest statement hit ratio is {} on {} at {}%: every distinct \
             eager IN-list arity is a new statement, which is why the fork pads IN lists to \
             powers of two.",
            s["cache"]["stmt_score_pct"],
            s["cache"]["sql_score_pct"],
            text(&lowest["op"]),
            text(&lowest["model"]),
            lowest["stmt_hit_pct"]
        ),
        "quickstart --json (premix-instrument counters)",
        &[
            "premix-orm-fork/src/observe.rs",
            "premix-orm-fork/src/eager.rs",
        ],
    ));

    // F9: PostgreSQL.
    out.push(finding(
        "F9",
        "On PostgreSQL the network round trip hides the ORM",
        format!(
            "Over 127.0.0.1 the fork runs select_by_pk at {:.3}x raw sqlx, insert at {:.3}x and \
             ten concurrent selects at {:.3}x; raw sqlx's select_by_pk spends {} ns of CPU in a \
             {} ns op.",
            cell(s, "postgres", "pg_select_by_pk", "fork", "wall_ratio"),
            cell(s, "postgres", "pg_insert", "fork", "wall_ratio"),
            cell(
                s,
                "postgres",
                "pg_10_concurrent_selects",
                "fork",
                "wall_ratio"
            ),
            cell(s, "postgres", "pg_select_by_pk", "raw", "cpu_ns"),
            cell(s, "postgres", "pg_select_by_pk", "raw", "wall_ns"),
        ),
        "orm_compare_pg",
        &["benches/benches/orm_compare_pg/main.rs"],
    ));

    // F10: build time.
    let bt = &s["build_timing"];
    out.push(finding(
        "F10",
        "The sqlx-prepare profile and the instrument feature's build cost",
        format!(
            "cargo sqlx prepare from a clean target took {} s with the sqlx-prepare profile and \
             {} s with dev (medians of {}; {}x). The instrument feature adds {} s to a clean dev \
             build of the fork ({} s against {} s).",
            bt["prepare_profile_median"],
            bt["prepare_dev_median"],
            bt["runs"],
            bt["prepare_profile_over_dev"],
            bt["instrument_build_cost"],
            bt["instrument_with_median"],
            bt["instrument_without_median"]
        ),
        "cargo xtask prepare --measure",
        &[".cargo/config.toml", "xtask/src/prepare.rs"],
    ));
    // F11: dispatch, from the expansions.
    let operation = |name: &str| {
        s["expand"]["operations"]
            .as_array()
            .and_then(|ops| ops.iter().find(|o| o["operation"] == name))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let (find, decode) = (operation("find_by_id"), operation("row decoding"));
    out.push(finding(
        "F11",
        "Static dispatch and no run-time SQL formatting in the fork's lookups",
        format!(
            "The published premix-orm's derive expands find_by_id into {} lines per model with \
             {} trait objects and {} run-time format! calls; the fork's find_by_id is {} lines \
             of generic library code with {} and {}, like the hand-written query_as! ({} and \
             {}). The fork's derive decodes columns by index ({} by-name lookups), where \
             premix's and sqlx's FromRow decode by name ({} and {}).",
            find["premix"]["lines"],
            find["premix"]["dyn "],
            find["premix"]["fmt::format("],
            find["fork"]["lines"],
            find["fork"]["dyn "],
            find["fork"]["fmt::format("],
            find["sqlx"]["dyn "],
            find["sqlx"]["fmt::format("],
            decode["fork"]["try_get(\""],
            decode["premix"]["try_get(\""],
            decode["sqlx"]["try_get(\""],
        ),
        "cargo expand (docs/audits/expanded/)",
        &[
            "premix-orm-fork/src/ops.rs",
            "premix-orm-fork/macros/src/expand_model.rs",
        ],
    ));

    // F12: statements per page.
    out.push(finding(
        "F12",
        "The published premix-orm prepares a statement per page",
        format!(
            "Paging 50 pages of 10, premix-orm leaves {} prepared statements in the emptied \
             statement cache (it inlines LIMIT and OFFSET, so every page is a new text), the \
             fork and raw sqlx {} each (bound LIMIT and OFFSET). sqlx caches 100 statements per \
             connection by default, so deep paging with premix-orm evicts the application's \
             other statements; its paged_50x10 still ran at {:.3}x raw sqlx here.",
            cell(s, "sqlite", "paged_50x10", "premix", "prepared"),
            cell(s, "sqlite", "paged_50x10", "fork", "prepared"),
            cell(s, "sqlite", "paged_50x10", "premix", "wall_ratio"),
        ),
        "orm_compare (prepared-statement policy check)",
        &[
            "premix-core-1.0.9-alpha/src/query.rs",
            "premix-orm-fork/src/sql.rs",
        ],
    ));

    Value::Array(out)
}

/// What the instrumented fork's snapshot charged a select_by_pk op beside
/// dhat's count for the whole process, computed from the same window.
fn charged_sentence(s: &Value) -> String {
    let Some(fork) = profile(s, "fork", "select_by_pk") else {
        return String::new();
    };
    let (Some(charged), Some(_), Some(dhat)) = (
        fork["charged_blocks_per_op"].as_f64(),
        fork["driver_blocks_per_op"].as_f64(),
        fork["blocks_per_op"].as_f64(),
    ) else {
        return "the fork's own counters were not read (alloc_profile without `instrument`)."
            .into();
    };
    let agreement = if (charged - dhat).abs() < 0.005 {
        "the same figure".to_owned()
    } else {
        format!("{:+.2} blocks per op from dhat's", charged - dhat)
    };
    format!(
        "with `instrument` the fork's snapshot charges that op {} blocks, {} of them made by \
         sqlx's SQLite worker thread while the op held the connection: {agreement}.",
        fork["charged_blocks_per_op"], fork["driver_blocks_per_op"]
    )
}

/// What to do about an allocation site, by where it is.
pub(crate) fn fix_for(side: &str, site: &str, function: &str) -> &'static str {
    match (side, site, function) {
        ("fork", s, _) if s.starts_with("(sqlx's SQLite worker") => {
            "none in the ORM: the connection's worker thread (statement execution, row buffers), \
             which the instrumented fork charges to the operation holding the connection"
        }
        (_, s, _) if s.starts_with("(sqlx's SQLite worker") => {
            "none in the ORM: sqlx's SQLite worker thread (statement execution, row buffers)"
        }
        (_, s, _) if s.starts_with("(no such frame") => {
            "none in the ORM: the runtime's own work (tasks, timers)"
        }
        ("fork", _, f) if f.contains("acquire") => {
            "none: taking a pooled connection, which raw sqlx's `&Pool` path does too (F3, O1)"
        }
        (_, _, f) if f.contains("__decode") => {
            "none: the row's owned Strings, which raw sqlx's FromRow makes too"
        }
        ("fork", _, _) => "none: sqlx's statement execution, which raw sqlx pays too",
        (_, s, _) if s.contains("executor.rs") => {
            "upstream (premix-orm): sqlx's `&Pool` path through its Executor wrapper"
        }
        (_, s, _) if s.contains("query.rs") => {
            "upstream (premix-orm): its builder (`SELECT *`, rows decoded by name)"
        }
        _ => "upstream (premix-orm): its derive output (trait objects, format! per call)",
    }
}

pub(crate) fn optimizations(s: &Value) -> Value {
    let locality = &s["locality"];
    let (worst, _) = fork_worst(s);
    let pool_path_status = match fork_minus_raw_instructions(s, &worst) {
        Some((polling, all)) if polling <= 0 && all <= 0 => format!(
            "not pursued: callgrind shows the fork's {worst} executing no more instructions \
             than raw sqlx's `&Pool` path (F3), so taking that path would not remove work"
        ),
        _ => "open: the gap it would close is the one in F3".to_owned(),
    };
    json!([
        {
            "id": "O1",
            "title": "Run single statements through the pool's executor when nothing needs the connection",
            "addresses": "F3",
            "text": (
                "With `instrument` off no statement-cache watch needs the connection, so \
                 find_by_id, insert, update and delete could hand `&Pool` to sqlx as raw sqlx \
                 does, instead of acquiring a connection first."
            ),
            "status": pool_path_status,
            "files": ["premix-orm-fork/src/executor.rs", "premix-orm-fork/src/ops.rs"],
        },
        {
            "id": "O2",
            "title": "Count statement-cache lookups without the SQLite settle ping",
            "addresses": "F4",
            "text": "A statement-cache event from sqlx (hit, miss, eviction per connection) \
                     would make the counts exact without a round trip; sqlx 0.8 has no such \
                     hook, so this needs an upstream change.",
            "status": "open: needs sqlx upstream",
            "files": ["premix-orm-fork/src/observe.rs"],
        },
        {
            "id": "O3",
            "title": "Group eager children in a Vec up to the measured crossover",
            "addresses": "F5",
            "text": format!(
                "The default Vec-or-HashMap threshold is {} parents, set from the locality \
                 sweep (grouping alone: HashMap faster from {} parents).",
                locality["default_threshold"],
                locality["crossovers"]
                    .as_array()
                    .and_then(|c| c.iter().find(|c| c["measure"] == "grouping_only"))
                    .map_or(Value::Null, |c| c["hashmap_faster_from_parents"].clone())
            ),
            "status": "done: the default was raised from 128 in the locality sweep's issue",
            "files": ["premix-orm-fork/src/eager.rs"],
        },
        {
            "id": "O4",
            "title": "Pad IN lists to powers of two and bind LIMIT/OFFSET",
            "addresses": "F8",
            "text": "Each distinct statement text is a prepared statement per connection; \
                     padding and binding keep the set small, so the statement cache hits.",
            "status": "done: in the fork since its first version",
            "files": ["premix-orm-fork/src/sql.rs", "premix-orm-fork/src/eager.rs"],
        },
    ])
}
