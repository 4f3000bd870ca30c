//! Where should eager loading switch from a sorted `Vec` to a `HashMap`?
//!
//! For parent counts from 1 to 10 000 (log steps) with 5 children each, the
//! same eager load runs with the strategy forced both ways
//! (`vec_grouping_max_parents(usize::MAX)` / `(0)`), interleaved over 11
//! rounds; medians of time per parent, and allocations per parent. The
//! crossover is the smallest parent count from which the HashMap is at least
//! 3% faster (beyond this machine's noise) at every larger count measured.
//!
//! The same sweep then times the grouping alone (the fork's `ParentIndex`:
//! build it, then find the parent of every child), which the end-to-end
//! numbers bury under the query. Writes `benches/results/locality_sweep.csv`
//! and `locality_sweep.svg` / `locality_grouping.svg`, and says whether the
//! fork's default threshold (`DEFAULT_VEC_GROUPING_MAX_PARENTS`) agrees.
//!
//! `taskset -c 1 cargo bench -p premix-benches --bench locality_sweep`

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use plotters::prelude::*;
use premix_instrument::process_stats;
use premix_orm_fork::__private::ParentIndex;
use premix_orm_fork::prelude::*;
use premix_orm_fork::{DEFAULT_VEC_GROUPING_MAX_PARENTS, Grouping};
use sqlx::SqlitePool;

premix_instrument::install_counting_allocator!();

#[derive(Model, Debug)]
struct Parent {
    id: i32,
    name: String,
    #[has_many(Child)]
    #[premix(ignore)]
    children: Option<Vec<Child>>,
}

#[derive(Model, Debug)]
#[belongs_to(Parent)]
struct Child {
    id: i32,
    parent_id: i32,
    value: i64,
}

const PARENT_COUNTS: [i32; 16] = [
    1, 2, 5, 10, 20, 50, 100, 128, 200, 500, 1000, 2000, 3000, 4000, 5000, 10_000,
];
const CHILDREN_PER_PARENT: i32 = 5;
const ROUNDS: usize = 11;

async fn setup() -> SqlitePool {
    let pool = Premix::smart_sqlite_pool("sqlite::memory:").await.unwrap();
    Premix::sync::<sqlx::Sqlite, Parent>(&pool).await.unwrap();
    Premix::sync::<sqlx::Sqlite, Child>(&pool).await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    // Parents in shuffled id order, so binary search and hashing both work for it.
    for n in 0..10_000_i32 {
        let id = 1 + (n * 7919) % 10_000;
        sqlx::query("INSERT INTO parents (id, name) VALUES (?, '')")
            .bind(id)
            .execute(&mut *tx)
            .await
            .unwrap();
        for c in 0..CHILDREN_PER_PARENT {
            sqlx::query("INSERT INTO childs (parent_id, value) VALUES (?, ?)")
                .bind(id)
                .bind(i64::from(c))
                .execute(&mut *tx)
                .await
                .unwrap();
        }
    }
    tx.commit().await.unwrap();
    pool
}

