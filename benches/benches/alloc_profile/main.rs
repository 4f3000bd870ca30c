//! Where the allocations come from: each scenario of the fork and of the
//! published premix-orm 1.0.9-alpha under dhat (one profile per side and
//! scenario, after a warm-up), on the orm_compare SQLite dataset. Each
//! allocation is attributed twice: to where the block is made (the first
//! frame outside the allocation plumbing) and to the ORM line that led to
//! it (the first frame in the ORM). The heaviest of each, per op, go to
//! `benches/results/runs/alloc_profile.json`, which the audit renders.
//!
//! Built with `instrument` (as `cargo xtask bench` runs it), each fork
//! profile also records what the fork's counters charged its ops over the
//! same window, the SQLite worker thread's share apart: the snapshot's
//! figure beside dhat's. The threads are serialized
//! (`premix_instrument::serial`), so the figures repeat run to run.
//!
//! `cargo bench -p premix-benches --features instrument --bench alloc_profile`

#[path = "../common/dataset.rs"]
mod dataset;
#[path = "../common/models.rs"]
mod models;

use std::collections::HashMap;
use std::future::Future;
use std::hint::black_box;
use std::path::Path;

use serde_json::{Value, json};
use sqlx::SqlitePool;

// dhat sees every block; the counting allocator around it lets the fork's
// own counters (built with `instrument`) be read beside dhat's.
#[global_allocator]
static ALLOC: premix_instrument::CountingAlloc<dhat::Alloc> =
    premix_instrument::CountingAlloc::new(dhat::Alloc);

/// Sites listed per side and scenario.
const TOP: usize = 6;

/// A frame of the loop sqlx runs each SQLite connection on, on its own
/// thread.
const WORKER: &str = "sqlx_sqlite::connection::worker::ConnectionWorker";

/// Profiles `ops` runs of `op`, then returns the heaviest sites.
async fn profile<F, Fut>(side: &str, scenario: &str, ops: u64, mut op: F) -> Value
where
    F: FnMut(u64) -> Fut,
    Fut: Future<Output = ()>,
{
    // Warm: statements prepared, caches filled, as in steady state.
    for i in 0..ops {
        op(i).await;
    }
    let file = std::env::temp_dir().join(format!(
        "dhat-{side}-{scenario}-{}.json",
        std::process::id()
    ));
    let before = premix_instrument::Snapshot::take();
    let stats = {
        let _profiler = dhat::Profiler::builder()
            .file_name(&file)
            .trim_backtraces(Some(24))
            .build();
        for i in 0..ops {
            op(i).await;
        }
        // The last op's connection goes back to the pool in a task of its
        // own: part of the op.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        dhat::HeapStats::get()
    };
    // What the instrumented fork charged its ops (nothing for premix-orm, or
    // without `instrument`): the polling thread's blocks plus the share of
    // sqlx's SQLite worker thread.
    let charged = premix_instrument::Snapshot::take().since(&before);
    let (charged_blocks, driver_blocks) = charged.ops().iter().fold((0, 0), |(all, driver), op| {
        (
            all + op.allocations.blocks(),
            driver + op.driver_allocations.blocks(),
        )
    });
    let per_op = |blocks: u64| blocks as f64 / ops as f64;
    let (made_at, orm_lines) = sites(&file, ops);
    let _ = std::fs::remove_file(&file);
    println!(
        "{side:<7} {scenario:<18} {:>8.2} blocks/op {:>9.0} bytes/op",
        stats.total_blocks as f64 / ops as f64,
        stats.total_bytes as f64 / ops as f64
    );
    for s in orm_lines.iter().take(3) {
        println!(
            "        {:>6} blocks/op  {}  {}",
            s["blocks_per_op"], s["site"], s["function"]
        );
    }
    json!({
        "side": side,
        "scenario": scenario,
        "ops": ops,
        "blocks_per_op": stats.total_blocks as f64 / ops as f64,
        "bytes_per_op": (stats.total_bytes as f64 / ops as f64).round() as u64,
        "charged_blocks_per_op": (charged_blocks > 0).then(|| per_op(charged_blocks)),
        "driver_blocks_per_op": (charged_blocks > 0).then(|| per_op(driver_blocks)),
        "made_at": made_at,
        "orm_lines": orm_lines,
    })
}

