//! A pure reference model of the store's observable handle semantics.
//!
//! [`Reference`] is what a single-threaded `Store` should answer, written as
//! plainly as possible: a `Vec` of slots, a FIFO free list, and an ordered
//! list of `(key, handle)` entries. It never touches the store itself, so the
//! property tests (and the differential fuzz target) can compare the two
//! operation by operation and demand identical results:
//!
//! - `insert` takes the oldest freed slot (FIFO) with its generation bumped,
//!   else the fresh slot at index `len` with generation 1, else
//!   [`WriteError::Full`];
//! - a removed slot at the maximum generation `2^GENERATION_BITS - 1` is
//!   retired: it never goes back on the free list;
//! - `get` answers `Ok(value)`, [`GetError::Removed`], [`GetError::Stale`]
//!   (with the slot's last generation) or [`GetError::OutOfRange`] (the slot
//!   was never used);
//! - `find` is the first live value under a key in insertion order.
//!
//! # Example
//!
//! ```
//! use polyplug_store::{DefaultConfig, GetError};
//! use polyplug_verification::reference::Reference;
//!
//! let mut model: Reference<&str> = Reference::new();
//! let h = model.insert(7, "v1").unwrap();
//! assert_eq!(model.get(h), Ok(&"v1"));
//! model.remove(h).unwrap();
//! assert_eq!(model.get(h), Err(GetError::Removed { handle: h }));
//! let h2 = model.insert(7, "v2").unwrap();
//! assert_eq!((h2.index(), h2.generation().get()), (h.index(), 2));
//! assert_eq!(model.find(&7, |_| true), Some((h2, &"v2")));
//! ```

use std::collections::VecDeque;
use std::fmt;

use polyplug_store::{
    Config, DefaultConfig, Generation, GetError, Handle, Index, Refused, WriteError,
};

/// One modelled slot: the generation of the last value placed in it, and
/// that value while it is live.
#[derive(Clone, PartialEq, Eq)]
struct Slot<V> {
    generation: u32,
    value: Option<V>,
}

/// The reference model of a `Store<V, K, C>`, driven one operation at a time.
///
/// Every method returns the same type as the store's method of the same
/// name, except that writes return `()` where the store returns a
/// `DrainTicket` (reclamation is not part of the handle semantics).
///
/// # Example
///
/// Drive the model and a real store with the same operations and compare:
///
/// ```
/// # if polyplug_store::sync::MODEL_BUILD { return Ok(()); }
/// use polyplug_store::Store;
/// use polyplug_verification::reference::Reference;
///
/// let store: Store<u32> = Store::new();
/// let mut model: Reference<u32> = Reference::new();
/// let h = store.insert(1, 10)?;
/// assert_eq!(model.insert(1, 10), Ok(h));
/// store.remove(h)?;
/// model.remove(h)?;
/// let reader = store.reader();
/// assert_eq!(reader.pin().get(h), model.get(h)); // both: Removed
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Reference<V, K = u64, C: Config = DefaultConfig> {
    /// Every slot ever used; `slots.len()` is the store's high-water mark.
    slots: Vec<Slot<V>>,
    /// Emptied slots that may be reused, oldest first.
    free: VecDeque<u32>,
    /// Live handles with their keys, in insertion order.
    index: Vec<(K, Handle<C>)>,
    /// Successful writes so far.
    revision: u64,
}

impl<V, K, C: Config> Reference<V, K, C> {
    /// Slots in a store with config `C`: `2^INDEX_BITS`.
    ///
    /// # Example
    ///
    /// ```
    /// use polyplug_store::Store;
    /// use polyplug_verification::reference::Reference;
    ///
    /// polyplug_store::config! { Tiny { index: 2, generation: 2, first_segment: 0 } }
    /// assert_eq!(Reference::<u32, u64, Tiny>::CAPACITY, 4);
    /// assert_eq!(Reference::<u32>::CAPACITY, Store::<u32>::CAPACITY);
    /// ```
    pub const CAPACITY: u64 = 1u64 << C::INDEX_BITS;