/// One eager load of `parents` parents with the given threshold; returns ns.
async fn load(pool: &SqlitePool, parents: i32, threshold: usize) -> f64 {
    let start = Instant::now();
    let loaded = Parent::find_in_pool(pool)
        .limit(parents)
        .include(Parent::children)
        .vec_grouping_max_parents(threshold)
        .all()
        .await
        .unwrap();
    let ns = start.elapsed().as_secs_f64() * 1e9;
    assert_eq!(loaded.len(), parents as usize);
    black_box(loaded);
    ns
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Ratios within this band are noise on this machine.
const SIGNIFICANT: f64 = 0.97;

/// The smallest parent count from which the HashMap wins beyond noise at
/// every larger count.
fn crossover(points: &[Point]) -> Option<i32> {
    (0..points.len())
        .find(|&i| {
            points[i..]
                .iter()
                .all(|p| p.map_ns < p.vec_ns * SIGNIFICANT)
        })
        .map(|i| points[i].parents)
}

/// Grouping alone: build the index over `parents` shuffled ids, then find
/// the parent of each of 5 children per parent; ns per parent.
fn grouping_ns(parents: i32, grouping: Grouping) -> f64 {
    let ids: Vec<i64> = (0..parents)
        .map(|n| i64::from(1 + (n * 7919) % parents.max(1)))
        .collect();
    let children: Vec<i64> = (0..parents * CHILDREN_PER_PARENT)
        .map(|n| i64::from(1 + (n * 104_729) % parents.max(1)))
        .collect();
    let repeats = (200_000 / parents).clamp(3, 20_000);
    let start = Instant::now();
    for _ in 0..repeats {
        let index = ParentIndex::new(black_box(&ids).iter().copied(), grouping);
        for &fk in black_box(&children) {
            black_box(index.find(fk));
        }
    }
    start.elapsed().as_secs_f64() * 1e9 / f64::from(repeats) / f64::from(parents)
}

fn grouping_sweep() -> Vec<Point> {
    PARENT_COUNTS
        .iter()
        .map(|&parents| {
            let (mut vec_ns, mut map_ns) = (Vec::new(), Vec::new());
            for round in 0..ROUNDS {
                if round % 2 == 0 {
                    vec_ns.push(grouping_ns(parents, Grouping::Vec));
                    map_ns.push(grouping_ns(parents, Grouping::HashMap));
                } else {
                    map_ns.push(grouping_ns(parents, Grouping::HashMap));
                    vec_ns.push(grouping_ns(parents, Grouping::Vec));
                }
            }
            let blocks = |g| {
                let before = process_stats();
                black_box(ParentIndex::new((0..i64::from(parents)).map(|i| i + 1), g));
                process_stats().since(&before).blocks() as f64 / f64::from(parents)
            };
            Point {
                parents,
                vec_ns: median(vec_ns),
                map_ns: median(map_ns),
                vec_blocks: blocks(Grouping::Vec),
                map_blocks: blocks(Grouping::HashMap),
            }
        })
        .collect()
}

struct Point {
    parents: i32,
    vec_ns: f64,
    map_ns: f64,
    vec_blocks: f64,
    map_blocks: f64,
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let points: Vec<Point> = runtime.block_on(async {
        let pool = setup().await;
        let mut points = Vec::new();
        for parents in PARENT_COUNTS {
            // Warm both statements (the padded IN list is the same for both).
            load(&pool, parents, usize::MAX).await;
            load(&pool, parents, 0).await;
            let blocks = |before: premix_instrument::AllocStats| {
                process_stats().since(&before).blocks() as f64 / f64::from(parents)
            };
            let before = process_stats();
            load(&pool, parents, usize::MAX).await;
            let vec_blocks = blocks(before);
            let before = process_stats();
            load(&pool, parents, 0).await;
            let map_blocks = blocks(before);
            let (mut vec_ns, mut map_ns) = (Vec::new(), Vec::new());
            let repeats = (2000 / parents).clamp(1, 200);
            for round in 0..ROUNDS {
                for side in 0..2 {
                    let vec_turn = (side == 0) == (round % 2 == 0);
                    let threshold = if vec_turn { usize::MAX } else { 0 };
                    let mut total = 0.0;
                    for _ in 0..repeats {
                        total += load(&pool, parents, threshold).await;
                    }
                    let per_parent = total / f64::from(repeats) / f64::from(parents);
                    if vec_turn {
                        vec_ns.push(per_parent)
                    } else {
                        map_ns.push(per_parent)
                    }
                }
            }
            points.push(Point {
                parents,
                vec_ns: median(vec_ns),
                map_ns: median(map_ns),
                vec_blocks,
                map_blocks,
            });
        }
        points
    });

    let grouping = grouping_sweep();

    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("results");
    std::fs::create_dir_all(&out).unwrap();
    let mut csv = String::from(
        "measure,parents,vec_ns_per_parent,hashmap_ns_per_parent,vec_blocks_per_parent,hashmap_blocks_per_parent\n",
    );
    let mut crossovers = Vec::new();
    for (measure, series) in [("end_to_end", &points), ("grouping_only", &grouping)] {
        println!(
            "\nlocality_sweep {measure}: {CHILDREN_PER_PARENT} children per parent, medians of {ROUNDS} interleaved rounds"
        );
        println!(
            "{:>8} {:>14} {:>14} {:>8} {:>12} {:>12}",
            "parents", "vec ns/par", "map ns/par", "map/vec", "vec blk/par", "map blk/par"
        );
        for p in series.iter() {
            let _ = writeln!(
                csv,
                "{measure},{},{:.2},{:.2},{:.4},{:.4}",
                p.parents, p.vec_ns, p.map_ns, p.vec_blocks, p.map_blocks
            );
            println!(
                "{:>8} {:>14.2} {:>14.2} {:>8.3} {:>12.3} {:>12.3}",
                p.parents,
                p.vec_ns,
                p.map_ns,
                p.map_ns / p.vec_ns,
                p.vec_blocks,
                p.map_blocks
            );
        }
        crossovers.push(serde_json::json!({"measure": measure, "hashmap_faster_from_parents": crossover(series)}));
        match crossover(series) {
            Some(c) => {
                println!("{measure} crossover: the HashMap is >=3% faster from {c} parents on")
            }
            None => println!("{measure} crossover: none beyond noise (3%) up to 10000 parents"),
        }
    }
    println!("default threshold: Vec up to {DEFAULT_VEC_GROUPING_MAX_PARENTS} parents");

    std::fs::write(out.join("locality_sweep.csv"), csv).unwrap();
    std::fs::create_dir_all(out.join("runs")).unwrap();
    let json = serde_json::json!({
        "run": "locality_sweep",
        "rounds": ROUNDS,
        "children_per_parent": CHILDREN_PER_PARENT,
        "default_vec_grouping_max_parents": DEFAULT_VEC_GROUPING_MAX_PARENTS,
        "crossovers": crossovers,
    });
    let text = serde_json::to_string_pretty(&json).unwrap();
    std::fs::write(out.join("runs/locality_sweep.json"), text + "\n").unwrap();
    plot(
        &out.join("locality_sweep.svg"),
        "Eager load, end to end: time per parent",
        &points,
    )
    .unwrap();
    plot(
        &out.join("locality_grouping.svg"),
        "Grouping alone: time per parent",
        &grouping,
    )
    .unwrap();
    println!("wrote benches/results/locality_sweep.csv, locality_sweep.svg, locality_grouping.svg");
}

fn plot(path: &Path, title: &str, points: &[Point]) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (900, 520)).into_drawing_area();
    root.fill(&WHITE)?;
    let max = points
        .iter()
        .map(|p| p.vec_ns.max(p.map_ns))
        .fold(0.0, f64::max)
        * 1.1;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d((1_f64..12_000_f64).log_scale(), 0_f64..max)?;
    chart
        .configure_mesh()
        .x_desc("parents (log scale)")
        .y_desc("ns per parent")
        .draw()?;
    let series = |f: fn(&Point) -> f64| {
        points
            .iter()
            .map(move |p| (f64::from(p.parents), f(p)))
            .collect::<Vec<_>>()
    };
    chart
        .draw_series(LineSeries::new(series(|p| p.vec_ns), &BLUE))?
        .label("sorted Vec + binary search")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE));
    chart
        .draw_series(LineSeries::new(series(|p| p.map_ns), &RED))?
        .label("HashMap")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED));
    let threshold = DEFAULT_VEC_GROUPING_MAX_PARENTS as f64;
    chart
        .draw_series(LineSeries::new(
            vec![(threshold, 0.0), (threshold, max)],
            BLACK.mix(0.5),
        ))?
        .label(format!("default threshold ({threshold})"))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.mix(0.5)));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
