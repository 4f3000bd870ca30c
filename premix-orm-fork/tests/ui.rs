//! Every compile error of `#[derive(Model)]` and `premix_query!`, one file
//! each, named after the message (`tests/ui/`), and code that must compile
//! cleanly under strict lints (`tests/ui-pass/`). Regenerate the `.stderr`
//! files with `TRYBUILD=overwrite cargo test -p premix-orm-fork --test ui`
//! after a deliberate change, and review the diff: each caret must sit under
//! the tokens at fault.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
    cases.pass("tests/ui-pass/*.rs");
}
