//! Checks that turn a [`ModelInput`] into a [`ModelDef`]: the struct is not
//! generic, it has an integer `id`, `deleted_at` and `version` have the
//! types soft deletes and optimistic locking need, relation fields have the
//! types their loaders fill, and every `#[belongs_to(Parent)]` finds its
//! `parent_id` field. Each error sits on the field, type or attribute at
//! fault; all of them are reported together.

use super::def::{
    BelongsTo, BelongsToField, Column, ColumnSql, HasMany, ModelDef, default_table, foreign_key_for,
};
use super::parse::ModelInput;
use super::types::{is_integer, option_inner, sql_family, vec_in_option};
use crate::errors::Errors;

/// The model for code generation; it is only valid if `errors` is still
/// empty afterwards.
pub(crate) fn validate(input: ModelInput, errors: &mut Errors) -> ModelDef {
    if !input.generics.params.is_empty() {
        errors.push(syn::Error::new_spanned(
            &input.generics,
            "#[derive(Model)] does not support generic structs",
        ));
    }
    let mut columns = Vec::new();
    let mut ignored = Vec::new();
    let mut has_many = Vec::new();
    let mut parent_fields = Vec::new();
    for field in input.fields {
        // A relation is never a column, whatever else the field says.
        if let Some(child) = field.has_many {
            if vec_in_option(&field.ty).is_none() {
                errors.push(syn::Error::new_spanned(
                    &field.ty,
                    "a #[has_many] field must have type `Option<Vec<Child>>`",
                ));
            }
            has_many.push(HasMany {
                field: field.ident.clone(),
                child,
            });
            ignored.push(field.ident);
            continue;
        }
        if let Some(parent) = field.belongs_to {
            if option_inner(&field.ty).is_none() {
                errors.push(syn::Error::new_spanned(
                    &field.ty,
                    "a #[belongs_to] field must have type `Option<Parent>`",
                ));
            }
            if let Some(column) = foreign_key_for(&parent) {
                parent_fields.push(BelongsToField {
                    field: field.ident.clone(),
                    parent,
                    column,
                });
            }
            ignored.push(field.ident);
            continue;
        }
        if field.ignore {
            ignored.push(field.ident);
            continue;
        }
        let (inner, nullable) = match option_inner(&field.ty) {
            Some(inner) => (inner, true),
            None => (&field.ty, false),
        };
        let known = sql_family(inner);
        let sql = match (field.sql_type, known) {
            (Some(lit), _) => ColumnSql::Custom(lit),
            (None, Some(family)) => ColumnSql::Known(family),
            (None, None) => ColumnSql::Unknown,
        };
        columns.push(Column {
            ident: field.ident,
            ty: field.ty,
            nullable,
            sql,
            integer: is_integer(known),
            sensitive: field.sensitive,
        });
    }

    let position = |name: &str| columns.iter().position(|c| c.ident == name);
    let id_index = position("id");
    match id_index.map(|i| &columns[i]) {
        None => errors.at(
            input.ident.span(),
            "a Model needs an `id` field (i32 or i64), its primary key",
        ),
        Some(id) if !id.integer || id.nullable => {
            errors.push(syn::Error::new_spanned(&id.ty, "`id` must be i32 or i64"));
        }
        _ => {}
    }
    let soft_delete = position("deleted_at");
    if let Some(column) = soft_delete.map(|i| &columns[i]) {
        if !column.nullable {
            errors.push(syn::Error::new_spanned(
                &column.ty,
                "`deleted_at` must be an Option: NULL means not deleted",
            ));
        }
    }
    let version = position("version");
    if let Some(column) = version.map(|i| &columns[i]) {
        if !column.integer || column.nullable {
            errors.push(syn::Error::new_spanned(
                &column.ty,
                "`version` must be an integer (optimistic locking)",
            ));
        }
    }

    let belongs_to = foreign_keys(&input.belongs_to, &parent_fields, errors, |column| {
        position(column).is_some()
    });

    let table = input
        .table
        .map_or_else(|| default_table(&input.ident), |table| table.value());
    ModelDef {
        ident: input.ident,
        vis: input.vis,
        table,
        columns,
        ignored,
        id_index: id_index.unwrap_or(0),
        soft_delete,
        version,
        has_many,
        lazy_children: input.has_many,
        lazy_parents: input.belongs_to,
        belongs_to_fields: parent_fields,
        belongs_to,
        custom_hooks: input.custom_hooks,
        custom_validation: input.custom_validation,
    }
}

/// Struct-level parents first, then each field-level parent whose foreign
/// key is not declared yet: one `BelongsTo` per foreign key column, each
/// checked against the columns.
fn foreign_keys(
    struct_parents: &[syn::Path],
    parent_fields: &[BelongsToField],
    errors: &mut Errors,
    has_column: impl Fn(&str) -> bool,
) -> Vec<BelongsTo> {
    let mut parents: Vec<&syn::Path> = struct_parents.iter().collect();
    for field in parent_fields {
        let known = parents
            .iter()
            .any(|p| foreign_key_for(p).as_ref() == Some(&field.column));
        if !known {
            parents.push(&field.parent);
        }
    }
    let mut belongs_to = Vec::new();
    for parent in parents {
        let Some(column) = foreign_key_for(parent) else {
            continue;
        };
        if !has_column(&column.to_string()) {
            errors.push(syn::Error::new_spanned(
                parent,
                format!(
                    "#[belongs_to({})] expects a field `{column}`",
                    quote::quote!(#parent)
                ),
            ));
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
    belongs_to
}
