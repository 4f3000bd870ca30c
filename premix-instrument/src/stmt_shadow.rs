//! A shadow of one connection's prepared-statement cache.
//!
//! Why a shadow? sqlx keeps prepared statements per connection in an LRU
//! cache keyed by SQL text, with a fixed capacity, and says nothing about
//! what a lookup did. Its cache size tells a miss (the size grew) from a hit
//! only while the cache has room; on a full cache a hit and a miss that
//! evicted another statement both leave the size where it was. A copy of
//! the LRU that sees the same lookups in the same order predicts every
//! result exactly, full cache included, provided the ORM can tell which
//! connection ran each statement and nothing else runs statements on it.
//!
//! Other code can (the application's own queries, a transaction the ORM did
//! not open). When the ORM notices, it [`resync`](StmtCacheShadow::resync)s
//! the shadow: it forgets which statements are cached and keeps only how
//! many. Those statements are older than every one looked up since, so the
//! LRU evicts them first, and the shadow learns the cache again lookup by
//! lookup: a known statement is a hit, an unknown one below capacity is
//! told by whether the size grew, and an unknown one on a full cache while
//! forgotten statements remain is reported as unknowable
//! ([`Lookup::Unknowable`]) rather than guessed. Each of those uses up one
//! forgotten statement, so exactness returns after at most `capacity` of
//! them.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, DefaultHasher, Hash, Hasher};

/// A statement's identity in a cache: a 128-bit digest of its SQL text.
/// Equal texts give equal keys; two different texts share one with
/// probability 2^-128.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StmtKey(u128);

impl StmtKey {
    /// The key of `sql`. Hashes the whole text: compute it once per
    /// statement text and keep it beside the text.
    #[must_use]
    pub fn of(sql: &str) -> Self {
        let half = |domain: u8| {
            let mut hasher = DefaultHasher::new();
            domain.hash(&mut hasher);
            sql.hash(&mut hasher);
            hasher.finish()
        };
        Self((u128::from(half(1)) << 64) | u128::from(half(2)))
    }
}

/// What one lookup did to the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// The statement was cached.
    Hit,
    /// The statement was not cached and now is; `evicted` when that pushed
    /// out the least recently used one.
    Miss {
        /// Whether another statement was dropped to make room.
        evicted: bool,
    },
    /// The cache was full and the statement was not one the shadow knows:
    /// a hit on a forgotten statement, or a miss that evicted one.
    Unknowable,
}

const NONE: u32 = u32::MAX;

#[derive(Clone, Copy, Debug)]
struct Node {
    key: StmtKey,
    older: u32,
    newer: u32,
}

/// Keys are digests already; their low bits are as good as any hash.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u128(&mut self, value: u128) {
        // Truncation intended: the low 64 bits of a digest.
        self.0 = value as u64;
    }
}

/// An LRU of statement keys with sqlx's eviction rule, plus a count of
/// statements the cache holds that the shadow no longer knows.
#[derive(Debug)]
pub struct StmtCacheShadow {
    capacity: usize,
    index: HashMap<StmtKey, u32, BuildHasherDefault<KeyHasher>>,
    nodes: Vec<Node>,
    free: Vec<u32>,
    oldest: u32,
    newest: u32,
    forgotten: usize,
}

