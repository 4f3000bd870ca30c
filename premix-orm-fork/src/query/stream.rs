//! `stream()`: rows as they arrive, for result sets too large to collect.
//!
//! Unlike the other terminal methods it is not an `async fn`: what the
//! builder got wrong comes back at once as the outer error, counted as a
//! refused `select` by [`refused`], and the stream is counted as it is
//! polled.

use futures_util::StreamExt;
use futures_util::stream::BoxStream;

use crate::dialect::SqlDialect;
use crate::executor::Executor;
use crate::model::Model;
use crate::observe::{self, Op};
use crate::sql::Statement;

use super::builder::QueryBuilder;
use super::shape::Sql;

impl<'a, T: Model<DB>, DB: SqlDialect> QueryBuilder<'a, T, DB> {
    /// Streams the selected rows as they arrive, as premix's `stream()`
    /// does: the builder's problems come back at once, as the outer error.
    /// Relations cannot be included in a stream (`include()` is refused
    /// here), nor raw filters.
    ///
    /// # Errors
    /// The builder's first problem, an `include()`, or raw filters; each
    /// counted as a refused `select`.
    pub fn stream(mut self) -> Result<BoxStream<'a, Result<T, sqlx::Error>>, sqlx::Error> {
        let op = observe::op::<DB>(&observe::SELECT, Self::meta().table);
        let checked = self
            .take_problem()
            .and_then(|()| {
                if self.includes.is_empty() {
                    Ok(())
                } else {
                    Err(sqlx::Error::InvalidArgument(
                        "include() needs every parent row: use all() instead of stream()".into(),
                    ))
                }
            })
            .and_then(|()| match self.sql(Statement::Select)? {
                Sql::Cached(text, lookup) => Ok((text, lookup)),
                Sql::Owned(_) => Err(sqlx::Error::InvalidArgument(format!(
                    "stream() runs only statements whose text is kept: not raw filters, nor a \
                     new shape once `{}` has {} (SqlCache::MAX_SHAPES); use all()",
                    Self::meta().table,
                    crate::SqlCache::MAX_SHAPES
                ))),
            });
        let (sql, lookup) = match checked {
            Ok(checked) => checked,
            Err(problem) => return refused(op, problem).map(|never| match never {}),
        };
        op.sql(lookup);
        let query = self.bind_filters(sqlx::query(sql.text()).persistent(self.prepared), 0);
        let rows = match self.executor {
            Executor::Pool(pool) => DB::fetch_from_pool(pool, query),
            Executor::Conn(conn) => DB::fetch(conn, query),
        };
        let decoded = rows.map(|row| row.and_then(|row| T::__decode(&row)));
        #[cfg(feature = "instrument")]
        let decoded = premix_instrument::InstrumentedStream::new(
            op.handle,
            decoded,
            |item: &Result<T, sqlx::Error>| item.as_ref().err().map(observe::error_kind),
        );
        Ok(decoded.boxed())
    }
}

/// A call refused before it ran (a builder's problem found by a method
/// that is not itself instrumented): counted as one call of `op` that
/// failed.
#[cfg_attr(
    feature = "instrument",
    premix_instrument::instrument(target = op.handle, outcome = observe::outcome)
)]
fn refused(op: Op, problem: sqlx::Error) -> Result<std::convert::Infallible, sqlx::Error> {
    let _ = op;
    Err(problem)
}
