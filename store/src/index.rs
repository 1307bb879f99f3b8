//! The key index: which live handles each key maps to, in insertion order.
//!
//! The index is an immutable snapshot behind one atomic pointer. Writers
//! copy it, change the copy, publish the copy with Release and retire the old
//! snapshot through the reclaimer like any value. Readers load the pointer
//! with Acquire and look up without locking or allocating.
//!
//! Copy-on-write costs the writer O(keys) per commit; writes are reloads and
//! loads of plugins, rare next to calls. A transaction publishes one
//! snapshot for all its changes, which is what makes a bundle's contracts
//! appear all at once (\[S8\]).
//!
//! A snapshot's map hashes keys with [`IndexHasher`], a multiply-rotate
//! hash, not the standard library's SipHash: a lookup is on the read path,
//! where SipHash of a `u64` key cost more than everything else a find does.
//! The keys are written by the host and its plugins, code that runs in the
//! process anyway, so the map has no untrusted input to resist flooding
//! from; a poor spread of keys could make lookups slower, never wrong.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use crate::config::Config;
use crate::handle::Handle;
use crate::reclaim::{Link, Linked};

/// The multiplier of [`IndexHasher`] (the one rustc's FxHasher uses: odd,
/// with its bits spread, so that a product's high bits depend on every
/// bit of the word).
const MULTIPLIER: u64 = 0x517c_c1b7_2722_0a95;

/// The hasher of the index's maps: per word written, rotate, xor the word
/// in and multiply. One multiply for a `u64` key, such as a contract id
/// that is itself a hash.
#[derive(Clone, Copy, Default)]
pub(crate) struct IndexHasher(u64);

impl IndexHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(MULTIPLIER);
    }
}

impl Hasher for IndexHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            for (to, from) in word.iter_mut().zip(chunk) {
                *to = *from;
            }
            self.add(u64::from_le_bytes(word));
        }
    }

    #[inline]
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_u16(&mut self, n: u16) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        match u64::try_from(n) {
            Ok(n) => self.add(n),
            Err(_) => self.write(&n.to_le_bytes()),
        }
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A snapshot's map: each key's live handles, oldest first.
pub(crate) type IndexMap<K, C> = HashMap<K, Vec<Handle<C>>, BuildHasherDefault<IndexHasher>>;

/// One published snapshot of the index.
pub(crate) struct IndexNode<K, C> {
    pub(crate) map: IndexMap<K, C>,
    link: Link<IndexNode<K, C>>,
}

impl<K, C> Linked for IndexNode<K, C> {
    fn link(&self) -> &Link<Self> {
        &self.link
    }
}

impl<K: Eq + Hash, C: Config> IndexNode<K, C> {
    pub(crate) fn new(map: IndexMap<K, C>) -> Self {
        Self {
            map,
            link: Link::new(),
        }
    }

    /// The handles under `key`, oldest first.
    #[inline]
    pub(crate) fn handles(&self, key: &K) -> &[Handle<C>] {
        self.map.get(key).map_or(&[], Vec::as_slice)
    }
}

/// Appends `handle` under `key`.
pub(crate) fn add<K: Eq + Hash, C>(map: &mut IndexMap<K, C>, key: K, handle: Handle<C>) {
    map.entry(key).or_default().push(handle);
}

/// Removes `handle` wherever it is listed; drops keys left empty.
pub(crate) fn remove<K: Eq + Hash + Clone, C>(
    map: &mut IndexMap<K, C>,
    key: &K,
    handle: Handle<C>,
) {
    if let Some(list) = map.get_mut(key) {
        list.retain(|h| *h != handle);
        if list.is_empty() {
            map.remove(key);
        }
    }
}
