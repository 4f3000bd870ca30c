//! The crate's one error type.

/// What can go wrong when setting up export. Recording itself never fails.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A global `metrics` recorder was already installed; only one can be.
    #[error(
        "a global metrics recorder is already installed; install the Prometheus exporter once, \
         before the first instrumented call"
    )]
    RecorderAlreadyInstalled,

    /// The exporter could not be built or could not bind its listener.
    #[cfg(feature = "prometheus")]
    #[cfg_attr(docsrs, doc(cfg(feature = "prometheus")))]
    #[error("could not start the Prometheus exporter on {listen:?}")]
    Exporter {
        /// The address it tried to listen on, if any.
        listen: Option<std::net::SocketAddr>,
        /// The exporter's own error.
        #[source]
        source: metrics_exporter_prometheus::BuildError,
    },

    /// The background thread that serves `/metrics` could not be started.
    #[error("could not start the exporter's background thread")]
    Thread(#[source] std::io::Error),

    /// The threads could not be set up for repeatable counts
    /// ([`serial::serialize_threads`](crate::serial::serialize_threads)).
    #[error("could not serialize the measured threads: {0}")]
    Serialize(String),
}
