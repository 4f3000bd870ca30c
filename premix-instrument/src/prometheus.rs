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

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::Error;
use crate::names::{
    CATALOGUE, DURATION_BUCKETS_SECONDS, EAGER_LOAD_PARENTS, MetricKind, PARENT_COUNT_BUCKETS,
};

/// The address `/metrics` is served on unless configured otherwise.
pub const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 9464);

/// How to run the exporter. `PrometheusConfig::default()` serves
/// `http://127.0.0.1:9464/metrics` and runs upkeep every 5 s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrometheusConfig {
    listen: Option<SocketAddr>,
    upkeep_interval: Duration,
}

impl Default for PrometheusConfig {
    fn default() -> Self {
        Self {
            listen: Some(DEFAULT_LISTEN),
            upkeep_interval: Duration::from_secs(5),
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

    /// How often histogram samples are folded into their buckets.
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
    /// The current metrics in the Prometheus text format, as a scrape would
    /// see them.
    #[must_use]
    pub fn render(&self) -> String {
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
/// Call it once, early, before the first instrumented call: call sites bind
/// their handles to the recorder installed when they first run. The HTTP
/// listener runs on a background thread with its own small Tokio runtime, so
/// this works from synchronous code and from inside any runtime alike.
///
/// # Errors
/// [`Error::RecorderAlreadyInstalled`] when a global recorder exists;
/// [`Error::Exporter`] when the listener cannot bind (address in use, say);
/// [`Error::Thread`] when the background thread cannot start.
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

    let handle = match listen {
        Some(addr) => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(Error::Thread)?;
            // `build` spawns the upkeep task onto the runtime it runs in.
            let (recorder, exporter) = {
                let _entered = runtime.enter();
                builder
                    .with_http_listener(addr)
                    .build()
                    .map_err(exporter_error)?
            };
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).map_err(|_| Error::RecorderAlreadyInstalled)?;
            std::thread::Builder::new()
                .name("premix-prometheus".into())
                .spawn(move || runtime.block_on(exporter))
                .map_err(Error::Thread)?;
            handle
        }
        None => {
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).map_err(|_| Error::RecorderAlreadyInstalled)?;
            let upkeep = handle.clone();
            std::thread::Builder::new()
                .name("premix-prometheus-upkeep".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(config.upkeep_interval);
                        upkeep.run_upkeep();
                    }
                })
                .map_err(Error::Thread)?;
            handle
        }
    };

    for def in CATALOGUE {
        match def.kind {
            MetricKind::Counter => metrics::describe_counter!(def.name, def.help),
            MetricKind::Histogram => metrics::describe_histogram!(def.name, def.help),
        }
    }
    Ok(PrometheusExporter { handle, listen })
}
