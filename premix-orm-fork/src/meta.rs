//! What the derive knows about a model, as a `static` the library reads.
//!
//! The derive emits one [`ModelMeta`] per model: table, columns, primary key,
//! soft-delete and version columns, relations, and the model's SQL cache.
//! Everything else (SQL text, binding order, eager loading) is computed from
//! it by generic library code, so generated code stays thin glue.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, DefaultHasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{OnceLock, PoisonError, RwLock};

use crate::dialect::{Backend, SqlDialect};
use crate::observe::StmtId;
use crate::sql::{FixedSql, Shape};

/// The SQL type family of a column, from its Rust type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ColumnType {
    /// `i8`, `i16`, `u8`.
    SmallInt,
    /// `i32`, `u16`.
    Integer,
    /// `i64`, `u32`.
    BigInt,
    /// `bool`.
    Boolean,
    /// `f32`.
    Real,
    /// `f64`.
    Double,
    /// `String`.
    Text,
    /// `Vec<u8>`.
    Bytes,
    /// Written by hand with `#[premix(sql_type = "...")]`.
    Custom(&'static str),
    /// A type the derive cannot map; `Premix::sync` reports it.
    Unknown,
}

/// One persisted field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ColumnMeta {
    /// Column name (the field name).
    pub name: &'static str,
    /// SQL type family.
    pub ty: ColumnType,
    /// Whether the field is an `Option`.
    pub nullable: bool,
}

/// A `#[belongs_to(Parent)]`: this model's `column` references the parent's
/// `id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BelongsToMeta {
    /// The parent's table.
    pub parent_table: &'static str,
    /// The foreign-key column on this model.
    pub column: &'static str,
}

/// Everything the library needs to know about a model. Emitted by
/// `#[derive(Model)]`.
#[derive(Debug)]
pub struct ModelMeta {
    /// Table name.
    pub table: &'static str,
    /// Persisted columns in field order; rows are decoded by this order.
    pub columns: &'static [ColumnMeta],
    /// Index of `id` in `columns`.
    pub id_index: usize,
    /// Index of `deleted_at`, when the model soft-deletes.
    pub soft_delete: Option<usize>,
    /// Index of `version`, when the model uses optimistic locking.
    pub version: Option<usize>,
    /// Foreign keys.
    pub belongs_to: &'static [BelongsToMeta],
    /// Relation names `include` accepts.
    pub relations: &'static [&'static str],
    /// `#[premix(sensitive)]` columns: their values are never shown.
    pub sensitive: &'static [&'static str],
    /// SQL built for this model.
    pub sql: SqlCache,
}

impl ModelMeta {
    /// The index of a column, if the model has it.
    #[must_use]
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// Column names, comma-separated, for messages.
    pub(crate) fn column_names(&self) -> String {
        self.columns
            .iter()
            .map(|c| c.name)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Metadata written by hand for the unit tests of the SQL builders, in the
/// shape the derive emits: a `posts` table keyed by its first column.
#[cfg(all(test, feature = "sqlite"))]
pub(crate) mod fixtures {
    use super::{BelongsToMeta, ColumnMeta, ColumnType, ModelMeta, SqlCache};

    pub(crate) const fn column(name: &'static str, ty: ColumnType, nullable: bool) -> ColumnMeta {
        ColumnMeta { name, ty, nullable }
    }

    pub(crate) const fn posts(
        columns: &'static [ColumnMeta],
        soft_delete: Option<usize>,
        version: Option<usize>,
        belongs_to: &'static [BelongsToMeta],
    ) -> ModelMeta {
        ModelMeta {
            table: "posts",
            columns,
            id_index: 0,
            soft_delete,
            version,
            belongs_to,
            relations: &[],
            sensitive: &[],
            sql: SqlCache::new(),
        }
    }
}

/// Whether SQL text came from the cache or was built for this call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SqlLookup {
    /// Built earlier and reused.
    Hit,
    /// Built now.
    Miss,
}

/// SQL text built once and kept for the life of the process, with the
/// identity the instrumentation follows it by in statement caches.
#[derive(Debug)]
pub struct CachedSql {
    text: Box<str>,
    id: StmtId,
}

impl CachedSql {
    /// Keeps `text` for the life of the process. Bounded: see [`SqlCache`].
    pub(crate) fn leak(text: String) -> &'static Self {
        let id = StmtId::of(&text);
        Box::leak(Box::new(Self {
            text: text.into_boxed_str(),
            id,
        }))
    }