impl StmtCacheShadow {
    /// An empty cache of `capacity` statements (sqlx's
    /// `statement_cache_capacity`; 0 disables caching).
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        let reserved = capacity.min(1024);
        Self {
            capacity,
            index: HashMap::with_capacity_and_hasher(reserved, BuildHasherDefault::default()),
            nodes: Vec::with_capacity(reserved),
            free: Vec::new(),
            oldest: NONE,
            newest: NONE,
            forgotten: 0,
        }
    }

    /// The cache's capacity.
    #[must_use]
    pub const fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many statements the cache holds, known or forgotten: what the
    /// connection's `cached_statements_size()` should say.
    #[must_use]
    pub fn len(&self) -> usize {
        self.index.len() + self.forgotten
    }

    /// Whether the cache holds nothing.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the shadow knows every statement the cache holds.
    #[must_use]
    pub const fn is_exact(&self) -> bool {
        self.forgotten == 0
    }

    /// Whether `key` is known to be cached.
    #[must_use]
    pub fn contains(&self, key: StmtKey) -> bool {
        self.index.contains_key(&key)
    }

    /// Whether a lookup of `key` can be classified only from whether the
    /// cache size grew: an unknown statement, forgotten ones remaining, room
    /// left. Read the size before the statement and after it has settled,
    /// and pass the answer to [`lookup`](Self::lookup).
    #[must_use]
    pub fn needs_growth(&self, key: StmtKey) -> bool {
        self.forgotten > 0 && self.len() < self.capacity && !self.contains(key)
    }

    /// Applies one lookup of `key` and says what it did. `grew` is whether
    /// the connection's cache size grew over the statement, needed only
    /// when [`needs_growth`](Self::needs_growth) said so (without it such a
    /// lookup is [`Lookup::Unknowable`]).
    pub fn lookup(&mut self, key: StmtKey, grew: Option<bool>) -> Lookup {
        if self.capacity == 0 {
            return Lookup::Miss { evicted: false };
        }
        if let Some(&at) = self.index.get(&key) {
            self.unlink(at);
            self.push_newest(at);
            return Lookup::Hit;
        }
        if self.forgotten == 0 {
            let evicted = self.len() == self.capacity;
            if evicted {
                self.evict_oldest();
            }
            self.insert(key);
            return Lookup::Miss { evicted };
        }
        if self.len() < self.capacity {
            match grew {
                Some(true) => {
                    self.insert(key);
                    Lookup::Miss { evicted: false }
                }
                Some(false) => {
                    // It was one of the forgotten statements.
                    self.forgotten -= 1;
                    self.insert(key);
                    Lookup::Hit
                }
                None => {
                    // Either way it is cached now; whether it displaced a
                    // forgotten statement is not known.
                    self.insert(key);
                    self.forgotten = self.forgotten.saturating_sub(1);
                    Lookup::Unknowable
                }
            }
        } else {
            // A hit on a forgotten statement, or a miss that evicted the
            // oldest forgotten one: one fewer forgotten either way.
            self.forgotten -= 1;
            self.insert(key);
            Lookup::Unknowable
        }
    }

    /// Forgets which statements are cached and keeps only how many
    /// (`size`, the connection's own count).
    pub fn resync(&mut self, size: usize) {
        self.index.clear();
        self.nodes.clear();
        self.free.clear();
        self.oldest = NONE;
        self.newest = NONE;
        self.forgotten = size.min(self.capacity);
    }

    fn insert(&mut self, key: StmtKey) {
        let node = Node {
            key,
            older: NONE,
            newer: NONE,
        };
        let at = match self.free.pop() {
            Some(at) => {
                self.nodes[at as usize] = node;
                at
            }
            None => {
                self.nodes.push(node);
                u32::try_from(self.nodes.len() - 1).unwrap_or(NONE)
            }
        };
        self.index.insert(key, at);
        self.push_newest(at);
    }

    fn evict_oldest(&mut self) {
        let at = self.oldest;
        if at == NONE {
            return;
        }
        self.unlink(at);
        self.index.remove(&self.nodes[at as usize].key);
        self.free.push(at);
    }

    fn unlink(&mut self, at: u32) {
        let Node { older, newer, .. } = self.nodes[at as usize];
        match older {
            NONE => self.oldest = newer,
            older => self.nodes[older as usize].newer = newer,
        }
        match newer {
            NONE => self.newest = older,
            newer => self.nodes[newer as usize].older = older,
        }
    }

    fn push_newest(&mut self, at: u32) {
        let previous = self.newest;
        self.nodes[at as usize].older = previous;
        self.nodes[at as usize].newer = NONE;
        match previous {
            NONE => self.oldest = at,
            previous => self.nodes[previous as usize].newer = at,
        }
        self.newest = at;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u32) -> StmtKey {
        StmtKey::of(&format!("SELECT {n}"))
    }

    /// sqlx's own rule, written the slow obvious way: a list, most recent
    /// last.
    struct Reference {
        capacity: usize,
        keys: Vec<StmtKey>,
    }

    impl Reference {
        fn lookup(&mut self, k: StmtKey) -> Lookup {
            if let Some(at) = self.keys.iter().position(|&x| x == k) {
                self.keys.remove(at);
                self.keys.push(k);
                return Lookup::Hit;
            }
            let evicted = self.keys.len() == self.capacity;
            if evicted {
                self.keys.remove(0);
            }
            self.keys.push(k);
            Lookup::Miss { evicted }
        }
    }

    #[test]
    fn keys_follow_the_text() {
        assert_eq!(StmtKey::of("SELECT 1"), StmtKey::of("SELECT 1"));
        assert_ne!(StmtKey::of("SELECT 1"), StmtKey::of("SELECT 2"));
        assert_ne!(StmtKey::of(""), StmtKey::of(" "));
    }

    #[test]
    fn cycling_more_statements_than_capacity_misses_and_evicts_every_time() {
        let mut shadow = StmtCacheShadow::new(2);
        let results: Vec<_> = [1, 2, 3, 1, 2, 3]
            .map(|n| shadow.lookup(key(n), None))
            .to_vec();
        let miss = |evicted| Lookup::Miss { evicted };
        assert_eq!(
            results,
            [
                miss(false),
                miss(false),
                miss(true),
                miss(true),
                miss(true),
                miss(true)
            ]
        );
        assert_eq!(shadow.len(), 2);
        assert_eq!(
            [2, 3].map(|n| shadow.lookup(key(n), None)),
            [Lookup::Hit; 2]
        );
    }

    #[test]
    fn it_agrees_with_the_obvious_lru_on_a_long_mixed_sequence() {
        for capacity in [1, 2, 3, 7, 100] {
            let mut shadow = StmtCacheShadow::new(capacity);
            let mut reference = Reference {
                capacity,
                keys: Vec::new(),
            };
            // A deterministic mix of hot and cold statements.
            let mut state = 12_345_u32;
            for _ in 0..5_000 {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                let n = if state % 3 == 0 {
                    state % 4
                } else {
                    state % 150
                };
                assert_eq!(
                    shadow.lookup(key(n), None),
                    reference.lookup(key(n)),
                    "capacity {capacity}"
                );
                assert_eq!(shadow.len(), reference.keys.len());
            }
        }
    }

    #[test]
    fn a_resynced_shadow_relearns_and_reports_only_what_it_cannot_know() {
        // The cache holds 3 of capacity 4, none of them known.
        let mut shadow = StmtCacheShadow::new(4);
        shadow.resync(3);
        assert!(!shadow.is_exact());
        // Below capacity the size tells: grew means miss, flat means hit.
        assert!(shadow.needs_growth(key(1)));
        assert_eq!(
            shadow.lookup(key(1), Some(true)),
            Lookup::Miss { evicted: false }
        );
        assert_eq!(shadow.len(), 4);
        // Known now, so a hit whatever the size says.
        assert!(!shadow.needs_growth(key(1)));
        assert_eq!(shadow.lookup(key(1), None), Lookup::Hit);
        // Full, three forgotten: an unknown statement cannot be told.
        for n in [2, 3, 4] {
            assert_eq!(shadow.lookup(key(n), None), Lookup::Unknowable);
        }
        // Every forgotten statement is accounted for: exact again.
        assert!(shadow.is_exact());
        assert_eq!(shadow.lookup(key(5), None), Lookup::Miss { evicted: true });
        assert!(!shadow.contains(key(1)), "1 was the oldest known");
    }

    #[test]
    fn a_flat_size_below_capacity_is_a_hit_on_a_forgotten_statement() {
        let mut shadow = StmtCacheShadow::new(10);
        shadow.resync(2);
        assert_eq!(shadow.lookup(key(7), Some(false)), Lookup::Hit);
        assert_eq!(shadow.len(), 2);
        assert_eq!(shadow.lookup(key(7), None), Lookup::Hit);
    }

    #[test]
    fn zero_capacity_caches_nothing() {
        let mut shadow = StmtCacheShadow::new(0);
        assert_eq!(shadow.lookup(key(1), None), Lookup::Miss { evicted: false });
        assert_eq!(shadow.len(), 0);
    }
}
