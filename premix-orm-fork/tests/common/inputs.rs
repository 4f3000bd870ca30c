//! The builder on inputs that used to break it: names that are SQL
//! keywords, `IN` lists past the bind limit, paging on update and delete,
//! previews of builders that cannot run, pages that must be the same every
//! run, raw conditions that try to end the statement, and more query shapes
//! than the SQL cache keeps. Backend-generic.

use premix_orm_fork::prelude::*;
use premix_orm_fork::{Order, SqlDialect, sqlx};
use serde_json::json;
use sqlx::Pool;

use super::{Post, User, saved_post, seed_users};

/// A table and columns named with keywords of both backends.
#[derive(Model, Debug, Clone, PartialEq)]
#[premix(table = "group")]
pub struct Keyword {
    pub id: i32,
    pub order: i32,
    pub user: String,
}

/// A model of its own for the shape-cache bound: filling a model's cache
/// changes what other tests of the binary see.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct Crowd {
    pub id: i32,
    pub n: i32,
}

/// Sync, insert, find, filter, update, eager-free delete on `"group"`.
pub async fn keywords_are_quoted<DB: SqlDialect>(pool: &Pool<DB>)
where
    Keyword: Model<DB>,
{
    Premix::sync::<DB, Keyword>(pool).await.unwrap();
    let mut first = Keyword {
        id: 0,
        order: 2,
        user: "ada".into(),
    };
    first.save(pool).await.unwrap();
    let mut second = Keyword {
        id: 0,
        order: 3,
        user: "bob".into(),
    };
    second.save(pool).await.unwrap();

    assert_eq!(
        Keyword::find_by_id(pool, first.id).await.unwrap(),
        Some(first.clone())
    );
    let ordered = Keyword::find_in_pool(pool)
        .filter_gte("order", 2)
        .order_by("order", Order::Desc)
        .all()
        .await
        .unwrap();
    assert_eq!(ordered, [second.clone(), first.clone()]);
    assert!(
        Keyword::find_in_pool(pool)
            .filter_eq("user", "ada")
            .to_sql()
            .contains("\"user\" = "),
        "{}",
        Keyword::find_in_pool(pool)
            .filter_eq("user", "ada")
            .to_sql()
    );

    first.order = 5;
    first.update(pool).await.unwrap();
    let changed = Keyword::find_in_pool(pool)
        .filter_eq("user", "bob")
        .update(json!({"order": 7}))
        .await
        .unwrap();
    assert_eq!(changed, 1);
    second.delete(pool).await.unwrap();
    assert_eq!(
        Keyword::find_in_pool(pool).all().await.unwrap(),
        [Keyword { order: 5, ..first }]
    );
}

/// An `IN` list one longer than the power of two below the bind limit,
/// which padding would push past it.
pub async fn in_lists_past_the_bind_limit<DB: SqlDialect>(pool: &Pool<DB>)
where
    User: Model<DB>,
{
    seed_users(pool, 3).await;
    let len = DB::MAX_BIND_PARAMS.next_power_of_two() / 2 + 1;
    let ids: Vec<i64> = (1..=i64::try_from(len).unwrap()).collect();
    let found = User::find_in_pool(pool)
        .filter_in("id", ids)
        .all()
        .await
        .unwrap();
    assert_eq!(found.len(), 3, "{len} ids");
}

/// `limit`/`offset`/`order_by` before `update`/`delete`: refused, nothing
/// changed, and the previews say why instead of showing a statement.
pub async fn paging_an_update_or_delete_is_refused<DB: SqlDialect>(pool: &Pool<DB>)
where
    User: Model<DB>,
{
    seed_users(pool, 4).await;
    let all = User::find_in_pool(pool).all().await.unwrap();

    let deleted = User::find_in_pool(pool).limit(1).delete().await;
    assert!(
        matches!(&deleted, Err(sqlx::Error::InvalidArgument(m)) if m.contains("limit()")),
        "{deleted:?}"
    );
    let updated = User::find_in_pool(pool)
        .offset(2)
        .update(json!({"age": 99}))
        .await;
    assert!(
        matches!(updated, Err(sqlx::Error::InvalidArgument(_))),
        "{updated:?}"
    );
    let ordered = User::find_in_pool(pool)
        .order_by("id", Order::Asc)
        .delete()
        .await;
    assert!(
        matches!(ordered, Err(sqlx::Error::InvalidArgument(_))),
        "{ordered:?}"
    );
    assert_eq!(User::find_in_pool(pool).all().await.unwrap(), all);

    let preview = User::find_in_pool(pool).limit(1).to_delete_sql();
    assert!(preview.starts_with("-- not runnable"), "{preview}");
    assert!(
        User::find_in_pool(pool)
            .limit(1)
            .to_update_sql(&json!({"age": 1}))
            .is_err()
    );
}

