//! What the fork reports to premix-instrument beyond what `#[instrument]`
//! counts, behind one facade that generic code calls the same way whether
//! the `instrument` feature is on or off.
//!
//! With the feature off every item here is a zero-sized stand-in whose
//! methods do nothing and inline away (`off.rs`), so the operations compile
//! to what they would be without instrumentation. With it on:
//!
//! - `sites.rs`: one [`CallSite`](premix_instrument::CallSite) per
//!   operation, shared by `#[instrument(site = ...)]` and every count the
//!   fork records about the same calls; how an operation's result becomes
//!   an outcome and an error kind.
//! - `pools.rs`: the pools the fork built, with their statement-cache
//!   settings and gauges, found from a `&Pool` without a lock.
//! - `identity.rs`: telling connections apart, for pools built with
//!   [`StatementCache::exact`](crate::StatementCache::exact): hooks that
//!   identify the connection each acquire hands out and pass it to the
//!   operation that asked.
//! - `statements.rs`: classifying each statement's cache lookup, from a
//!   shadow of the connection's cache when the connection is known, from its
//!   cache size otherwise.

#[cfg(not(feature = "instrument"))]
mod off;
#[cfg(not(feature = "instrument"))]
pub(crate) use off::*;

#[cfg(feature = "instrument")]
mod identity;
#[cfg(feature = "instrument")]
mod pools;
#[cfg(feature = "instrument")]
mod sites;
#[cfg(feature = "instrument")]
mod statements;
#[cfg(feature = "instrument")]
pub use statements::set_statement_cache_capacity;
#[cfg(feature = "instrument")]
pub(crate) use {identity::*, pools::*, sites::*, statements::*};

// One call site per operation: a real `CallSite` with the feature on, a
// zero-sized stand-in with it off.
pub(crate) static FIND_BY_ID: Site = Site::new("find_by_id");
pub(crate) static INSERT: Site = Site::new("insert");
pub(crate) static UPDATE: Site = Site::new("update");
pub(crate) static DELETE: Site = Site::new("delete");
pub(crate) static SELECT: Site = Site::new("select");
pub(crate) static EAGER_LOAD: Site = Site::new("eager_load");
