//! `premix_query!(Model, OP, call(...), ...)`, in three steps: [`parse`]
//! reads the form (a model path, an operation, calls with arguments),
//! [`validate`] interprets the calls and checks that they fit the
//! operation, collecting every error, and [`expand`] turns the checked
//! query into a `static` statement plus its values.

mod expand;
mod parse;
mod validate;

pub(crate) use parse::QueryInput;

use proc_macro2::TokenStream;

/// The macro's output: the statement, or every error beside a placeholder
/// of the right type.
pub(crate) fn query(input: QueryInput, krate: &TokenStream) -> TokenStream {
    let model = input.model.clone();
    match validate::validate(input) {
        Ok(query) => expand::expand(&query, krate),
        Err(error) => expand::placeholder(&model, &error, krate),
    }
}
