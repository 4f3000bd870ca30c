//! Why a collector: a user who gets one error per build fixes one mistake
//! per build. Every stage pushes what it finds here and carries on, and the
//! macro reports them all at once, each on its own tokens (serde's
//! `Ctxt::combine`).

use proc_macro2::Span;

/// The errors found so far, combined into one `syn::Error`.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    /// An error with `message` on `span`.
    pub(crate) fn at(&mut self, span: Span, message: impl std::fmt::Display) {
        self.push(syn::Error::new(span, message));
    }

    /// The value if nothing was reported, every error otherwise. A stage
    /// that cannot produce a value (`None`) has always pushed the reason.
    pub(crate) fn finish<T>(self, value: Option<T>) -> syn::Result<T> {
        match (self.0, value) {
            (None, Some(value)) => Ok(value),
            (Some(error), _) => Err(error),
            (None, None) => Err(syn::Error::new(
                Span::call_site(),
                "premix-orm-fork-macros refused this input without saying why; please report it",
            )),
        }
    }
}
