//! Step 5a of the audit: every result file folded into
//! `benches/results/summary.json` (and the orm_compare rows into
//! `summary.csv`), with each figure rounded to the precision the documents
//! show and every derived figure (differences, ratios, findings) computed
//! here. The documents are rendered from this file alone, so a test can
//! check that every figure in them is in it.

use std::process::Command;

use serde_json::{Value, json};

use crate::bench::{read_json, results_dir, text};

/// `x` rounded to `digits` decimals.
pub(crate) fn round(x: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}

fn num(v: &Value) -> Option<f64> {
    v.as_f64()
}

/// A figure as the documents show it: `digits` decimals, a whole number
/// without a decimal point, null when not a number.
pub(crate) fn fig(x: f64, digits: i32) -> Value {
    match (x.is_finite(), digits) {
        (false, _) => Value::Null,
        (true, 0) => json!(x.round() as i64),
        (true, _) => json!(round(x, digits)),
    }
}

fn rounded(v: &Value, digits: i32) -> Value {
    num(v).map_or(Value::Null, |x| fig(x, digits))
}

fn command_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Commit, date, machine, toolchain and command of a measuring run, taken
/// when it starts (`benches/results/audit_run.json`).
pub(crate) fn header() -> Value {
    let dirty = !command_line("git", &["status", "--porcelain", "--untracked-files=no"])
        .trim()
        .is_empty();
    let commit = command_line("git", &["rev-parse", "--short=12", "HEAD"]);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let memory_gib = std::fs::read_to_string("/proc/meminfo").ok().and_then(|t| {
        let kib: f64 = t.lines().next()?.split_whitespace().nth(1)?.parse().ok()?;
        Some(round(kib / 1024.0 / 1024.0, 0))
    });
    json!({
        "commit": if dirty { format!("{commit} (with uncommitted changes)") } else { commit },
        "date": command_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        "machine": format!(
            "{} vCPUs ({cpu}), {} GiB RAM, Linux {}",
            std::thread::available_parallelism().map_or(0, usize::from),
            memory_gib.map_or_else(|| "?".to_owned(), |g| g.to_string()),
            command_line("uname", &["-r"])
        ),
        "toolchain": command_line("rustc", &["-V"]),
        "command": "cargo xtask audit",
    })
}

fn orm_compare(merged: &Value) -> Value {
    let rows: Vec<Value> = merged["results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            json!({
                "run": r["run"],
                "scenario": r["scenario"],
                "contender": r["contender"],
                "verdict": r["fairness"],
                "reported": r["reported"],
                "rows": r["rows"],
                "prepared": r["prepared_statements"],
                "distinct": r["distinct_statements"],
                "wall_ns": rounded(&r["wall_ns_per_op"], 0),
                "cpu_ns": rounded(&r["cpu_ns_per_op"], 0),
                "wall_ratio": rounded(&r["wall_ratio_to_raw"], 3),
                "cpu_ratio": rounded(&r["cpu_ratio_to_raw"], 3),
                "blocks": rounded(&r["blocks_per_op"], 2),
            })
        })
        .collect();
    json!({"settings": merged["settings"], "rows": rows})
}

/// The most `instrument` may add to a scenario's time, as a ratio of the
/// fork with it on to the fork with it off (each measured against raw sqlx
/// in its own run), and to its process-wide blocks per op.
pub(crate) const INSTRUMENT_TIME_TARGET: f64 = 1.03;
pub(crate) const INSTRUMENT_BLOCKS_TARGET: f64 = 0.1;

