//! The checked model: what [`validate`](super::validate) hands to code
//! generation. Holding a [`ModelDef`] means every check passed: there is
//! an integer `id`, every foreign key names a field, relation fields have
//! the types the loaders fill, so expansion needs no error paths.

use syn::{Ident, LitStr, Type};

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
    /// Index of `id` in `columns`.
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

/// premix's naming convention: `RelUser` -> `relusers` (table).
pub(crate) fn default_table(ident: &Ident) -> String {
    format!("{}s", ident.to_string().to_lowercase())
}

/// premix's naming convention: `RelUser` -> `reluser_id` (foreign key),
/// spanned on the parent's name. `None` only for a path without segments,
/// which the parser never produces.
pub(crate) fn foreign_key_for(parent: &syn::Path) -> Option<Ident> {
    let last = parent.segments.last()?;
    Some(Ident::new(
        &format!("{}_id", last.ident.to_string().to_lowercase()),
        last.ident.span(),
    ))
}

/// The foreign key a child table holds to this model: `User` -> `user_id`.
pub(crate) fn child_foreign_key(ident: &Ident) -> String {
    format!("{}_id", ident.to_string().to_lowercase())
}
