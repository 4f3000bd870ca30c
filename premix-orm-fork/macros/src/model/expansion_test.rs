//! Why this test: the derive's output is a contract (the audit counts what
//! it generates, and the library's hot paths rely on its shape), so a
//! refactor of this crate must not change it by accident. The committed
//! expansion of the benches' models (`docs/audits/expanded/fork_models.rs.txt`,
//! written by `cargo xtask audit` with `cargo expand`) is compared, token
//! for token, with what the derive produces for the same structs now. A
//! deliberate change of the output fails here: regenerate the file with
//! `cargo xtask audit`.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use quote::{ToTokens, quote};

const EXPANDED: &str = "../../docs/audits/expanded/fork_models.rs.txt";

/// The tokens as a flat list of texts, without what `cargo expand`'s
/// printer changes when it lays code out: spacing between punctuation
/// (`<<` and `< <`), commas (it adds trailing ones and drops them after a
/// braced match arm), braces around a match arm's single expression (it
/// adds them), and the form of string literals (it prints a doc attribute
/// as `///` whatever its literal, so they compare by value). What is left
/// is every identifier, literal, path and operator, in order.
fn normalize(tokens: TokenStream) -> Vec<String> {
    let mut flat = Vec::new();
    walk(tokens, &mut flat);
    flat
}

fn walk(tokens: TokenStream, out: &mut Vec<String>) {
    for tree in tokens {
        let after_arrow = out.len() >= 2 && out[out.len() - 2] == "=" && out[out.len() - 1] == ">";
        match tree {
            TokenTree::Group(group) => {
                let single_expression = !group
                    .stream()
                    .into_iter()
                    .any(|t| matches!(&t, TokenTree::Punct(p) if p.as_char() == ';'));
                let (open, close) = match group.delimiter() {
                    Delimiter::Brace if after_arrow && single_expression => ("", ""),
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::None => ("", ""),
                };
                if !open.is_empty() {
                    out.push(open.to_owned());
                }
                walk(group.stream(), out);
                if !close.is_empty() {
                    out.push(close.to_owned());
                }
            }
            TokenTree::Literal(literal) => {
                let text =
                    match syn::parse2::<syn::LitStr>(TokenTree::Literal(literal.clone()).into()) {
                        Ok(string) => format!("{:?}", string.value()),
                        Err(_) => literal.to_string(),
                    };
                out.push(text);
            }
            TokenTree::Punct(punct) if punct.as_char() == ',' => {}
            TokenTree::Punct(punct) => out.push(punct.as_char().to_string()),
            TokenTree::Ident(ident) => out.push(ident.to_string()),
        }
    }
}

#[test]
fn expansion_matches_the_committed_audit_copy() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(EXPANDED);
    let text = std::fs::read_to_string(&path).unwrap();
    let file = syn::parse_file(&text).unwrap();
    let items = file
        .items
        .iter()
        .find_map(|item| match item {
            syn::Item::Mod(module) if module.ident == "ours" => module.content.as_ref(),
            _ => None,
        })
        .map(|(_, items)| items)
        .expect("fork_models.rs.txt holds `mod ours`");
    let mut compared = 0;
    for (index, item) in items.iter().enumerate() {
        let syn::Item::Struct(model) = item else {
            continue;
        };
        // The derive's output follows its struct: `const _: () = { .. };`
        // and `mod columns_<model>`.
        let committed = normalize(
            items[index + 1..index + 3]
                .iter()
                .map(ToTokens::to_token_stream)
                .collect(),
        );
        let input: syn::DeriveInput = syn::parse2(model.to_token_stream()).unwrap();
        let generated = normalize(super::derive(&input, &quote!(::premix_orm_fork)));
        let same = committed
            .iter()
            .zip(&generated)
            .take_while(|(a, b)| a == b)
            .count();
        assert!(
            committed == generated,
            "#[derive(Model)] on `{}` no longer expands to the committed {EXPANDED}; if the \
             change is deliberate, regenerate it with `cargo xtask audit`.\nFirst difference \
             after `{}`:\ncommitted: {}\ngenerated: {}",
            model.ident,
            committed[same.saturating_sub(20)..same].join(" "),
            committed[same..(same + 20).min(committed.len())].join(" "),
            generated[same..(same + 20).min(generated.len())].join(" "),
        );
        compared += 1;
    }
    assert!(compared > 0, "no model found in {EXPANDED}");
}
