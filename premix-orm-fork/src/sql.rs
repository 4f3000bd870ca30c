//! SQL text from model metadata and query shapes.
//!
//! A *shape* is everything about a statement except its values: which
//! columns are filtered with which operators, how many `IN` placeholders,
//! whether LIMIT/OFFSET are there. Values are always bound, LIMIT and OFFSET
//! included, so paging through a result reuses one prepared statement, and
//! there is no path for a value to reach the SQL text.

use smallvec::SmallVec;

use crate::dialect::{Backend, SqlDialect};
use crate::meta::ModelMeta;

/// Statements whose text depends only on the model and the backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FixedSql {
    FindById,
    Insert,
    InsertWithId,
    Update,
    Delete,
    SoftDelete,
    Exists,
}

impl FixedSql {
    pub(crate) const COUNT: usize = 7;
}

/// A comparison in a filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FilterOp {
    /// `=` (`IS NULL` for a null value).
    Eq,
    /// `<>` (`IS NOT NULL` for a null value).
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Lte,
    /// `>`.
    Gt,
    /// `>=`.
    Gte,
    /// `LIKE`.
    Like,
    /// `IN (...)`.
    In,
    /// `IS NULL`.
    IsNull,
    /// `IS NOT NULL`.
    IsNotNull,
}

/// The direction of an `ORDER BY` column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Order {
    /// Smallest first.
    Asc,
    /// Largest first.
    Desc,
}

/// One filter's part of a shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct FilterShape {
    pub(crate) column: u16,
    pub(crate) op: FilterOp,
    /// Placeholders it binds: 1, 0 for the null tests, the padded list length
    /// for `IN` (0 for an empty list, rendered as a false condition).
    pub(crate) arity: u32,
}

/// What kind of statement.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Statement {
    Select,
    Update { set: SmallVec<[u16; 8]> },
    Delete,
    SoftDelete,
}

/// Everything that decides a builder statement's text.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Shape {
    pub(crate) backend: Backend,
    pub(crate) statement: Statement,
    pub(crate) filters: SmallVec<[FilterShape; 4]>,
    /// `ORDER BY` columns, in order (selects only).
    pub(crate) order: SmallVec<[(u16, Order); 2]>,
    pub(crate) limit: bool,
    pub(crate) offset: bool,
    pub(crate) include_deleted: bool,
}

/// `IN` lists are padded to the next power of two by repeating the last
/// value, so a list of any length maps to one of a few statements.
pub(crate) const fn padded_arity(len: usize) -> usize {
    if len == 0 { 0 } else { len.next_power_of_two() }
}

/// Builds SQL text while numbering placeholders.
struct Writer<DB> {
    sql: String,
    next: usize,
    _db: std::marker::PhantomData<DB>,
}

impl<DB: SqlDialect> Writer<DB> {
    fn new(capacity: usize) -> Self {
        Self {
            sql: String::with_capacity(capacity),
            next: 1,
            _db: std::marker::PhantomData,
        }
    }

    fn push(&mut self, text: &str) -> &mut Self {
        self.sql.push_str(text);
        self
    }

    fn ident(&mut self, name: &str) -> &mut Self {
        crate::ident::push(&mut self.sql, name);
        self
    }

    fn placeholder(&mut self) -> &mut Self {
        DB::push_placeholder(&mut self.sql, self.next);
        self.next += 1;
        self
    }

    fn columns(&mut self, meta: &ModelMeta, skip_id: bool) -> &mut Self {
        let mut first = true;
        for (i, column) in meta.columns.iter().enumerate() {
            if skip_id && i == meta.id_index {
                continue;
            }
            if !first {
                self.sql.push_str(", ");
            }
            first = false;
            crate::ident::push(&mut self.sql, column.name);
        }
        self
    }

    fn finish(self) -> String {
        self.sql
    }
}

fn id_column(meta: &ModelMeta) -> &'static str {
    meta.columns[meta.id_index].name
}

