//! Every function shape the attribute accepts: methods on `self`, `&self`
//! and `&mut self`, generics with where-clauses, `fn -> impl Future + Send`,
//! return-type inference, borrowed returns, and `Send` futures staying
//! `Send`. Each is called and its counts checked, so a form that compiles
//! but records nothing fails here.

use std::fmt::Display;
use std::future::Future;
use std::hint::black_box;

use premix_instrument::{Snapshot, instrument};

mod support;

use support::block_on;

premix_instrument::install_counting_allocator!();

fn assert_send<T: Send>(value: T) -> T {
    value
}

trait Model {
    const TABLE: &'static str;
}

struct Post {
    title: String,
    views: u32,
}

impl Model for Post {
    const TABLE: &'static str = "forms_posts";
}

impl Post {
    #[instrument(op = "title", model = Self::TABLE)]
    fn title(&self) -> &str {
        &self.title
    }

    #[instrument(op = "bump", model = Self::TABLE)]
    fn bump(&mut self) -> u32 {
        self.views += 1;
        self.views
    }

    #[instrument(op = "into_title", model = Self::TABLE)]
    fn into_title(self) -> String {
        self.title
    }

    #[instrument(op = "reload", model = Self::TABLE)]
    async fn reload(&mut self) -> Result<u32, String> {
        self.views = 0;
        Ok(self.views)
    }

    /// The form trait methods take: a plain fn returning a `Send` future.
    #[instrument(op = "count", model = <Self as Model>::TABLE)]
    fn count(&self) -> impl Future<Output = Result<usize, String>> + Send + '_ {
        async move {
            let copy = self.title.clone();
            Ok(copy.len())
        }
    }
}

#[instrument(op = "all", model = T::TABLE)]
async fn all<T>(rows: usize) -> Vec<T>
where
    T: Model + Default + Send,
{
    (0..rows).map(|_| T::default()).collect()
}

#[derive(Default)]
struct Comment;

impl Model for Comment {
    const TABLE: &'static str = "forms_comments";
}

#[derive(Debug)]
struct AppError;

impl From<std::num::ParseIntError> for AppError {
    fn from(_: std::num::ParseIntError) -> Self {
        Self
    }
}

/// `?` converts through `From`, and `collect()` and `into()` infer their
/// target from the return type: all as if the attribute were not there.
#[instrument(op = "infer", model = "forms_infer")]
fn parse_all(input: &str) -> Result<Vec<u32>, AppError> {
    let first: u32 = input.split(',').next().unwrap_or("0").parse()?;
    let rest = input
        .split(',')
        .skip(1)
        .map(str::parse)
        .collect::<Result<Vec<u32>, _>>()?;
    Ok(std::iter::once(first).chain(rest).collect())
}

#[instrument(op = "infer_async", model = "forms_infer")]
async fn parse_all_async(input: &str) -> Result<Vec<u32>, AppError> {
    let parsed: Vec<u32> = input.split(',').map(str::parse).collect::<Result<_, _>>()?;
    if parsed.is_empty() {
        return Err(AppError);
    }
    Ok(parsed.into_iter().collect())
}

#[instrument(op = "label", model = "forms_infer")]
fn label(n: u8) -> String {
    if n == 0 {
        return "zero".into();
    }
    n.to_string()
}

#[instrument(op = "opaque", model = "forms_infer")]
fn opaque(n: u8) -> impl Display {
    n * 2
}

#[instrument(op = "unit", model = "forms_infer")]
fn unit(out: &mut Vec<u8>) {
    out.push(1);
}

#[test]
fn methods_on_self_ref_and_mut() {
    let before = Snapshot::take();
    let mut post = Post {
        title: "hello".to_owned(),
        views: 0,
    };
    assert_eq!(post.title(), "hello");
    assert_eq!(post.bump(), 1);
    assert_eq!(block_on(post.reload()), Ok(0));
    assert_eq!(block_on(assert_send(post.count())), Ok(5));
    assert_eq!(post.into_title(), "hello");
    let stats = Snapshot::take().since(&before);
    for op in ["title", "bump", "reload", "count", "into_title"] {
        stats.expect(op, "forms_posts").assert_calls(1);
    }
    stats.expect("count", "forms_posts").assert_blocks(1);
}

