//! What a field's Rust type says about its column: nullable (`Option<T>`),
//! a relation (`Option<Vec<Child>>`), and which `ColumnType` it maps to.
//! The macro sees tokens, not types, so these are judged by the last path
//! segment (`Option`, `i64`, `String`): an alias hides a type from them,
//! and `#[premix(sql_type = "...")]` is the way out.

use syn::{GenericArgument, PathArguments, Type};

/// `T` in `Option<T>`.
pub(crate) fn option_inner(ty: &Type) -> Option<&Type> {
    generic_arg_of(ty, "Option")
}

/// `Child` in `Option<Vec<Child>>`.
pub(crate) fn vec_in_option(ty: &Type) -> Option<&Type> {
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
pub(crate) fn sql_family(ty: &Type) -> Option<&'static str> {
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

/// Whether a column family holds integers (ids, foreign keys, `version`).
pub(crate) fn is_integer(family: Option<&str>) -> bool {
    matches!(family, Some("SmallInt" | "Integer" | "BigInt"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(source: &str) -> Type {
        syn::parse_str(source).unwrap()
    }

    #[test]
    fn families() {
        let cases = [
            ("i8", Some("SmallInt")),
            ("u8", Some("SmallInt")),
            ("i16", Some("SmallInt")),
            ("u16", Some("Integer")),
            ("i32", Some("Integer")),
            ("::core::primitive::i32", Some("Integer")),
            ("u32", Some("BigInt")),
            ("i64", Some("BigInt")),
            ("bool", Some("Boolean")),
            ("f32", Some("Real")),
            ("f64", Some("Double")),
            ("String", Some("Text")),
            ("std::string::String", Some("Text")),
            ("Vec<u8>", Some("Bytes")),
            ("Vec<i32>", None),
            ("&str", None),
            ("chrono::NaiveDateTime", None),
        ];
        for (source, family) in cases {
            assert_eq!(sql_family(&ty(source)), family, "{source}");
        }
    }

    #[test]
    fn wrappers() {
        assert!(option_inner(&ty("Option<i32>")).is_some());
        assert!(option_inner(&ty("std::option::Option<i32>")).is_some());
        assert!(option_inner(&ty("i32")).is_none());
        assert!(vec_in_option(&ty("Option<Vec<Post>>")).is_some());
        assert!(vec_in_option(&ty("Vec<Post>")).is_none());
        assert!(vec_in_option(&ty("Option<Post>")).is_none());
    }
}
