//! `#[derive(Model)]`, in three steps: [`parse`] reads the struct and its
//! attributes as written, [`validate`] checks them and builds the typed
//! [`def::ModelDef`], and [`expand`] (with [`inherent`]) generates code from
//! that checked model only. Errors from the first two steps are collected
//! and reported together, each on the tokens at fault.

mod def;
mod expand;
#[cfg(test)]
mod expansion_test;
mod inherent;
mod parse;
mod types;
mod validate;

use proc_macro2::TokenStream;
use syn::DeriveInput;

use crate::errors::Errors;

/// The derive's output: the generated items, or every error found.
pub(crate) fn derive(input: &DeriveInput, krate: &TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    // `None`: not a struct with named fields (reported); the checks that
    // follow would only repeat it.
    let Some(model) = parse::parse(input, &mut errors) else {
        return errors.into_compile_error();
    };
    let def = validate::validate(model, &mut errors);
    match errors.finish(def) {
        Ok(def) => expand::expand(&def, krate),
        Err(error) => error.to_compile_error(),
    }
}
