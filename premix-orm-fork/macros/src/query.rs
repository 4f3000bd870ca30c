//! `premix_query!(Model, OP, call(...), ...)`: parse and check the form at
//! compile time, then expand to a `static` statement plus its values.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, LitStr, Token};

const OPS: &str = "SELECT, FIND, INSERT, UPDATE or DELETE";

pub(crate) struct PremixQuery {
    model: syn::Path,
    op: Ident,
    calls: Vec<Call>,
}

enum Call {
    Filter {
        op: &'static str,
        column: LitStr,
        value: Option<Expr>,
        span: Span,
    },
    Set {
        column: LitStr,
        value: Expr,
        span: Span,
    },
    Limit(Expr, Span),
    Offset(Expr, Span),
    ReturningAll(Span),
}

impl Parse for PremixQuery {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let model = input.parse()?;
        input.parse::<Token![,]>()?;
        let op: Ident = input.parse()?;
        let mut calls = Vec::new();
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            calls.push(input.parse()?);
        }
        Ok(Self { model, op, calls })
    }
}

impl Parse for Call {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let name: Ident = input.parse()?;
        let span = name.span();
        let content;
        syn::parenthesized!(content in input);
        let args: Punctuated<Expr, Token![,]> = content.parse_terminated(Expr::parse, Token![,])?;
        let mut args = args.into_iter();
        let column = |arg: Option<Expr>| match arg {
            Some(Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            })) => Ok(s),
            Some(other) => Err(syn::Error::new_spanned(
                other,
                "expected the column name as a string literal",
            )),
            None => Err(syn::Error::new(span, "expected a column name")),
        };
        let value =
            |arg: Option<Expr>| arg.ok_or_else(|| syn::Error::new(span, "expected a value"));
        let filter = |op, args: &mut dyn Iterator<Item = Expr>| -> syn::Result<Self> {
            let column = column(args.next())?;
            Ok(Self::Filter {
                op,
                column,
                value: Some(value(args.next())?),
                span,
            })
        };
        let call = match name.to_string().as_str() {
            "filter_eq" => filter("Eq", &mut args)?,
            "filter_ne" => filter("Ne", &mut args)?,
            "filter_lt" => filter("Lt", &mut args)?,
            "filter_lte" => filter("Lte", &mut args)?,
            "filter_gt" => filter("Gt", &mut args)?,
            "filter_gte" => filter("Gte", &mut args)?,
            "filter_like" => filter("Like", &mut args)?,
            "filter_is_null" | "filter_is_not_null" => {
                let op = if name == "filter_is_null" {
                    "IsNull"
                } else {
                    "IsNotNull"
                };
                let column = column(args.next())?;
                Self::Filter {
                    op,
                    column,
                    value: None,
                    span,
                }
            }
            "set" => Self::Set {
                column: column(args.next())?,
                value: value(args.next())?,
                span,
            },
            "limit" => Self::Limit(value(args.next())?, span),
            "offset" => Self::Offset(value(args.next())?, span),
            "returning_all" => Self::ReturningAll(span),
            other => {
                return Err(syn::Error::new(
                    span,
                    format!(
                        "unknown premix_query! call `{other}`; expected filter_eq/ne/lt/lte/gt/gte/like, \
                         filter_is_null, filter_is_not_null, set, limit, offset or returning_all"
                    ),
                ));
            }
        };
        if let Some(extra) = args.next() {
            return Err(syn::Error::new_spanned(extra, "too many arguments"));
        }
        Ok(call)
    }
}