/// The text of a fixed-shape statement.
pub(crate) fn fixed<DB: SqlDialect>(meta: &ModelMeta, which: FixedSql) -> String {
    let mut w = Writer::<DB>::new(64 + meta.columns.len() * 16);
    let table = meta.table;
    let id = id_column(meta);
    match which {
        FixedSql::FindById => {
            w.push("SELECT ")
                .columns(meta, false)
                .push(" FROM ")
                .ident(table);
            w.push(" WHERE ").ident(id).push(" = ").placeholder();
            if let Some(deleted) = meta.soft_delete {
                w.push(" AND ")
                    .ident(meta.columns[deleted].name)
                    .push(" IS NULL");
            }
        }
        FixedSql::Insert | FixedSql::InsertWithId => {
            let with_id = which == FixedSql::InsertWithId;
            w.push("INSERT INTO ")
                .ident(table)
                .push(" (")
                .columns(meta, !with_id)
                .push(") VALUES (");
            let count = meta.columns.len() - usize::from(!with_id);
            for i in 0..count {
                if i > 0 {
                    w.push(", ");
                }
                w.placeholder();
            }
            w.push(")");
            if DB::INSERT_RETURNS_ID {
                w.push(" RETURNING ").ident(id);
            }
        }
        FixedSql::Update => {
            w.push("UPDATE ").ident(table).push(" SET ");
            let mut first = true;
            for (i, column) in meta.columns.iter().enumerate() {
                if i == meta.id_index || Some(i) == meta.version {
                    continue;
                }
                if !first {
                    w.push(", ");
                }
                first = false;
                w.ident(column.name).push(" = ").placeholder();
            }
            if let Some(version) = meta.version {
                let name = meta.columns[version].name;
                if !first {
                    w.push(", ");
                }
                w.ident(name).push(" = ").ident(name).push(" + 1");
            }
            w.push(" WHERE ").ident(id).push(" = ").placeholder();
            if let Some(version) = meta.version {
                w.push(" AND ")
                    .ident(meta.columns[version].name)
                    .push(" = ")
                    .placeholder();
            }
        }
        FixedSql::Delete => {
            w.push("DELETE FROM ")
                .ident(table)
                .push(" WHERE ")
                .ident(id)
                .push(" = ")
                .placeholder();
        }
        FixedSql::SoftDelete => {
            let deleted = meta
                .soft_delete
                .map_or("deleted_at", |i| meta.columns[i].name);
            w.push("UPDATE ").ident(table).push(" SET ").ident(deleted);
            w.push(" = CURRENT_TIMESTAMP WHERE ")
                .ident(id)
                .push(" = ")
                .placeholder();
            w.push(" AND ").ident(deleted).push(" IS NULL");
        }
        FixedSql::Exists => {
            w.push("SELECT 1 FROM ")
                .ident(table)
                .push(" WHERE ")
                .ident(id)
                .push(" = ")
                .placeholder();
        }
    }
    w.finish()
}

/// The text of a builder statement. Placeholders are numbered in the order
/// the builder binds: SET values, filter values, LIMIT, OFFSET.
pub(crate) fn shaped<DB: SqlDialect>(meta: &ModelMeta, shape: &Shape) -> String {
    let mut w = Writer::<DB>::new(96 + meta.columns.len() * 16 + shape.filters.len() * 24);
    let table = meta.table;
    let deleted_column = meta.soft_delete.map(|i| meta.columns[i].name);
    match &shape.statement {
        Statement::Select => {
            w.push("SELECT ")
                .columns(meta, false)
                .push(" FROM ")
                .ident(table);
        }
        Statement::Update { set } => {
            w.push("UPDATE ").ident(table).push(" SET ");
            for (n, column) in set.iter().enumerate() {
                if n > 0 {
                    w.push(", ");
                }
                w.ident(meta.columns[usize::from(*column)].name)
                    .push(" = ")
                    .placeholder();
            }
        }
        Statement::Delete => {
            w.push("DELETE FROM ").ident(table);
        }
        Statement::SoftDelete => {
            w.push("UPDATE ").ident(table).push(" SET ");
            w.ident(deleted_column.unwrap_or("deleted_at"))
                .push(" = CURRENT_TIMESTAMP");
        }
    }

    let mut conditions = 0;
    let mut condition = |w: &mut Writer<DB>| {
        w.push(if conditions == 0 { " WHERE " } else { " AND " });
        conditions += 1;
    };
    for filter in &shape.filters {
        condition(&mut w);
        let column = meta.columns[usize::from(filter.column)].name;
        match filter.op {
            FilterOp::IsNull => {
                w.ident(column).push(" IS NULL");
            }
            FilterOp::IsNotNull => {
                w.ident(column).push(" IS NOT NULL");
            }
            FilterOp::In if filter.arity == 0 => {
                w.push("1 = 0");
            }
            FilterOp::In => {
                w.ident(column).push(" IN (");
                for i in 0..filter.arity {
                    if i > 0 {
                        w.push(", ");
                    }
                    w.placeholder();
                }
                w.push(")");
            }
            op => {
                let symbol = match op {
                    FilterOp::Eq => " = ",
                    FilterOp::Ne => " <> ",
                    FilterOp::Lt => " < ",
                    FilterOp::Lte => " <= ",
                    FilterOp::Gt => " > ",
                    FilterOp::Gte => " >= ",
                    _ => " LIKE ",
                };
                w.ident(column).push(symbol).placeholder();
            }
        }
    }
    let hides_deleted = !shape.include_deleted || shape.statement == Statement::SoftDelete;
    if let (Some(deleted), true) = (deleted_column, hides_deleted) {
        condition(&mut w);
        w.ident(deleted).push(" IS NULL");
    }
    for (n, (column, order)) in shape.order.iter().enumerate() {
        w.push(if n == 0 { " ORDER BY " } else { ", " });
        w.ident(meta.columns[usize::from(*column)].name);
        w.push(match order {
            Order::Asc => " ASC",
            Order::Desc => " DESC",
        });
    }
    if shape.limit {
        w.push(" LIMIT ").placeholder();
    } else if shape.offset && DB::BACKEND == Backend::Sqlite {
        // SQLite accepts OFFSET only after a LIMIT; -1 means none.
        w.push(" LIMIT -1");
    }
    if shape.offset {
        w.push(" OFFSET ").placeholder();
    }
    w.finish()
}

