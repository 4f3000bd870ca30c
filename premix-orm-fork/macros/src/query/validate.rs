//! Checks that turn a [`QueryInput`] into a [`Query`]: the operation is one
//! premix knows, each call is known and has the arguments it needs (the
//! column as a string literal, a value), and each call has a place in the
//! operation (no `set` in a `SELECT`, a `set` in every `INSERT`). Column
//! names are checked later, when the statement is first built: the macro
//! cannot see the model's fields.

use proc_macro2::Span;
use syn::{Expr, Ident, LitStr};

use super::parse::{CallInput, QueryInput};
use crate::errors::Errors;

const OPS: &str = "SELECT, FIND, INSERT, UPDATE or DELETE";

/// A checked query.
pub(crate) struct Query {
    pub(crate) model: syn::Path,
    /// The `QueryOp` variant, spanned on the user's operation.
    pub(crate) op: Ident,
    pub(crate) calls: Vec<Call>,
}

/// A known call with its arguments.
pub(crate) enum Call {
    Filter {
        /// The `FilterOp` variant.
        op: &'static str,
        column: LitStr,
        /// `None` for `filter_is_null` and `filter_is_not_null`.
        value: Option<Expr>,
    },
    Set {
        column: LitStr,
        value: Expr,
    },
    Limit(Expr),
    Offset(Expr),
    ReturningAll,
}

/// The checked query, or every error found in it.
pub(crate) fn validate(input: QueryInput) -> syn::Result<Query> {
    let mut errors = Errors::default();
    let op = operation(&input.op);
    // Counted as written: a `set` with a bad argument is reported as that,
    // not also as missing.
    let set_written = input.calls.iter().any(|call| call.name == "set");
    let mut calls = Vec::new();
    for call in input.calls {
        let span = call.name.span();
        match interpret(call) {
            Ok(call) => calls.push((call, span)),
            Err(error) => errors.push(error),
        }
    }
    let op = match op {
        Ok(op) => op,
        // Where a call belongs depends on the operation: nothing to check.
        Err(mut error) => {
            if let Err(more) = errors.finish(()) {
                error.combine(more);
            }
            return Err(error);
        }
    };
    placement(op, &input.op, &calls, set_written, &mut errors);
    errors.finish(Query {
        model: input.model,
        op: Ident::new(op, input.op.span()),
        calls: calls.into_iter().map(|(call, _)| call).collect(),
    })
}

/// The `QueryOp` variant for the user's operation.
fn operation(op: &Ident) -> syn::Result<&'static str> {
    Ok(match op.to_string().as_str() {
        "SELECT" => "Select",
        "FIND" => "Find",
        "INSERT" => "Insert",
        "UPDATE" => "Update",
        "DELETE" => "Delete",
        other => {
            return Err(syn::Error::new(
                op.span(),
                format!("unknown operation `{other}`; expected {OPS}"),
            ));
        }
    })
}

fn interpret(call: CallInput) -> syn::Result<Call> {
    let CallInput { name, args } = call;
    let span = name.span();
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
    let value = |arg: Option<Expr>| arg.ok_or_else(|| syn::Error::new(span, "expected a value"));
    let filter = |op, args: &mut dyn Iterator<Item = Expr>| -> syn::Result<Call> {
        let column = column(args.next())?;
        Ok(Call::Filter {
            op,
            column,
            value: Some(value(args.next())?),
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
        "filter_is_null" | "filter_is_not_null" => Call::Filter {
            op: if name == "filter_is_null" {
                "IsNull"
            } else {
                "IsNotNull"
            },
            column: column(args.next())?,
            value: None,
        },
        "set" => Call::Set {
            column: column(args.next())?,
            value: value(args.next())?,
        },
        "limit" => Call::Limit(value(args.next())?),
        "offset" => Call::Offset(value(args.next())?),
        "returning_all" => Call::ReturningAll,
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

/// Checks that the calls fit the statement, each refusal on its call.
fn placement(
    op: &str,
    written: &Ident,
    calls: &[(Call, Span)],
    set_written: bool,
    errors: &mut Errors,
) {
    let mut refuse = |span: Span, message: &str| {
        errors.at(span, format!("{message} in {written} queries"));
    };
    for (call, span) in calls {
        match call {
            Call::Set { .. } if !matches!(op, "Insert" | "Update") => {
                refuse(*span, "`set` has no place");
            }
            Call::Filter { .. } if op == "Insert" => refuse(*span, "a filter has no place"),
            Call::Limit(_) | Call::Offset(_) if op != "Select" => {
                refuse(*span, "`limit`/`offset` have no place");
            }
            Call::ReturningAll if !matches!(op, "Update" | "Delete") => {
                refuse(*span, "`returning_all` has no place");
            }
            _ => {}
        }
    }
    if !set_written && matches!(op, "Insert" | "Update") {
        refuse(
            written.span(),
            "at least one `set(\"column\", value)` is needed",
        );
    }
}