    /// The largest generation a slot can reach: `2^GENERATION_BITS - 1`.
    ///
    /// # Example
    ///
    /// ```
    /// use polyplug_verification::reference::Reference;
    ///
    /// polyplug_store::config! { Tiny { index: 2, generation: 2, first_segment: 0 } }
    /// assert_eq!(Reference::<u32, u64, Tiny>::MAX_GENERATION, 3);
    /// assert_eq!(Reference::<u32>::MAX_GENERATION, u32::MAX);
    /// ```
    pub const MAX_GENERATION: u32 = if C::GENERATION_BITS >= 32 {
        u32::MAX
    } else {
        (1u32 << C::GENERATION_BITS) - 1
    };

    /// An empty model, like `Store::new()`.
    ///
    /// # Example
    ///
    /// ```
    /// use polyplug_verification::reference::Reference;
    ///
    /// let model: Reference<&str> = Reference::new();
    /// assert!(model.is_empty());
    /// assert_eq!(model.revision(), 0);
    /// ```
    pub fn new() -> Self {
        Self {
            slots: Vec::new(),
            free: VecDeque::new(),
            index: Vec::new(),
            revision: 0,
        }
    }

    /// How many slots have ever been used (the next fresh index).
    ///
    /// # Example
    ///
    /// ```
    /// use polyplug_verification::reference::Reference;
    ///
    /// let mut model: Reference<&str> = Reference::new();
    /// let a = model.insert(1, "a")?;
    /// model.insert(1, "b")?;
    /// model.remove(a)?;
    /// assert_eq!(model.len(), 2); // a removed slot still counts
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn len(&self) -> u32 {
        u32::try_from(self.slots.len()).unwrap_or(u32::MAX)
    }