/// `path:line` and function of a dhat frame
/// (`0x..: function (path:line:col)`; dhat keeps the last path components).
fn frame(text: &str) -> Option<(String, String)> {
    let (head, location) = text.rsplit_once(" (")?;
    let location = location.trim_end_matches(')');
    let mut parts = location.rsplitn(3, ':');
    let (_col, line, path) = (parts.next()?, parts.next()?, parts.next()?);
    let function = head.split_once(": ").map_or(head, |(_, f)| f);
    // This binary's own modules come in by `#[path]`, relative to it.
    let path = path.replace("../common/", "benches/benches/common/");
    Some((format!("{path}:{line}"), function.to_owned()))
}

/// Allocation plumbing (Rust's library, dhat itself), skipped when
/// attributing a site.
fn is_plumbing(function: &str) -> bool {
    let f = function.trim_start_matches('<');
    ["alloc::", "core::", "std::", "dhat::"]
        .iter()
        .any(|p| f.starts_with(p))
}

/// A frame of the ORM under test (the fork's library or derive output, or
/// the published premix-orm's).
fn is_orm(function: &str) -> bool {
    function.contains("premix_orm_fork") || function.contains("premix_core")
}

/// Blocks and bytes per group and op, heaviest first. Ordered by the
/// figures as written (two decimals), ties by site, so two runs whose
/// figures agree list the sites in the same order.
fn heaviest(groups: HashMap<(String, String), (u64, u64)>, ops: u64) -> Vec<Value> {
    let per_op = |count: u64| count as f64 / ops as f64;
    let mut groups: Vec<_> = groups
        .into_iter()
        .map(|((site, function), (blocks, bytes))| {
            let blocks = (per_op(blocks) * 100.0).round() / 100.0;
            (site, function, blocks, per_op(bytes).round() as u64)
        })
        .collect();
    groups.sort_by(|a, b| {
        b.2.total_cmp(&a.2)
            .then_with(|| (&a.0, &a.1).cmp(&(&b.0, &b.1)))
    });
    groups
        .into_iter()
        .take(TOP)
        .map(|(site, function, blocks, bytes)| {
            let function: String = function.chars().take(120).collect();
            json!({
                "site": site,
                "function": function,
                "blocks_per_op": blocks,
                "bytes_per_op": bytes,
            })
        })
        .collect()
}