/// A builder with an unknown column: previews return its error, never a
/// statement without the filter (`DELETE FROM users`).
pub async fn previews_return_the_builders_error<DB: SqlDialect>(pool: &Pool<DB>)
where
    User: Model<DB>,
{
    let broken = || User::find_in_pool(pool).filter_eq("nickname", "x");
    let delete = broken().to_delete_sql();
    assert!(delete.starts_with("-- not runnable"), "{delete}");
    assert!(!delete.contains("DELETE FROM"), "{delete}");
    let update = broken().to_update_sql(&json!({"age": 1}));
    assert!(
        matches!(&update, Err(e) if e.to_string().contains("nickname")),
        "{update:?}"
    );
}

/// Pages through the posts by id: every page holds exactly the rows it
/// should, the same on every run.
pub async fn ordered_pages_hold_what_they_should<DB: SqlDialect>(pool: &Pool<DB>)
where
    User: Model<DB>,
    Post: Model<DB>,
{
    let users = seed_users(pool, 1).await;
    let mut ids = Vec::new();
    for n in 0..23 {
        ids.push(saved_post(pool, users[0].id, format!("p{n}"), 0.0).await.id);
    }
    ids.sort_unstable_by(|a, b| b.cmp(a));
    for (page, expected) in ids.chunks(5).enumerate() {
        let rows = Post::find_in_pool(pool)
            .order_by("id", Order::Desc)
            .limit(5)
            .offset(i32::try_from(page * 5).unwrap())
            .all()
            .await
            .unwrap();
        let got: Vec<i32> = rows.iter().map(|p| p.id).collect();
        assert_eq!(got, expected, "page {page}");
    }
    let by_title = Post::find_in_pool(pool)
        .order_by("user_id", Order::Asc)
        .order_by("title", Order::Asc)
        .limit(2)
        .all()
        .await
        .unwrap();
    assert_eq!(
        by_title
            .iter()
            .map(|p| p.title.as_str())
            .collect::<Vec<_>>(),
        ["p0", "p1"]
    );
    let unknown = Post::find_in_pool(pool)
        .order_by("rank", Order::Asc)
        .all()
        .await;
    assert!(
        matches!(unknown, Err(sqlx::Error::ColumnNotFound(_))),
        "{unknown:?}"
    );
}

/// A raw condition that would end the statement is refused even under
/// `allow_unsafe`, and the table it aimed at is still there.
pub async fn raw_conditions_cannot_end_the_statement<DB: SqlDialect>(pool: &Pool<DB>)
where
    User: Model<DB>,
    Post: Model<DB>,
{
    seed_users(pool, 2).await;
    for attack in [
        "1=1); DROP TABLE posts; --",
        "1=1; DELETE FROM users",
        "1=1 --",
    ] {
        let ran = User::find_in_pool(pool)
            .filter(attack)
            .allow_unsafe()
            .all()
            .await;
        assert!(
            matches!(&ran, Err(sqlx::Error::InvalidArgument(m)) if m.contains("refused")),
            "{attack}: {ran:?}"
        );
    }
    assert!(
        Post::find_in_pool(pool).all().await.is_ok(),
        "posts is still there"
    );
    assert_eq!(User::find_in_pool(pool).all().await.unwrap().len(), 2);
    let fine = User::find_in_pool(pool)
        .filter("name = 'it''s; fine'")
        .allow_unsafe()
        .all()
        .await
        .unwrap();
    assert!(fine.is_empty());
}

/// More builder shapes than the cache keeps: every query still runs and
/// answers right; the cache stops at its bound and counts the rest.
pub async fn the_sql_cache_is_bounded<DB: SqlDialect>(pool: &Pool<DB>)
where
    Crowd: Model<DB>,
{
    Premix::sync::<DB, Crowd>(pool).await.unwrap();
    let mut one = Crowd { id: 0, n: 1 };
    one.save(pool).await.unwrap();
    let cache = &<Crowd as Model<DB>>::__meta().sql;
    let before = cache.shapes_not_kept();
    for filters in 1..=premix_orm_fork::SqlCache::MAX_SHAPES + 40 {
        let mut query = Crowd::find_in_pool(pool);
        for _ in 0..filters {
            query = query.filter_eq("n", 1);
        }
        assert_eq!(
            query.all().await.unwrap(),
            [one.clone()],
            "{filters} filters"
        );
    }
    assert!(cache.shape_count() <= premix_orm_fork::SqlCache::MAX_SHAPES);
    assert!(
        cache.shapes_not_kept() >= before + 40,
        "{}",
        cache.shapes_not_kept()
    );
}
