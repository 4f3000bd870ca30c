//! The SQL each contender actually sends, as sqlx reports it.
//!
//! Every contender here runs on sqlx, and sqlx 0.8 emits one `tracing`
//! event per statement on target `sqlx::query`, carrying the statement
//! text and the rows it returned or affected. This layer records those
//! events, and says it is enabled only while a capture is running, so
//! timing runs pay nothing for it.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use tracing::field::{Field, Visit};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// One statement a contender sent.
#[derive(Clone, Debug, Default)]
pub struct Statement {
    pub sql: String,
    pub rows_returned: u64,
    pub rows_affected: u64,
}

static CAPTURING: AtomicBool = AtomicBool::new(false);
static CAPTURED: Mutex<Vec<Statement>> = Mutex::new(Vec::new());

struct SqlCapture;

#[derive(Default)]
struct Fields {
    summary: String,
    statement: String,
    rows_returned: u64,
    rows_affected: u64,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "summary" => value.clone_into(&mut self.summary),
            "db.statement" => value.clone_into(&mut self.statement),
            _ => {}
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "rows_returned" => self.rows_returned = value,
            "rows_affected" => self.rows_affected = value,
            _ => {}
        }
    }

    fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
}

impl<S: Subscriber> Layer<S> for SqlCapture {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        if meta.target() == "sqlx::query" {
            Interest::sometimes()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, meta: &Metadata<'_>, _: Context<'_, S>) -> bool {
        meta.target() == "sqlx::query" && CAPTURING.load(Ordering::Relaxed)
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        // sqlx sends the whole text only when it differs from the summary.
        let sql = if fields.statement.trim().is_empty() {
            fields.summary
        } else {
            fields.statement
        };
        CAPTURED
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Statement {
                sql: sql.trim().to_owned(),
                rows_returned: fields.rows_returned,
                rows_affected: fields.rows_affected,
            });
    }
}

/// Installs the capture layer as the global subscriber.
pub fn install() {
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(SqlCapture))
        .expect("no other subscriber in the bench");
}

/// Runs `work` (which must end with a round trip on the connection it
/// used, so that the driver has logged its statements) and returns what
/// it sent.
pub async fn capture<F: Future>(work: F) -> (F::Output, Vec<Statement>) {
    CAPTURED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clear();
    CAPTURING.store(true, Ordering::Relaxed);
    let output = work.await;
    CAPTURING.store(false, Ordering::Relaxed);
    let statements = std::mem::take(&mut *CAPTURED.lock().unwrap_or_else(PoisonError::into_inner));
    (output, statements)
}
