//! The inherent side of `#[derive(Model)]`: what `impl User { ... }` and
//! `mod columns_user` hold. Typed relation handles for `include`, premix's
//! lazy accessors (`user.load_posts(..)`, `posts_lazy`, `user(..)`), the
//! default-backend shortcuts (`User::create_table_sql()`), and the column
//! name constants. Kept apart from the trait impls because these are the
//! user-facing names, where premix compatibility is decided.

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote};

use super::def::{ModelDef, child_foreign_key};

// Input:  #[belongs_to(Team)] struct User { id: i32, team_id: i32,
//             #[has_many(Post)] posts: Option<Vec<Post>> }
// Output: const posts: Relation<User>; async fn load_posts(&self, ..) -> Vec<Post>;
//         async fn team(&self, ..) -> Option<Team>; fn create_table_sql() -> String, ...
/// The items of `impl Model { ... }`.
pub(crate) fn methods(def: &ModelDef, krate: &TokenStream) -> TokenStream {
    let ident = &def.ident;
    let vis = &def.vis;
    let sqlx = quote!(#krate::sqlx);
    let parent_fk = child_foreign_key(ident);
    let lowercase_last = |path: &syn::Path| {
        path.segments
            .last()
            .map(|s| s.ident.to_string().to_lowercase())
            .unwrap_or_default()
    };
    let parent_methods: Vec<String> = def.lazy_parents.iter().map(lowercase_last).collect();

    let relation_consts = def
        .has_many
        .iter()
        .map(|h| &h.field)
        .chain(def.belongs_to_fields.iter().map(|b| &b.field))
        .map(|field| {
            let name = field.to_string();
            // A lazy parent accessor of the same name takes the name, as in
            // premix: the handle is then `<field>_rel`.
            let handle = if parent_methods.contains(&name) {
                format_ident!("{}_rel", field)
            } else {
                field.clone()
            };
            quote! {
                /// Typed handle for `include(...)`.
                #[allow(non_upper_case_globals)]
                #vis const #handle: #krate::Relation<#ident> = #krate::Relation::new(#name);
            }
        });
    // `#[has_many]` fields and premix's `#[has_children]` lazy accessors
    // load children the same way; only the method's name and summary differ.
    let has_many = def.has_many.iter().map(|h| {
        let method = format_ident!("load_{}", h.field);
        (
            method,
            h.child.to_token_stream(),
            " Loads this relation now, in one query.",
        )
    });
    let lazy_children = def.lazy_children.iter().map(|child| {
        let method = format_ident!("{}s_lazy", lowercase_last(child));
        (
            method,
            child.to_token_stream(),
            " The children of this row, loaded now in one query.",
        )
    });
    let load_children = has_many.chain(lazy_children).map(|(method, child, summary)| {
        quote! {
            #[doc = #summary]
            ///
            /// # Errors
            /// What the database reports.
            #vis async fn #method<'a, E, DB>(&self, executor: E) -> ::core::result::Result<::std::vec::Vec<#child>, #sqlx::Error>
            where
                E: #krate::IntoExecutor<'a, DB = DB>,
                DB: #krate::SqlDialect,
                #child: #krate::Model<DB>,
                Self: #krate::Model<DB>,
            {
                let id = <Self as #krate::Model<DB>>::__id(self);
                <#child as #krate::Model<DB>>::find(executor).filter_eq(#parent_fk, id).all().await
            }
        }
    });
    let lazy_belongs_to = def.lazy_parents.iter().map(|parent| {
        let column = format_ident!("{}_id", lowercase_last(parent));
        let method = format_ident!("{}", lowercase_last(parent));
        quote! {
            /// The parent row, loaded now.
            ///
            /// # Errors
            /// What the database reports.
            #vis async fn #method<'a, E, DB>(&self, executor: E) -> ::core::result::Result<::core::option::Option<#parent>, #sqlx::Error>
            where
                E: #krate::IntoExecutor<'a, DB = DB>,
                DB: #krate::SqlDialect,
                #parent: #krate::Model<DB>,
            {
                <#parent as #krate::Model<DB>>::find_by_id(executor, ::core::primitive::i64::from(self.#column)).await
            }
        }
    });
    let default_backend = |name: &str, ret: TokenStream, doc: &str| {
        let method = format_ident!("{}", name);
        quote! {
            #[doc = #doc]
            #[doc = ""]
            #[doc = "On the default backend: the only one compiled in, or SQLite when both are; `<Model as premix_orm::Model<DB>>::` names another."]
            #vis fn #method<DB>() -> #ret
            where
                (): #krate::__private::DefaultBackend<DB>,
                DB: #krate::SqlDialect,
                Self: #krate::Model<DB>,
            {
                <Self as #krate::Model<DB>>::#method()
            }
        }
    };
    let default_backend_fns = [
        default_backend(
            "create_table_sql",
            quote!(::std::string::String),
            "`CREATE TABLE IF NOT EXISTS` for this model.",
        ),
        default_backend("table_name", quote!(&'static str), "The table's name."),
        default_backend(
            "list_columns",
            quote!(::std::vec::Vec<::std::string::String>),
            "The persisted columns, in field order.",
        ),
        default_backend(
            "has_soft_delete",
            quote!(bool),
            "Whether `delete` sets `deleted_at`.",
        ),
        default_backend(
            "sensitive_fields",
            quote!(&'static [&'static str]),
            "The `#[premix(sensitive)]` columns.",
        ),
        default_backend(
            "relation_names",
            quote!(&'static [&'static str]),
            "The relations `include` accepts.",
        ),
    ];

    quote! {
        #(#relation_consts)*
        #(#load_children)*
        #(#lazy_belongs_to)*
        #(#default_backend_fns)*
    }
}

// Input:  struct User { id: i32, name: String }
// Output: mod columns_user { pub const ID: &str = "id"; pub const NAME: &str = "name"; }
/// `mod columns_<model>`: a `&str` constant per column.
pub(crate) fn columns_module(def: &ModelDef) -> TokenStream {
    let ident = &def.ident;
    let vis = &def.vis;
    let columns_module = format_ident!("columns_{}", ident.to_string().to_lowercase());
    let column_consts = def.columns.iter().map(|c| {
        let konst = format_ident!("{}", c.ident.to_string().to_uppercase());
        let name = c.ident.to_string();
        let doc = format!("The `{name}` column.");
        quote!(#[doc = #doc] pub const #konst: &str = #name;)
    });
    quote! {
        /// The model's column names, for filters (`filter_eq(columns_user::NAME, ...)`).
        #[allow(dead_code, non_snake_case)]
        #vis mod #columns_module {
            #(#column_consts)*
        }
    }
}
