//! A mixed workload on in-memory SQLite with the `instrument` feature on,
//! then the report: per operation calls, latency, allocations and cache hit
//! ratios; per eager relation the strategy by parent count with cost per
//! parent; and the cache score.
//!
//! `cargo run --release -p premix-orm-fork --example report --features instrument`

use premix_orm_fork::prelude::*;
use premix_orm_fork::sqlx;

premix_instrument::install_counting_allocator!();

#[derive(Model, Debug, Clone)]
struct Author {
    id: i32,
    name: String,
    #[has_many(Article)]
    #[premix(ignore)]
    articles: Option<Vec<Article>>,
}

#[derive(Model, Debug, Clone)]
#[belongs_to(Author)]
struct Article {
    id: i32,
    author_id: i32,
    title: String,
    views: i64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), sqlx::Error> {
    let pool = Premix::smart_sqlite_pool("sqlite::memory:").await?;
    Premix::sync::<sqlx::Sqlite, Author>(&pool).await?;
    Premix::sync::<sqlx::Sqlite, Article>(&pool).await?;

    let mut authors = Vec::new();
    for i in 0..300 {
        let mut author = Author {
            id: 0,
            name: format!("author {i}"),
            articles: None,
        };
        author.save(&pool).await?;
        for n in 0..3 {
            let mut article = Article {
                id: 0,
                author_id: author.id,
                title: format!("{i}/{n}"),
                views: 0,
            };
            article.save(&pool).await?;
        }
        authors.push(author);
    }
    for author in authors.iter().cycle().take(1000) {
        Author::find_by_id(&pool, author.id).await?;
    }
    for page in 0..40 {
        Article::find_in_pool(&pool)
            .filter_gte("views", 0)
            .limit(20)
            .offset(page * 20)
            .all()
            .await?;
    }
    for author in authors.iter_mut().take(100) {
        author.name.push('!');
        author.update(&pool).await?;
    }
    for parents in [5, 50, 128, 129, 300] {
        Author::find_in_pool(&pool)
            .limit(parents)
            .include(Author::articles)
            .all()
            .await?;
    }
    Article::find_in_pool(&pool)
        .unprepared()
        .limit(5)
        .all()
        .await?;
    Article::find_in_pool(&pool)
        .filter_lt("views", 0)
        .delete()
        .await?;

    print!(
        "{}",
        premix_instrument::report::render(&premix_instrument::Snapshot::take())
    );
    Ok(())
}
