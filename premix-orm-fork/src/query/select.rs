//! `all()`: the select, as one instrumented `select` call, then the eager
//! loads of every included relation on the connection the rows came from.

use crate::dialect::SqlDialect;
use crate::eager;
use crate::executor::Conn;
use crate::model::Model;
use crate::observe::{self, Op};
use crate::sql::Statement;

use super::builder::{Include, QueryBuilder};

impl<T: Model<DB>, DB: SqlDialect> QueryBuilder<'_, T, DB> {
    /// Runs the select, then loads every included relation on the same
    /// connection.
    ///
    /// # Errors
    /// The builder's first problem, or what the database reports.
    pub async fn all(mut self) -> Result<Vec<T>, sqlx::Error> {
        let mut includes = std::mem::take(&mut self.includes);
        if self.skip_includes {
            includes.clear();
        }
        let eager_options = self.eager;
        let op = observe::op::<DB>(&observe::SELECT, T::__meta().table);
        let (mut rows, mut conn) = select(op, self, &includes).await?;
        for include in &includes {
            eager::load::<DB, T>(&mut rows, &include.0, &mut conn, eager_options).await?;
        }
        conn.finish();
        Ok(rows)
    }
}

/// The select of [`QueryBuilder::all`]: refusals, SQL, the wait for a
/// connection and the rows, as one `select` call; returns the connection
/// too, for the eager loads that follow.
#[cfg_attr(
    feature = "instrument",
    premix_instrument::instrument(target = op.handle, outcome = observe::outcome)
)]
async fn select<'a, T: Model<DB>, DB: SqlDialect>(
    op: Op,
    mut builder: QueryBuilder<'a, T, DB>,
    includes: &[Include],
) -> Result<(Vec<T>, Conn<'a, DB>), sqlx::Error> {
    builder.take_problem()?;
    check_includes::<T, DB>(includes)?;
    let sql = builder.sql(Statement::Select)?;
    op.sql(sql.lookup());
    let capacity = builder
        .limit
        .map_or(0, |l| usize::try_from(l.clamp(0, 1024)).unwrap_or(0));
    let query = builder.bind_filters(sqlx::query(sql.as_str()).persistent(builder.prepared), 0);
    let mut conn = builder.executor.acquire(op).await?;
    let mut rows = Vec::with_capacity(capacity);
    conn.for_each_row(op, sql.id(), query, |row| {
        rows.push(T::__decode(&row)?);
        Ok(())
    })
    .await?;
    Ok((rows, conn))
}

fn check_includes<T: Model<DB>, DB: SqlDialect>(includes: &[Include]) -> Result<(), sqlx::Error> {
    let meta = T::__meta();
    for include in includes {
        if !meta.relations.contains(&include.0.as_ref()) {
            return Err(sqlx::Error::InvalidArgument(format!(
                "unknown relation `{}` on model `{}`; its relations are [{}]",
                include.0,
                meta.table,
                meta.relations.join(", ")
            )));
        }
    }
    Ok(())
}
