//! The premix programs run against the fork, with their results checked.

#[tokio::test]
async fn quickstart() {
    let user = premix_compat::quickstart::run().await.unwrap().unwrap();
    assert_eq!((user.id, user.name.as_str()), (1, "Alice"));
}

#[tokio::test]
async fn relations() {
    let (typed, by_name) = premix_compat::relations::run().await.unwrap();
    for users in [typed, by_name] {
        assert_eq!(users.len(), 1);
        let posts = users[0].posts.as_ref().unwrap();
        let titles: Vec<_> = posts.iter().map(|p| p.title.as_str()).collect();
        assert_eq!(titles, ["first", "second"]);
        assert_eq!(users[0].comments.as_ref().unwrap()[0].body, "hi");
    }
}

#[tokio::test]
async fn bulk_operations() {
    let outcome = premix_compat::bulk::run().await.unwrap();
    assert_eq!(outcome.updated, 3);
    assert_eq!(outcome.deleted, 1);
    assert_eq!(outcome.remaining, 3);
    assert_eq!(
        outcome.sql,
        "SELECT id, status FROM users WHERE status = ? LIMIT ? OFFSET ?"
    );
}
