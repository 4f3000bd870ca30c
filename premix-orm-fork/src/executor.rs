//! Where a query runs: a pool, a pooled connection, a transaction or a plain
//! connection, behind one type.
//!
//! Every operation runs on one explicitly held connection ([`Conn`]): a pool
//! is asked for one connection per operation (what sqlx does internally
//! too), and a borrowed connection or transaction is used as it is. Holding
//! the connection is what lets the instrumentation see which connection's
//! statement cache a query used, and taking it inside the operation is what
//! makes the wait for it part of the operation.

use std::ops::{Deref, DerefMut};

use futures_util::TryStreamExt;
use sqlx::pool::PoolConnection;
use sqlx::{Database, Pool, Transaction};

use crate::dialect::{DbQuery, SqlDialect};
use crate::observe::{self, Op, StmtId, Tracked};

/// A pool or a borrowed connection. Built through [`IntoExecutor`].
#[derive(Debug)]
pub enum Executor<'a, DB: Database> {
    /// Each operation acquires a connection from the pool.
    Pool(&'a Pool<DB>),
    /// Operations run on this connection (a transaction's, say).
    Conn(&'a mut DB::Connection),
}

/// Anything a query can run on: `&Pool`, `&mut PoolConnection`,
/// `&mut Transaction`, or `&mut` a backend's connection.
pub trait IntoExecutor<'a>: Send {
    /// The database.
    type DB: Database;

    /// Converts into an [`Executor`].
    fn into_executor(self) -> Executor<'a, Self::DB>;
}

impl<'a, DB: Database> IntoExecutor<'a> for Executor<'a, DB> {
    type DB = DB;

    fn into_executor(self) -> Self {
        self
    }
}

impl<'a, DB: Database> IntoExecutor<'a> for &'a Pool<DB> {
    type DB = DB;

    fn into_executor(self) -> Executor<'a, DB> {
        Executor::Pool(self)
    }
}

impl<'a, DB: Database> IntoExecutor<'a> for &'a mut PoolConnection<DB> {
    type DB = DB;

    fn into_executor(self) -> Executor<'a, DB> {
        Executor::Conn(&mut **self)
    }
}

impl<'a, 't, DB: Database> IntoExecutor<'a> for &'a mut Transaction<'t, DB> {
    type DB = DB;

    fn into_executor(self) -> Executor<'a, DB> {
        Executor::Conn(&mut **self)
    }
}

#[cfg(feature = "sqlite")]
impl<'a> IntoExecutor<'a> for &'a mut sqlx::SqliteConnection {
    type DB = sqlx::Sqlite;

    fn into_executor(self) -> Executor<'a, sqlx::Sqlite> {
        Executor::Conn(self)
    }
}

#[cfg(feature = "postgres")]
impl<'a> IntoExecutor<'a> for &'a mut sqlx::PgConnection {
    type DB = sqlx::Postgres;

    fn into_executor(self) -> Executor<'a, sqlx::Postgres> {
        Executor::Conn(self)
    }
}

/// A connection held for one operation: acquired from a pool (returned to it
/// on drop) or borrowed.
pub(crate) enum Held<'a, DB: Database> {
    Pooled(PoolConnection<DB>),
    Borrowed(&'a mut DB::Connection),
}

impl<DB: Database> Deref for Held<'_, DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &DB::Connection {
        match self {
            Self::Pooled(conn) => conn,
            Self::Borrowed(conn) => conn,
        }
    }
}

impl<DB: Database> DerefMut for Held<'_, DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        match self {
            Self::Pooled(conn) => conn,
            Self::Borrowed(conn) => conn,
        }
    }
}

impl<'a, DB: SqlDialect> Executor<'a, DB> {
    /// The same executor for one more operation, leaving this one usable.
    pub(crate) fn reborrow(&mut self) -> Executor<'_, DB> {
        match self {
            Self::Pool(pool) => Executor::Pool(pool),
            Self::Conn(conn) => Executor::Conn(&mut **conn),
        }
    }

    /// The connection operation `op` runs on: taken from the pool (the wait
    /// is part of the operation, and counted as such) or borrowed.
    pub(crate) async fn acquire(self, op: Op) -> Result<Conn<'a, DB>, sqlx::Error> {
        Ok(match self {
            Self::Pool(pool) => {
                let (conn, tracked) = observe::acquire(pool, op).await?;
                Conn {
                    held: Held::Pooled(conn),
                    tracked,
                    op,
                }
            }
            Self::Conn(conn) => Conn {
                held: Held::Borrowed(conn),
                tracked: Tracked::unidentified(),
                op,
            },
        })
    }
}

