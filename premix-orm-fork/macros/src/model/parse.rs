//! Reading `#[derive(Model)]`'s input: the struct's fields and the
//! `#[premix(...)]`, `#[has_many(...)]` and `#[belongs_to(...)]` attributes,
//! as written, into a [`ModelInput`]. Only the attribute syntax is checked
//! here; whether the pieces fit together (an `id`, the foreign keys, the
//! relation field types) is [`validate`](super::validate)'s business.
//!
//! The syntax is premix-orm's: on the struct `#[premix(table = "...",
//! custom_hooks, custom_validation)]`, `#[belongs_to(Parent)]` and
//! `#[has_many(Child)]`; on a field `#[has_many(Child)]`,
//! `#[belongs_to(Parent)]` and `#[premix(ignore, sensitive, sql_type =
//! "...", index, index(name = "..."), unique, unique(...),
//! foreign_key(...))]`. An attribute written twice: the last one wins, as in
//! premix.

use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, Expr, Fields, Ident, LitStr, Token, Type};

use crate::errors::Errors;

/// The struct as written.
pub(crate) struct ModelInput {
    pub(crate) ident: Ident,
    pub(crate) vis: syn::Visibility,
    pub(crate) generics: syn::Generics,
    pub(crate) fields: Vec<FieldInput>,
    /// `#[premix(table = "...")]`.
    pub(crate) table: Option<LitStr>,
    pub(crate) custom_hooks: bool,
    pub(crate) custom_validation: bool,
    /// Struct-level `#[belongs_to(Parent)]`, in order.
    pub(crate) belongs_to: Vec<syn::Path>,
    /// Struct-level `#[has_many(Child)]`, in order.
    pub(crate) has_many: Vec<syn::Path>,
}

/// A named field and its attributes, as written.
pub(crate) struct FieldInput {
    pub(crate) ident: Ident,
    pub(crate) ty: Type,
    /// `#[premix(ignore)]`.
    pub(crate) ignore: bool,
    /// `#[premix(sensitive)]`.
    pub(crate) sensitive: bool,
    /// `#[premix(sql_type = "...")]`.
    pub(crate) sql_type: Option<LitStr>,
    /// `#[has_many(Child)]`.
    pub(crate) has_many: Option<syn::Path>,
    /// `#[belongs_to(Parent)]`.
    pub(crate) belongs_to: Option<syn::Path>,
}

const NOT_NAMED: &str = "#[derive(Model)] needs a struct with named fields";
const NOT_A_STRUCT: &str = "#[derive(Model)] can only be derived for structs";
const BELONGS_TO: &str = "`#[belongs_to(Parent)]`, the parent model";
const HAS_MANY: &str = "`#[has_many(Child)]`, the child model";
const STRUCT_OPTIONS: &str =
    "unknown premix option; expected `table = \"...\"`, `custom_hooks` or `custom_validation`";
const FIELD_OPTIONS: &str = "unknown premix field option; expected `ignore`, `sensitive`, \
                             `sql_type = \"...\"`, `index`, `unique` or `foreign_key(...)`";

/// Reads the struct; every syntax error goes to `errors` and parsing goes
/// on, so that one build reports them all. `None` when the item is not a
/// struct with named fields (reported): there is nothing to check further.
pub(crate) fn parse(input: &DeriveInput, errors: &mut Errors) -> Option<ModelInput> {
    let mut model = ModelInput {
        ident: input.ident.clone(),
        vis: input.vis.clone(),
        generics: input.generics.clone(),
        fields: Vec::new(),
        table: None,
        custom_hooks: false,
        custom_validation: false,
        belongs_to: Vec::new(),
        has_many: Vec::new(),
    };
    for attr in &input.attrs {
        struct_attribute(attr, &mut model, errors);
    }
    let named = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(named) => Some(&named.named),
            Fields::Unnamed(unnamed) => {
                errors.at(unnamed.span(), NOT_NAMED);
                None
            }
            Fields::Unit => {
                errors.at(input.ident.span(), NOT_NAMED);
                None
            }
        },
        Data::Enum(data) => {
            errors.at(data.enum_token.span, NOT_A_STRUCT);
            None
        }
        Data::Union(data) => {
            errors.at(data.union_token.span, NOT_A_STRUCT);
            None
        }
    };
    model.fields = named?
        .iter()
        .filter_map(|field| Some(self::field(field.ident.clone()?, field, errors)))
        .collect();
    Some(model)
}

