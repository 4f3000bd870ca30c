//! With `instrument` on, every operation a user calls is counted under its
//! op and model label, eager loading included, with exact call counts.

mod common;

use common::*;
use premix_instrument::{ErrorKind, Snapshot};
use premix_orm_fork::Premix;
use premix_orm_fork::prelude::Model;

premix_instrument::install_counting_allocator!();

#[tokio::test]
async fn every_operation_is_counted() {
    let pool = Premix::smart_sqlite_pool("sqlite::memory:").await.unwrap();
    sync_all(&pool).await;
    let before = Snapshot::take();

    let users = seed_users(&pool, 4).await;
    for u in &users[..3] {
        let mut post = Post {
            id: 0,
            user_id: u.id,
            title: "t".into(),
            score: 1.0,
        };
        post.save(&pool).await.unwrap();
    }
    for u in &users[..3] {
        User::find_by_id(&pool, u.id).await.unwrap();
    }
    let mut first = users[0].clone();
    first.age += 1;
    first.update(&pool).await.unwrap();
    User::find_in_pool(&pool)
        .include(User::posts)
        .all()
        .await
        .unwrap();
    {
        use futures_util::TryStreamExt;
        let streamed: Vec<User> = User::find_in_pool(&pool)
            .stream()
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(streamed.len(), 4);
    }
    let _ = User::find_in_pool(&pool).filter_eq("nope", 1).all().await;
    User::find_in_pool(&pool)
        .filter_eq("id", 999)
        .update(serde_json::json!({"age": 1}))
        .await
        .unwrap();
    let mut postless = users[3].clone();
    postless.delete(&pool).await.unwrap();
    let missing = Ghost::find_by_id(&pool, 1).await;
    assert!(missing.is_err());

    let stats = Snapshot::take().since(&before);
    stats.expect("insert", "users").assert_calls(4);
    stats.expect("insert", "posts").assert_calls(3);
    stats.expect("find_by_id", "users").assert_calls(3);
    // One builder update and one model update.
    stats.expect("update", "users").assert_calls(2);
    // all(), stream(), and the query refused for its unknown column: a
    // call that failed before reaching the database.
    stats
        .expect("select", "users")
        .assert_calls(3)
        .assert_errors(ErrorKind::Refused, 1);
    stats.expect("eager_load", "users").assert_calls(1);
    stats.expect("delete", "users").assert_calls(1);
    let ghost = stats.expect("find_by_id", "ghosts");
    assert_eq!(
        (ghost.ok, ghost.errors),
        (0, 1),
        "a missing table is an error outcome"
    );
    ghost.assert_errors(ErrorKind::Database, 1);
    // Every call above ran on SQLite.
    assert!(
        stats.ops().iter().all(|s| s.backend == "sqlite"),
        "{stats:?}"
    );
    print!("{}", premix_instrument::report::render(&stats));
}

/// An author, for a field-level `belongs_to`.
#[derive(premix_orm_fork::Model, Debug, Clone, PartialEq)]
struct Author {
    id: i32,
    name: String,
}

/// Books whose author `include("author")` loads.
#[derive(premix_orm_fork::Model, Debug, Clone)]
struct Book {
    id: i32,
    author_id: i32,
    #[belongs_to(Author)]
    #[premix(ignore)]
    author: Option<Author>,
}

#[tokio::test]
async fn a_parent_include_is_an_eager_load() {
    use premix_orm_fork::Grouping;
    let pool = Premix::smart_sqlite_pool("sqlite::memory:").await.unwrap();
    Premix::sync::<sqlx::Sqlite, Author>(&pool).await.unwrap();
    Premix::sync::<sqlx::Sqlite, Book>(&pool).await.unwrap();
    let mut ada = Author {
        id: 0,
        name: "Ada".into(),
    };
    ada.save(&pool).await.unwrap();
    for _ in 0..3 {
        let mut book = Book {
            id: 0,
            author_id: ada.id,
            author: None,
        };
        book.save(&pool).await.unwrap();
    }
    let before = Snapshot::take();
    let books = Book::find_in_pool(&pool)
        .include(Book::author)
        .all()
        .await
        .unwrap();
    assert!(books.iter().all(|b| b.author.as_ref() == Some(&ada)));
    let stats = Snapshot::take().since(&before);
    stats.expect("select", "books").assert_calls(1);
    stats.expect("eager_load", "books").assert_calls(1);
    let load = stats
        .eager_loads("books", "author", Grouping::Vec.as_label())
        .expect("the parent load is recorded by relation and strategy");
    assert_eq!((load.loads(), load.children), (1, 1), "{load:?}");
}
