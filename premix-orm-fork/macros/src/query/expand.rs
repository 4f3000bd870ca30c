//! Code generation for `premix_query!`. The statement's shape is fixed at
//! the call site, so it becomes a `static` whose SQL is built once per
//! backend; only the values travel with each call. Input is a checked
//! [`Query`]: nothing here can fail.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::Ident;

use super::validate::{Call, Query};

// Input:  premix_query!(User, UPDATE, set("name", name), filter_eq("id", id))
// Output: { static __PREMIX_QUERY: StaticQuery = StaticQuery::new(QuerySpec { op: Update,
//           sets: &["name"], filters: &[("id", FilterOp::Eq)], .. });
//           PremixQuery::<User>::new(&__PREMIX_QUERY, vec![name.into(), id.into()]) }
pub(crate) fn expand(query: &Query, krate: &TokenStream) -> TokenStream {
    let op = &query.op;
    let model = &query.model;
    let calls = &query.calls;
    let set_columns = calls.iter().filter_map(|c| match c {
        Call::Set { column, .. } => Some(column),
        _ => None,
    });
    let filters = calls.iter().filter_map(|c| match c {
        Call::Filter { op, column, .. } => {
            let op = Ident::new(op, Span::call_site());
            Some(quote!((#column, #krate::FilterOp::#op)))
        }
        _ => None,
    });
    let has = |f: fn(&Call) -> bool| calls.iter().any(f);
    let limit = has(|c| matches!(c, Call::Limit(..)));
    let offset = has(|c| matches!(c, Call::Offset(..)));
    let returning_all = has(|c| matches!(c, Call::ReturningAll));
    // Values in binding order: SET, filters, LIMIT, OFFSET.
    let sets = calls.iter().filter_map(|c| match c {
        Call::Set { value, .. } => Some(value),
        _ => None,
    });
    let filter_values = calls.iter().filter_map(|c| match c {
        Call::Filter { value, .. } => value.as_ref(),
        _ => None,
    });
    let paging = calls.iter().filter_map(|c| match c {
        Call::Limit(value) | Call::Offset(value) => Some(value),
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

/// The errors, plus a query of the right type that is never built: the
/// code around the macro (`.fetch_one(..)`, say) then compiles, so the
/// user sees our errors and no follow-on ones. Several errors are several
/// macro calls, hence the block.
pub(crate) fn placeholder(
    model: &syn::Path,
    error: &syn::Error,
    krate: &TokenStream,
) -> TokenStream {
    let errors = error.to_compile_error();
    quote!({
        #errors
        #krate::__private::PremixQuery::<#model>::new(
            &#krate::__private::NOT_BUILT,
            ::std::vec::Vec::new(),
        )
    })
}
