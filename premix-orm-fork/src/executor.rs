//! Where a query runs: a pool, a pooled connection, a transaction or a plain
//! connection, behind one type.
//!
//! Every operation runs on one explicitly held connection: a pool is asked
//! for one connection per operation (what sqlx does internally too), and a
//! borrowed connection or transaction is used as it is. Holding the
//! connection is what lets the instrumentation see which connection's
//! statement cache a query used.

use std::ops::{Deref, DerefMut};

use sqlx::pool::PoolConnection;
use sqlx::{Database, Pool, Transaction};

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

impl<'a, DB: Database> Executor<'a, DB> {
    /// The connection to run on.
    pub(crate) async fn acquire(self) -> Result<Held<'a, DB>, sqlx::Error> {
        Ok(match self {
            Self::Pool(pool) => Held::Pooled(pool.acquire().await?),
            Self::Conn(conn) => Held::Borrowed(conn),
        })
    }
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
