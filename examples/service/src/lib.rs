//! A premix application as people run one: an HTTP service with a
//! connection pool on PostgreSQL (or embedded SQLite), several instances of
//! it behind a balancer, scraped by Prometheus.
//!
//! Why an example service at all? The quickstart is one process running a
//! script; what users need to know is what the counters say about a real
//! request path (a handler, a pooled connection, JSON in and out) and
//! whether a fleet's Prometheus adds them up right. `cargo xtask load`
//! drives this service, `cargo xtask fleet` runs three of it, and the fleet
//! test proves the counts exact.
//!
//! # The API
//!
//! For each of `users`, `posts` and `comments`:
//!
//! | request | ORM calls | answers |
//! |---|---|---|
//! | `POST /{resource}` with a JSON body | one `insert` | 201 and the row; 409 when a foreign key does not hold |
//! | `GET /{resource}/{id}` | one `find_by_id` | 200, or 404 |
//! | `PATCH /{resource}/{id}` with some fields | one `update` | 200 `{"id", "updated"}`, or 404 |
//! | `DELETE /{resource}/{id}` | one `delete` | 204, 404, or 409 when other rows refer to it |
//! | `GET /{resource}?col=v&col__gte=v&limit=n&offset=n` | one `select` | 200 and the rows |
//! | `GET /users?include=posts`, `GET /posts?include=comments` | one `select`, one `eager_load` per relation | 200 and the rows with their children |
//!
//! Filters are `col` (equals), `col__ne`, `col__gt`, `col__gte`, `col__lt`,
//! `col__lte`, `col__like` and `col__in=a,b,c`; `limit` defaults to 50 (at
//! most 500). The ORM checks column and relation names: an unknown one is
//! its refusal (one failed `select`), answered 400. A request the service
//! cannot read (a malformed id, body or number) is answered 400 or 422
//! before any ORM call. Every error is JSON: `{"error": {"status", "kind",
//! "message"}}`; database failures are 5xx, and nothing panics.
//!
//! With the `instrument` feature (on by default) the metrics port serves
//! `/metrics` (Prometheus) and `/snapshot` (the in-process counters as
//! JSON, which the fleet test compares with what Prometheus stored).

mod api;
mod config;
mod database;
mod error;
mod filters;
mod models;
#[cfg(feature = "instrument")]
mod observability;
mod shutdown;
#[cfg(feature = "instrument")]
mod snapshot;

pub use config::{Config, USAGE};
pub use error::ApiError;
pub use models::{Comment, Post, User};
pub use shutdown::signal as shutdown_signal;

use std::future::Future;
use std::time::Duration;

use premix_orm::sqlx::{self, Pool};
use premix_orm::{Model, SqlDialect};

/// How long in-flight requests may take to finish once shutdown starts.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the service stopped with an error.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The database could not be reached or prepared.
    Database(sqlx::Error),
    /// A listener could not bind.
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// What the OS said.
        source: std::io::Error,
    },
    /// Serving failed.
    Serve(std::io::Error),
    /// The metrics exporter could not be installed.
    #[cfg(feature = "instrument")]
    Metrics(premix_instrument::Error),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Database(e) => write!(f, "database: {e}"),
            Self::Bind { addr, source } => write!(f, "cannot listen on {addr}: {source}"),
            Self::Serve(e) => write!(f, "serving: {e}"),
            #[cfg(feature = "instrument")]
            Self::Metrics(e) => write!(f, "metrics exporter: {e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Self::Database(e)
    }
}

/// Runs the service until `shutdown` completes, then stops taking
/// requests, lets the ones in flight finish (at most [`DRAIN_TIMEOUT`]),
/// closes the pool and returns.
///
/// # Errors
/// The database cannot be reached or its tables created, a port cannot be
/// bound, or the exporter cannot be installed.
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    // The recorder must be in place before the first instrumented call.
    #[cfg(feature = "instrument")]
    let exporter = observability::install().map_err(Error::Metrics)?;

    // `serve` is generic over the backend: the same call on either pool.
    macro_rules! serve_on {
        ($pool:expr) => {
            serve(
                config,
                $pool,
                shutdown,
                #[cfg(feature = "instrument")]
                exporter,
            )
            .await
        };
    }
    match database::connect(&config).await? {
        database::Connected::Postgres(pool) => serve_on!(pool),
        database::Connected::Sqlite(pool) => serve_on!(pool),
    }
}

async fn serve<DB: SqlDialect>(
    config: Config,
    pool: Pool<DB>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    #[cfg(feature = "instrument")] exporter: premix_instrument::PrometheusExporter,
) -> Result<(), Error>
where
    User: Model<DB>,
    Post: Model<DB>,
    Comment: Model<DB>,
{
    let bind = |addr| async move {
        tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| Error::Bind { addr, source })
    };
    let app_listener = bind(config.listen).await?;
    // The metrics server stops only after the app has drained, so the last
    // counts stay readable until then.
    #[cfg(feature = "instrument")]
    let (stop, stopped) = tokio::sync::watch::channel(false);
    #[cfg(feature = "instrument")]
    let metrics = {
        observability::declare_series(DB::BACKEND.label());
        let listener = bind(config.metrics).await?;
        let mut stopped = stopped.clone();
        let router = observability::router(exporter);
        tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stopped.wait_for(|s| *s).await;
                })
                .await
        })
    };

    println!(
        "service: listening on http://{} ({}){}",
        config.listen,
        DB::BACKEND.name(),
        if cfg!(feature = "instrument") {
            format!(", metrics on http://{}/metrics", config.metrics)
        } else {
            String::new()
        }
    );

    let (draining, mut drain_started) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = draining.send(true);
    });
    let mut app_stop = drain_started.clone();
    let app =
        axum::serve(app_listener, api::router(pool.clone())).with_graceful_shutdown(async move {
            let _ = app_stop.wait_for(|s| *s).await;
        });
    let drain_deadline = async move {
        let _ = drain_started.wait_for(|s| *s).await;
        tokio::time::sleep(DRAIN_TIMEOUT).await;
    };
    let served = tokio::select! {
        served = app => served.map_err(Error::Serve),
        () = drain_deadline => {
            eprintln!("service: requests still in flight after {DRAIN_TIMEOUT:?}; stopping anyway");
            Ok(())
        }
    };
    pool.close().await;
    #[cfg(feature = "instrument")]
    {
        let _ = stop.send(true);
        if let Ok(Err(e)) = metrics.await {
            eprintln!("service: metrics server: {e}");
        }
    }
    println!("service: stopped");
    served
}
