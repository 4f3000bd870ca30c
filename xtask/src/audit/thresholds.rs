//! Where a measurement turns into a verdict. Every comparative word the
//! audit prints ("no slower", "within target", a finding's title, an
//! optimization's status) is decided against a threshold in this one table,
//! so a reader can see the bar and a change of bar is one line.

/// The bars the audit's verdicts are decided against.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Thresholds {
    /// The most the fork's wall time may be over raw sqlx's (median of
    /// per-round ratios) for it to "cost what raw sqlx costs": the noise
    /// between interleaved rounds on one pinned CPU is a few percent.
    pub(crate) fork_ratio_parity: f64,
    /// The most `instrument` may add to a scenario's time: the fork with it
    /// on over the fork with it off, each a ratio to raw sqlx in its own run.
    pub(crate) instrument_time: f64,
    /// The most process-wide heap blocks per op `instrument` may add
    /// (orm_compare runs and the allocation gate): a fraction of a block is
    /// the registry's one-off handles amortised, a whole block is per call.
    pub(crate) instrument_blocks: f64,
    /// Below this ratio to raw sqlx's two queries a single JOIN "beats" them
    /// for has-many loads; at or above it, the two queries win.
    pub(crate) join_parity: f64,
    /// The lowest statement-cache score (percent of lookups that hit) for the
    /// caches to "hit almost always".
    pub(crate) cache_hit_pct: f64,
    /// The most wall-time ratio to raw sqlx on PostgreSQL for the round trip
    /// to "hide" the ORM.
    pub(crate) postgres_ratio_parity: f64,
    /// Extra blocks per op that the published premix-orm must allocate over
    /// the fork, in a select_by_pk under dhat, to "allocate more".
    pub(crate) premix_extra_blocks: f64,
    /// The share of a multi-row select's blocks per op that row decoding
    /// must make to "dominate" it.
    pub(crate) decode_share: f64,
    /// More prepared statements than this after paging 50 pages means one
    /// statement per page (the fork and raw sqlx leave one or two).
    pub(crate) statements_per_paging: u64,
}

/// The one table. Tests build other summaries against it, never other bars.
pub(crate) const THRESHOLDS: Thresholds = Thresholds {
    fork_ratio_parity: 1.05,
    instrument_time: 1.03,
    instrument_blocks: 0.1,
    join_parity: 1.0,
    cache_hit_pct: 95.0,
    postgres_ratio_parity: 1.05,
    premix_extra_blocks: 1.0,
    decode_share: 0.5,
    statements_per_paging: 2,
};
