//! Creating tables from models.

use sqlx::Pool;

use crate::dialect::SqlDialect;
use crate::ident;
use crate::meta::ModelMeta;
use crate::model::Model;

/// Entry point for schema and pool helpers.
#[derive(Clone, Copy, Debug, Default)]
pub struct Premix;

/// `CREATE TABLE IF NOT EXISTS` for a model, with its foreign keys. Columns
/// whose type cannot be mapped are written without a type (see
/// [`Premix::sync`], which refuses them).
pub(crate) fn create_table_sql<DB: SqlDialect>(meta: &ModelMeta) -> String {
    let mut sql = String::from("CREATE TABLE IF NOT EXISTS ");
    ident::push(&mut sql, meta.table);
    sql.push_str(" (");
    for (i, column) in meta.columns.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        ident::push(&mut sql, column.name);
        if i == meta.id_index {
            sql.push(' ');
            sql.push_str(DB::primary_key_sql(column.ty));
            continue;
        }
        if let Some(ty) = DB::column_sql_type(column.ty) {
            sql.push(' ');
            sql.push_str(ty);
        }
        if !column.nullable {
            sql.push_str(" NOT NULL");
        }
    }
    for fk in meta.belongs_to {
        sql.push_str(&format!(
            ", FOREIGN KEY ({}) REFERENCES {} (id)",
            ident::quoted(fk.column),
            ident::quoted(fk.parent_table)
        ));
    }
    sql.push(')');
    sql
}

/// One index per foreign key, so eager loading's `fk IN (...)` is an index
/// lookup.
fn foreign_key_indexes(meta: &ModelMeta) -> impl Iterator<Item = String> + '_ {
    meta.belongs_to.iter().map(|fk| {
        format!(
            "CREATE INDEX IF NOT EXISTS {index} ON {table} ({column})",
            index = ident::quoted(&format!("idx_{}_{}", meta.table, fk.column)),
            table = ident::quoted(meta.table),
            column = ident::quoted(fk.column)
        )
    })
}

impl Premix {
    /// Creates the model's table if it does not exist, with its foreign keys
    /// and an index on each foreign key. Sync parents before children.
    ///
    /// # Errors
    /// `InvalidArgument` for a field whose Rust type has no SQL mapping
    /// (annotate it with `#[premix(sql_type = "...")]`); database errors
    /// as sqlx reports them.
    pub async fn sync<DB, T>(pool: &Pool<DB>) -> Result<(), sqlx::Error>
    where
        DB: SqlDialect,
        T: Model<DB>,
    {
        let meta = T::__meta();
        if let Some(column) = meta
            .columns
            .iter()
            .enumerate()
            .find(|(i, c)| *i != meta.id_index && DB::column_sql_type(c.ty).is_none())
            .map(|(_, c)| c)
        {
            return Err(sqlx::Error::InvalidArgument(format!(
                "cannot create `{}`: field `{}` has a Rust type with no SQL mapping; annotate it \
                 with #[premix(sql_type = \"...\")]",
                meta.table, column.name
            )));
        }
        let mut conn = pool.acquire().await?;
        let statements =
            std::iter::once(create_table_sql::<DB>(meta)).chain(foreign_key_indexes(meta));
        for statement in statements {
            // DDL runs once; there is nothing to gain from caching it.
            DB::execute(&mut conn, sqlx::query(&statement).persistent(false)).await?;
        }
        Ok(())
    }
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use super::*;
    use crate::meta::BelongsToMeta;
    use crate::meta::ColumnType::{Integer, Text};
    use crate::meta::fixtures::{column, posts};

    static POSTS: ModelMeta = posts(
        &[
            column("id", Integer, false),
            column("user_id", Integer, false),
            column("title", Text, true),
        ],
        None,
        None,
        &[BelongsToMeta {
            parent_table: "users",
            column: "user_id",
        }],
    );

    #[test]
    fn create_table_with_foreign_key_and_index() {
        assert_eq!(
            create_table_sql::<sqlx::Sqlite>(&POSTS),
            "CREATE TABLE IF NOT EXISTS posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, \
             title TEXT, FOREIGN KEY (user_id) REFERENCES users (id))"
        );
        assert_eq!(
            foreign_key_indexes(&POSTS).collect::<Vec<_>>(),
            ["CREATE INDEX IF NOT EXISTS idx_posts_user_id ON posts (user_id)"]
        );
    }
}
