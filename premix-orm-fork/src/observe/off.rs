//! The facade with the `instrument` feature off: zero-sized stand-ins with
//! the same names and signatures as the real ones, doing nothing.

use sqlx::Pool;
use sqlx::pool::PoolConnection;

use crate::dialect::SqlDialect;
use crate::meta::SqlLookup;

/// Stands in for a call site.
#[derive(Debug)]
pub(crate) struct Site;

impl Site {
    pub(super) const fn new(_op: &'static str) -> Self {
        Self
    }
}

/// Stands in for one operation's counters.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Op;

// The same signature as the real one, whose `DB` names the backend label.
#[allow(clippy::extra_unused_type_parameters)]
#[inline(always)]
pub(crate) const fn op<DB: SqlDialect>(_site: &'static Site, _table: &'static str) -> Op {
    Op
}

impl Op {
    #[inline(always)]
    pub(crate) const fn sql(self, _lookup: SqlLookup) {}

    #[inline(always)]
    pub(crate) fn charge_while<R>(self, work: impl FnOnce() -> R) -> R {
        work()
    }
}

/// Stands in for a statement's cache identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StmtId;

impl StmtId {
    #[inline(always)]
    pub(crate) const fn of(_sql: &str) -> Self {
        Self
    }
}

/// Stands in for what is known about a held connection.
#[derive(Debug)]
pub(crate) struct Tracked;

/// Stands in for one statement's cache reading.
#[derive(Debug)]
pub(crate) struct Watch;

impl Watch {
    #[inline(always)]
    pub(crate) const fn needs_settled_size(&self) -> bool {
        false
    }
}

impl Tracked {
    #[inline(always)]
    pub(crate) const fn unidentified() -> Self {
        Self
    }

    #[inline(always)]
    pub(crate) const fn release<DB: SqlDialect>(&self, _op: Op, _conn: &mut PoolConnection<DB>) {}

    #[inline(always)]
    pub(crate) const fn before<DB: SqlDialect>(
        &self,
        _conn: &DB::Connection,
        _id: StmtId,
        _persistent: bool,
    ) -> Watch {
        Watch
    }

    #[inline(always)]
    pub(crate) const fn after<DB: SqlDialect>(
        &self,
        _op: Op,
        _watch: Watch,
        _conn: &DB::Connection,
        _failure: Option<&sqlx::Error>,
    ) {
    }
}

/// Takes a connection from `pool`.
#[inline(always)]
pub(crate) async fn acquire<DB: SqlDialect>(
    pool: &Pool<DB>,
    _op: Op,
) -> Result<(PoolConnection<DB>, Tracked), sqlx::Error> {
    pool.acquire().await.map(|conn| (conn, Tracked))
}

/// Stands in for a lent connection's record.
#[derive(Debug)]
pub(crate) struct Lent;

impl Lent {
    #[inline(always)]
    pub(crate) const fn returned<DB: SqlDialect>(self, _conn: &DB::Connection) {}
}

/// Takes a connection from `pool` to lend to the application.
#[inline(always)]
pub(crate) async fn lend<DB: SqlDialect>(
    pool: &Pool<DB>,
) -> Result<(PoolConnection<DB>, Lent), sqlx::Error> {
    pool.acquire().await.map(|conn| (conn, Lent))
}