impl PremixQuery {
    /// Checks that the calls fit the statement.
    fn check(&self) -> syn::Result<&'static str> {
        let op = match self.op.to_string().as_str() {
            "SELECT" => "Select",
            "FIND" => "Find",
            "INSERT" => "Insert",
            "UPDATE" => "Update",
            "DELETE" => "Delete",
            other => {
                return Err(syn::Error::new(
                    self.op.span(),
                    format!("unknown operation `{other}`; expected {OPS}"),
                ));
            }
        };
        let mut errors: Option<syn::Error> = None;
        let mut refuse = |span: Span, message: &str| {
            let error = syn::Error::new(span, format!("{message} in {} queries", self.op));
            match &mut errors {
                Some(all) => all.combine(error),
                None => errors = Some(error),
            }
        };
        let mut sets = 0;
        for call in &self.calls {
            match call {
                Call::Set { span, .. } if !matches!(op, "Insert" | "Update") => {
                    refuse(*span, "`set` has no place")
                }
                Call::Set { .. } => sets += 1,
                Call::Filter { span, .. } if op == "Insert" => {
                    refuse(*span, "a filter has no place")
                }
                Call::Limit(_, span) | Call::Offset(_, span) if op != "Select" => {
                    refuse(*span, "`limit`/`offset` have no place");
                }
                Call::ReturningAll(span) if !matches!(op, "Update" | "Delete") => {
                    refuse(*span, "`returning_all` has no place");
                }
                _ => {}
            }
        }
        if sets == 0 && matches!(op, "Insert" | "Update") {
            refuse(
                self.op.span(),
                "at least one `set(\"column\", value)` is needed",
            );
        }
        errors.map_or(Ok(op), Err)
    }

    pub(crate) fn expand(&self, krate: &TokenStream) -> TokenStream {
        let op = match self.check() {
            Ok(op) => Ident::new(op, self.op.span()),
            Err(error) => {
                // Several errors are several macro calls: a block holds them, and
                // a placeholder of the right type keeps the code around the macro
                // (`.fetch_one(..)`, say) free of follow-on errors.
                let errors = error.to_compile_error();
                let model = &self.model;
                return quote!({
                    #errors
                    #krate::__private::PremixQuery::<#model>::new(
                        &#krate::__private::NOT_BUILT,
                        ::std::vec::Vec::new(),
                    )
                });
            }
        };
        let model = &self.model;
        let set_columns = self.calls.iter().filter_map(|c| match c {
            Call::Set { column, .. } => Some(column),
            _ => None,
        });
        let filters = self.calls.iter().filter_map(|c| match c {
            Call::Filter { op, column, .. } => {
                let op = Ident::new(op, Span::call_site());
                Some(quote!((#column, #krate::FilterOp::#op)))
            }
            _ => None,
        });
        let has = |f: fn(&Call) -> bool| self.calls.iter().any(f);
        let limit = has(|c| matches!(c, Call::Limit(..)));
        let offset = has(|c| matches!(c, Call::Offset(..)));
        let returning_all = has(|c| matches!(c, Call::ReturningAll(_)));
        // Values in binding order: SET, filters, LIMIT, OFFSET.
        let sets = self.calls.iter().filter_map(|c| match c {
            Call::Set { value, .. } => Some(value),
            _ => None,
        });
        let filter_values = self.calls.iter().filter_map(|c| match c {
            Call::Filter { value, .. } => value.as_ref(),
            _ => None,
        });
        let paging = self.calls.iter().filter_map(|c| match c {
            Call::Limit(value, _) | Call::Offset(value, _) => Some(value),
            _ => None,
        });
        let values = sets.chain(filter_values).chain(paging);
        quote! {{
            static __PREMIX_QUERY: #krate::__private::StaticQuery =
                #krate::__private::StaticQuery::new(#krate::__private::QuerySpec {
                    op: #krate::__private::QueryOp::#op,
                    sets: &[#(#set_columns),*],
                    filters: &[#(#filters),*],
                    limit: #limit,
                    offset: #offset,
                    returning_all: #returning_all,
                });
            #krate::__private::PremixQuery::<#model>::new(
                &__PREMIX_QUERY,
                ::std::vec![#(::core::convert::Into::<#krate::BindValue>::into(#values)),*],
            )
        }}
    }
}