    /// The SQL text.
    #[must_use]
    pub fn text(&'static self) -> &'static str {
        &self.text
    }

    pub(crate) const fn id(&self) -> StmtId {
        self.id
    }
}

type ShapeMap = HashMap<Shape, &'static CachedSql, BuildHasherDefault<DefaultHasher>>;

/// A model's SQL text: fixed-shape statements (find by id, insert, update,
/// delete) built once per backend, and builder statements built once per
/// shape (columns and operators, never values). Kept text lives for the
/// life of the process; values are always bound and `IN` lists are padded to
/// powers of two, so a program's code produces few shapes. Shapes can still
/// come from input (which filters and which update keys a request passes),
/// so at most [`SqlCache::MAX_SHAPES`] are kept per model: past that a
/// statement's text is built for its call only, and counted
/// ([`SqlCache::shapes_not_kept`]).
#[derive(Debug)]
pub struct SqlCache {
    fixed: [[OnceLock<&'static CachedSql>; FixedSql::COUNT]; Backend::COUNT],
    shapes: RwLock<ShapeMap>,
    not_kept: AtomicU64,
}

/// Builder SQL text from [`SqlCache`]: kept, or built for one call because
/// the cache is full.
#[derive(Debug)]
pub(crate) enum ShapedSql {
    Kept(&'static CachedSql, SqlLookup),
    ForThisCall(String),
}

impl SqlCache {
    /// An empty cache, for the derive's `static`.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            fixed: [const { [const { OnceLock::new() }; FixedSql::COUNT] }; Backend::COUNT],
            shapes: RwLock::new(HashMap::with_hasher(BuildHasherDefault::new())),
            not_kept: AtomicU64::new(0),
        }
    }

    /// Builder shapes kept per model (per cache).
    pub const MAX_SHAPES: usize = 512;

    pub(crate) fn fixed<DB: SqlDialect>(
        &self,
        which: FixedSql,
        build: impl FnOnce() -> String,
    ) -> (&'static CachedSql, SqlLookup) {
        let slot = &self.fixed[DB::BACKEND as usize][which as usize];
        if let Some(sql) = slot.get() {
            return (sql, SqlLookup::Hit);
        }
        let mut built_now = false;
        let sql = slot.get_or_init(|| {
            built_now = true;
            CachedSql::leak(build())
        });
        (
            sql,
            if built_now {
                SqlLookup::Miss
            } else {
                SqlLookup::Hit
            },
        )
    }

    pub(crate) fn shape(&self, shape: &Shape, build: impl FnOnce() -> String) -> ShapedSql {
        if let Some(sql) = self
            .shapes
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(shape)
        {
            return ShapedSql::Kept(sql, SqlLookup::Hit);
        }
        let mut shapes = self.shapes.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(sql) = shapes.get(shape) {
            return ShapedSql::Kept(sql, SqlLookup::Hit);
        }
        if shapes.len() >= Self::MAX_SHAPES {
            drop(shapes);
            self.not_kept.fetch_add(1, Ordering::Relaxed);
            return ShapedSql::ForThisCall(build());
        }
        let sql = CachedSql::leak(build());
        shapes.insert(shape.clone(), sql);
        ShapedSql::Kept(sql, SqlLookup::Miss)
    }

    /// Statements whose text was built for their call only, the cache being
    /// full ([`SqlCache::MAX_SHAPES`]).
    #[must_use]
    pub fn shapes_not_kept(&self) -> u64 {
        self.not_kept.load(Ordering::Relaxed)
    }

    /// How many builder shapes have been built, for tests and reports.
    #[must_use]
    pub fn shape_count(&self) -> usize {
        self.shapes
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

impl Default for SqlCache {
    fn default() -> Self {
        Self::new()
    }
}
