//! Eager loading: one generic routine for every `#[has_many]` relation.
//!
//! For N parents it runs `SELECT ... FROM child WHERE fk IN (...)` in chunks
//! under the backend's bind limit (the list padded to a power of two so a
//! few statements cover every N), and hands each child row, as it arrives,
//! straight to its parent's `Vec`. Finding the parent is the locality
//! choice: up to [`DEFAULT_VEC_GROUPING_MAX_PARENTS`] parents, a sorted
//! `Vec<(id, index)>` and binary search (compact, cache-friendly); above it,
//! a `HashMap` (constant time per child). Children are never collected into
//! a second collection to be regrouped.

use std::collections::HashMap;
use std::future::Future;

use smallvec::smallvec;

use crate::dialect::SqlDialect;
use crate::executor::Conn;
use crate::meta::{ShapedSql, SqlLookup};
use crate::model::Model;
use crate::observe::{self, Op, StmtId};
use crate::sql::{self, FilterOp, FilterShape, Shape, Statement, padded_arity};
use crate::value::BindValue;

/// Up to this many parents, eager loading groups children with a sorted
/// `Vec` and binary search; above it, with a `HashMap`. Override per query
/// with `QueryBuilder::vec_grouping_max_parents`.
///
/// Chosen from measurement (`cargo bench -p premix-benches --bench
/// locality_sweep`, 5 children per parent): timed alone, the `Vec` groups
/// 1.6x faster at 128 parents, 1.13x at 1000 and 1.06x at 2000; the two are
/// even near 3000 and the `HashMap` is ahead from 4000 on. End to end the
/// choice is within noise at every size (the query dominates), and the `Vec`
/// allocates one block less per load. It was 128 before the measurement.
pub const DEFAULT_VEC_GROUPING_MAX_PARENTS: usize = 2048;

/// The largest `IN` list one child query carries: a power of two, so padded
/// lists never exceed it, and well under every backend's bind limit.
const MAX_IN_LIST: usize = 8192;

/// How children find their parent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Grouping {
    /// Sorted `Vec` of parent ids, binary search.
    Vec,
    /// `HashMap` from parent id to parent.
    HashMap,
}

impl Grouping {
    /// The strategy for `parents` parents under `options`.
    #[must_use]
    pub const fn for_parents(parents: usize, options: EagerOptions) -> Self {
        if parents <= options.vec_grouping_max_parents {
            Self::Vec
        } else {
            Self::HashMap
        }
    }

    /// The `strategy` label value.
    #[must_use]
    pub const fn as_label(self) -> &'static str {
        match self {
            Self::Vec => "vec",
            Self::HashMap => "hashmap",
        }
    }
}

/// The one definition of the fork's strategies: the runtime records a
/// `Grouping` under the label it declares here.
#[cfg(feature = "instrument")]
impl premix_instrument::locality::Strategy for Grouping {
    const LABELS: &'static [&'static str] = &[Self::Vec.as_label(), Self::HashMap.as_label()];

    fn index(self) -> usize {
        self as usize
    }
}

/// The parent-count buckets eager loads are counted in (with
/// `instrument`), split at [`DEFAULT_VEC_GROUPING_MAX_PARENTS`]: for 2048,
/// `1`, `2-10`, `11-100`, `101-1000`, `1001-2048` (the `Vec`'s last sizes),
/// `2049-10000` (the `HashMap`'s first) and `10001+`.
#[cfg(feature = "instrument")]
pub(crate) const LOCALITY_BUCKETS: premix_instrument::locality::ParentBuckets = {
    let (bounds, len) = parent_bucket_bounds(DEFAULT_VEC_GROUPING_MAX_PARENTS);
    premix_instrument::locality::ParentBuckets::new(bounds.split_at(len).0)
};

/// Upper bounds of buckets around `threshold`: every power of ten below
/// it, the threshold itself (the most parents the `Vec` groups) and the
/// next power of ten above it, so the two buckets that meet at the
/// threshold each hold one strategy. Returns the bounds and how many there
/// are (at most 20 powers of ten fit a `u64`, so 22 in all).
#[cfg(feature = "instrument")]
const fn parent_bucket_bounds(threshold: usize) -> ([u64; 22], usize) {
    let threshold = threshold as u64;
    let mut bounds = [0; 22];
    let mut len = 0;
    let mut decade: u64 = 1;
    while decade < threshold {
        bounds[len] = decade;
        len += 1;
        match decade.checked_mul(10) {
            Some(next) => decade = next,
            None => break,
        }
    }
    // 0 parents count in the first bucket anyway; u64::MAX leaves no room
    // for the open bucket above it.
    if threshold >= 1 && threshold < u64::MAX {
        bounds[len] = threshold;
        len += 1;
    }
    let mut above: u64 = 1;
    while above <= threshold {
        match above.checked_mul(10) {
            Some(next) => above = next,
            None => return (bounds, len),
        }
    }
    bounds[len] = above;
    len += 1;
    (bounds, len)
}