#[test]
fn generic_functions_label_each_model() {
    let before = Snapshot::take();
    let comments: Vec<Comment> = block_on(assert_send(all(3)));
    assert_eq!(comments.len(), 3);
    let stats = Snapshot::take().since(&before);
    // A Vec of a zero-sized type never allocates.
    stats
        .expect("all", "forms_comments")
        .assert_calls(1)
        .assert_blocks(0);
}

#[test]
fn return_type_inference_is_unchanged() {
    let before = Snapshot::take();
    assert_eq!(parse_all("1,2,3").unwrap(), [1, 2, 3]);
    assert!(parse_all("1,x").is_err());
    assert_eq!(block_on(parse_all_async("4,5")).unwrap(), [4, 5]);
    assert_eq!(label(0), "zero");
    assert_eq!(label(7), "7");
    assert_eq!(opaque(21).to_string(), "42");
    let mut out = Vec::new();
    unit(&mut out);
    assert_eq!(out, [1]);
    let stats = Snapshot::take().since(&before);
    let infer = stats.expect("infer", "forms_infer");
    assert_eq!((infer.ok, infer.errors), (1, 1));
    stats.expect("infer_async", "forms_infer").assert_calls(1);
    let label_stats = stats.expect("label", "forms_infer");
    label_stats.assert_calls(2).assert_blocks(2);
    stats.expect("opaque", "forms_infer").assert_calls(1);
    stats
        .expect("unit", "forms_infer")
        .assert_calls(1)
        .assert_blocks(1);
    black_box(out);
}

/// An ORM's own call site, a backend label and an outcome function: the
/// failure is counted under the kind the function names, on the backend
/// given; `target` shares the handle the body records through.
mod shared_counters {
    use premix_instrument::{
        CallSite, ErrorKind, OpHandle, Outcome, Snapshot, SqlCacheResult, instrument,
    };

    use super::support::block_on;

    static LOAD: CallSite = CallSite::new("load");

    fn outcome_of(result: &Result<u8, u8>) -> Outcome {
        match result {
            Ok(_) => Outcome::Ok,
            Err(0) => Outcome::Error(ErrorKind::NotFound),
            Err(_) => Outcome::Error(ErrorKind::Conflict),
        }
    }

    #[instrument(site = LOAD, model = "forms_shared", backend = "sqlite", outcome = outcome_of)]
    async fn load(found: u8) -> Result<u8, u8> {
        if found > 1 { Ok(found) } else { Err(found) }
    }

    #[instrument(target = op, outcome = outcome_of)]
    fn load_with(op: OpHandle, found: u8) -> Result<u8, u8> {
        op.record_sql_cache(SqlCacheResult::Hit);
        if found > 1 { Ok(found) } else { Err(found) }
    }

    #[test]
    fn kinds_backends_and_shared_handles() {
        let before = Snapshot::take();
        for found in [0, 1, 2] {
            let _ = block_on(load(found));
        }
        let op = LOAD.target("forms_shared", "postgresql");
        for found in [1, 5] {
            let _ = load_with(op, found);
        }
        let stats = Snapshot::take().since(&before);
        stats
            .expect_on("load", "forms_shared", "sqlite")
            .assert_calls(3)
            .assert_errors(ErrorKind::NotFound, 1)
            .assert_errors(ErrorKind::Conflict, 1);
        let shared = stats.expect_on("load", "forms_shared", "postgresql");
        shared.assert_calls(2).assert_errors(ErrorKind::Conflict, 1);
        assert_eq!(shared.sql_cache.hits, 2, "{shared:?}");
        // Added up over both backends.
        stats.expect("load", "forms_shared").assert_calls(5);
    }
}
