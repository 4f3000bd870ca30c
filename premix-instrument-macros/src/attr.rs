//! Parsing `op = "..." | site = <expr>, model = <expr>, backend = <expr>`
//! (or `target = <expr>`) and `outcome = PATH` into [`Args`], collecting
//! every error instead of stopping at the first.

use proc_macro2::{Span, TokenStream};
use syn::parse::{Parse, ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Expr, LitStr, Path, Token};

mod kw {
    syn::custom_keyword!(op);
    syn::custom_keyword!(site);
    syn::custom_keyword!(model);
    syn::custom_keyword!(backend);
    syn::custom_keyword!(outcome);
    syn::custom_keyword!(target);
}

pub(crate) const EXPECTED: &str = "expected `op = \"...\"`, `site = <static CallSite>`, \
                                   `model = <expr>`, `backend = <expr>`, `target = <OpHandle>` \
                                   or `outcome = PATH`";

/// The arguments as written; whether the required ones are there is
/// [`validate`](crate::validate)'s business.
#[derive(Default)]
pub(crate) struct Args {
    pub(crate) op: Option<LitStr>,
    pub(crate) site: Option<Expr>,
    pub(crate) model: Option<Expr>,
    pub(crate) backend: Option<Expr>,
    pub(crate) outcome: Option<Path>,
    pub(crate) target: Option<Expr>,
    /// Keywords written at all, valid value or not: an argument with a bad
    /// value is reported as bad, not also as missing.
    pub(crate) written: Vec<&'static str>,
}

/// Parses the attribute's arguments; a structural error ends parsing, a bad
/// value or an unknown name is reported and skipped.
pub(crate) fn parse(tokens: TokenStream) -> (Args, Vec<syn::Error>) {
    let mut args = Args::default();
    let mut errors = Vec::new();
    let parser = |input: ParseStream<'_>| {
        parse_into(input, &mut args, &mut errors);
        Ok(())
    };
    if let Err(error) = parser.parse2(tokens) {
        errors.push(error);
    }
    (args, errors)
}

fn parse_into(input: ParseStream<'_>, args: &mut Args, errors: &mut Vec<syn::Error>) {
    while !input.is_empty() {
        if let Err(error) = parse_one(input, args, errors) {
            errors.push(error);
            // Resynchronise at the next comma so later arguments still get
            // checked.
            while !input.is_empty() && !input.peek(Token![,]) {
                let _ = input.parse::<proc_macro2::TokenTree>();
            }
        }
        if input.is_empty() {
            break;
        }
        if let Err(error) = input.parse::<Token![,]>() {
            errors.push(error);
            return;
        }
    }
}

fn parse_one(
    input: ParseStream<'_>,
    args: &mut Args,
    errors: &mut Vec<syn::Error>,
) -> syn::Result<()> {
    let lookahead = input.lookahead1();
    if lookahead.peek(kw::op) {
        let keyword = keyword::<kw::op>(input, "op", &mut args.written)?;
        let value = if input.peek(LitStr) {
            input.parse::<LitStr>()?
        } else {
            let wrong = input.parse::<Expr>()?;
            return Err(syn::Error::new(
                wrong.span(),
                "expected a string literal for `op`, e.g. `op = \"find_by_id\"`",
            ));
        };
        set_once(&mut args.op, value, "op", keyword, errors);
        Ok(())
    } else if lookahead.peek(kw::site) {
        expression::<kw::site>(input, "site", &mut args.site, &mut args.written, errors)
    } else if lookahead.peek(kw::model) {
        expression::<kw::model>(input, "model", &mut args.model, &mut args.written, errors)
    } else if lookahead.peek(kw::backend) {
        expression::<kw::backend>(
            input,
            "backend",
            &mut args.backend,
            &mut args.written,
            errors,
        )
    } else if lookahead.peek(kw::target) {
        expression::<kw::target>(input, "target", &mut args.target, &mut args.written, errors)
    } else if lookahead.peek(kw::outcome) {
        let keyword = keyword::<kw::outcome>(input, "outcome", &mut args.written)?;
        let value = path(
            input,
            "outcome",
            "`outcome = outcome_of`, a `fn(&Output) -> Outcome`",
        )?;
        set_once(&mut args.outcome, value, "outcome", keyword, errors);
        Ok(())
    } else if input.peek(syn::Ident) {
        let unknown = input.parse::<syn::Ident>()?;
        Err(syn::Error::new(
            unknown.span(),
            format!("unknown argument `{unknown}`; {EXPECTED}"),
        ))
    } else {
        let mut error = lookahead.error();
        error.combine(syn::Error::new(input.span(), EXPECTED));
        Err(error)
    }
}

/// `<keyword> =`, the keyword recorded as written; answers its span.
fn keyword<K: Parse + Spanned>(
    input: ParseStream<'_>,
    name: &'static str,
    written: &mut Vec<&'static str>,
) -> syn::Result<Span> {
    let keyword = input.parse::<K>()?;
    written.push(name);
    input.parse::<Token![=]>()?;
    Ok(keyword.span())
}

/// `<keyword> = <expr>`, for the arguments whose value is any expression.
fn expression<K: Parse + Spanned>(
    input: ParseStream<'_>,
    name: &'static str,
    slot: &mut Option<Expr>,
    written: &mut Vec<&'static str>,
    errors: &mut Vec<syn::Error>,
) -> syn::Result<()> {
    let keyword = keyword::<K>(input, name, written)?;
    let value = input.parse::<Expr>()?;
    set_once(slot, value, name, keyword, errors);
    Ok(())
}

/// A path value; anything else is an error on it that says what is expected.
fn path(input: ParseStream<'_>, name: &str, example: &str) -> syn::Result<Path> {
    let value = input.parse::<Expr>()?;
    match value {
        Expr::Path(path) if path.qself.is_none() && path.attrs.is_empty() => Ok(path.path),
        wrong => Err(syn::Error::new(
            wrong.span(),
            format!("expected a path for `{name}`, e.g. {example}"),
        )),
    }
}

/// Stores the first occurrence of an argument; a repeat is an error on the
/// repeated keyword.
fn set_once<T>(
    slot: &mut Option<T>,
    value: T,
    name: &str,
    keyword: Span,
    errors: &mut Vec<syn::Error>,
) {
    if slot.is_some() {
        errors.push(syn::Error::new(
            keyword,
            format!("duplicate argument `{name}`"),
        ));
    } else {
        *slot = Some(value);
    }
}
