//! Every error `#[instrument]` can emit, one file each, with the exact
//! message and span rustc shows. Regenerate the `.stderr` files with
//! `TRYBUILD=overwrite cargo test -p premix-instrument --test ui` after a
//! deliberate change to a message, and review the diff.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