    /// Whether no slot was ever used.
    ///
    /// # Example
    ///
    /// ```
    /// use polyplug_verification::reference::Reference;
    ///
    /// let mut model: Reference<&str> = Reference::new();
    /// let h = model.insert(1, "a")?;
    /// model.remove(h)?;
    /// assert!(!model.is_empty()); // emptied, but used
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// How many values are live.
    ///
    /// # Example
    ///
    /// ```
    /// use polyplug_verification::reference::Reference;
    ///
    /// let mut model: Reference<&str> = Reference::new();
    /// let a = model.insert(1, "a")?;
    /// model.insert(2, "b")?;
    /// model.remove(a)?;
    /// assert_eq!(model.live_count(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn live_count(&self) -> usize {
        self.index.len()
    }

    /// The generation of the last value placed in slot `index`, or `None` if
    /// the slot was never used.
    ///
    /// # Example
    ///
    /// ```
    /// use polyplug_store::{Generation, Index};
    /// use polyplug_verification::reference::Reference;
    ///
    /// let mut model: Reference<&str> = Reference::new();
    /// let h = model.insert(1, "a")?;
    /// model.remove(h)?;
    /// assert_eq!(model.slot_generation(h.index()), Some(Generation::FIRST));
    /// model.insert(1, "b")?; // reuses the slot
    /// assert_eq!(model.slot_generation(h.index()), Some(Generation::new(2)));
    /// assert_eq!(model.slot_generation(Index::new(1)), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn slot_generation(&self, index: Index) -> Option<Generation> {
        self.slot(index).map(|s| Generation::new(s.generation))
    }

    /// Whether slot `index` was emptied at the maximum generation and so
    /// can never be used again.
    ///
    /// # Example
    ///
    /// ```
    /// use polyplug_verification::reference::Reference;
    ///
    /// // Two slots, generations 1 to 3.
    /// polyplug_store::config! { Tiny { index: 1, generation: 2, first_segment: 0 } }
    /// let mut model: Reference<&str, u64, Tiny> = Reference::new();
    /// for _ in 0..3 {
    ///     let h = model.insert(1, "v")?; // slot 0, generation 1, 2, 3
    ///     model.remove(h)?;
    /// }
    /// assert!(model.is_retired(polyplug_store::Index::new(0)));
    /// assert_eq!(model.insert(1, "v")?.index().get(), 1); // slot 0 is never reused
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_retired(&self, index: Index) -> bool {
        self.slot(index)
            .is_some_and(|s| s.value.is_none() && s.generation == Self::MAX_GENERATION)
    }

    /// The free list, oldest first: the order in which `insert` reuses slots.
    ///
    /// # Example
    ///
    /// ```
    /// use polyplug_verification::reference::Reference;
    ///
    /// let mut model: Reference<&str> = Reference::new();
    /// let a = model.insert(1, "a")?;
    /// let b = model.insert(1, "b")?;
    /// model.remove(b)?;
    /// model.remove(a)?;
    /// let free: Vec<_> = model.free_slots().collect();
    /// assert_eq!(free, [b.index(), a.index()]); // FIFO
    /// assert_eq!(model.insert(1, "c")?.index(), b.index());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn free_slots(&self) -> impl Iterator<Item = Index> + '_ {
        self.free.iter().map(|&i| Index::new(i))
    }

    /// How many successful writes (inserts, replaces, removes) happened: the
    /// store's `revision()` after the same operations, each its own commit.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return Ok(()); }
    /// use polyplug_store::Store;
    /// use polyplug_verification::reference::Reference;
    ///
    /// let store: Store<u32> = Store::new();
    /// let mut model: Reference<u32> = Reference::new();
    /// let h = store.insert(1, 1)?;
    /// model.insert(1, 1)?;
    /// store.replace(h, 2)?;
    /// model.replace(h, 2)?;
    /// assert_eq!(store.revision().0, model.revision());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Every live value with its handle and key, in insertion order.
    ///
    /// # Example
    ///
    /// ```
    /// use polyplug_verification::reference::Reference;
    ///
    /// let mut model: Reference<&str> = Reference::new();
    /// let a = model.insert(2, "a")?;
    /// let b = model.insert(1, "b")?;
    /// let live: Vec<_> = model.live().collect();
    /// assert_eq!(live, [(a, &2, &"a"), (b, &1, &"b")]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn live(&self) -> impl Iterator<Item = (Handle<C>, &K, &V)> + '_ {
        self.index.iter().filter_map(|(key, handle)| {
            let value = self.slot(handle.index())?.value.as_ref()?;
            Some((*handle, key, value))
        })
    }

    /// What the store's `insert(key, value)` returns, applying it.
    ///
    /// # Errors
    ///
    /// [`WriteError::Full`] when no slot is free and every index is used,
    /// with the value handed back.
    ///
    /// # Example
    ///
    /// ```
    /// use polyplug_store::WriteError;
    /// use polyplug_verification::reference::Reference;
    ///
    /// polyplug_store::config! { Two { index: 1, generation: 2, first_segment: 0 } }
    /// let mut model: Reference<&str, u64, Two> = Reference::new();
    /// model.insert(1, "a")?;
    /// model.insert(1, "b")?;
    /// let full = model.insert(1, "c").unwrap_err();
    /// assert_eq!(full.error, WriteError::Full { capacity: 2 });
    /// assert_eq!(full.value, Some("c"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn insert(&mut self, key: K, value: V) -> Result<Handle<C>, Refused<V, C>> {
        let (index, generation) = if let Some(index) = self.free.pop_front() {
            let Some(slot) = self.slots.get(to_usize(index)) else {
                unreachable!("the free list holds only used slots")
            };
            // The free list holds only slots below the maximum generation.
            (index, slot.generation.saturating_add(1))
        } else {
            let len = u64::try_from(self.slots.len()).unwrap_or(u64::MAX);
            match u32::try_from(len) {
                Ok(index) if len < Self::CAPACITY => (index, Generation::FIRST.get()),
                _ => {
                    return Err(Refused {
                        error: WriteError::Full {
                            capacity: Self::CAPACITY,
                        },
                        value: Some(value),
                    });
                }
            }
        };
        let Some(handle) = Handle::new(Index::new(index), Generation::new(generation)) else {
            unreachable!("index < CAPACITY and 1 <= generation <= MAX_GENERATION")
        };
        let slot = Slot {
            generation,
            value: Some(value),
        };
        match self.slots.get_mut(to_usize(index)) {
            Some(existing) => *existing = slot,
            None => self.slots.push(slot),
        }
        self.index.push((key, handle));
        self.revision += 1;
        Ok(handle)
    }

    /// What the store's `get(handle)` (or `Guard::get`) returns.
    ///
    /// # Errors
    ///
    /// - [`GetError::OutOfRange`] when the handle's slot was never used;
    /// - [`GetError::Removed`] when the slot is empty and last held this
    ///   handle's generation;
    /// - [`GetError::Stale`] otherwise, with the slot's last generation.
    ///
    /// # Example
    ///
    /// ```
    /// use polyplug_store::{Generation, GetError};
    /// use polyplug_verification::reference::Reference;
    ///
    /// let mut model: Reference<&str> = Reference::new();
    /// let old = model.insert(1, "v1")?;
    /// model.remove(old)?;
    /// model.insert(1, "v2")?; // same slot, generation 2
    /// let current = Generation::new(2);
    /// assert_eq!(model.get(old), Err(GetError::Stale { handle: old, current }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get(&self, handle: Handle<C>) -> Result<&V, GetError<C>> {
        let Some(slot) = self.slot(handle.index()) else {
            return Err(GetError::OutOfRange { handle });
        };
        let current = Generation::new(slot.generation);
        match &slot.value {
            Some(value) if current == handle.generation() => Ok(value),
            None if current == handle.generation() => Err(GetError::Removed { handle }),
            _ => Err(GetError::Stale { handle, current }),
        }
    }

    /// What the store's `replace(handle, value)` returns, applying it.
    ///
    /// # Errors
    ///
    /// [`WriteError::Handle`] with what [`Reference::get`] says when the
    /// handle is not live; the value is handed back.
    ///
    /// # Example
    ///
    /// ```
    /// use polyplug_verification::reference::Reference;
    ///
    /// let mut model: Reference<&str> = Reference::new();
    /// let h = model.insert(1, "v1")?;
    /// model.replace(h, "v2")?;
    /// assert_eq!(model.get(h), Ok(&"v2")); // same handle, new value
    /// model.remove(h)?;
    /// assert_eq!(model.replace(h, "v3").unwrap_err().value, Some("v3"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn replace(&mut self, handle: Handle<C>, value: V) -> Result<(), Refused<V, C>> {
        if let Err(error) = self.get(handle) {
            return Err(Refused {
                error: WriteError::Handle(error),
                value: Some(value),
            });
        }
        if let Some(slot) = self.slot_mut(handle.index()) {
            slot.value = Some(value);
        }
        self.revision += 1;
        Ok(())
    }

    /// What the store's `remove(handle)` returns, applying it.
    ///
    /// # Errors
    ///
    /// [`WriteError::Handle`] with what [`Reference::get`] says when the
    /// handle is not live.
    ///
    /// # Example
    ///
    /// ```
    /// use polyplug_store::GetError;
    /// use polyplug_verification::reference::Reference;
    ///
    /// let mut model: Reference<&str> = Reference::new();
    /// let h = model.insert(1, "v1")?;
    /// model.remove(h)?;
    /// assert_eq!(model.find(&1, |_| true), None);
    /// assert_eq!(model.get(h), Err(GetError::Removed { handle: h }));
    /// assert!(model.remove(h).is_err()); // only once
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn remove(&mut self, handle: Handle<C>) -> Result<(), Refused<V, C>> {
        if let Err(error) = self.get(handle) {
            return Err(Refused {
                error: WriteError::Handle(error),
                value: None,
            });
        }
        let index = handle.index();
        if let Some(slot) = self.slot_mut(index) {
            slot.value = None;
        }
        self.index.retain(|(_, h)| *h != handle);
        if handle.generation().get() < Self::MAX_GENERATION {
            self.free.push_back(index.get());
        }
        self.revision += 1;
        Ok(())
    }

    fn slot(&self, index: Index) -> Option<&Slot<V>> {
        self.slots.get(to_usize(index.get()))
    }

    fn slot_mut(&mut self, index: Index) -> Option<&mut Slot<V>> {
        self.slots.get_mut(to_usize(index.get()))
    }
}

