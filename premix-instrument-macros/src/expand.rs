//! Code generation. Input is already valid (see `validate`).
//!
//! The user's signature, attributes and body tokens are kept as they are
//! (spans included) and the body is quoted exactly once. Three shapes:
//! `async fn`, `fn ... -> impl Future<Output = T>`, and plain `fn`. Locals the
//! expansion introduces use mixed-site hygiene, so the body cannot see or
//! shadow them; paths are absolute, so a user's `Result`, `Option` or `std`
//! cannot capture them.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{GenericArgument, ItemFn, PathArguments, ReturnType, Type, TypeParamBound};

use crate::validate::{Counters, Instrument};

pub(crate) fn instrument(args: &Instrument, function: ItemFn) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = function;
    let (inner_attrs, outer_attrs): (Vec<_>, Vec<_>) = attrs
        .into_iter()
        .partition(|a| matches!(a.style, syn::AttrStyle::Inner(_)));
    let stmts = &block.stmts;
    let body = quote!({ #(#inner_attrs)* #(#stmts)* });

    let target = local("__premix_target");
    let own_site = syn::Ident::new("__PREMIX_CALL_SITE", Span::call_site());
    let (site_local, model_local, backend_local) = (
        local("__premix_site"),
        local("__premix_model"),
        local("__premix_backend"),
    );
    let site_target = |declare: TokenStream,
                       site: TokenStream,
                       model: &syn::Expr,
                       backend: Option<&syn::Expr>| {
        let backend = backend.map_or_else(
            || quote!(::premix_instrument::__private::NO_BACKEND),
            |backend| quote!(#backend),
        );
        quote! {
            #declare
            let #target: ::premix_instrument::__private::OpHandle = {
                let #site_local: &'static ::premix_instrument::__private::CallSite = #site;
                let #model_local: &'static str = #model;
                let #backend_local: &'static str = #backend;
                #site_local.target(#model_local, #backend_local)
            };
        }
    };
    let prelude = match &args.counters {
        Counters::Own { op, model, backend } => site_target(
            quote! {
                static #own_site: ::premix_instrument::__private::CallSite =
                    ::premix_instrument::__private::CallSite::new(#op);
            },
            quote!(&#own_site),
            model,
            backend.as_ref(),
        ),
        Counters::Shared {
            site,
            model,
            backend,
        } => site_target(
            TokenStream::new(),
            quote_spanned!(site.span()=> &(#site)),
            model,
            backend.as_ref(),
        ),
        Counters::Target(handle) => quote_spanned! {handle.span()=>
            let #target: ::premix_instrument::__private::OpHandle = #handle;
        },
    };
    let names = Names {
        target,
        outcome: args.outcome.as_ref(),
    };

    let instrumented_body = if sig.asyncness.is_some() {
        expand_async(&prelude, &names, &body, &sig.output)
    } else if let Some(output) = future_output(&sig.output) {
        expand_returns_future(&prelude, &names, &body, output)
    } else {
        expand_sync(&prelude, &names, &body, &sig.output)
    };

    quote! {
        #(#outer_attrs)*
        #vis #sig {
            #instrumented_body
        }
    }
}

/// The local every shape declares in its prelude (the operation's
/// counters), and the optional outcome function.
struct Names<'a> {
    target: syn::Ident,
    outcome: Option<&'a syn::Path>,
}

// Input:
//     async fn f(args) -> R { body }
// Output:
//     async fn f(args) -> R {
//         static __PREMIX_CALL_SITE: CallSite = CallSite::new("op"); // or `site = <expr>`
//         let target: OpHandle = __PREMIX_CALL_SITE.target(<model>, <backend or NO_BACKEND>);
//             // or `target = <expr>`
//         Instrumented::new(target, async move { body }, classify).await
//     }
fn expand_async(
    prelude: &TokenStream,
    names: &Names<'_>,
    body: &TokenStream,
    output: &ReturnType,
) -> TokenStream {
    let classify = classifier(names.outcome, output_type(output));
    let target = &names.target;
    quote! {
        #prelude
        ::premix_instrument::__private::Instrumented::new(
            #target,
            async move #body,
            #classify,
        )
        .await
    }
}

// Input:
//     fn f(args) -> impl Future<Output = T> + Send { body }
// Output:
//     fn f(args) -> impl Future<Output = T> + Send {
//         <prelude as above>
//         let future = (move || body)();
//         Instrumented::new(target, future, classify)
//     }
// The closure keeps `return` in the body returning from the body. Only the
// future's polls are measured, not the synchronous code that builds it.
fn expand_returns_future(
    prelude: &TokenStream,
    names: &Names<'_>,
    body: &TokenStream,
    output: &Type,
) -> TokenStream {
    let future = local("__premix_future");
    let classify = classifier(names.outcome, Some(output));
    let target = &names.target;
    quote! {
        #prelude
        #[allow(clippy::redundant_closure_call)]
        let #future = (move || #body)();
        ::premix_instrument::__private::Instrumented::new(#target, #future, #classify)
    }
}

// Input:
//     fn f(args) -> R { body }
// Output:
//     fn f(args) -> R {
//         <prelude as above>
//         let call = SyncCall::start(target);
//         let output: R = (move || -> R { body })();
//         call.finish(outcome of &output);
//         output
//     }
// Annotating the closure with `R` keeps return-type inference (`collect()`,
// `?` conversions, `.into()`) working as it did in the original body.
fn expand_sync(
    prelude: &TokenStream,
    names: &Names<'_>,
    body: &TokenStream,
    output: &ReturnType,
) -> TokenStream {
    let call = local("__premix_call");
    let result = local("__premix_output");
    let Names { target, outcome } = names;
    let start = quote! {
        #prelude
        let #call = ::premix_instrument::__private::SyncCall::start(#target);
    };
    let Some(output) = output_type(output) else {
        return quote! {
            #start
            #[allow(clippy::redundant_closure_call)]
            (move || #body)();
            #call.finish(::premix_instrument::__private::Outcome::Ok);
        };
    };
    let ended = |fallback: TokenStream| match outcome {
        Some(path) => call_outcome(path, &quote!(&#result)),
        None => fallback,
    };
    let (binding_type, closure_return, ended) = if is_nameable(output) {
        let fallback = outcome_of(&result, output);
        (quote!(: #output), quote!(-> #output), ended(fallback))
    } else {
        let fallback = quote!(::premix_instrument::__private::Outcome::Ok);
        (TokenStream::new(), TokenStream::new(), ended(fallback))
    };
    quote! {
        #start
        #[allow(clippy::redundant_closure_call)]
        let #result #binding_type = (move || #closure_return #body)();
        #call.finish(#ended);
        #result
    }
}

/// A closure from `&Output` to `Outcome`: the caller's `outcome = PATH`, or
/// the `Result` detection. With a nameable output type the parameter is
/// annotated, which both drives the `Result` detection and tells inference
/// what the body returns.
fn classifier(outcome: Option<&syn::Path>, output: Option<&Type>) -> TokenStream {
    let param = local("__premix_output");
    match (outcome, output.filter(|ty| is_nameable(ty))) {
        (Some(path), Some(ty)) => {
            let call = call_outcome(path, &quote!(#param));
            quote!(|#param: &#ty| #call)
        }
        (Some(path), None) => {
            let call = call_outcome(path, &quote!(#param));
            quote!(|#param| #call)
        }
        (None, Some(ty)) => {
            let outcome = outcome_of_reference(&param);
            quote!(|#param: &#ty| #outcome)
        }
        (None, None) => quote!(::premix_instrument::__private::unnamed_output_is_ok),
    }
}

/// `path(argument)` as an `Outcome`, with errors about `path`'s signature
/// reported on `path`.
fn call_outcome(path: &syn::Path, argument: &TokenStream) -> TokenStream {
    quote_spanned! {path.span()=>
        ::premix_instrument::__private::outcome_by(#path, #argument)
    }
}

/// The outcome of `value`, a local of type `output`.
fn outcome_of(value: &syn::Ident, output: &Type) -> TokenStream {
    let reference = local("__premix_output_ref");
    let outcome = outcome_of_reference(&reference);
    quote! {{
        let #reference: &#output = &#value;
        #outcome
    }}
}

/// The outcome of `reference`, a local of type `&Output`: `Result`'s impl is
/// found before the blanket one by method resolution.
fn outcome_of_reference(reference: &syn::Ident) -> TokenStream {
    quote! {{
        #[allow(unused_imports)]
        use ::premix_instrument::__private::{ClassifyOther as _, ClassifyResult as _};
        #reference.__premix_outcome()
    }}
}

fn output_type(output: &ReturnType) -> Option<&Type> {
    match output {
        ReturnType::Default => None,
        ReturnType::Type(_, ty) => Some(ty),
    }
}

/// `T` in `-> impl Future<Output = T> + ...`, if that is the return type.
fn future_output(output: &ReturnType) -> Option<&Type> {
    let Type::ImplTrait(impl_trait) = output_type(output)? else {
        return None;
    };
    impl_trait.bounds.iter().find_map(|bound| {
        let TypeParamBound::Trait(bound) = bound else {
            return None;
        };
        let segment = bound.path.segments.last()?;
        if segment.ident != "Future" {
            return None;
        }
        let PathArguments::AngleBracketed(generics) = &segment.arguments else {
            return None;
        };
        generics.args.iter().find_map(|arg| match arg {
            GenericArgument::AssocType(assoc) if assoc.ident == "Output" => Some(&assoc.ty),
            _ => None,
        })
    })
}

/// Whether `ty` can be written as a `let` or closure annotation: not when
/// it contains `impl Trait` (or `!`, which is unstable there).
fn is_nameable(ty: &Type) -> bool {
    fn clean(tokens: TokenStream) -> bool {
        tokens.into_iter().all(|token| match token {
            TokenTree::Ident(ident) => ident != "impl",
            TokenTree::Punct(punct) => punct.as_char() != '!',
            TokenTree::Group(group) => clean(group.stream()),
            TokenTree::Literal(_) => true,
        })
    }
    clean(quote!(#ty))
}

fn local(name: &str) -> syn::Ident {
    syn::Ident::new(name, Span::mixed_site())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ret(tokens: TokenStream) -> ReturnType {
        syn::parse2(tokens).unwrap()
    }

    #[test]
    fn finds_the_future_output() {
        let found = |r: ReturnType| future_output(&r).map(|t| quote!(#t).to_string());
        assert_eq!(
            found(ret(
                quote!(-> impl Future<Output = Result<u8, E>> + Send + '_)
            )),
            Some("Result < u8 , E >".to_owned())
        );
        assert_eq!(
            found(ret(quote!(-> impl ::std::future::Future<Output = ()>))),
            Some("()".to_owned())
        );
        assert_eq!(found(ret(quote!(-> impl Iterator<Item = u8>))), None);
        assert_eq!(
            found(ret(quote!(-> Pin<Box<dyn Future<Output = u8>>>))),
            None
        );
        assert_eq!(found(ret(quote!())), None);
    }

    #[test]
    fn impl_trait_and_never_are_not_nameable() {
        let ty = |t: TokenStream| syn::parse2::<Type>(t).unwrap();
        assert!(is_nameable(&ty(quote!(Result<Vec<u8>, E>))));
        assert!(is_nameable(&ty(quote!(&'a str))));
        assert!(!is_nameable(&ty(quote!(impl Iterator<Item = u8>))));
        assert!(!is_nameable(&ty(quote!(Box<impl Display>))));
        assert!(!is_nameable(&ty(quote!(!))));
    }
}
