//! The derive and query macros of `premix-orm-fork`. Use them through
//! `premix_orm_fork` (or the name you gave it, e.g. `premix_orm`): generated
//! code finds the library through your `Cargo.toml`, so a renamed dependency
//! works.
//!
//! Each macro is split as parse -> validate -> expand (`model/` for
//! `#[derive(Model)]`, `query/` for `premix_query!`): only checked input
//! reaches code generation, and every error is reported on the tokens that
//! caused it, all of them together.

mod errors;
mod model;
mod query;

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::quote;
use syn::DeriveInput;

/// Derives `Model` for every backend compiled into the library. See the
/// `premix_orm_fork` crate docs for the attributes: `#[belongs_to(Parent)]`,
/// `#[has_many(Child)]`, `#[premix(table = "...", custom_hooks,
/// custom_validation)]` on the struct; `#[has_many(Child)]`,
/// `#[belongs_to(Parent)]`, `#[premix(ignore)]`, `#[premix(sensitive)]`,
/// `#[premix(sql_type = "...")]` and premix's `index`, `unique`,
/// `foreign_key(...)` on fields.
#[proc_macro_derive(Model, attributes(has_many, belongs_to, premix))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as DeriveInput);
    model::derive(&input, &library_path()).into()
}

/// A statement whose shape is fixed at the call site:
/// `premix_query!(User, FIND, filter_eq("id", id)).fetch_one(&pool).await?`.
///
/// Operations: `SELECT`, `FIND` (one row), `INSERT` (with `set`), `UPDATE`
/// (with `set`, optional `returning_all()`), `DELETE` (a hard delete,
/// optional `returning_all()`). Calls: `filter_eq/ne/lt/lte/gt/gte/like`,
/// `filter_is_null`, `filter_is_not_null`, `set`, `limit`, `offset`. The form
/// is checked at compile time; column names when the statement is first
/// built, as a returned error.
#[proc_macro]
pub fn premix_query(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as query::QueryInput);
    query::query(input, &library_path()).into()
}

/// The path of the library in the user's crate, read from their manifest.
fn library_path() -> TokenStream2 {
    use proc_macro_crate::{FoundCrate, crate_name};
    match crate_name("premix-orm-fork") {
        // Deriving inside the library's own tests and examples: they are
        // separate crates that see it under its own name.
        Ok(FoundCrate::Itself) | Err(_) => quote!(::premix_orm_fork),
        Ok(FoundCrate::Name(name)) => {
            let ident = syn::Ident::new(&name, Span::call_site());
            quote!(::#ident)
        }
    }
}
