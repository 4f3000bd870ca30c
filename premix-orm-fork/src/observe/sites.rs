//! One call site per operation, and how an operation's result becomes its
//! outcome.
//!
//! Each operation's `#[instrument(site = ...)]` names one of the statics
//! declared in `observe`, and everything the fork records about the same calls (SQL-text and
//! statement-cache lookups, pool waits) goes to the same counters through
//! [`Op`]: one place per fact.

use premix_instrument::locality::EagerSite;
use premix_instrument::{CallSite, ErrorKind, OpHandle, Outcome, SqlCacheResult};

use crate::dialect::SqlDialect;
use crate::eager::Grouping;
use crate::meta::SqlLookup;
use crate::model::UpdateResult;

pub(crate) type Site = CallSite;

/// Eager loads, by the fork's own `Grouping` and split by buckets that
/// meet at its default threshold.
pub(crate) static EAGER: EagerSite<Grouping> =
    EagerSite::with_parent_buckets(crate::eager::LOCALITY_BUCKETS);

/// The counters of one operation on one model and backend.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Op {
    pub(crate) handle: OpHandle,
}

/// The counters of `site`'s operation on `table`, on `DB`.
pub(crate) fn op<DB: SqlDialect>(site: &'static Site, table: &'static str) -> Op {
    Op {
        handle: site.target(table, DB::BACKEND.label()),
    }
}

impl Op {
    /// Runs `work` (dropping a connection that outlived the call) and
    /// charges what it allocates to the operation.
    pub(crate) fn charge_while<R>(self, work: impl FnOnce() -> R) -> R {
        self.handle.charge_while(work)
    }

    /// Counts one SQL-text cache lookup.
    pub(crate) fn sql(self, lookup: SqlLookup) {
        self.handle.record_sql_cache(match lookup {
            SqlLookup::Hit => SqlCacheResult::Hit,
            SqlLookup::Miss => SqlCacheResult::Miss,
        });
    }
}

/// The outcome of an operation that returns a `Result`.
pub(crate) fn outcome<T>(result: &Result<T, sqlx::Error>) -> Outcome {
    match result {
        Ok(_) => Outcome::Ok,
        Err(error) => Outcome::Error(error_kind(error)),
    }
}

/// The outcome of an update: a version conflict wrote nothing, so it is a
/// failed call of kind `conflict`, whether `update` returns it as a value or
/// `save` turns it into an error.
pub(crate) fn update_outcome(result: &Result<UpdateResult, sqlx::Error>) -> Outcome {
    match result {
        Ok(UpdateResult::VersionConflict) => Outcome::Error(ErrorKind::Conflict),
        other => outcome(other),
    }
}

/// The kind of a failure, from sqlx's error. The fork's own refusals are
/// `InvalidArgument` and `ColumnNotFound` (it decodes by index, so sqlx never
/// reports a missing column to it).
pub(crate) fn error_kind(error: &sqlx::Error) -> ErrorKind {
    use sqlx::Error;
    match error {
        Error::PoolTimedOut => ErrorKind::PoolTimeout,
        Error::PoolClosed => ErrorKind::PoolClosed,
        Error::Io(_) | Error::Tls(_) | Error::Protocol(_) | Error::WorkerCrashed => {
            ErrorKind::Connection
        }
        Error::Database(_) => ErrorKind::Database,
        Error::ColumnDecode { .. }
        | Error::Decode(_)
        | Error::Encode(_)
        | Error::TypeNotFound { .. }
        | Error::ColumnIndexOutOfBounds { .. } => ErrorKind::Decode,
        Error::RowNotFound => ErrorKind::NotFound,
        Error::InvalidArgument(_) | Error::ColumnNotFound(_) => ErrorKind::Refused,
        _ => ErrorKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_their_kinds() {
        use sqlx::Error;
        let cases = [
            (Error::PoolTimedOut, ErrorKind::PoolTimeout),
            (Error::PoolClosed, ErrorKind::PoolClosed),
            (Error::WorkerCrashed, ErrorKind::Connection),
            (
                Error::Io(std::io::Error::other("reset")),
                ErrorKind::Connection,
            ),
            (Error::RowNotFound, ErrorKind::NotFound),
            (Error::InvalidArgument("x".into()), ErrorKind::Refused),
            (Error::ColumnNotFound("x".into()), ErrorKind::Refused),
            (Error::Decode("bad".into()), ErrorKind::Decode),
            (Error::Configuration("bad".into()), ErrorKind::Other),
        ];
        for (error, kind) in cases {
            assert_eq!(error_kind(&error), kind, "{error}");
        }
        assert_eq!(
            update_outcome(&Ok(UpdateResult::VersionConflict)),
            Outcome::Error(ErrorKind::Conflict)
        );
        assert_eq!(update_outcome(&Ok(UpdateResult::NotFound)), Outcome::Ok);
    }
}
