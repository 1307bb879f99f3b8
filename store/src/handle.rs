//! Generational handles: a slot index and a generation packed into a `u64`.
//!
//! A handle names one value, not one slot. When a slot is emptied and reused,
//! the new value gets the next generation, so a handle to the old value can
//! never resolve to the new one (the ABA problem). Generations never wrap: a
//! slot whose generation reaches [`Config::GENERATION_BITS`]'s maximum is
//! retired for good when it is emptied.
//!
//! Layout, low bits first: `INDEX_BITS` of index, then `GENERATION_BITS` of
//! generation, then zeros. Generation 0 is never issued, so the all-zero word
//! is never a valid handle; C callers may use it as "no handle".

#![deny(clippy::arithmetic_side_effects)]

use core::fmt;
use core::hash::{Hash, Hasher};
use core::marker::PhantomData;

use crate::config::{Config, DefaultConfig, Layout};

/// A slot's position in the store's table.
///
/// # Example
///
/// ```
/// # if polyplug_store::sync::MODEL_BUILD { return; }
/// use polyplug_store::Index;
/// assert_eq!(Index::new(7).get(), 7);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Index(u32);

impl Index {
    /// Wraps a raw index. Any `u32` is an index; whether it fits a store's
    /// config is checked by [`Handle::new`].
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::{Generation, Handle, Index};
    ///
    /// let index = Index::new(3);
    /// let h: Handle = Handle::new(index, Generation::FIRST).unwrap();
    /// assert_eq!(h.index(), index);
    /// ```
    pub const fn new(raw: u32) -> Self {
        Self(raw)
    }

    /// The raw index.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::Store;
    ///
    /// let store: Store<&str> = Store::new();
    /// let h = store.insert(1, "first").unwrap();
    /// assert_eq!(h.index().get(), 0); // the first slot of a fresh store
    /// ```
    pub const fn get(self) -> u32 {
        self.0
    }
}

/// How many values a slot has held, counting the current one.
///
/// The first value placed in a slot has generation 1; 0 is never issued.
///
/// # Example
///
/// ```
/// # if polyplug_store::sync::MODEL_BUILD { return; }
/// use polyplug_store::Generation;
/// assert_eq!(Generation::FIRST.get(), 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Generation(u32);

impl Generation {
    /// The generation of the first value a slot holds.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::{Generation, Store};
    ///
    /// let store: Store<&str> = Store::new();
    /// let h = store.insert(1, "v1").unwrap();
    /// assert_eq!(h.generation(), Generation::FIRST);
    /// ```
    pub const FIRST: Self = Self(1);

    /// Wraps a raw generation. Generation 0 is representable but never
    /// issued: [`Handle::new`] refuses it.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::{Generation, Handle, Index};
    ///
    /// assert_eq!(Generation::new(1), Generation::FIRST);
    /// let zero: Option<Handle> = Handle::new(Index::new(0), Generation::new(0));
    /// assert_eq!(zero, None);
    /// ```
    pub const fn new(raw: u32) -> Self {
        Self(raw)
    }

    /// The raw generation.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::Store;
    ///
    /// let store: Store<&str> = Store::new();
    /// let old = store.insert(1, "v1").unwrap();
    /// store.remove(old).unwrap();
    /// let new = store.insert(1, "v2").unwrap(); // reuses the emptied slot
    /// assert_eq!(new.index(), old.index());
    /// assert_eq!(new.generation().get(), old.generation().get() + 1);
    /// ```
    pub const fn get(self) -> u32 {
        self.0
    }

    /// The generation after this one, or `None` when `C` has no more.
    pub(crate) fn next<C: Config>(self) -> Option<Self> {
        let next = self.0.checked_add(1)?;
        (next <= Layout::<C>::MAX_GENERATION).then_some(Self(next))
    }
}

