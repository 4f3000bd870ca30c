//! Every compile error of `#[derive(Model)]` and `premix_query!`, one file
//! each. Regenerate with `TRYBUILD=overwrite cargo test -p premix-orm-fork
//! --test ui` after a deliberate change, and review the diff.

#[test]
fn ui() {
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}