/// What `instrument` costs each scenario on each backend: the fork's ratio
/// to raw sqlx with it off (run `<backend>`) and on (run
/// `<backend>_instrument`), their quotient, and blocks per op.
fn instrument_cost(rows: &Value) -> Value {
    let rows: Vec<&Value> = rows.as_array().into_iter().flatten().collect();
    let find = |run: &str, scenario: &Value, contender: &str| {
        rows.iter()
            .find(|r| r["run"] == run && r["scenario"] == *scenario && r["contender"] == contender)
            .copied()
    };
    let mut out = Vec::new();
    for backend in ["sqlite", "postgres"] {
        let on_run = format!("{backend}_instrument");
        for off in rows
            .iter()
            .filter(|r| r["run"] == backend && r["contender"] == "fork")
        {
            let Some(on) = find(&on_run, &off["scenario"], "fork+instrument") else {
                continue;
            };
            let number = |r: &Value, k: &str| r[k].as_f64().unwrap_or(f64::NAN);
            let (off_ratio, on_ratio) = (number(off, "wall_ratio"), number(on, "wall_ratio"));
            let (off_blocks, on_blocks) = (number(off, "blocks"), number(on, "blocks"));
            out.push(json!({
                "backend": backend,
                "scenario": off["scenario"],
                "off_ratio": round(off_ratio, 3),
                "on_ratio": round(on_ratio, 3),
                "on_over_off": round(on_ratio / off_ratio, 3),
                "off_blocks": round(off_blocks, 2),
                "on_blocks": round(on_blocks, 2),
                "extra_blocks": round(on_blocks - off_blocks, 2),
            }));
        }
    }
    let worst = out
        .iter()
        .max_by(|a, b| {
            a["on_over_off"]
                .as_f64()
                .unwrap_or(0.0)
                .total_cmp(&b["on_over_off"].as_f64().unwrap_or(0.0))
        })
        .cloned()
        .unwrap_or(Value::Null);
    let most_blocks = out
        .iter()
        .max_by(|a, b| {
            a["extra_blocks"]
                .as_f64()
                .unwrap_or(0.0)
                .total_cmp(&b["extra_blocks"].as_f64().unwrap_or(0.0))
        })
        .cloned()
        .unwrap_or(Value::Null);
    json!({
        "time_target": INSTRUMENT_TIME_TARGET,
        "blocks_target": INSTRUMENT_BLOCKS_TARGET,
        "rows": out,
        "worst": worst,
        "most_blocks": most_blocks,
    })
}

/// Pass / declared / refused counts per run, and the declared reasons.
fn fairness(merged: &Value) -> Value {
    let mut runs: Vec<(String, [u64; 3])> = Vec::new();
    let mut reasons: Vec<String> = Vec::new();
    for r in merged["results"].as_array().into_iter().flatten() {
        let run = text(&r["run"]);
        if runs.last().is_none_or(|(name, _)| *name != run) {
            runs.push((run.clone(), [0; 3]));
        }
        let counts = &mut runs.last_mut().expect("pushed").1;
        let slot = match (text(&r["fairness"]).as_str(), r["reported"].as_bool()) {
            ("pass", _) => 0,
            (_, Some(true)) => 1,
            _ => 2,
        };
        counts[slot] += 1;
        if let Some(reason) = r["intentional_difference"].as_str()
            && !reasons.iter().any(|x| x == reason)
        {
            reasons.push(reason.to_owned());
        }
    }
    let counts: Vec<Value> = runs
        .into_iter()
        .map(|(run, [pass, declared, refused])| {
            json!({"run": run, "pass": pass, "declared": declared, "refused": refused})
        })
        .collect();
    json!({"counts": counts, "reasons": reasons})
}

fn callgrind(doc: &Value) -> Value {
    let rows: Vec<Value> = doc["results"].as_array().cloned().unwrap_or_default();
    let count = |scenario: &str, contender: &str, key: &str| {
        rows.iter()
            .find(|r| r["scenario"] == scenario && r["contender"] == contender)
            .and_then(|r| num(&r[key]))
            .unwrap_or(f64::NAN)
    };
    let polling = |contender: &str| {
        count(
            "select_by_pk",
            contender,
            "polling_thread_instructions_per_op",
        )
    };
    let all = |contender: &str| count("select_by_pk", contender, "all_threads_instructions_per_op");
    // Fork against raw sqlx in every scenario measured for both.
    let mut scenarios: Vec<&str> = Vec::new();
    for scenario in rows.iter().filter_map(|r| r["scenario"].as_str()) {
        if !scenarios.contains(&scenario) {
            scenarios.push(scenario);
        }
    }
    let fork_vs_raw: Vec<Value> = scenarios
        .into_iter()
        .map(|scenario| {
            let minus = |key: &str| {
                fig(
                    count(scenario, "fork", key) - count(scenario, "raw", key),
                    0,
                )
            };
            json!({
                "scenario": scenario,
                "polling_thread": minus("polling_thread_instructions_per_op"),
                "all_threads": minus("all_threads_instructions_per_op"),
            })
        })
        .collect();
    let (raw, fork, on, checked, premix) = (
        polling("raw"),
        polling("fork"),
        polling("fork+instrument"),
        polling("sqlx_macro"),
        polling("premix"),
    );
    json!({
        "method": doc["method"],
        "rows": rows,
        "fork_minus_raw_by_scenario": fork_vs_raw,
        "fork_minus_raw": fig(fork - raw, 0),
        "fork_over_raw": fig(fork / raw, 3),
        "sqlx_macro_minus_raw": fig(checked - raw, 0),
        "premix_minus_raw": fig(premix - raw, 0),
        "premix_over_raw": fig(premix / raw, 3),
        "instrument_on_minus_off": fig(on - fork, 0),
        "instrument_on_minus_off_all_threads": fig(all("fork+instrument") - all("fork"), 0),
        "instrument_on_over_off": fig(on / fork, 3),
    })
}

