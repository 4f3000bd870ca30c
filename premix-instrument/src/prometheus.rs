//! Export to Prometheus through `metrics-exporter-prometheus`, set up the way
//! this project's dashboards and rules expect.
//!
//! Why a helper rather than the exporter's own builder? Its defaults are a
//! trap for this use: histograms render as summaries (which Prometheus cannot
//! aggregate across instances) unless buckets are set per metric, histogram
//! samples grow without bound unless upkeep runs, and the default listener
//! binds every interface. [`install_prometheus`] sets bucketed histograms for
//! every histogram in the [catalogue](crate::names::CATALOGUE), recommended
//! naming, periodic upkeep, metric descriptions, and a listener on
//! 127.0.0.1 unless told otherwise.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use metrics_exporter_prometheus::{ExporterFuture, Matcher, PrometheusBuilder, PrometheusHandle};

use crate::Error;
use crate::names::{
    CATALOGUE, DURATION_BUCKETS_SECONDS, EAGER_LOAD_PARENTS, MetricKind, PARENT_COUNT_BUCKETS,
};

/// The address `/metrics` is served on unless configured otherwise.
pub const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 9464);

/// How to run the exporter. `PrometheusConfig::default()` serves
/// `http://127.0.0.1:9464/metrics` and, every second, hands the counters to
/// the exporter ([`export::flush`](crate::export::flush)) and runs its
/// upkeep.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrometheusConfig {
    listen: Option<SocketAddr>,
    upkeep_interval: Duration,
}

impl Default for PrometheusConfig {
    fn default() -> Self {
        Self {
            listen: Some(DEFAULT_LISTEN),
            upkeep_interval: Duration::from_secs(1),
        }
    }
}

impl PrometheusConfig {
    /// Serves `/metrics` on `addr`. Use `0.0.0.0:PORT` only when the scraper
    /// is on another host.
    #[must_use]
    pub const fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = Some(addr);
        self
    }

    /// No HTTP listener: render the text format yourself through
    /// [`PrometheusExporter::render`] (tests, or an app with its own server).
    #[must_use]
    pub const fn without_listener(mut self) -> Self {
        self.listen = None;
        self
    }

    /// How often the counters are handed to the exporter and its histogram
    /// samples folded into their buckets: how stale a scrape can be.
    #[must_use]
    pub const fn upkeep_interval(mut self, interval: Duration) -> Self {
        self.upkeep_interval = interval;
        self
    }
}

/// The installed exporter.
#[derive(Clone, Debug)]
pub struct PrometheusExporter {
    handle: PrometheusHandle,
    listen: Option<SocketAddr>,
}

impl PrometheusExporter {
    /// The current metrics in the Prometheus text format, everything counted
    /// so far included.
    #[must_use]
    pub fn render(&self) -> String {
        crate::export::flush();
        self.handle.run_upkeep();
        self.handle.render()
    }

    /// Where `/metrics` is served, if anywhere.
    #[must_use]
    pub const fn listen_address(&self) -> Option<SocketAddr> {
        self.listen
    }

    /// The exporter's own handle.
    #[must_use]
    pub const fn handle(&self) -> &PrometheusHandle {
        &self.handle
    }
}

/// Installs the Prometheus exporter as the global `metrics` recorder.
///
/// Call it once, early. Every second (the upkeep interval) a background
/// thread hands the counters to the exporter ([`export::flush`]) and folds
/// histogram samples; a scrape sees what was counted up to the last flush.
/// The HTTP listener runs on that thread with its own small Tokio runtime,
/// so this works from synchronous code and from inside any runtime alike,
/// and returns its errors from either.
///
/// # Errors
/// [`Error::RecorderAlreadyInstalled`] when a global recorder exists;
/// [`Error::Exporter`] when the listener cannot bind (address in use, say);
/// [`Error::Thread`] when the background thread cannot start.
///
/// [`export::flush`]: crate::export::flush
pub fn install_prometheus(config: PrometheusConfig) -> Result<PrometheusExporter, Error> {
    let listen = config.listen;
    let exporter_error = |source| Error::Exporter { listen, source };

    let mut builder = PrometheusBuilder::new()
        .with_recommended_naming(true)
        .upkeep_timeout(config.upkeep_interval);
    for def in CATALOGUE.iter().filter(|d| d.kind == MetricKind::Histogram) {
        let buckets = if def.name == EAGER_LOAD_PARENTS {
            PARENT_COUNT_BUCKETS
        } else {
            DURATION_BUCKETS_SECONDS
        };
        builder = builder
            .set_buckets_for_metric(Matcher::Full(def.name.to_owned()), buckets)
            .map_err(exporter_error)?;
    }

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Thread)?;
    let started = start(builder, listen, &runtime);
    let (handle, exporter) = match started {
        Ok(started) => started,
        Err(error) => {
            // Dropping a runtime blocks, which panics inside another
            // runtime: let it wind down on its own instead.
            runtime.shutdown_background();
            return Err(error);
        }
    };
    let interval = config.upkeep_interval;
    // Without a listener the exporter runs no upkeep task of its own, and
    // its histograms keep every sample until someone renders them: do it
    // here, so a process that is never scraped does not grow.
    let upkeep = exporter.is_none().then(|| handle.clone());
    std::thread::Builder::new()
        .name("premix-prometheus".into())
        .spawn(move || {
            let flushing = async move {
                let mut ticks = tokio::time::interval(interval);
                loop {
                    ticks.tick().await;
                    crate::export::flush();
                    if let Some(handle) = &upkeep {
                        handle.run_upkeep();
                    }
                }
            };
            match exporter {
                Some(serve) => {
                    runtime.spawn(flushing);
                    let _ = runtime.block_on(serve);
                }
                None => runtime.block_on(flushing),
            }
        })
        .map_err(Error::Thread)?;

    for def in CATALOGUE {
        match def.kind {
            MetricKind::Counter => metrics::describe_counter!(def.name, def.help),
            MetricKind::Histogram => metrics::describe_histogram!(def.name, def.help),
            MetricKind::Gauge => metrics::describe_gauge!(def.name, def.help),
        }
    }
    Ok(PrometheusExporter { handle, listen })
}

/// Builds the recorder (and the listener, bound now so a taken port is
/// reported here) and installs it globally.
fn start(
    builder: PrometheusBuilder,
    listen: Option<SocketAddr>,
    runtime: &tokio::runtime::Runtime,
) -> Result<(PrometheusHandle, Option<ExporterFuture>), Error> {
    let exporter_error = |source| Error::Exporter { listen, source };
    let (recorder, serve) = match listen {
        Some(addr) => {
            // `build` spawns the exporter's upkeep task onto the runtime it
            // runs in, and binds the listener.
            let _entered = runtime.enter();
            let (recorder, serve) = builder
                .with_http_listener(addr)
                .build()
                .map_err(exporter_error)?;
            (recorder, Some(serve))
        }
        None => (builder.build_recorder(), None),
    };
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).map_err(|_| Error::RecorderAlreadyInstalled)?;
    Ok((handle, serve))
}
