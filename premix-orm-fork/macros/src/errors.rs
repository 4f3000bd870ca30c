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

    /// The value if nothing was reported, every error otherwise.
    pub(crate) fn finish<T>(self, value: T) -> syn::Result<T> {
        match self.0 {
            Some(error) => Err(error),
            None => Ok(value),
        }
    }

    /// The errors as `compile_error!` invocations.
    pub(crate) fn into_compile_error(self) -> proc_macro2::TokenStream {
        self.0
            .map(|error| error.to_compile_error())
            .unwrap_or_default()
    }
}