fn instrument_overhead(doc: &Value) -> Value {
    let rows: Vec<Value> = doc["results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            json!({
                "scenario": r["scenario"],
                "plain_ns": rounded(&r["plain_ns_per_call"], 1),
                "instrumented_ns": rounded(&r["instrumented_ns_per_call"], 1),
                "overhead_ns": rounded(&r["overhead_ns_per_call"], 1),
                "op_blocks": rounded(&r["op_blocks_per_call"], 3),
                "process_extra_blocks": rounded(&r["process_extra_blocks_per_call"], 4),
                "export_ns": rounded(&r["export_ns_per_call"], 1),
            })
        })
        .collect();
    json!({"rounds": doc["rounds"], "calls_per_round": doc["calls_per_round"], "rows": rows})
}

/// The allocation gate's windows with and without instrument: process-wide
/// heap blocks per call of each scenario, and what instrumentation adds.
fn alloc_gate(on: &Value, off: &Value) -> Value {
    let calls = num(&on["calls"]).unwrap_or(f64::NAN);
    let rows: Vec<Value> = on["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let twin = off["rows"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|o| o["scenario"] == r["scenario"] && o["backend"] == r["backend"]);
            let per_call = |v: Option<&Value>| v.and_then(num).map_or(f64::NAN, |x| x / calls);
            let on_blocks = per_call(Some(&r["process_blocks"]));
            let off_blocks = per_call(twin.map(|t| &t["process_blocks"]));
            json!({
                "scenario": r["scenario"],
                "backend": r["backend"],
                "op_blocks": fig(per_call(Some(&r["op_blocks"])), 2),
                "on_blocks": fig(on_blocks, 2),
                "off_blocks": fig(off_blocks, 2),
                "added_blocks": fig(on_blocks - off_blocks, 2),
            })
        })
        .collect();
    let most_added = rows
        .iter()
        .filter_map(|r| num(&r["added_blocks"]))
        .fold(f64::NAN, f64::max);
    let target = 0.1;
    json!({
        "calls": on["calls"],
        "strict": on["strict"],
        "rows": rows,
        "most_added_blocks": fig(most_added, 2),
        "added_target": target,
        "added_within_target": most_added.is_finite() && most_added <= target,
    })
}

/// The example service under load with instrument on and off.
fn service_load(doc: &Value) -> Value {
    let keep = [
        "backend",
        "clients",
        "rounds",
        "requests_per_round",
        "target_ratio",
        "median_on_throughput_rps",
        "median_off_throughput_rps",
        "median_on_p99_ms",
        "median_off_p99_ms",
        "median_on_service_cpu_us_per_request",
        "median_off_service_cpu_us_per_request",
        "throughput_ratio_on_off",
        "p99_ratio_on_off",
        "service_cpu_ratio_on_off",
        "paired_throughput_ratio_on_off",
        "paired_p99_ratio_on_off",
        "paired_service_cpu_ratio_on_off",
    ];
    let mut out = serde_json::Map::new();
    for key in keep {
        let value = match &doc[key] {
            Value::Number(n) if n.is_f64() => fig(n.as_f64().unwrap_or(f64::NAN), 3),
            v => v.clone(),
        };
        out.insert(key.to_owned(), value);
    }
    Value::Object(out)
}

fn locality(doc: &Value) -> Value {
    let csv = std::fs::read_to_string(results_dir().join("locality_sweep.csv")).unwrap_or_default();
    let points: Vec<Value> = csv
        .lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let x = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok());
            Some(json!({
                "measure": f.first()?,
                "parents": x(1)?,
                "vec_ns": fig(x(2)?, 2),
                "hashmap_ns": fig(x(3)?, 2),
                "hashmap_over_vec": fig(x(3)? / x(2)?, 3),
                "vec_blocks": fig(x(4)?, 3),
                "hashmap_blocks": fig(x(5)?, 3),
            }))
        })
        .collect();
    json!({
        "rounds": doc["rounds"],
        "children_per_parent": doc["children_per_parent"],
        "default_threshold": doc["default_vec_grouping_max_parents"],
        "crossovers": doc["crossovers"],
        "points": points,
    })
}