/// A generational handle to one value in a [`Store`](crate::Store).
///
/// `Copy`, `Send` and `Sync`: it is just a number. Holding a handle keeps
/// nothing alive; resolving it needs a [`Guard`](crate::Guard). A handle is
/// meaningful only to the store that issued it: handles are not branded, so
/// one used on another store with the same config names that store's slot
/// (memory-safe, but a logic error).
///
/// # Example
///
/// ```
/// # if polyplug_store::sync::MODEL_BUILD { return; }
/// use polyplug_store::{DefaultConfig, Generation, Handle, Index};
///
/// let h: Handle = Handle::new(Index::new(3), Generation::FIRST).unwrap();
/// assert_eq!(h.index(), Index::new(3));
/// assert_eq!(h.generation(), Generation::FIRST);
/// assert_eq!(Handle::<DefaultConfig>::from_raw(h.to_raw()), Some(h));
/// // Generation 0 is never issued, so 0 is never a handle.
/// assert_eq!(Handle::<DefaultConfig>::from_raw(0), None);
/// ```
pub struct Handle<C = DefaultConfig> {
    raw: u64,
    config: PhantomData<fn() -> C>,
}

impl<C: Config> Handle<C> {
    /// Packs `index` and `generation`, or `None` if either does not fit `C`
    /// or the generation is 0.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::{Generation, Handle, Index};
    ///
    /// polyplug_store::config! { Small { index: 4, generation: 3, first_segment: 1 } }
    /// assert!(Handle::<Small>::new(Index::new(15), Generation::new(7)).is_some());
    /// assert!(Handle::<Small>::new(Index::new(16), Generation::FIRST).is_none()); // 16 slots
    /// assert!(Handle::<Small>::new(Index::new(0), Generation::new(8)).is_none()); // 3 bits
    /// assert!(Handle::<Small>::new(Index::new(0), Generation::new(0)).is_none()); // never issued
    /// ```
    pub fn new(index: Index, generation: Generation) -> Option<Self> {
        let () = Layout::<C>::CHECKED;
        if u64::from(index.0) >= Layout::<C>::CAPACITY
            || generation.0 == 0
            || generation.0 > Layout::<C>::MAX_GENERATION
        {
            return None;
        }
        // Cannot overflow: generation < 2^GENERATION_BITS and
        // INDEX_BITS + GENERATION_BITS <= 64, so the shifted value fits.
        let high = u64::from(generation.0).checked_shl(C::INDEX_BITS)?;
        Some(Self {
            raw: high | u64::from(index.0),
            config: PhantomData,
        })
    }

    /// Unpacks a raw handle, or `None` if it could not have been issued by a
    /// store with config `C` (bits above the generation set, or generation 0).
    ///
    /// This is how a handle that came back from C is parsed: every `u64`
    /// gives a valid handle or `None`.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::{Handle, Store};
    ///
    /// let store: Store<&str> = Store::new();
    /// let h = store.insert(1, "v1").unwrap();
    /// let raw = h.to_raw(); // handed to C and back
    /// assert_eq!(Handle::from_raw(raw), Some(h));
    /// let none: Option<Handle> = Handle::from_raw(0); // C's "no handle"
    /// assert_eq!(none, None);
    /// ```
    pub fn from_raw(raw: u64) -> Option<Self> {
        let () = Layout::<C>::CHECKED;
        let used = C::INDEX_BITS.checked_add(C::GENERATION_BITS)?;
        if used < 64 && raw.checked_shr(used)? != 0 {
            return None;
        }
        let handle = Self {
            raw,
            config: PhantomData,
        };
        (handle.generation().0 != 0).then_some(handle)
    }

    /// The packed `u64`, for crossing an FFI boundary.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::{Generation, Handle, Index};
    ///
    /// // Index in the low 32 bits, generation in the high 32 bits.
    /// let h: Handle = Handle::new(Index::new(5), Generation::new(2)).unwrap();
    /// assert_eq!(h.to_raw(), (2 << 32) | 5);
    /// ```
    pub fn to_raw(self) -> u64 {
        self.raw
    }

