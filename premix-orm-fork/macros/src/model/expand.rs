//! Code generation for `#[derive(Model)]`: thin glue around a `static`
//! `ModelMeta`; every operation lives in the library, generic over the
//! backend, so the user's crate compiles little and the library's own
//! `instrument` feature decides what is counted. Input is a checked
//! [`ModelDef`]: nothing here can fail.
//!
//! The inherent methods and the `columns_<model>` module are in
//! [`super::inherent`].

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::def::{ColumnSql, ModelDef, child_foreign_key};
use super::inherent;

pub(crate) fn expand(def: &ModelDef, krate: &TokenStream) -> TokenStream {
    let ident = &def.ident;
    let table = &def.table;
    let sqlx = quote!(#krate::sqlx);

    // Input:  struct User { id: i32, name: String, #[has_many(Post)] posts: Option<Vec<Post>> }
    // Output: a static ModelMeta, `impl<DB> Model<DB> for User`, `impl FromRow for User`,
    //         default hooks/validation, and `User::posts` / `user.load_posts(..)`.
    let column_meta = def.columns.iter().map(|c| {
        let name = c.ident.to_string();
        let ty = match &c.sql {
            ColumnSql::Known(family) => {
                let variant = format_ident!("{}", family);
                quote!(#krate::ColumnType::#variant)
            }
            ColumnSql::Custom(lit) => quote!(#krate::ColumnType::Custom(#lit)),
            ColumnSql::Unknown => quote!(#krate::ColumnType::Unknown),
        };
        let nullable = c.nullable;
        quote!(#krate::ColumnMeta { name: #name, ty: #ty, nullable: #nullable })
    });
    let option_index = |index: Option<usize>| match index {
        Some(i) => quote!(::core::option::Option::Some(#i)),
        None => quote!(::core::option::Option::None),
    };
    let id_index = def.id_index;
    let soft_delete = option_index(def.soft_delete);
    let version = option_index(def.version);
    let belongs_meta = def.belongs_to.iter().map(|b| {
        let parent_table = &b.parent_table;
        let column = b.column.to_string();
        quote!(#krate::BelongsToMeta { parent_table: #parent_table, column: #column })
    });
    let relation_names = def
        .has_many
        .iter()
        .map(|h| h.field.to_string())
        .chain(def.belongs_to_fields.iter().map(|b| b.field.to_string()));
    let sensitive = def
        .columns
        .iter()
        .filter(|c| c.sensitive)
        .map(|c| c.ident.to_string());

    // Bounds: every column type must decode from and encode to DB.
    let column_types: Vec<_> = def.columns.iter().map(|c| &c.ty).collect();
    let children: Vec<_> = def.has_many.iter().map(|h| &h.child).collect();
    let parents: Vec<_> = def.belongs_to_fields.iter().map(|b| &b.parent).collect();

    let decode_fields = def.columns.iter().enumerate().map(|(i, c)| {
        let field = &c.ident;
        quote!(#field: #sqlx::Row::try_get(row, #i)?)
    });
    let by_name_fields = def.columns.iter().map(|c| {
        let field = &c.ident;
        let name = c.ident.to_string();
        quote!(#field: #sqlx::Row::try_get(row, #name)?)
    });
    let default_fields = def
        .ignored
        .iter()
        .map(|field| quote!(#field: ::core::default::Default::default()));
    let default_fields_again = default_fields.clone();

    let id_field = &def.columns[def.id_index].ident;
    let insert_binds = def.columns.iter().enumerate().map(|(i, c)| {
        let field = &c.ident;
        if i == def.id_index {
            quote!(if with_id { query = query.bind(&self.#field); })
        } else {
            quote!(query = query.bind(&self.#field);)
        }
    });
    let update_binds = def
        .columns
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != def.id_index && Some(*i) != def.version)
        .map(|(_, c)| {
            let field = &c.ident;
            quote!(query = query.bind(&self.#field);)
        });
    let (version_value, bump_version) = match def.version {
        Some(i) => {
            let field = &def.columns[i].ident;
            (
                quote!(::core::option::Option::Some(::core::primitive::i64::from(self.#field))),
                quote!(self.#field += 1;),
            )
        }
        None => (quote!(::core::option::Option::None), TokenStream::new()),
    };
    let foreign_keys = def.columns.iter().filter(|c| c.integer).map(|c| {
        let field = &c.ident;
        let name = c.ident.to_string();
        if c.nullable {
            quote!(#name => self.#field.map(::core::primitive::i64::from),)
        } else {
            quote!(#name => ::core::option::Option::Some(::core::primitive::i64::from(self.#field)),)
        }
    });
    let parent_fk = child_foreign_key(ident);
    let relation_arms = def.has_many.iter().map(|h| {
        let field = &h.field;
        let name = h.field.to_string();
        let child = &h.child;
        quote! {
            #name => {
                #krate::__private::load_has_many::<DB, Self, #child>(
                    parents, conn, #name, #parent_fk, |parent: &mut Self| &mut parent.#field, options,
                )
                .await
                .map(::core::option::Option::Some)
            }
        }
    });

    let parent_arms = def.belongs_to_fields.iter().map(|b| {
        let field = &b.field;
        let name = b.field.to_string();
        let parent = &b.parent;
        let column = b.column.to_string();
        quote! {
            #name => {
                #krate::__private::load_belongs_to::<DB, Self, #parent>(
                    parents, conn, #name, #column, |child: &mut Self| &mut child.#field, options,
                )
                .await
                .map(::core::option::Option::Some)
            }
        }
    });
    let hooks = (!def.custom_hooks).then(|| quote!(impl #krate::ModelHooks for #ident {}));
    let validation =
        (!def.custom_validation).then(|| quote!(impl #krate::ModelValidation for #ident {}));
    let methods = inherent::methods(def, krate);
    let columns_module = inherent::columns_module(def);

    quote! {
        const _: () = {
            static __PREMIX_META: #krate::ModelMeta = #krate::ModelMeta {
                table: #table,
                columns: &[#(#column_meta),*],
                id_index: #id_index,
                soft_delete: #soft_delete,
                version: #version,
                belongs_to: &[#(#belongs_meta),*],
                relations: &[#(#relation_names),*],
                sensitive: &[#(#sensitive),*],
                sql: #krate::SqlCache::new(),
            };

            #[automatically_derived]
            impl<DB> #krate::Model<DB> for #ident
            where
                DB: #krate::SqlDialect,
                usize: #sqlx::ColumnIndex<<DB as #sqlx::Database>::Row>,
                #(for<'r> #column_types: #sqlx::Decode<'r, DB> + #sqlx::Type<DB>,)*
                #(for<'q> #column_types: #sqlx::Encode<'q, DB>,)*
                #(#children: #krate::Model<DB>,)*
                #(#parents: #krate::Model<DB> + ::core::clone::Clone,)*
            {
                fn __meta() -> &'static #krate::ModelMeta {
                    &__PREMIX_META
                }

                fn __decode(row: &<DB as #sqlx::Database>::Row) -> ::core::result::Result<Self, #sqlx::Error> {
                    ::core::result::Result::Ok(Self {
                        #(#decode_fields,)*
                        #(#default_fields,)*
                    })
                }

                fn __bind_insert<'q>(&'q self, mut query: #krate::DbQuery<'q, DB>, with_id: bool) -> #krate::DbQuery<'q, DB> {
                    #(#insert_binds)*
                    query
                }

                fn __bind_update<'q>(&'q self, mut query: #krate::DbQuery<'q, DB>) -> #krate::DbQuery<'q, DB> {
                    #(#update_binds)*
                    query
                }

                fn __id(&self) -> i64 {
                    ::core::primitive::i64::from(self.#id_field)
                }

                fn __set_id(&mut self, row: &<DB as #sqlx::Database>::Row) -> ::core::result::Result<(), #sqlx::Error> {
                    self.#id_field = #sqlx::Row::try_get(row, 0_usize)?;
                    ::core::result::Result::Ok(())
                }

                fn __assign_id(&mut self, id: i64) -> ::core::result::Result<(), #sqlx::Error> {
                    self.#id_field = ::core::convert::TryFrom::try_from(id).map_err(|_| {
                        #sqlx::Error::Decode(::core::convert::From::from(
                            "the new row's id does not fit the model's id type",
                        ))
                    })?;
                    ::core::result::Result::Ok(())
                }

                fn __version(&self) -> ::core::option::Option<i64> {
                    #version_value
                }

                fn __bump_version(&mut self) {
                    #bump_version
                }

                fn __foreign_key(&self, column: &str) -> ::core::option::Option<i64> {
                    match column {
                        #(#foreign_keys)*
                        _ => ::core::option::Option::None,
                    }
                }

                #[allow(unused_variables)]
                fn __load_relation<'c>(
                    parents: &'c mut [Self],
                    relation: &'c str,
                    conn: &'c mut #krate::__private::Conn<'_, DB>,
                    options: #krate::EagerOptions,
                ) -> impl ::core::future::Future<Output = ::core::result::Result<::core::option::Option<u64>, #sqlx::Error>> + ::core::marker::Send + 'c {
                    async move {
                        match relation {
                            #(#relation_arms)*
                            #(#parent_arms)*
                            _ => ::core::result::Result::Ok(::core::option::Option::None),
                        }
                    }
                }
            }

            #[automatically_derived]
            impl<'r, R: #sqlx::Row> #sqlx::FromRow<'r, R> for #ident
            where
                &'r str: #sqlx::ColumnIndex<R>,
                #(#column_types: #sqlx::Decode<'r, R::Database> + #sqlx::Type<R::Database>,)*
            {
                fn from_row(row: &'r R) -> ::core::result::Result<Self, #sqlx::Error> {
                    ::core::result::Result::Ok(Self {
                        #(#by_name_fields,)*
                        #(#default_fields_again,)*
                    })
                }
            }

            #hooks
            #validation

            impl #ident {
                #methods
            }
        };

        #columns_module
    }
}