/// Tuning for eager loading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EagerOptions {
    /// See [`DEFAULT_VEC_GROUPING_MAX_PARENTS`].
    pub vec_grouping_max_parents: usize,
}

impl Default for EagerOptions {
    fn default() -> Self {
        Self {
            vec_grouping_max_parents: DEFAULT_VEC_GROUPING_MAX_PARENTS,
        }
    }
}

/// Parent lookup by id: the sorted `(id, index)` list always exists (it also
/// drives the `IN` lists); the map only for the hashmap strategy. Public
/// only for the locality benchmark, which times it alone.
#[doc(hidden)]
#[derive(Debug)]
pub struct ParentIndex {
    sorted: Vec<(i64, usize)>,
    hashed: Option<HashMap<i64, usize>>,
}

impl ParentIndex {
    /// An index of parent ids (each paired with its position).
    pub fn new(ids: impl Iterator<Item = i64>, grouping: Grouping) -> Self {
        let mut sorted: Vec<(i64, usize)> =
            ids.enumerate().map(|(index, id)| (id, index)).collect();
        sorted.sort_unstable();
        sorted.dedup_by_key(|(id, _)| *id);
        let hashed = (grouping == Grouping::HashMap).then(|| sorted.iter().copied().collect());
        Self { sorted, hashed }
    }

    /// The position of the parent with this id.
    #[must_use]
    pub fn find(&self, id: i64) -> Option<usize> {
        match &self.hashed {
            Some(map) => map.get(&id).copied(),
            None => self
                .sorted
                .binary_search_by_key(&id, |&(parent_id, _)| parent_id)
                .ok()
                .map(|at| self.sorted[at].1),
        }
    }
}

/// Loads `relation` into every parent, on the connection the parents were
/// selected on; returns the number of child queries it ran.
pub(crate) async fn load<DB: SqlDialect, P: Model<DB>>(
    parents: &mut [P],
    relation: &str,
    conn: &mut Conn<'_, DB>,
    options: EagerOptions,
) -> Result<u64, sqlx::Error> {
    P::__load_relation(parents, relation, conn, options)
        .await?
        .ok_or_else(|| {
            sqlx::Error::InvalidArgument(format!(
                "unknown relation `{relation}` on model `{}`",
                P::__meta().table
            ))
        })
}

/// Loads a `#[has_many]` relation: children of type `C` whose
/// `foreign_key` column holds a parent's id go into `slot(parent)`. Called
/// by derived code; returns the number of child queries run.
pub fn load_has_many<'a, DB, P, C>(
    parents: &'a mut [P],
    conn: &'a mut Conn<'_, DB>,
    relation: &'static str,
    foreign_key: &'static str,
    slot: fn(&mut P) -> &mut Option<Vec<C>>,
    options: EagerOptions,
) -> impl Future<Output = Result<u64, sqlx::Error>> + Send + 'a
where
    DB: SqlDialect,
    P: Model<DB>,
    C: Model<DB>,
{
    let op = observe::op::<DB>(&observe::EAGER_LOAD, P::__meta().table);
    load_has_many_as(op, parents, conn, relation, foreign_key, slot, options)
}

#[cfg_attr(
    feature = "instrument",
    premix_instrument::instrument(target = op.handle, outcome = observe::outcome)
)]
async fn load_has_many_as<DB, P, C>(
    op: Op,
    parents: &mut [P],
    conn: &mut Conn<'_, DB>,
    relation: &'static str,
    foreign_key: &'static str,
    slot: fn(&mut P) -> &mut Option<Vec<C>>,
    options: EagerOptions,
) -> Result<u64, sqlx::Error>
where
    DB: SqlDialect,
    P: Model<DB>,
    C: Model<DB>,
{
    let child_meta = C::__meta();
    let fk_column = child_meta
        .column_index(foreign_key)
        .and_then(|i| u16::try_from(i).ok())
        .ok_or_else(|| {
            sqlx::Error::ColumnNotFound(format!(
                "`{foreign_key}` on model `{}` (the foreign key of a has_many from `{}`)",
                child_meta.table,
                P::__meta().table
            ))
        })?;

    let grouping = Grouping::for_parents(parents.len(), options);
    let parent_count = parents.len();
    let work = async {
        let index = ParentIndex::new(parents.iter().map(Model::__id), grouping);
        for parent in parents.iter_mut() {
            *slot(parent) = Some(Vec::new());
        }
        let mut children_found = 0_u64;
        let queries = select_in::<DB, C, _>(
            op,
            conn,
            fk_column,
            &index.sorted,
            |&(id, _)| id,
            |row| {
                let child = C::__decode(&row)?;
                if let Some(parent) = child
                    .__foreign_key(foreign_key)
                    .and_then(|fk| index.find(fk))
                    && let Some(children) = slot(&mut parents[parent])
                {
                    children.push(child);
                    children_found += 1;
                }
                Ok(())
            },
        )
        .await?;
        Ok::<_, sqlx::Error>((queries, children_found))
    };
    measured_load::<DB>(P::__meta().table, relation, grouping, parent_count, work).await
}

