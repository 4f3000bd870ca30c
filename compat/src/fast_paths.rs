//! premix's fast paths: `save_fast` (no hooks), `save_ultra` (insert only),
//! `update_fast` / `update_ultra`, `delete_fast` / `delete_ultra`, and the
//! builder's `fast()`, `unsafe_fast()`, `ultra_fast()`, `update_all` and
//! `delete_all`, with premix's refusal of a bulk write without a filter.

use premix_orm::prelude::*;
use premix_orm::sqlx::Sqlite;
use serde_json::json;

/// A counter whose hooks count saves.
#[derive(Model, Debug, Clone)]
#[premix(custom_hooks)]
pub struct Tally {
    /// Primary key.
    pub id: i32,
    /// Name.
    pub name: String,
    /// Bumped by `after_save`.
    pub saves: i32,
    /// Loaded by `include`.
    #[has_many(Mark)]
    #[premix(ignore)]
    pub marks: Option<Vec<Mark>>,
}

impl ModelHooks for Tally {
    async fn after_save(&mut self) -> Result<(), premix_orm::sqlx::Error> {
        self.saves += 1;
        Ok(())
    }
}

/// A child row.
#[derive(Model, Debug, Clone)]
pub struct Mark {
    /// Primary key.
    pub id: i32,
    /// Parent.
    pub tally_id: i32,
}

/// What the program saw.
#[derive(Debug, PartialEq, Eq)]
pub struct Seen {
    /// `saves` after `save_fast`: the hooks did not run.
    pub saves_after_fast: i32,
    /// Whether `save_ultra` of a row that exists failed (it only inserts).
    pub ultra_reinsert_failed: bool,
    /// `update_fast` then `update_ultra`.
    pub updates: (UpdateResult, UpdateResult),
    /// Rows `fast().filter_eq(..).update_all(..)` changed.
    pub bulk_updated: u64,
    /// Whether `delete_all()` without a filter was refused.
    pub unfiltered_refused: bool,
    /// Whether `ultra_fast()` left the included relation unloaded.
    pub ultra_skipped_include: bool,
    /// Rows `unsafe_fast().delete_all()` removed.
    pub bulk_deleted: u64,
    /// Rows left after `delete_fast` and `delete_ultra`.
    pub left: usize,
}

/// Four tallies through every fast path.
///
/// # Errors
/// Whatever the ORM returns.
pub async fn run() -> Result<Seen, premix_orm::sqlx::Error> {
    let pool = Premix::smart_sqlite_pool("sqlite::memory:").await?;
    Premix::sync::<Sqlite, Tally>(&pool).await?;
    Premix::sync::<Sqlite, Mark>(&pool).await?;
    let mut tallies = Vec::new();
    for name in ["a", "b", "c", "d"] {
        let mut tally = Tally {
            id: 0,
            name: name.into(),
            saves: 0,
            marks: None,
        };
        tally.save_fast(&pool).await?;
        tallies.push(tally);
    }
    let saves_after_fast = tallies[0].saves;
    let mut extra = Tally {
        id: 0,
        name: "e".into(),
        saves: 0,
        marks: None,
    };
    extra.save_ultra(&pool).await?;
    let ultra_reinsert_failed = extra.save_ultra(&pool).await.is_err();

    tallies[0].name = "A".into();
    let first = tallies[0].update_fast(&pool).await?;
    let second = tallies[0].update_ultra(&pool).await?;
    let bulk_updated = Tally::find_in_pool(&pool)
        .fast()
        .filter_eq("name", "b")
        .update_all(json!({ "name": "B" }))
        .await?;
    let unfiltered_refused = Tally::find_in_pool(&pool).delete_all().await.is_err();
    let skipped = Tally::find_in_pool(&pool)
        .include("marks")
        .ultra_fast()
        .all()
        .await?;
    let ultra_skipped_include = skipped.iter().all(|t| t.marks.is_none());

    tallies[2].delete_fast(&pool).await?;
    tallies[3].delete_ultra(&pool).await?;
    let left = Tally::find_in_pool(&pool).all().await?.len();
    let bulk_deleted = Tally::find_in_pool(&pool)
        .unsafe_fast()
        .delete_all()
        .await?;
    Ok(Seen {
        saves_after_fast,
        ultra_reinsert_failed,
        updates: (first, second),
        bulk_updated,
        unfiltered_refused,
        ultra_skipped_include,
        bulk_deleted,
        left,
    })
}