impl<V, K: PartialEq, C: Config> Reference<V, K, C> {
    /// What the store's `Guard::find(key, predicate)` returns: the first
    /// live value under `key`, in insertion order, that `predicate` accepts.
    ///
    /// # Example
    ///
    /// ```
    /// use polyplug_verification::reference::Reference;
    ///
    /// let mut model: Reference<u32> = Reference::new();
    /// model.insert(9, 1)?;
    /// let two = model.insert(9, 2)?;
    /// assert_eq!(model.find(&9, |v| *v >= 2), Some((two, &2)));
    /// assert_eq!(model.find(&8, |_| true), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn find(&self, key: &K, mut predicate: impl FnMut(&V) -> bool) -> Option<(Handle<C>, &V)> {
        self.live()
            .find(|(_, k, value)| *k == key && predicate(value))
            .map(|(handle, _, value)| (handle, value))
    }

    /// What the store's `Guard::find_all(key)` yields, collected: every live
    /// value under `key`, oldest first.
    ///
    /// # Example
    ///
    /// ```
    /// use polyplug_verification::reference::Reference;
    ///
    /// let mut model: Reference<u32> = Reference::new();
    /// let a = model.insert(5, 1)?;
    /// let b = model.insert(5, 2)?;
    /// model.insert(6, 3)?;
    /// assert_eq!(model.find_all(&5), [(a, &1), (b, &2)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn find_all(&self, key: &K) -> Vec<(Handle<C>, &V)> {
        self.live()
            .filter(|(_, k, _)| *k == key)
            .map(|(handle, _, value)| (handle, value))
            .collect()
    }
}

