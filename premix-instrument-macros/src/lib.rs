//! The `#[instrument]` attribute of `premix-instrument`.
//!
//! Use it through `premix_instrument::instrument`; the generated code calls
//! into `premix_instrument::__private`, which this crate is pinned to by an
//! exact version. The work is split as parse (`attr`) -> validate
//! (`validate`) -> expand (`expand`): only validated input reaches code
//! generation, and every error is reported on the tokens that caused it,
//! together, beside the user's item left unchanged.

mod attr;
mod expand;
mod validate;

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::quote;

/// See `premix_instrument::instrument`.
#[proc_macro_attribute]
pub fn instrument(args: TokenStream, item: TokenStream) -> TokenStream {
    let item = TokenStream2::from(item);
    let (args, mut errors) = attr::parse(args.into());

    let function = match validate::function(item.clone()) {
        Ok(function) => Some(function),
        Err(validate::NotInstrumentable::Error(error)) => {
            errors.push(error);
            None
        }
        // The item does not parse at all: hand it back untouched so rustc
        // reports the user's own syntax error, not ours.
        Err(validate::NotInstrumentable::Unparseable) => None,
    };
    let instrument = validate::arguments(args, &mut errors);

    match (function, instrument) {
        (Some(function), Some(instrument)) if errors.is_empty() => {
            expand::instrument(&instrument, function).into()
        }
        _ => {
            let errors = errors.iter().map(syn::Error::to_compile_error);
            quote!(#(#errors)* #item).into()
        }
    }
}