fn alloc(doc: &Value) -> Value {
    let profiles: Vec<Value> = doc["profiles"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let side = text(&p["side"]);
            let top = |key: &str| -> Vec<Value> {
                p[key]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .take(3)
                    .map(|line| {
                        let mut line = line.clone();
                        line["fix"] = json!(super::findings::fix_for(
                            &side,
                            &text(&line["site"]),
                            &text(&line["function"])
                        ));
                        line
                    })
                    .collect()
            };
            json!({
                "side": p["side"],
                "scenario": p["scenario"],
                "ops": p["ops"],
                "blocks_per_op": rounded(&p["blocks_per_op"], 2),
                "bytes_per_op": rounded(&p["bytes_per_op"], 0),
                "charged_blocks_per_op": rounded(&p["charged_blocks_per_op"], 2),
                "driver_blocks_per_op": rounded(&p["driver_blocks_per_op"], 2),
                "orm_lines": top("orm_lines"),
                "made_at": top("made_at"),
            })
        })
        .collect();
    json!({"method": doc["method"], "profiles": profiles})
}

fn cache(doc: &Value) -> Value {
    let percent = |v: &Value| num(v).map_or(Value::Null, |x| fig(x * 100.0, 1));
    let ops: Vec<Value> = doc["ops"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| {
            json!({
                "op": o["op"],
                "model": o["model"],
                "calls": o["calls"],
                "stmt_hits": o["stmt_cache"]["hits"],
                "stmt_misses": o["stmt_cache"]["misses"],
                "stmt_ambiguous": o["stmt_cache"]["ambiguous"],
                "stmt_hit_pct": percent(&o["stmt_hit_ratio"]),
                "sql_hit_pct": percent(&o["sql_hit_ratio"]),
                "blocks_per_call": rounded(&o["blocks_per_call"], 2),
            })
        })
        .collect();
    json!({
        "ops": ops,
        "stmt_score_pct": percent(&doc["cache_score"]["stmt_hit_ratio"]),
        "sql_score_pct": percent(&doc["cache_score"]["sql_hit_ratio"]),
        "definition": doc["cache_score"]["definition"],
    })
}

fn build_timing(doc: &Value) -> Value {
    let prepare = &doc["sqlx_prepare"];
    let instrument = &doc["instrument_feature"];
    let seconds = |v: &Value| -> Vec<Value> {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|x| rounded(x, 1))
            .collect()
    };
    let median = |v: &Value| num(v).unwrap_or(f64::NAN);
    let (profile, dev) = (
        median(&prepare["sqlx_prepare_profile_median_seconds"]),
        median(&prepare["dev_profile_median_seconds"]),
    );
    let (with, without) = (
        median(&instrument["with_median_seconds"]),
        median(&instrument["without_median_seconds"]),
    );
    json!({
        "runs": doc["runs"],
        "prepare_command": prepare["command"],
        "prepare_profile_seconds": seconds(&prepare["sqlx_prepare_profile_seconds"]),
        "prepare_dev_seconds": seconds(&prepare["dev_profile_seconds"]),
        "prepare_profile_median": fig(profile, 1),
        "prepare_dev_median": fig(dev, 1),
        "prepare_profile_minus_dev": fig(profile - dev, 1),
        "prepare_profile_over_dev": fig(profile / dev, 3),
        "instrument_command": instrument["command"],
        "instrument_with_seconds": seconds(&instrument["with_seconds"]),
        "instrument_without_seconds": seconds(&instrument["without_seconds"]),
        "instrument_with_median": fig(with, 1),
        "instrument_without_median": fig(without, 1),
        "instrument_build_cost": fig(with - without, 1),
        "instrument_build_over": fig(with / without, 3),
    })
}