#[cfg(all(test, feature = "sqlite", feature = "postgres"))]
mod tests {
    use smallvec::smallvec;

    use super::*;
    use crate::meta::ColumnType::{Integer, Text};
    use crate::meta::fixtures::{column, posts};

    static POSTS: ModelMeta = posts(
        &[
            column("id", Integer, false),
            column("user_id", Integer, false),
            column("title", Text, false),
            column("version", Integer, false),
            column("deleted_at", Text, true),
        ],
        Some(4),
        Some(3),
        &[],
    );

    #[test]
    fn fixed_statements() {
        use sqlx::{Postgres, Sqlite};
        let cases = [
            (
                fixed::<Sqlite>(&POSTS, FixedSql::FindById),
                "SELECT id, user_id, title, version, deleted_at FROM posts WHERE id = ? AND deleted_at IS NULL",
            ),
            (
                fixed::<Postgres>(&POSTS, FixedSql::Insert),
                "INSERT INTO posts (user_id, title, version, deleted_at) VALUES ($1, $2, $3, $4) RETURNING id",
            ),
            (
                fixed::<Postgres>(&POSTS, FixedSql::Update),
                "UPDATE posts SET user_id = $1, title = $2, deleted_at = $3, version = version + 1 WHERE id = $4 AND version = $5",
            ),
            (
                fixed::<Sqlite>(&POSTS, FixedSql::SoftDelete),
                "UPDATE posts SET deleted_at = CURRENT_TIMESTAMP WHERE id = ? AND deleted_at IS NULL",
            ),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
        }
    }

    #[test]
    fn shaped_statements_bind_everything() {
        let shape = |backend, limit, offset| Shape {
            backend,
            statement: Statement::Select,
            filters: smallvec![
                FilterShape {
                    column: 1,
                    op: FilterOp::In,
                    arity: 4
                },
                FilterShape {
                    column: 2,
                    op: FilterOp::Like,
                    arity: 1
                },
                FilterShape {
                    column: 4,
                    op: FilterOp::IsNotNull,
                    arity: 0
                },
            ],
            order: smallvec![],
            limit,
            offset,
            include_deleted: true,
        };
        assert_eq!(
            shaped::<sqlx::Postgres>(&POSTS, &shape(Backend::Postgres, true, true)),
            "SELECT id, user_id, title, version, deleted_at FROM posts WHERE user_id IN ($1, $2, $3, $4) \
             AND title LIKE $5 AND deleted_at IS NOT NULL LIMIT $6 OFFSET $7"
        );
        assert!(
            shaped::<sqlx::Sqlite>(&POSTS, &shape(Backend::Sqlite, false, true))
                .ends_with("LIMIT -1 OFFSET ?")
        );
        let hidden = Shape {
            include_deleted: false,
            filters: smallvec![],
            ..shape(Backend::Sqlite, false, false)
        };
        assert!(
            shaped::<sqlx::Sqlite>(&POSTS, &hidden)
                .ends_with("FROM posts WHERE deleted_at IS NULL")
        );
    }

    #[test]
    fn in_lists_pad_to_powers_of_two() {
        let cases = [
            (0, 0),
            (1, 1),
            (2, 2),
            (3, 4),
            (5, 8),
            (128, 128),
            (129, 256),
        ];
        for (len, padded) in cases {
            assert_eq!(padded_arity(len), padded, "{len}");
        }
    }
}
