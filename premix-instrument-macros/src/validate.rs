//! Checks that turn raw input into a typed, valid model: the function to
//! instrument and the [`Instrument`] arguments. Code generation trusts both.

use proc_macro2::{Span, TokenStream};
use syn::spanned::Spanned;
use syn::{Expr, ItemFn, LitStr, Path};

use crate::attr::Args;

/// Where an instrumented function's counters live.
pub(crate) enum Counters {
    /// A call site of its own for this op label, and the model and backend
    /// of each call.
    Own {
        op: LitStr,
        model: Expr,
        backend: Option<Expr>,
    },
    /// A `CallSite` that lives for the whole program (a `static` the caller
    /// declared, or `*f(...)` for a `&'static CallSite` chosen at run time),
    /// and the model and backend of each call.
    Shared {
        site: Expr,
        model: Expr,
        backend: Option<Expr>,
    },
    /// The counters of one (op, model, backend) the caller already holds:
    /// an `OpHandle`.
    Target(Expr),
}

/// Valid arguments.
pub(crate) struct Instrument {
    pub(crate) counters: Counters,
    pub(crate) outcome: Option<Path>,
}

/// Checks the arguments: `target`, or a site (`op` or `site`, not both) and
/// a model; `op` a snake_case label.
pub(crate) fn arguments(args: Args, errors: &mut Vec<syn::Error>) -> Option<Instrument> {
    if let Some(op) = &args.op {
        if !is_snake_case_label(&op.value()) {
            errors.push(syn::Error::new(
                op.span(),
                "`op` must be a snake_case label such as \"find_by_id\": lowercase ASCII letters, \
                 digits and `_`, starting with a letter",
            ));
        }
    }
    if let Some(target) = args.target {
        let with_target = |name: &str, span: Span| {
            syn::Error::new(
                span,
                format!(
                    "`target` already names the operation's counters (its op, model and \
                     backend); drop `{name}`"
                ),
            )
        };
        let extra = [
            ("op", args.op.as_ref().map(Spanned::span)),
            ("site", args.site.as_ref().map(Spanned::span)),
            ("model", args.model.as_ref().map(Spanned::span)),
            ("backend", args.backend.as_ref().map(Spanned::span)),
        ];
        let before = errors.len();
        for (name, span) in extra {
            if let Some(span) = span {
                errors.push(with_target(name, span));
            }
        }
        return (errors.len() == before).then_some(Instrument {
            counters: Counters::Target(target),
            outcome: args.outcome,
        });
    }
    if let (Some(_), Some(site)) = (&args.op, &args.site) {
        errors.push(syn::Error::new(
            site.span(),
            "`op` and `site` both given: a `site` already holds its op label; keep one",
        ));
    }
    if !args.written.contains(&"op") && !args.written.contains(&"site") {
        errors.push(syn::Error::new(
            Span::call_site(),
            "missing required argument `op`; add `op = \"...\"`, or `site = <static CallSite>`, \
             or `target = <OpHandle>`",
        ));
    }
    if !args.written.contains(&"model") {
        errors.push(syn::Error::new(
            Span::call_site(),
            "missing required argument `model`; add `model = <expr of type &'static str>`",
        ));
    }
    let (model, backend) = (args.model?, args.backend);
    let counters = match (args.op, args.site) {
        (Some(op), None) => Counters::Own { op, model, backend },
        (None, Some(site)) => Counters::Shared {
            site,
            model,
            backend,
        },
        _ => return None,
    };
    Some(Instrument {
        counters,
        outcome: args.outcome,
    })
}

fn is_snake_case_label(label: &str) -> bool {
    let mut bytes = label.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Why an item cannot be instrumented.
pub(crate) enum NotInstrumentable {
    /// A clear error on the offending tokens.
    Error(syn::Error),
    /// Not valid Rust at all: leave the error to rustc.
    Unparseable,
}

/// Parses the item as a function with a body that can be instrumented.
pub(crate) fn function(item: TokenStream) -> Result<ItemFn, NotInstrumentable> {
    match syn::parse2::<ItemFn>(item.clone()) {
        Ok(function) => check_signature(&function).map(|()| function),
        Err(_) => Err(not_a_function(item)),
    }
}

fn check_signature(function: &ItemFn) -> Result<(), NotInstrumentable> {
    if let Some(constness) = &function.sig.constness {
        return Err(NotInstrumentable::Error(syn::Error::new(
            constness.span(),
            "#[instrument] cannot be applied to a `const fn`: counters and clocks do not run at \
             compile time",
        )));
    }
    Ok(())
}

fn not_a_function(item: TokenStream) -> NotInstrumentable {
    if let Ok(method) = syn::parse2::<syn::TraitItemFn>(item.clone()) {
        return NotInstrumentable::Error(syn::Error::new(
            method.sig.span(),
            "#[instrument] needs a function body; put it on the implementation, not on the \
             trait's declaration",
        ));
    }
    match syn::parse2::<syn::Item>(item) {
        Ok(other) => NotInstrumentable::Error(syn::Error::new(
            item_keyword_span(&other),
            "#[instrument] can only be applied to functions and methods",
        )),
        Err(_) => NotInstrumentable::Unparseable,
    }
}

/// The span of the keyword that says what the item is (`struct`, `impl`,
/// ...), where syn gives one; the whole item otherwise.
fn item_keyword_span(item: &syn::Item) -> Span {
    match item {
        syn::Item::Struct(i) => i.struct_token.span,
        syn::Item::Enum(i) => i.enum_token.span,
        syn::Item::Impl(i) => i.impl_token.span,
        syn::Item::Mod(i) => i.mod_token.span,
        syn::Item::Trait(i) => i.trait_token.span,
        syn::Item::Const(i) => i.const_token.span,
        syn::Item::Static(i) => i.static_token.span,
        syn::Item::Type(i) => i.type_token.span,
        syn::Item::Use(i) => i.use_token.span,
        other => other.span(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_labels() {
        for good in ["find_by_id", "select", "eager_load", "a1", "x_"] {
            assert!(is_snake_case_label(good), "{good}");
        }
        for bad in [
            "",
            "FindById",
            "find-by-id",
            "1st",
            "_x",
            "find by id",
            "sélect",
        ] {
            assert!(!is_snake_case_label(bad), "{bad}");
        }
    }
}
