//! How this run's allocation figures were taken, and the report's footer
//! that says what they include and whether they repeat.

/// How the workload's threads were arranged for counting.
pub enum Counts {
    /// One thread, the driver's threads serialized behind it.
    #[cfg(all(feature = "instrument", unix))]
    Serialized(premix_instrument::serial::Serialization),
    /// Serialization was asked for and refused.
    #[cfg(all(feature = "instrument", unix))]
    Unserialized(String),
    /// Threads left to the scheduler: `--multi-thread`, `--serve`, or a
    /// platform without serialization.
    Free,
}

impl Counts {
    /// Serializes the driver's threads behind this one unless the run
    /// serves traffic or asked for several threads. Before any connection
    /// opens.
    pub fn arrange(multi_thread: bool, serving: bool) -> Self {
        if multi_thread || serving {
            return Self::Free;
        }
        #[cfg(all(feature = "instrument", unix))]
        return match premix_instrument::serial::serialize_threads() {
            Ok(how) => Self::Serialized(how),
            Err(error) => Self::Unserialized(error.to_string()),
        };
        #[cfg(not(all(feature = "instrument", unix)))]
        Self::Free
    }

    /// What `allocs/call` and `bytes/call` include on `backend`, and
    /// whether another run prints the same.
    pub fn footer(&self, sqlite: bool) -> String {
        let includes = if sqlite {
            "allocs/call and bytes/call are every heap allocation the operation cost the \
             process: made while it was polled, by the sqlx SQLite worker thread while the \
             operation held its connection, and in returning the connection to the pool"
        } else {
            "allocs/call and bytes/call are every heap allocation the operation cost the \
             process: made while it was polled (the PostgreSQL driver works there) and in \
             returning the connection to the pool"
        };
        let repeat = match self {
            _ if !sqlite => "close but not always the same from run to run: the PostgreSQL \
                             server answers in its own time, which decides in how many pieces a \
                             reply arrives (the read buffer grows with them) and, in a pool of \
                             several connections, whether an operation finds one idle or opens \
                             one"
            .to_owned(),
            #[cfg(all(feature = "instrument", unix))]
            Self::Serialized(premix_instrument::serial::Serialization::Strict) => {
                "the same on every run: the driver's threads ran only while the workload waited"
                    .to_owned()
            }
            #[cfg(all(feature = "instrument", unix))]
            Self::Serialized(_) => "the same on most runs: the driver's threads ran at idle \
                                    priority (real-time priority for the workload was refused), \
                                    which the kernel still interrupts now and then"
                .to_owned(),
            #[cfg(all(feature = "instrument", unix))]
            Self::Unserialized(why) => format!(
                "they may differ a little between runs: the driver's threads could not be \
                 serialized ({why})"
            ),
            Self::Free => "they differ a little between runs: with threads free, whether a \
                           reply is already there when the operation looks decides whether the \
                           driver's channel allocates a wait hook"
                .to_owned(),
        };
        format!(
            "{includes}; the instrumentation's own bookkeeping is not in them. They are \
             {repeat}. Hit ratios count prepared-statement and SQL-text cache hits."
        )
    }
}
