//! How a call ended: the `outcome` label.
//!
//! An instrumented function's return value decides between `ok` and `error`:
//! a `Result` that is `Err` is an error, anything else is ok. The macro knows
//! the return type only as tokens (it may be an alias such as
//! `sqlx::Result<T>`), so the choice is made by the compiler through method
//! resolution ("autoref specialisation"): [`ClassifyResult`] is implemented
//! for `Result<T, E>` and takes `&self`, [`ClassifyOther`] for every `&T`, and
//! a call on `&value` finds the `Result` impl first when there is one.
//! A future dropped before completion is `cancelled`; a call that unwinds is
//! an `error`.

/// How one instrumented call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    /// Completed, and did not return `Err`.
    Ok,
    /// Returned `Err`, or panicked.
    Error,
    /// The future was dropped before it completed.
    Cancelled,
}

impl Outcome {
    /// All outcomes, in label order.
    pub const ALL: [Self; 3] = [Self::Ok, Self::Error, Self::Cancelled];

    /// The Prometheus label value.
    #[must_use]
    pub const fn as_label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Error => "error",
            Self::Cancelled => "cancelled",
        }
    }

    pub(crate) const fn index(self) -> usize {
        self as usize
    }
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
            Outcome::Error
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
        assert_eq!(err.__premix_outcome(), Outcome::Error);
        assert_eq!(plain.__premix_outcome(), Outcome::Ok);
        assert_eq!(optional.__premix_outcome(), Outcome::Ok);
    }

    #[test]
    fn labels_are_the_closed_set() {
        let labels: Vec<_> = Outcome::ALL.iter().map(|o| o.as_label()).collect();
        assert_eq!(labels, ["ok", "error", "cancelled"]);
        assert!(Outcome::ALL.iter().enumerate().all(|(i, o)| o.index() == i));
    }
}