fn bloat(doc: &Value) -> Value {
    let q = &doc["quickstart"];
    let kib = |v: &Value| num(v).map_or(Value::Null, |x| fig(x / 1024.0, 1));
    let crates = |build: &Value| -> Vec<Value> {
        build["crates"]
            .as_array()
            .into_iter()
            .flatten()
            .take(12)
            .map(|c| json!({"name": c["name"], "kib": kib(&c["size"])}))
            .collect()
    };
    // Crates whose size differs between the builds by a KiB or more.
    let size_of = |build: &Value, name: &Value| -> f64 {
        build["crates"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| &c["name"] == name)
            .and_then(|c| c["size"].as_f64())
            .unwrap_or(0.0)
    };
    let (on, off) = (&q["instrument_on"], &q["instrument_off"]);
    let mut deltas: Vec<(f64, Value)> = on["crates"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(off["crates"].as_array().into_iter().flatten())
        .map(|c| c["name"].clone())
        .fold(Vec::new(), |mut names: Vec<Value>, n| {
            if !names.contains(&n) {
                names.push(n);
            }
            names
        })
        .into_iter()
        .map(|name| (size_of(on, &name) - size_of(off, &name), name))
        .filter(|(d, _)| d.abs() >= 1024.0)
        .collect();
    deltas.sort_by(|a, b| b.0.total_cmp(&a.0));
    let crate_deltas: Vec<Value> = deltas
        .into_iter()
        .map(|(d, name)| json!({"name": name, "kib": fig(d / 1024.0, 1)}))
        .collect();
    let functions = |build: &Value| -> Vec<Value> {
        build["orm_functions"]
            .as_array()
            .into_iter()
            .flatten()
            .take(8)
            .map(|f| json!({"crate": f["crate"], "name": f["name"], "bytes": f["size"]}))
            .collect()
    };
    let symbols: Vec<Value> = doc["bench_binary_symbols"]["crates"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| json!({"crate": c["crate"], "functions": c["functions"], "kib": kib(&c["bytes"])}))
        .collect();
    json!({
        "command": q["command"],
        "on_file_kib": kib(&q["instrument_on"]["file_size"]),
        "off_file_kib": kib(&q["instrument_off"]["file_size"]),
        "on_text_kib": kib(&q["instrument_on"]["text_section_size"]),
        "off_text_kib": kib(&q["instrument_off"]["text_section_size"]),
        "file_delta_kib": kib(&q["file_size_delta"]),
        "text_delta_kib": kib(&q["text_section_size_delta"]),
        "on_crates": crates(&q["instrument_on"]),
        "off_crates": crates(&q["instrument_off"]),
        "on_functions": functions(&q["instrument_on"]),
        "off_functions": functions(&q["instrument_off"]),
        "crate_deltas": crate_deltas,
        "symbols_command": doc["bench_binary_symbols"]["command"],
        "symbols": symbols,
    })
}

/// Builds the summary from the result files.
pub(crate) fn build() -> Result<Value, String> {
    let dir = results_dir();
    let merged = read_json(&dir.join("orm_compare.json"))?;
    let mut summary = json!({
        "header": read_json(&dir.join("audit_run.json"))?,
        "orm_compare": orm_compare(&merged),
        "fairness": fairness(&merged),
        "callgrind": callgrind(&read_json(&dir.join("callgrind.json"))?),
        "instrument_overhead": instrument_overhead(&read_json(&dir.join("runs/instrument_overhead.json"))?),
        "locality": locality(&read_json(&dir.join("runs/locality_sweep.json"))?),
        "alloc": alloc(&read_json(&dir.join("runs/alloc_profile.json"))?),
        "alloc_gate": alloc_gate(
            &read_json(&dir.join("runs/alloc_gate_on.json"))?,
            &read_json(&dir.join("runs/alloc_gate_off.json"))?,
        ),
        "service_load": service_load(&read_json(&dir.join("runs/service_load.json"))?),
        "cache": cache(&read_json(&dir.join("runs/quickstart.json"))?),
        "bloat": bloat(&read_json(&dir.join("bloat.json"))?),
        "expand": read_json(&dir.join("expand.json"))?,
        "build_timing": build_timing(&read_json(&dir.join("build_timing.json"))?),
    });
    summary["instrument_cost"] = instrument_cost(&summary["orm_compare"]["rows"]);
    summary["findings"] = super::findings::findings(&summary);
    summary["optimizations"] = super::findings::optimizations(&summary);
    Ok(summary)
}

/// The orm_compare rows as CSV.
pub(crate) fn csv(summary: &Value) -> String {
    let mut out = String::from(
        "run,scenario,contender,verdict,reported,rows,prepared,distinct,wall_ns,cpu_ns,wall_ratio,cpu_ratio,\
         blocks\n",
    );
    for r in summary["orm_compare"]["rows"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let cell = |k: &str| match &r[k] {
            Value::Null => String::new(),
            v => text(v),
        };
        let cells: Vec<String> = [
            "run",
            "scenario",
            "contender",
            "verdict",
            "reported",
            "rows",
            "prepared",
            "distinct",
            "wall_ns",
            "cpu_ns",
            "wall_ratio",
            "cpu_ratio",
            "blocks",
        ]
        .iter()
        .map(|k| cell(k))
        .collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}
