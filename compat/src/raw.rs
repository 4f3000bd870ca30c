//! premix's escape hatches: `Model::raw_sql` (sqlx's `query_as`, decoded by
//! column name), `premix_query!` from the crate root and from the prelude,
//! `stream()` returning a `Result` around the stream, and
//! `create_table_sql()` without naming the backend.

use futures_util::StreamExt;
use premix_orm::prelude::*;
use premix_orm::sqlx::Sqlite;

/// A user with a password premix must not show.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct Member {
    /// Primary key.
    pub id: i32,
    /// Name.
    pub name: String,
    /// Age.
    pub age: i32,
    /// Never shown.
    #[premix(sensitive)]
    pub password: String,
}

/// What the program saw.
#[derive(Debug)]
pub struct Seen {
    /// `Member::raw_sql("... WHERE age > ?").bind(18)`.
    pub adults: Vec<Member>,
    /// `premix_orm::premix_query!(Member, FIND, ...)`.
    pub found: Option<Member>,
    /// Rows the prelude's `premix_query!(Member, UPDATE, ...)` changed.
    pub updated: u64,
    /// Rows read through `stream()`.
    pub streamed: usize,
    /// `Member::create_table_sql()`.
    pub create_table: String,
    /// `Member::sensitive_fields()`.
    pub sensitive: Vec<&'static str>,
    /// A builder filtering on the password, printed with `{:?}`.
    pub builder_debug: String,
}

/// Three members, read four ways.
///
/// # Errors
/// Whatever the ORM returns.
pub async fn run() -> Result<Seen, premix_orm::sqlx::Error> {
    let pool = Premix::smart_sqlite_pool("sqlite::memory:").await?;
    Premix::sync::<Sqlite, Member>(&pool).await?;
    for (name, age) in [("kid", 9), ("ada", 36), ("bob", 41)] {
        let mut member = Member {
            id: 0,
            name: name.into(),
            age,
            password: "hunter2".into(),
        };
        member.save(&pool).await?;
    }
    let adults = Member::raw_sql("SELECT * FROM members WHERE age > ? ORDER BY id")
        .bind(18)
        .fetch_all(&pool)
        .await?;
    let found = premix_orm::premix_query!(Member, FIND, filter_eq("name", "ada"))
        .fetch_optional(&pool)
        .await?;
    let updated = premix_query!(Member, UPDATE, set("age", 37), filter_eq("name", "ada"))
        .execute(&pool)
        .await?
        .rows_affected();
    let mut stream = Member::find_in_pool(&pool).stream()?;
    let mut streamed = 0;
    while let Some(member) = stream.next().await {
        member?;
        streamed += 1;
    }
    let builder_debug = format!(
        "{:?}",
        Member::find_in_pool(&pool).filter_eq("password", "hunter2")
    );
    Ok(Seen {
        adults,
        found,
        updated,
        streamed,
        create_table: Member::create_table_sql(),
        sensitive: Member::sensitive_fields().to_vec(),
        builder_debug,
    })
}
