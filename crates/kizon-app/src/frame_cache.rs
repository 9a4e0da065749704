//! The decode cache behind the viewer: recently shown DICOM sources (their bytes, verified
//! against the SHA-256 ingest recorded, with their modality LUT) and their decoded frames, in
//! memory, least recently used first out, within one byte budget.
//!
//! Why: a reader scrolls a series or a multi-frame image and comes back to the same frames
//! while adjusting the window; without the cache every frame request read the whole file
//! again, hashed it, parsed it twice and decoded the frame. With it, a frame shown once is
//! windowed and encoded only, and a multi-frame file is read and verified once, not per frame.
//!
//! Entries are keyed by content (the SHA-256 of the source), never by path: what is cached is
//! only ever what matched the hash ingest recorded, so a file changed on disk afterwards is
//! not served from here under its old name; it is read and refused as before once evicted.
//! Authorisation is not cached: every request still passes the reader's session check first.
//!
//! The server holds one cache and lends it to every pooled study; a study opened by a command
//! has a small one of its own.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use kizon_pixels::ImageInfo;

/// The default budget of a server's cache (512 MiB; `kizon serve --frame-cache-mib`).
pub const DEFAULT_BUDGET_BYTES: u64 = 512 << 20;
/// The budget of a study opened outside a server (a command shows few frames).
pub const COMMAND_BUDGET_BYTES: u64 = 64 << 20;

/// The modality LUT of a DICOM image (PS3.3 C.11.1): `modality = stored × slope + intercept`,
/// and the image's own window in those units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ModalityLut {
    pub slope: f64,
    pub intercept: f64,
    pub window: Option<kizon_pixels::Window>,
}

/// A source file as ingest recorded it: its bytes (hash verified) and its modality LUT.
pub(crate) struct Source {
    pub bytes: Vec<u8>,
    pub lut: ModalityLut,
}

/// One decoded frame: the stored values and what they are.
pub(crate) struct Frame {
    pub info: ImageInfo,
    pub values: Vec<i64>,
}

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Key {
    Source(String),
    Frame(String, u32),
    /// A video as pages play it (its metadata cleaned), by the SHA-256 of its source.
    Video(String),
}

#[derive(Clone)]
enum Entry {
    Source(Arc<Source>),
    Frame(Arc<Frame>),
    Bytes(Arc<Vec<u8>>),
}

impl Entry {
    fn bytes(&self) -> u64 {
        // The containers' own overhead is small beside the payload and ignored.
        match self {
            Entry::Source(s) => s.bytes.len() as u64 + 64,
            Entry::Frame(f) => (f.values.len() * std::mem::size_of::<i64>()) as u64 + 128,
            Entry::Bytes(b) => b.len() as u64 + 64,
        }
    }
}

#[derive(Default)]
struct Lru {
    entries: HashMap<Key, (Entry, u64)>,
    /// Use tick → key, oldest first.
    order: BTreeMap<u64, Key>,
    tick: u64,
    held: u64,
    hits: u64,
    misses: u64,
}

/// What the cache holds and how well it served, for `serve`'s log and the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    pub budget_bytes: u64,
    pub held_bytes: u64,
    pub entries: usize,
    pub hits: u64,
    pub misses: u64,
}

/// The shared decode cache; cloning it shares it.
#[derive(Clone)]
pub struct FrameCache {
    budget: u64,
    lru: Arc<Mutex<Lru>>,
}

impl FrameCache {
    /// A cache that holds at most `budget_bytes` (an entry larger than the whole budget is
    /// used once and not kept).
    pub fn new(budget_bytes: u64) -> FrameCache {
        FrameCache {
            budget: budget_bytes,
            lru: Arc::new(Mutex::new(Lru::default())),
        }
    }