impl<V, K, C: Config> Default for Reference<V, K, C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V: fmt::Debug, K: fmt::Debug, C: Config> fmt::Debug for Reference<V, K, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let slots: Vec<String> = self
            .slots
            .iter()
            .map(|s| match &s.value {
                Some(v) => format!("g{}={v:?}", s.generation),
                None if s.generation == Self::MAX_GENERATION => {
                    format!("g{}=retired", s.generation)
                }
                None => format!("g{}=empty", s.generation),
            })
            .collect();
        f.debug_struct("Reference")
            .field("slots", &slots)
            .field("free", &self.free)
            .field("index", &self.index)
            .field("revision", &self.revision)
            .finish()
    }
}

/// A slot index as a `Vec` position (`usize::MAX`, never a position, on a
/// target where it would not fit).
fn to_usize(index: u32) -> usize {
    usize::try_from(index).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    polyplug_store::config! {
        Tiny { index: 1, generation: 2, first_segment: 0 }
    }

    fn h(index: u32, generation: u32) -> Handle<Tiny> {
        Handle::new(Index::new(index), Generation::new(generation)).unwrap()
    }

    #[test]
    fn reuse_retirement_and_full() {
        let mut m: Reference<u32, u8, Tiny> = Reference::new();
        assert_eq!(
            m.get(h(0, 1)),
            Err(GetError::OutOfRange { handle: h(0, 1) })
        );
        assert_eq!(m.insert(0, 10), Ok(h(0, 1)));
        assert_eq!(m.insert(0, 11), Ok(h(1, 1)));
        let full = m.insert(0, 12).unwrap_err();
        assert_eq!(full.error, WriteError::Full { capacity: 2 });
        assert_eq!(full.value, Some(12));
        m.remove(h(1, 1)).unwrap();
        m.remove(h(0, 1)).unwrap();
        // FIFO: slot 1 was freed first.
        assert_eq!(m.insert(0, 13), Ok(h(1, 2)));
        assert_eq!(
            m.get(h(1, 1)),
            Err(GetError::Stale {
                handle: h(1, 1),
                current: Generation::new(2)
            })
        );
        assert_eq!(m.get(h(0, 1)), Err(GetError::Removed { handle: h(0, 1) }));
        m.remove(h(1, 2)).unwrap();
        assert_eq!(m.insert(0, 14), Ok(h(0, 2)));
        assert_eq!(m.insert(0, 15), Ok(h(1, 3)));
        m.remove(h(1, 3)).unwrap();
        assert!(m.is_retired(Index::new(1)));
        // Slot 1 is retired, slot 0 is live: full.
        assert!(m.insert(0, 16).is_err());
        assert_eq!(m.find(&0, |_| true), Some((h(0, 2), &14)));
        assert_eq!(m.revision(), 9);
    }
}