    /// The slot index.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::{Handle, Index};
    ///
    /// let h: Handle = Handle::from_raw((1 << 32) | 9).unwrap();
    /// assert_eq!(h.index(), Index::new(9));
    /// ```
    pub fn index(self) -> Index {
        let mask = Layout::<C>::CAPACITY.wrapping_sub(1);
        Index(low_u32(self.raw & mask))
    }

    /// The generation.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::{Generation, Handle};
    ///
    /// let h: Handle = Handle::from_raw((4 << 32) | 9).unwrap();
    /// assert_eq!(h.generation(), Generation::new(4));
    /// ```
    pub fn generation(self) -> Generation {
        let shifted = self.raw.checked_shr(C::INDEX_BITS).unwrap_or(0);
        Generation(low_u32(shifted & u64::from(Layout::<C>::MAX_GENERATION)))
    }
}

/// The low 32 bits of a value already masked to at most 32 bits.
#[expect(
    clippy::cast_possible_truncation,
    reason = "callers mask to at most 32 bits first"
)]
const fn low_u32(masked: u64) -> u32 {
    masked as u32
}

impl<C> Clone for Handle<C> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<C> Copy for Handle<C> {}

impl<C> PartialEq for Handle<C> {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}

impl<C> Eq for Handle<C> {}

impl<C> Hash for Handle<C> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.raw.hash(state);
    }
}

impl<C: Config> fmt::Debug for Handle<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Handle({}v{})", self.index().0, self.generation().0)
    }
}

impl<C: Config> fmt::Display for Handle<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "slot {} generation {}",
            self.index().0,
            self.generation().0
        )
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use super::*;

    crate::config! {
        Narrow { index: 4, generation: 4, first_segment: 1 }
    }

    /// Every raw value of the narrow config's 8 handle bits, and some above.
    #[test]
    fn narrow_from_raw_is_exact() {
        for raw in 0u64..1024 {
            let parsed = Handle::<Narrow>::from_raw(raw);
            let valid = raw < 256 && (raw >> 4) != 0;
            assert_eq!(parsed.is_some(), valid, "raw {raw:#x}");
            if let Some(h) = parsed {
                assert_eq!(h.to_raw(), raw);
                assert_eq!(Handle::new(h.index(), h.generation()), Some(h));
            }
        }
    }

    /// Every (index, generation) pair, in range and one past each edge.
    #[test]
    fn narrow_new_round_trips() {
        for index in 0u32..=16 {
            for generation in 0u32..=16 {
                let h = Handle::<Narrow>::new(Index(index), Generation(generation));
                let valid = index < 16 && (1..16).contains(&generation);
                assert_eq!(h.is_some(), valid, "index {index} generation {generation}");
                if let Some(h) = h {
                    assert_eq!(h.index(), Index(index));
                    assert_eq!(h.generation(), Generation(generation));
                    assert_eq!(Handle::<Narrow>::from_raw(h.to_raw()), Some(h));
                }
            }
        }
    }

    #[test]
    fn generation_stops_at_the_maximum() {
        let mut g = Generation::FIRST;
        let mut steps = 0;
        while let Some(next) = g.next::<Narrow>() {
            g = next;
            steps += 1;
        }
        assert_eq!(g, Generation(15));
        assert_eq!(steps, 14);
        assert_eq!(Generation(u32::MAX).next::<DefaultConfig>(), None);
    }

    #[test]
    fn default_extremes() {
        let h = Handle::<DefaultConfig>::new(Index(u32::MAX), Generation(u32::MAX)).unwrap();
        assert_eq!(h.to_raw(), u64::MAX);
        assert_eq!(h.index(), Index(u32::MAX));
        assert_eq!(h.generation(), Generation(u32::MAX));
        assert_eq!(Handle::<DefaultConfig>::from_raw(u64::from(u32::MAX)), None);
    }
}
