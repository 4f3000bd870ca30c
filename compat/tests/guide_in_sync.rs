//! The getting-started guide shows `guide_allocations.rs` verbatim: a
//! reader copies a test that compiles and passes.

#[test]
fn the_guide_shows_the_allocation_test_as_it_is() {
    let guide = include_str!("../../docs/guide/getting-started.md");
    let section = guide
        .split("## 5. Assert allocations in tests")
        .nth(1)
        .expect("the guide has its section 5");
    let shown = section
        .split("```rust\n")
        .nth(1)
        .and_then(|block| block.split("```").next())
        .expect("section 5 shows a rust block");
    assert_eq!(
        shown,
        include_str!("guide_allocations.rs"),
        "docs/guide/getting-started.md section 5 must show compat/tests/guide_allocations.rs \
         as it is; copy the file into the guide"
    );
}
