//! Reading `premix_query!`'s form: `Model, OPERATION` then any number of
//! `name(arguments)` calls, comma separated, into a [`QueryInput`]. Which
//! operations and calls exist, and what their arguments must be, is
//! [`validate`](super::validate)'s business; a form that does not read at
//! all stops here, with the shape it should have.

use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, Token};

const FORM: &str = "expected `premix_query!(Model, OPERATION, call(...), ...)`";

/// The macro's input as written.
pub(crate) struct QueryInput {
    pub(crate) model: syn::Path,
    pub(crate) op: Ident,
    pub(crate) calls: Vec<CallInput>,
}

/// `name(arg, ...)`.
pub(crate) struct CallInput {
    pub(crate) name: Ident,
    pub(crate) args: Vec<Expr>,
}

/// Where syn stopped, with the form we expect instead of its token-level
/// complaint.
fn form(error: &syn::Error) -> syn::Error {
    syn::Error::new(error.span(), FORM)
}

impl Parse for QueryInput {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let model = input.parse().map_err(|e| form(&e))?;
        input.parse::<Token![,]>().map_err(|e| form(&e))?;
        let op = input.parse().map_err(|e| form(&e))?;
        let mut calls = Vec::new();
        while !input.is_empty() {
            input.parse::<Token![,]>().map_err(|e| form(&e))?;
            if input.is_empty() {
                break;
            }
            calls.push(input.parse()?);
        }
        Ok(Self { model, op, calls })
    }
}

impl Parse for CallInput {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let name: Ident = input.parse().map_err(|e| form(&e))?;
        if !input.peek(syn::token::Paren) {
            return Err(syn::Error::new(
                name.span(),
                format!("expected `{name}(...)`: a call, with its arguments in parentheses"),
            ));
        }
        let content;
        syn::parenthesized!(content in input);
        let args: Punctuated<Expr, Token![,]> = content.parse_terminated(Expr::parse, Token![,])?;
        Ok(Self {
            name,
            args: args.into_iter().collect(),
        })
    }
}