/// Runs a load (`work` answers the queries run and the rows found) and,
/// with `instrument`, records it under the locality counters: the rows
/// loaded into, the rows found, the grouping, the time and allocations.
async fn measured_load<DB: SqlDialect>(
    model: &'static str,
    relation: &'static str,
    grouping: Grouping,
    loaded_into: usize,
    work: impl Future<Output = Result<(u64, u64), sqlx::Error>> + Send,
) -> Result<u64, sqlx::Error> {
    #[cfg(not(feature = "instrument"))]
    {
        let _ = (model, relation, grouping, loaded_into, DB::BACKEND);
        work.await.map(|(queries, _found)| queries)
    }
    #[cfg(feature = "instrument")]
    {
        use premix_instrument::locality::EagerLoad;
        let (result, cost) = premix_instrument::Measured::new(work).await;
        let (queries, found) = result?;
        let load = EagerLoad {
            parents: loaded_into as u64,
            children: found,
            cost,
        };
        observe::EAGER.record(model, DB::BACKEND.label(), relation, grouping, load);
        Ok(queries)
    }
}

/// Loads a field-level `#[belongs_to]` relation: the parent of type `P`
/// whose id each child's `foreign_key` column holds goes into
/// `slot(child)` (every child gets its own copy; `None` when no such row,
/// or a soft-deleted one). Called by derived code; returns the number of
/// parent queries run.
pub fn load_belongs_to<'a, DB, C, P>(
    children: &'a mut [C],
    conn: &'a mut Conn<'_, DB>,
    relation: &'static str,
    foreign_key: &'static str,
    slot: fn(&mut C) -> &mut Option<P>,
    options: EagerOptions,
) -> impl Future<Output = Result<u64, sqlx::Error>> + Send + 'a
where
    DB: SqlDialect,
    C: Model<DB>,
    P: Model<DB> + Clone,
{
    let op = observe::op::<DB>(&observe::EAGER_LOAD, C::__meta().table);
    load_belongs_to_as(op, children, conn, relation, foreign_key, slot, options)
}

#[cfg_attr(
    feature = "instrument",
    premix_instrument::instrument(target = op.handle, outcome = observe::outcome)
)]
async fn load_belongs_to_as<DB, C, P>(
    op: Op,
    children: &mut [C],
    conn: &mut Conn<'_, DB>,
    relation: &'static str,
    foreign_key: &'static str,
    slot: fn(&mut C) -> &mut Option<P>,
    options: EagerOptions,
) -> Result<u64, sqlx::Error>
where
    DB: SqlDialect,
    C: Model<DB>,
    P: Model<DB> + Clone,
{
    let parent_meta = P::__meta();
    let id_column = u16::try_from(parent_meta.id_index).unwrap_or(u16::MAX);
    let mut wanted: Vec<i64> = children
        .iter()
        .filter_map(|child| child.__foreign_key(foreign_key))
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    let grouping = Grouping::for_parents(wanted.len(), options);
    let loaded_into = children.len();
    let work = async {
        let mut parents = Vec::with_capacity(wanted.len());
        let queries = select_in::<DB, P, _>(
            op,
            conn,
            id_column,
            &wanted,
            |&id| id,
            |row| {
                parents.push(P::__decode(&row)?);
                Ok(())
            },
        )
        .await?;
        let index = ParentIndex::new(parents.iter().map(Model::__id), grouping);
        for child in children.iter_mut() {
            let parent = child
                .__foreign_key(foreign_key)
                .and_then(|fk| index.find(fk))
                .map(|at| parents[at].clone());
            *slot(child) = parent;
        }
        Ok::<_, sqlx::Error>((queries, parents.len() as u64))
    };
    measured_load::<DB>(C::__meta().table, relation, grouping, loaded_into, work).await
}

