//! `#[derive(Model)]`: parse the struct into a [`ModelDef`], checking
//! everything code generation relies on, with errors on the offending tokens.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, GenericArgument, Ident, LitStr, PathArguments, Type};

/// A persisted field.
pub(crate) struct Column {
    pub(crate) ident: Ident,
    pub(crate) ty: Type,
    pub(crate) nullable: bool,
    /// `ColumnType` variant name, or `Custom("...")`.
    pub(crate) sql: ColumnSql,
    pub(crate) integer: bool,
    /// `#[premix(sensitive)]`: its values are never shown.
    pub(crate) sensitive: bool,
}

pub(crate) enum ColumnSql {
    Known(&'static str),
    Custom(LitStr),
    Unknown,
}

/// A `#[has_many(Child)]` field.
pub(crate) struct HasMany {
    pub(crate) field: Ident,
    pub(crate) child: syn::Path,
}

/// A field-level `#[belongs_to(Parent)] parent: Option<Parent>`: loaded by
/// `include("parent")`.
pub(crate) struct BelongsToField {
    pub(crate) field: Ident,
    pub(crate) parent: syn::Path,
    pub(crate) column: Ident,
}

/// A `#[belongs_to(Parent)]`, on the struct or on a field: the foreign key.
pub(crate) struct BelongsTo {
    pub(crate) column: Ident,
    pub(crate) parent_table: String,
}

/// Everything the expansion needs, already checked.
pub(crate) struct ModelDef {
    pub(crate) ident: Ident,
    pub(crate) vis: syn::Visibility,
    pub(crate) table: String,
    pub(crate) columns: Vec<Column>,
    /// Fields that are not columns: relations and `#[premix(ignore)]`.
    pub(crate) ignored: Vec<Ident>,
    pub(crate) id_index: usize,
    pub(crate) soft_delete: Option<usize>,
    pub(crate) version: Option<usize>,
    pub(crate) has_many: Vec<HasMany>,
    /// Struct-level `#[has_many(Child)]`: a lazy accessor only.
    pub(crate) lazy_children: Vec<syn::Path>,
    /// Struct-level `#[belongs_to(Parent)]`: a lazy accessor.
    pub(crate) lazy_parents: Vec<syn::Path>,
    pub(crate) belongs_to_fields: Vec<BelongsToField>,
    pub(crate) belongs_to: Vec<BelongsTo>,
    pub(crate) custom_hooks: bool,
    pub(crate) custom_validation: bool,
}

/// premix's naming convention: `RelUser` -> `relusers` (table) and
/// `reluser_id` (foreign key).
pub(crate) fn default_table(ident: &Ident) -> String {
    format!("{}s", ident.to_string().to_lowercase())
}

fn foreign_key_for(parent: &syn::Path) -> Option<Ident> {
    let last = parent.segments.last()?;
    Some(Ident::new(
        &format!("{}_id", last.ident.to_string().to_lowercase()),
        last.ident.span(),
    ))
}

/// Collects errors so that several can be reported together.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    fn at(&mut self, span: Span, message: impl std::fmt::Display) {
        self.push(syn::Error::new(span, message));
    }
}