    pub fn stats(&self) -> CacheStats {
        let lru = self.lock();
        CacheStats {
            budget_bytes: self.budget,
            held_bytes: lru.held,
            entries: lru.entries.len(),
            hits: lru.hits,
            misses: lru.misses,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Lru> {
        // A panic while holding the lock leaves a consistent map (every update is one step),
        // so a poisoned lock is taken over, not propagated.
        self.lru.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn get(&self, key: &Key) -> Option<Entry> {
        let mut lru = self.lock();
        lru.tick += 1;
        let tick = lru.tick;
        let Some((entry, used)) = lru.entries.get_mut(key) else {
            lru.misses += 1;
            return None;
        };
        let old = std::mem::replace(used, tick);
        let found = entry.clone();
        lru.order.remove(&old);
        lru.order.insert(tick, key.clone());
        lru.hits += 1;
        Some(found)
    }

    fn put(&self, key: Key, entry: Entry) {
        let size = entry.bytes();
        if size > self.budget {
            return;
        }
        let mut lru = self.lock();
        lru.tick += 1;
        let tick = lru.tick;
        if let Some((old, used)) = lru.entries.remove(&key) {
            lru.held -= old.bytes();
            lru.order.remove(&used);
        }
        while lru.held + size > self.budget {
            let Some((_, oldest)) = lru.order.pop_first() else {
                break;
            };
            if let Some((gone, _)) = lru.entries.remove(&oldest) {
                lru.held -= gone.bytes();
            }
        }
        lru.held += size;
        lru.order.insert(tick, key.clone());
        lru.entries.insert(key, (entry, tick));
    }

    /// The entry under `key`, from the cache (as `unwrap` finds it there) or by `load`,
    /// kept as `wrap` makes it; a failed load is not kept.
    fn cached<T, E>(
        &self,
        key: Key,
        load: impl FnOnce() -> Result<T, E>,
        wrap: fn(Arc<T>) -> Entry,
        unwrap: fn(Entry) -> Option<Arc<T>>,
    ) -> Result<Arc<T>, E> {
        if let Some(found) = self.get(&key).and_then(unwrap) {
            return Ok(found);
        }
        let loaded = Arc::new(load()?);
        self.put(key, wrap(loaded.clone()));
        Ok(loaded)
    }

    /// The source whose SHA-256 is `sha256`, from the cache or by `load` (which verifies it).
    pub(crate) fn source<E>(
        &self,
        sha256: &str,
        load: impl FnOnce() -> Result<Source, E>,
    ) -> Result<Arc<Source>, E> {
        self.cached(
            Key::Source(sha256.to_owned()),
            load,
            Entry::Source,
            |e| match e {
                Entry::Source(found) => Some(found),
                _ => None,
            },
        )
    }

    /// Frame `index` of the source whose SHA-256 is `sha256`, from the cache or by `decode`.
    pub(crate) fn frame<E>(
        &self,
        sha256: &str,
        index: u32,
        decode: impl FnOnce() -> Result<Frame, E>,
    ) -> Result<Arc<Frame>, E> {
        self.cached(
            Key::Frame(sha256.to_owned(), index),
            decode,
            Entry::Frame,
            |e| match e {
                Entry::Frame(found) => Some(found),
                _ => None,
            },
        )
    }

    /// The video whose source's SHA-256 is `sha256` as pages play it, from the cache or by
    /// `load` (which verifies and cleans it): a player asks for it in ranges, many times.
    pub(crate) fn video<E>(
        &self,
        sha256: &str,
        load: impl FnOnce() -> Result<Vec<u8>, E>,
    ) -> Result<Arc<Vec<u8>>, E> {
        self.cached(
            Key::Video(sha256.to_owned()),
            load,
            Entry::Bytes,
            |e| match e {
                Entry::Bytes(found) => Some(found),
                _ => None,
            },
        )
    }
}

impl Default for FrameCache {
    fn default() -> FrameCache {
        FrameCache::new(COMMAND_BUDGET_BYTES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(samples: usize) -> Frame {
        Frame {
            info: ImageInfo {
                transfer_syntax: "1.2.840.10008.1.2.1".into(),
                rows: 1,
                columns: samples as u32,
                samples_per_pixel: 1,
                frames: 1,
                bits_stored: 16,
                signed: false,
                photometric_interpretation: "MONOCHROME2".into(),
            },
            values: vec![7; samples],
        }
    }

    fn decode_count(cache: &FrameCache, sha: &str, index: u32, samples: usize) -> usize {
        let mut decoded = 0;
        cache
            .frame::<()>(sha, index, || {
                decoded += 1;
                Ok(frame(samples))
            })
            .unwrap();
        decoded
    }

    #[test]
    fn a_frame_is_decoded_once_then_served_from_memory() {
        let cache = FrameCache::new(1 << 20);
        assert_eq!(decode_count(&cache, "a", 0, 100), 1);
        assert_eq!(decode_count(&cache, "a", 0, 100), 0);
        assert_eq!(decode_count(&cache, "a", 1, 100), 1);
        assert_eq!(decode_count(&cache, "b", 0, 100), 1);
        let stats = cache.stats();
        assert_eq!((stats.hits, stats.misses, stats.entries), (1, 3, 3));
    }

    #[test]
    fn the_least_recently_used_goes_first_and_the_budget_holds() {
        // Each frame: 1000 × 8 + 128 bytes; the budget holds three.
        let cache = FrameCache::new(3 * 8128 + 100);
        for index in 0..3 {
            decode_count(&cache, "a", index, 1000);
        }
        // Frame 0 used again: frame 1 is now the oldest and goes when frame 3 comes.
        assert_eq!(decode_count(&cache, "a", 0, 1000), 0);
        assert_eq!(decode_count(&cache, "a", 3, 1000), 1);
        assert_eq!(decode_count(&cache, "a", 0, 1000), 0);
        assert_eq!(decode_count(&cache, "a", 2, 1000), 0);
        assert_eq!(decode_count(&cache, "a", 1, 1000), 1);
        let stats = cache.stats();
        assert!(stats.held_bytes <= stats.budget_bytes, "{stats:?}");
        assert_eq!(stats.entries, 3);
    }

    #[test]
    fn an_entry_larger_than_the_budget_is_used_but_not_kept() {
        let cache = FrameCache::new(1000);
        assert_eq!(decode_count(&cache, "a", 0, 1000), 1);
        assert_eq!(decode_count(&cache, "a", 0, 1000), 1);
        assert_eq!(cache.stats().entries, 0);
    }

    #[test]
    fn a_failed_load_is_not_cached() {
        let cache = FrameCache::new(1 << 20);
        assert!(cache.source("a", || Err::<Source, _>("gone")).is_err());
        let loaded = cache
            .source::<()>("a", || {
                Ok(Source {
                    bytes: vec![1, 2, 3],
                    lut: ModalityLut {
                        slope: 1.0,
                        intercept: 0.0,
                        window: None,
                    },
                })
            })
            .unwrap();
        assert_eq!(loaded.bytes, [1, 2, 3]);
        assert_eq!(cache.stats().entries, 1);
    }

    #[test]
    fn clones_share_one_cache() {
        let cache = FrameCache::new(1 << 20);
        let other = cache.clone();
        decode_count(&cache, "a", 0, 10);
        assert_eq!(decode_count(&other, "a", 0, 10), 0);
    }
}