fn struct_attribute(attr: &Attribute, model: &mut ModelInput, errors: &mut Errors) {
    if attr.path().is_ident("belongs_to") {
        match relation_path(attr, BELONGS_TO) {
            Ok(parent) => model.belongs_to.push(parent),
            Err(error) => errors.push(error),
        }
    } else if attr.path().is_ident("has_many") {
        match relation_path(attr, HAS_MANY) {
            Ok(child) => model.has_many.push(child),
            Err(error) => errors.push(error),
        }
    } else if attr.path().is_ident("premix") {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("table") {
                model.table = Some(string_value(&meta, "table")?);
            } else if meta.path.is_ident("custom_hooks") {
                model.custom_hooks = true;
            } else if meta.path.is_ident("custom_validation") {
                model.custom_validation = true;
            } else {
                return Err(meta.error(STRUCT_OPTIONS));
            }
            Ok(())
        });
        if let Err(error) = result {
            errors.push(error);
        }
    }
}

fn field(ident: Ident, field: &syn::Field, errors: &mut Errors) -> FieldInput {
    let mut input = FieldInput {
        ident,
        ty: field.ty.clone(),
        ignore: false,
        sensitive: false,
        sql_type: None,
        has_many: None,
        belongs_to: None,
    };
    for attr in &field.attrs {
        if attr.path().is_ident("has_many") {
            match relation_path(attr, HAS_MANY) {
                Ok(child) => input.has_many = Some(child),
                Err(error) => errors.push(error),
            }
        } else if attr.path().is_ident("belongs_to") {
            match relation_path(attr, BELONGS_TO) {
                Ok(parent) => input.belongs_to = Some(parent),
                Err(error) => errors.push(error),
            }
        } else if attr.path().is_ident("premix") {
            if let Err(error) = attr.parse_nested_meta(|meta| field_option(&meta, &mut input)) {
                errors.push(error);
            }
        }
    }
    input
}

fn field_option(meta: &ParseNestedMeta<'_>, input: &mut FieldInput) -> syn::Result<()> {
    if meta.path.is_ident("ignore") {
        input.ignore = true;
    } else if meta.path.is_ident("sensitive") {
        input.sensitive = true;
    } else if meta.path.is_ident("sql_type") {
        input.sql_type = Some(string_value(meta, "sql_type")?);
    } else if meta.path.is_ident("index") || meta.path.is_ident("unique") {
        // premix's schema metadata (`index`, `index(name = "...")`,
        // `unique`, `unique(...)`): accepted, not acted on.
        if meta.input.peek(syn::token::Paren) {
            schema_options(meta)?;
        }
    } else if meta.path.is_ident("foreign_key") {
        if !meta.input.peek(syn::token::Paren) {
            return Err(meta
                .error("expected `foreign_key(key = \"...\", ...)`: the options in parentheses"));
        }
        schema_options(meta)?;
    } else {
        return Err(meta.error(FIELD_OPTIONS));
    }
    Ok(())
}

/// `(key = "...", ...)` after `index`, `unique` or `foreign_key`.
fn schema_options(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    meta.parse_nested_meta(|inner| {
        let key = inner
            .path
            .get_ident()
            .map_or_else(|| "key".to_owned(), Ident::to_string);
        string_value(&inner, &key).map(drop)
    })
}

/// The string after `name =`; anything else is an error on it that shows
/// the expected form.
fn string_value(meta: &ParseNestedMeta<'_>, name: &str) -> syn::Result<LitStr> {
    let expected = || format!("expected `{name} = \"...\"`, a string literal");
    if !meta.input.peek(Token![=]) {
        return Err(meta.error(expected()));
    }
    match meta.value()?.parse::<Expr>()? {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(value),
            attrs,
        }) if attrs.is_empty() => Ok(value),
        other => Err(syn::Error::new_spanned(other, expected())),
    }
}

/// The model named in `#[has_many(Child)]` or `#[belongs_to(Parent)]`.
fn relation_path(attr: &Attribute, expected: &str) -> syn::Result<syn::Path> {
    attr.parse_args::<syn::Path>().map_err(|error| {
        // syn points at the offending token inside the parentheses, or at the
        // attribute when they are missing; keep its place, say what we want.
        let span = match &attr.meta {
            syn::Meta::List(list) if !list.tokens.is_empty() => error.span(),
            other => other.span(),
        };
        syn::Error::new(span, format!("expected {expected}"))
    })
}