/// Runs `SELECT <R's columns> FROM <R's table> WHERE <column> IN (...)`
/// over `ids` (sorted, distinct) in chunks under the bind limit, each list
/// padded to a power of two so a few statements cover every size, and
/// hands each row to `each` as it arrives; returns the queries run.
async fn select_in<DB, R, T>(
    op: Op,
    conn: &mut Conn<'_, DB>,
    column: u16,
    ids: &[T],
    key: fn(&T) -> i64,
    mut each: impl FnMut(DB::Row) -> Result<(), sqlx::Error>,
) -> Result<u64, sqlx::Error>
where
    DB: SqlDialect,
    R: Model<DB>,
{
    let meta = R::__meta();
    let mut queries = 0_u64;
    for chunk in ids.chunks(MAX_IN_LIST.min(DB::MAX_BIND_PARAMS)) {
        let arity = padded_arity(chunk.len());
        let shape = Shape {
            backend: DB::BACKEND,
            statement: Statement::Select,
            filters: smallvec![FilterShape {
                column,
                op: FilterOp::In,
                arity: u32::try_from(arity).unwrap_or(u32::MAX),
            }],
            order: smallvec![],
            limit: false,
            offset: false,
            include_deleted: false,
        };
        // Powers of two up to MAX_IN_LIST: a few shapes, always kept unless
        // builder shapes filled the model's cache first.
        let shaped = meta.sql.shape(&shape, || sql::shaped::<DB>(meta, &shape));
        let (text, id) = match &shaped {
            ShapedSql::Kept(sql, lookup) => {
                op.sql(*lookup);
                (sql.text(), sql.id())
            }
            ShapedSql::ForThisCall(text) => {
                op.sql(SqlLookup::Miss);
                (text.as_str(), StmtId::of(text))
            }
        };
        let mut query = sqlx::query(text);
        for value in chunk {
            query = DB::bind_value(query, BindValue::Int(key(value)));
        }
        let last = chunk.last().map_or(0, key);
        for _ in chunk.len()..arity {
            query = DB::bind_value(query, BindValue::Int(last));
        }
        queries += 1;
        conn.for_each_row(op, id, query, &mut each).await?;
    }
    Ok(queries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_threshold_is_inclusive_for_vec() {
        let options = EagerOptions::default();
        let cases = [
            (1, Grouping::Vec),
            (2047, Grouping::Vec),
            (2048, Grouping::Vec),
            (2049, Grouping::HashMap),
            (10_000, Grouping::HashMap),
        ];
        for (parents, want) in cases {
            assert_eq!(Grouping::for_parents(parents, options), want, "{parents}");
        }
        let custom = EagerOptions {
            vec_grouping_max_parents: 0,
        };
        assert_eq!(Grouping::for_parents(1, custom), Grouping::HashMap);
    }

    #[cfg(feature = "instrument")]
    #[test]
    fn the_runtime_records_the_labels_grouping_declares() {
        use premix_instrument::locality::Strategy;
        for grouping in [Grouping::Vec, Grouping::HashMap] {
            assert_eq!(Grouping::LABELS[grouping.index()], grouping.as_label());
        }
        assert_eq!(Grouping::LABELS, ["vec", "hashmap"]);
    }

    #[cfg(feature = "instrument")]
    #[test]
    fn locality_buckets_meet_at_the_threshold() {
        let threshold = DEFAULT_VEC_GROUPING_MAX_PARENTS as u64;
        let ranges: Vec<_> = LOCALITY_BUCKETS.ranges().collect();
        assert!(ranges.contains(&(1_001, threshold)), "{ranges:?}");
        assert!(ranges.contains(&(threshold + 1, 10_000)), "{ranges:?}");
        assert_ne!(
            LOCALITY_BUCKETS,
            premix_instrument::locality::ParentBuckets::DEFAULT
        );
        assert_eq!(observe::EAGER.parent_buckets(), LOCALITY_BUCKETS);
        for (threshold, want) in [
            (0, &[1][..]),
            (1, &[1, 10]),
            (5, &[1, 5, 10]),
            (10, &[1, 10, 100]),
            (2048, &[1, 10, 100, 1_000, 2_048, 10_000]),
        ] {
            let (bounds, len) = parent_bucket_bounds(threshold);
            assert_eq!(&bounds[..len], want, "{threshold}");
        }
        // Every threshold gives valid buckets (ParentBuckets::new panics
        // otherwise), the largest included.
        for threshold in [usize::MAX, usize::MAX - 1, 10_usize.pow(19), 99] {
            let (bounds, len) = parent_bucket_bounds(threshold);
            let buckets = premix_instrument::locality::ParentBuckets::new(&bounds[..len]);
            assert!(buckets.len() <= premix_instrument::locality::ParentBuckets::MAX);
        }
    }

    #[test]
    fn both_indexes_find_the_same_parents() {
        let sorted = vec![(3, 0), (9, 1), (27, 2)];
        let vec_index = ParentIndex {
            sorted: sorted.clone(),
            hashed: None,
        };
        let map_index = ParentIndex {
            hashed: Some(sorted.iter().copied().collect()),
            sorted,
        };
        for id in [3, 9, 27, 4, -1] {
            assert_eq!(vec_index.find(id), map_index.find(id), "{id}");
        }
        assert_eq!(vec_index.find(9), Some(1));
    }
}