/// The heaviest allocation sites of a dhat profile, per op, twice: by the
/// first frame outside the allocation plumbing (where the block is made),
/// and by the first frame in the ORM (the ORM line that led to it).
fn sites(file: &Path, ops: u64) -> (Vec<Value>, Vec<Value>) {
    let text = std::fs::read_to_string(file).expect("dhat wrote its profile");
    let profile: Value = serde_json::from_str(&text).expect("dhat's JSON");
    let frames: Vec<Option<(String, String)>> = profile["ftbl"]
        .as_array()
        .expect("frame table")
        .iter()
        .map(|f| f.as_str().and_then(frame))
        .collect();
    let mut made_at: HashMap<(String, String), (u64, u64)> = HashMap::new();
    let mut orm_line: HashMap<(String, String), (u64, u64)> = HashMap::new();
    for pp in profile["pps"].as_array().expect("program points") {
        // dhat: `tbk` total blocks, `tb` total bytes.
        let blocks = pp["tbk"].as_u64().unwrap_or(0);
        let bytes = pp["tb"].as_u64().unwrap_or(0);
        let stack: Vec<&(String, String)> = pp["fs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| frames.get(i.as_u64()? as usize)?.as_ref())
            .collect();
        let on_worker = stack.iter().any(|(_, f)| f.contains(WORKER));
        let outside = |found: Option<&&(String, String)>| {
            found.map_or_else(
                || {
                    let place = if on_worker {
                        "(sqlx's SQLite worker thread)"
                    } else {
                        "(no such frame on the stack)"
                    };
                    (place.to_owned(), String::new())
                },
                |f| (*f).clone(),
            )
        };
        for (groups, key) in [
            (
                &mut made_at,
                outside(stack.iter().find(|(_, f)| !is_plumbing(f))),
            ),
            (
                &mut orm_line,
                outside(stack.iter().find(|(_, f)| is_orm(f))),
            ),
        ] {
            let entry = groups.entry(key).or_default();
            entry.0 += blocks;
            entry.1 += bytes;
        }
    }
    (heaviest(made_at, ops), heaviest(orm_line, ops))
}

/// One side's scenarios. The fork and the published premix-orm run the same
/// code against their own crate and models; they differ only in how a
/// relation is named for `include`.
macro_rules! side {
    ($function:ident, $side:literal, $models:ident, $krate:ident, $posts:expr) => {
        async fn $function(pool: &'static SqlitePool, out: &mut Vec<Value>) {
            use models::$models::{Post, User};
            use $krate::prelude::*;
            out.push(
                profile($side, "select_by_pk", 200, |i| async move {
                    let id = 1 + (i % 1000) as i32;
                    let found = <User as Model<sqlx::Sqlite>>::find_by_id(pool, id);
                    black_box(found.await.unwrap());
                })
                .await,
            );
            out.push(
                profile($side, "select_100", 20, |_| async move {
                    black_box(User::find_in_pool(pool).limit(100).all().await.unwrap());
                })
                .await,
            );
            out.push(
                profile($side, "update", 200, |i| async move {
                    let mut user = User {
                        id: 7,
                        name: String::new(),
                        age: (i % 90) as i32,
                        active: true,
                        posts: None,
                    };
                    black_box(user.update(pool).await.unwrap());
                })
                .await,
            );
            out.push(
                profile($side, "insert", 200, |i| async move {
                    let mut post = Post {
                        id: 0,
                        user_id: 999,
                        title: String::new(),
                        score: i as i64,
                    };
                    post.save(pool).await.unwrap();
                })
                .await,
            );
            out.push(
                profile($side, "eager_50x10", 10, |_| async move {
                    let users = User::find_in_pool(pool)
                        .filter_lte("id", 50)
                        .include($posts)
                        .all();
                    black_box(users.await.unwrap());
                })
                .await,
            );
        }
    };
}

side!(fork_side, "fork", ours, premix_orm_fork, User::posts);
side!(premix_side, "premix", published, premix_orm, "posts");

fn main() {
    let serialized = premix_instrument::serial::serialize_threads();
    println!("threads: {serialized:?}");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let profiles = runtime.block_on(async {
        let pool = dataset::sqlite(0).await;
        let mut out = Vec::new();
        fork_side(pool, &mut out).await;
        premix_side(pool, &mut out).await;
        out
    });
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("results/runs");
    std::fs::create_dir_all(&dir).unwrap();
    let doc = json!({
        "run": "alloc_profile",
        "method": "dhat heap profile per side and scenario after a warm-up of the same ops, on \
                   one CPU with sqlx's SQLite worker serialized behind the polling thread; \
                   made_at = first frame outside alloc/core/std/dhat, orm_lines = first frame in \
                   the ORM (or the SQLite worker thread's loop); charged = what the \
                   instrumented fork's snapshot charged its ops over the same window",
        "profiles": profiles,
    });
    let text = serde_json::to_string_pretty(&doc).unwrap();
    std::fs::write(dir.join("alloc_profile.json"), text + "\n").unwrap();
    println!("wrote benches/results/runs/alloc_profile.json");
}
