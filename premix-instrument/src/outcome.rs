//! How a call ended: the `outcome` label, and for errors the `kind` label.
//!
//! An instrumented function's return value decides between `ok` and `error`.
//! By default a `Result` that is `Err` is an error of kind `other` and
//! anything else is ok; an ORM that knows its errors passes
//! `outcome = path::to::fn` to `#[instrument]` and says which kind each one
//! is (a pool timeout, a database error, a refused query, ...).
//!
//! Without that argument the macro knows the return type only as tokens (it
//! may be an alias such as `sqlx::Result<T>`), so the choice is made by the
//! compiler through method resolution ("autoref specialisation"):
//! [`ClassifyResult`] is implemented for `Result<T, E>` and takes `&self`,
//! [`ClassifyOther`] for every `&T`, and a call on `&value` finds the
//! `Result` impl first when there is one. A future dropped before completion
//! is `cancelled`; a call that unwinds is an error of kind `panic`.

/// How one instrumented call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    /// Completed, and did not fail.
    Ok,
    /// Failed, for this reason.
    Error(ErrorKind),
    /// The future was dropped before it completed.
    Cancelled,
}

impl Outcome {
    /// The `outcome` label values, in index order.
    pub const LABELS: [&'static str; 3] = ["ok", "error", "cancelled"];

    /// The `outcome` label.
    #[must_use]
    pub const fn as_label(self) -> &'static str {
        Self::LABELS[self.index()]
    }

    /// Whether this is an error of any kind.
    #[must_use]
    pub const fn is_error(self) -> bool {
        matches!(self, Self::Error(_))
    }

    pub(crate) const fn index(self) -> usize {
        match self {
            Self::Ok => 0,
            Self::Error(_) => 1,
            Self::Cancelled => 2,
        }
    }
}

/// Why a call failed: the `kind` label of `premix_op_errors_total`, a closed
/// set so that label cardinality stays bounded whatever fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ErrorKind {
    /// No connection became free within the pool's acquire timeout.
    PoolTimeout,
    /// The pool was closed.
    PoolClosed,
    /// The connection failed: I/O, TLS, protocol, a crashed driver worker.
    Connection,
    /// The database refused or failed the statement (a constraint, a missing
    /// table, a syntax error).
    Database,
    /// A row or value could not be decoded into the model.
    Decode,
    /// A row that had to exist did not.
    NotFound,
    /// An optimistic-locking conflict: the row changed since it was read.
    Conflict,
    /// The ORM refused to run the query (an unknown column, a raw filter
    /// without opt-in, invalid input); nothing reached the database.
    Refused,
    /// The call panicked.
    Panic,
    /// Anything else, or an error the instrumented code did not classify.
    Other,
}

impl ErrorKind {
    /// Every kind, in index order.
    pub const ALL: [Self; 10] = [
        Self::PoolTimeout,
        Self::PoolClosed,
        Self::Connection,
        Self::Database,
        Self::Decode,
        Self::NotFound,
        Self::Conflict,
        Self::Refused,
        Self::Panic,
        Self::Other,
    ];

    /// The `kind` label.
    #[must_use]
    pub const fn as_label(self) -> &'static str {
        match self {
            Self::PoolTimeout => "pool_timeout",
            Self::PoolClosed => "pool_closed",
            Self::Connection => "connection",
            Self::Database => "database",
            Self::Decode => "decode",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::Refused => "refused",
            Self::Panic => "panic",
            Self::Other => "other",
        }
    }

    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}

/// Applies an `outcome = PATH` function: a `fn(&Output) -> Outcome`. Not for
/// direct use; it exists so that a wrong signature is reported as one.
#[doc(hidden)]
pub fn outcome_by<T: ?Sized>(classify: impl FnOnce(&T) -> Outcome, output: &T) -> Outcome {
    classify(output)
}

/// Chosen for `Result` return values. Not for direct use.
#[doc(hidden)]
pub trait ClassifyResult {
    fn __premix_outcome(&self) -> Outcome;
}

impl<T, E> ClassifyResult for Result<T, E> {
    fn __premix_outcome(&self) -> Outcome {
        if self.is_ok() {
            Outcome::Ok
        } else {
            Outcome::Error(ErrorKind::Other)
        }
    }
}

/// Chosen for every other return value. Not for direct use.
#[doc(hidden)]
pub trait ClassifyOther {
    fn __premix_outcome(&self) -> Outcome;
}

impl<T: ?Sized> ClassifyOther for &T {
    fn __premix_outcome(&self) -> Outcome {
        Outcome::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type AliasedResult<T> = Result<T, std::fmt::Error>;

    #[test]
    fn method_resolution_picks_result_first() {
        let ok: AliasedResult<u8> = Ok(1);
        let err: AliasedResult<u8> = Err(std::fmt::Error);
        let plain = 5_u32;
        let optional: Option<u8> = None;
        // Generated code calls the method on a reference, as here.
        let (ok, err, plain, optional) = (&ok, &err, &plain, &optional);
        assert_eq!(ok.__premix_outcome(), Outcome::Ok);
        assert_eq!(err.__premix_outcome(), Outcome::Error(ErrorKind::Other));
        assert_eq!(plain.__premix_outcome(), Outcome::Ok);
        assert_eq!(optional.__premix_outcome(), Outcome::Ok);
    }

    #[test]
    fn labels_are_the_closed_sets() {
        let outcomes = [
            Outcome::Ok,
            Outcome::Error(ErrorKind::Database),
            Outcome::Cancelled,
        ];
        let labels: Vec<_> = outcomes.iter().map(|o| o.as_label()).collect();
        assert_eq!(labels, ["ok", "error", "cancelled"]);
        let kinds: Vec<_> = ErrorKind::ALL.iter().map(|k| k.as_label()).collect();
        assert_eq!(
            kinds,
            [
                "pool_timeout",
                "pool_closed",
                "connection",
                "database",
                "decode",
                "not_found",
                "conflict",
                "refused",
                "panic",
                "other"
            ]
        );
        assert!(
            ErrorKind::ALL
                .iter()
                .enumerate()
                .all(|(i, k)| k.index() == i)
        );
    }
}
