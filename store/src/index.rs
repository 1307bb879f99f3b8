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

use std::collections::HashMap;
use std::hash::Hash;

use crate::config::Config;
use crate::handle::Handle;
use crate::reclaim::{Link, Linked};

/// One published snapshot of the index.
pub(crate) struct IndexNode<K, C> {
    pub(crate) map: HashMap<K, Vec<Handle<C>>>,
    link: Link<IndexNode<K, C>>,
}

impl<K, C> Linked for IndexNode<K, C> {
    fn link(&self) -> &Link<Self> {
        &self.link
    }
}

impl<K: Eq + Hash, C: Config> IndexNode<K, C> {
    pub(crate) fn new(map: HashMap<K, Vec<Handle<C>>>) -> Self {
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
pub(crate) fn add<K: Eq + Hash, C>(
    map: &mut HashMap<K, Vec<Handle<C>>>,
    key: K,
    handle: Handle<C>,
) {
    map.entry(key).or_default().push(handle);
}

/// Removes `handle` wherever it is listed; drops keys left empty.
pub(crate) fn remove<K: Eq + Hash + Clone, C>(
    map: &mut HashMap<K, Vec<Handle<C>>>,
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