/// A held connection and what the instrumentation knows about it. Every
/// statement an operation runs goes through one of its methods, which count
/// the statement's cache lookup around it (nothing, with `instrument` off).
/// Public only for derived code (eager loading); not public API.
#[doc(hidden)]
#[allow(missing_debug_implementations)]
pub struct Conn<'a, DB: SqlDialect> {
    held: Held<'a, DB>,
    tracked: Tracked,
    /// The operation that acquired it: returning it is charged there.
    op: Op,
}

impl<DB: SqlDialect> Conn<'_, DB> {
    /// Gives the connection back, charging what that costs here to the
    /// operation that acquired it: for a connection that outlives the call
    /// that took it (the select before its eager loads).
    pub(crate) fn finish(self) {
        let op = self.op;
        op.charge_while(|| drop(self));
    }
}

impl<DB: SqlDialect> Drop for Conn<'_, DB> {
    fn drop(&mut self) {
        if let Held::Pooled(conn) = &mut self.held {
            self.tracked.release(self.op, conn);
        }
    }
}

impl<DB: SqlDialect> Conn<'_, DB> {
    /// Runs a statement for its result.
    pub(crate) async fn execute(
        &mut self,
        op: Op,
        id: StmtId,
        query: DbQuery<'_, DB>,
    ) -> Result<DB::QueryResult, sqlx::Error> {
        let watch = self
            .tracked
            .before::<DB>(&self.held, id, DB::is_persistent(&query));
        let result = DB::execute(&mut self.held, query).await;
        self.tracked
            .after::<DB>(op, watch, &self.held, result.as_ref().err());
        result
    }

    /// Runs a query for at most one row.
    pub(crate) async fn fetch_optional(
        &mut self,
        op: Op,
        id: StmtId,
        query: DbQuery<'_, DB>,
    ) -> Result<Option<DB::Row>, sqlx::Error> {
        let watch = self
            .tracked
            .before::<DB>(&self.held, id, DB::is_persistent(&query));
        let result = if watch.needs_settled_size() {
            // Read to its end: the cache size is settled only then.
            let mut rows = DB::fetch(&mut self.held, query);
            let mut first = None;
            loop {
                match rows.try_next().await {
                    Ok(Some(row)) => first = first.or(Some(row)),
                    Ok(None) => break Ok(first),
                    Err(error) => break Err(error),
                }
            }
        } else {
            DB::fetch_optional(&mut self.held, query).await
        };
        self.tracked
            .after::<DB>(op, watch, &self.held, result.as_ref().err());
        result
    }

    /// Runs a query and hands each row to `each` as it arrives; stops at the
    /// first error, from the database or from `each`.
    pub(crate) async fn for_each_row(
        &mut self,
        op: Op,
        id: StmtId,
        query: DbQuery<'_, DB>,
        mut each: impl FnMut(DB::Row) -> Result<(), sqlx::Error>,
    ) -> Result<(), sqlx::Error> {
        let watch = self
            .tracked
            .before::<DB>(&self.held, id, DB::is_persistent(&query));
        let result = {
            let mut rows = DB::fetch(&mut self.held, query);
            let mut outcome = Ok(());
            while let Some(row) = match rows.try_next().await {
                Ok(row) => row,
                Err(error) => {
                    outcome = Err(error);
                    None
                }
            } {
                if let Err(error) = each(row) {
                    outcome = Err(error);
                    if watch.needs_settled_size() {
                        // The rest is read only so that the cache size after
                        // the statement means something.
                        while let Ok(Some(_)) = rows.try_next().await {}
                    }
                    break;
                }
            }
            outcome
        };
        self.tracked
            .after::<DB>(op, watch, &self.held, result.as_ref().err());
        result
    }
}