pub(crate) fn parse(input: &DeriveInput) -> Result<ModelDef, syn::Error> {
    let mut errors = Errors::default();
    if !input.generics.params.is_empty() {
        errors.at(
            input.generics.span(),
            "#[derive(Model)] does not support generic structs",
        );
    }
    let fields = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(named) => Some(&named.named),
            other => {
                errors.at(
                    other.span(),
                    "#[derive(Model)] needs a struct with named fields",
                );
                None
            }
        },
        _ => {
            errors.at(
                input.ident.span(),
                "#[derive(Model)] can only be derived for structs",
            );
            None
        }
    };

    let mut table = default_table(&input.ident);
    let mut custom_hooks = false;
    let mut custom_validation = false;
    let mut belongs_to_parents = Vec::new();
    let mut lazy_children = Vec::new();
    for attr in &input.attrs {
        if attr.path().is_ident("belongs_to") {
            match attr.parse_args::<syn::Path>() {
                Ok(parent) => belongs_to_parents.push(parent),
                Err(e) => errors.push(e),
            }
        } else if attr.path().is_ident("has_many") {
            match attr.parse_args::<syn::Path>() {
                Ok(child) => lazy_children.push(child),
                Err(e) => errors.push(e),
            }
        } else if attr.path().is_ident("premix") {
            let result = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("table") {
                    table = meta.value()?.parse::<LitStr>()?.value();
                } else if meta.path.is_ident("custom_hooks") {
                    custom_hooks = true;
                } else if meta.path.is_ident("custom_validation") {
                    custom_validation = true;
                } else {
                    return Err(meta.error(
                        "unknown premix option; expected `table = \"...\"`, `custom_hooks` or `custom_validation`",
                    ));
                }
                Ok(())
            });
            if let Err(e) = result {
                errors.push(e);
            }
        }
    }

    let lazy_parents = belongs_to_parents.clone();
    let mut columns = Vec::new();
    let mut ignored = Vec::new();
    let mut has_many = Vec::new();
    let mut parent_fields = Vec::new();
    for field in fields.into_iter().flatten() {
        let Some(ident) = field.ident.clone() else {
            continue;
        };
        let mut ignore = false;
        let mut sensitive = false;
        let mut sql_type = None;
        let mut relation = None;
        let mut parent = None;
        for attr in &field.attrs {
            if attr.path().is_ident("has_many") {
                match attr.parse_args::<syn::Path>() {
                    Ok(child) => relation = Some(child),
                    Err(e) => errors.push(e),
                }
            } else if attr.path().is_ident("belongs_to") {
                match attr.parse_args::<syn::Path>() {
                    Ok(path) => parent = Some((path, attr.span())),
                    Err(e) => errors.push(e),
                }
            } else if attr.path().is_ident("premix") {
                let result = attr.parse_nested_meta(|meta| {
                    if meta.path.is_ident("ignore") {
                        ignore = true;
                    } else if meta.path.is_ident("sensitive") {
                        sensitive = true;
                    } else if meta.path.is_ident("sql_type") {
                        sql_type = Some(meta.value()?.parse::<LitStr>()?);
                    } else if meta.path.is_ident("index") || meta.path.is_ident("unique") {
                        // premix's schema metadata (`index`, `index(name =
                        // "...")`, `unique`): accepted, not acted on.
                        if meta.input.peek(syn::token::Paren) {
                            meta.parse_nested_meta(|inner| {
                                let _ = inner.value()?.parse::<LitStr>()?;
                                Ok(())
                            })?;
                        }
                    } else if meta.path.is_ident("foreign_key") {
                        meta.parse_nested_meta(|inner| {
                            let _ = inner.value()?.parse::<LitStr>()?;
                            Ok(())
                        })?;
                    } else {
                        return Err(meta.error(
                            "unknown premix field option; expected `ignore`, `sensitive`, \
                             `sql_type = \"...\"`, `index`, `unique` or `foreign_key(...)`",
                        ));
                    }
                    Ok(())
                });
                if let Err(e) = result {
                    errors.push(e);
                }
            }
        }
        if let Some(child) = relation {
            if vec_in_option(&field.ty).is_none() {
                errors.at(
                    field.ty.span(),
                    "a #[has_many] field must have type `Option<Vec<Child>>`",
                );
            }
            has_many.push(HasMany {
                field: ident.clone(),
                child,
            });
            ignored.push(ident);
            continue;
        }
        if let Some((path, span)) = parent {
            if option_inner(&field.ty).is_none() {
                errors.at(
                    field.ty.span(),
                    "a #[belongs_to] field must have type `Option<Parent>`",
                );
            }
            match foreign_key_for(&path) {
                Some(column) => parent_fields.push(BelongsToField {
                    field: ident.clone(),
                    parent: path,
                    column,
                }),
                None => errors.at(span, "#[belongs_to(...)] names the parent model"),
            }
            ignored.push(ident);
            continue;
        }
        if ignore {
            ignored.push(ident);
            continue;
        }
        let (inner, nullable) = match option_inner(&field.ty) {
            Some(inner) => (inner, true),
            None => (&field.ty, false),
        };
        let known = sql_family(inner);
        let integer = matches!(known, Some("SmallInt" | "Integer" | "BigInt"));
        let sql = match (sql_type, known) {
            (Some(lit), _) => ColumnSql::Custom(lit),
            (None, Some(family)) => ColumnSql::Known(family),
            (None, None) => ColumnSql::Unknown,
        };
        columns.push(Column {
            ident,
            ty: field.ty.clone(),
            nullable,
            sql,
            integer,
            sensitive,
        });
    }

    let position = |name: &str| columns.iter().position(|c| c.ident == name);
    let id_index = position("id");
    match id_index.map(|i| &columns[i]) {
        None if fields.is_some() => errors.at(
            input.ident.span(),
            "a Model needs an `id` field (i32 or i64), its primary key",
        ),
        Some(id) if !id.integer || id.nullable => {
            errors.at(id.ty.span(), "`id` must be i32 or i64");
        }
        _ => {}
    }
    let soft_delete = position("deleted_at");
    if let Some(i) = soft_delete {
        if !columns[i].nullable {
            errors.at(
                columns[i].ty.span(),
                "`deleted_at` must be an Option: NULL means not deleted",
            );
        }
    }
    let version = position("version");
    if let Some(i) = version {
        if !columns[i].integer || columns[i].nullable {
            errors.at(
                columns[i].ty.span(),
                "`version` must be an integer (optimistic locking)",
            );
        }
    }

    for field in &parent_fields {
        let known = belongs_to_parents
            .iter()
            .any(|p| foreign_key_for(p).as_ref() == Some(&field.column));
        if !known {
            belongs_to_parents.push(field.parent.clone());
        }
    }
    let mut belongs_to = Vec::new();
    for parent in belongs_to_parents {
        let Some(column) = foreign_key_for(&parent) else {
            continue;
        };
        if position(&column.to_string()).is_none() {
            errors.at(
                parent.span(),
                format!(
                    "#[belongs_to({})] expects a field `{column}`",
                    quote::quote!(#parent)
                ),
            );
        }
        let parent_table = parent
            .segments
            .last()
            .map(|s| default_table(&s.ident))
            .unwrap_or_default();
        belongs_to.push(BelongsTo {
            column,
            parent_table,
        });
    }

    if let Some(error) = errors.0 {
        return Err(error);
    }
    Ok(ModelDef {
        ident: input.ident.clone(),
        vis: input.vis.clone(),
        table,
        columns,
        ignored,
        id_index: id_index.unwrap_or(0),
        soft_delete,
        version,
        has_many,
        lazy_children,
        lazy_parents,
        belongs_to_fields: parent_fields,
        belongs_to,
        custom_hooks,
        custom_validation,
    })
}

/// `T` in `Option<T>`.
pub(crate) fn option_inner(ty: &Type) -> Option<&Type> {
    generic_arg_of(ty, "Option")
}

/// `Child` in `Option<Vec<Child>>`.
fn vec_in_option(ty: &Type) -> Option<&Type> {
    generic_arg_of(option_inner(ty)?, "Vec")
}

fn generic_arg_of<'t>(ty: &'t Type, wrapper: &str) -> Option<&'t Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != wrapper {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        GenericArgument::Type(inner) => Some(inner),
        _ => None,
    }
}

/// The `ColumnType` variant for a Rust type, by its last path segment.
fn sql_family(ty: &Type) -> Option<&'static str> {
    if generic_arg_of(ty, "Vec").is_some_and(|inner| quote::quote!(#inner).to_string() == "u8") {
        return Some("Bytes");
    }
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    Some(match last.ident.to_string().as_str() {
        "i8" | "i16" | "u8" => "SmallInt",
        "i32" | "u16" => "Integer",
        "i64" | "u32" => "BigInt",
        "bool" => "Boolean",
        "f32" => "Real",
        "f64" => "Double",
        "String" => "Text",
        _ => return None,
    })
}
