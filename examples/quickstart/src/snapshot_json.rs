//! `--json PATH`: the report's numbers, machine-readable, for the audit
//! (`cargo xtask audit` renders the cache efficiency table from it).

use premix_instrument::Snapshot;
use serde_json::json;

/// Writes every op's counters and the cache score to `path`.
pub fn write(snapshot: &Snapshot, path: &str) -> std::io::Result<()> {
    let score = snapshot.cache_score();
    let ops: Vec<_> = snapshot
        .ops()
        .iter()
        .map(|op| {
            let calls = op.ok + op.errors + op.cancelled;
            let op_score = score
                .ops
                .iter()
                .find(|s| s.op == op.op && s.model == op.model);
            json!({
                "op": op.op,
                "model": op.model,
                "calls": calls,
                "errors": op.errors,
                "blocks_per_call": op.blocks_per_call(),
                "bytes_per_call": op.bytes_per_call(),
                "p50_us": op.p50().map(|d| d.as_secs_f64() * 1e6),
                "p99_us": op.p99().map(|d| d.as_secs_f64() * 1e6),
                "stmt_cache": {
                    "hits": op.stmt_cache.hits,
                    "misses": op.stmt_cache.misses,
                    "ambiguous": op.stmt_cache.ambiguous,
                    "unprepared": op.stmt_cache.unprepared,
                    "evictions": op.stmt_cache.evictions,
                },
                "sql_cache": {"hits": op.sql_cache.hits, "misses": op.sql_cache.misses},
                "stmt_hit_ratio": op_score.and_then(|s| s.stmt_hit_ratio),
                "sql_hit_ratio": op_score.and_then(|s| s.sql_hit_ratio),
            })
        })
        .collect();
    let doc = json!({
        "ops": ops,
        "cache_score": {
            "stmt_hit_ratio": score.stmt_hit_ratio,
            "sql_hit_ratio": score.sql_hit_ratio,
            "definition": "statements: hits / (hits + misses + ambiguous); SQL text: hits / (hits + misses)",
        },
    });
    let text = serde_json::to_string_pretty(&doc).map_err(std::io::Error::other)?;
    std::fs::write(path, text + "\n")
}
