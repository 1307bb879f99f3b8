//! Compile-time bit widths for handles and the slot table.
//!
//! A [`Handle`](crate::Handle) packs a slot index and a generation into one
//! `u64`. How many bits each gets, and how large the first segment of the slot
//! table is, are constants of a [`Config`]. Production code uses
//! [`DefaultConfig`]; models use a tiny config so that slot reuse, generation
//! exhaustion and table growth all happen within a handful of operations.

/// Bit widths of a store's handles and the size of its first segment.
///
/// Each constant is checked when a store is instantiated: a config that breaks
/// a rule below fails to compile. A config is a unit type, so it derives the
/// plain traits (`Debug`, `Clone`, `Copy`, `PartialEq`, `Eq`).
///
/// - `1 <= INDEX_BITS <= 32`
/// - `1 <= GENERATION_BITS <= 32`
/// - `FIRST_SEGMENT_BITS <= INDEX_BITS` and `FIRST_SEGMENT_BITS <= 16`
///
/// # Example
///
/// ```
/// # if polyplug_store::sync::MODEL_BUILD { return; }
/// use polyplug_store::{Config, Store};
///
/// /// Eight slots, each reusable six times (generations 1 to 7).
/// #[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// struct Tiny;
/// impl Config for Tiny {
///     const INDEX_BITS: u32 = 3;
///     const GENERATION_BITS: u32 = 3;
///     const FIRST_SEGMENT_BITS: u32 = 1;
/// }
///
/// let store: Store<&str, u64, Tiny> = Store::new();
/// assert_eq!(Store::<&str, u64, Tiny>::CAPACITY, 8);
/// # drop(store);
/// ```
pub trait Config: 'static + Copy + core::fmt::Debug + Eq + Send + Sync {
    /// Bits of a handle that hold the slot index: a store has
    /// `2^INDEX_BITS` slots.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::{Config, DefaultConfig, Store};
    ///
    /// assert_eq!(Store::<u32>::CAPACITY, 1 << DefaultConfig::INDEX_BITS);
    /// ```
    const INDEX_BITS: u32;
    /// Bits of a handle that hold the generation: a slot can hold
    /// `2^GENERATION_BITS - 1` values in turn before it is retired.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::{Config, Generation, Handle, Index};
    ///
    /// polyplug_store::config! { Tiny { index: 2, generation: 2, first_segment: 0 } }
    /// assert_eq!(Tiny::GENERATION_BITS, 2);
    /// assert!(Handle::<Tiny>::new(Index::new(0), Generation::new(3)).is_some());
    /// assert!(Handle::<Tiny>::new(Index::new(0), Generation::new(4)).is_none());
    /// ```
    const GENERATION_BITS: u32;
    /// The first segment of the slot table holds `1 << FIRST_SEGMENT_BITS`
    /// slots; each later segment doubles.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::{Config, DefaultConfig};
    ///
    /// // 32 slots before the table first grows, then 64, 128, ...
    /// assert_eq!(1 << DefaultConfig::FIRST_SEGMENT_BITS, 32);
    /// ```
    const FIRST_SEGMENT_BITS: u32;
}

/// The production config: 32 index bits, 32 generation bits, a first segment
/// of 32 slots.
///
/// # Example
///
/// ```
/// # if polyplug_store::sync::MODEL_BUILD { return; }
/// use polyplug_store::{Config, DefaultConfig};
/// assert_eq!(DefaultConfig::INDEX_BITS + DefaultConfig::GENERATION_BITS, 64);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DefaultConfig;

impl Config for DefaultConfig {
    const INDEX_BITS: u32 = 32;
    const GENERATION_BITS: u32 = 32;
    const FIRST_SEGMENT_BITS: u32 = 5;
}

/// Declares a [`Config`]: a unit type with the plain derives and the three
/// constants.
///
/// # Example
///
/// ```
/// # if polyplug_store::sync::MODEL_BUILD { return; }
/// polyplug_store::config! {
///     /// Sixteen slots, generations 1 to 7.
///     pub Small { index: 4, generation: 3, first_segment: 1 }
/// }
/// let store: polyplug_store::Store<u32, u64, Small> = polyplug_store::Store::new();
/// assert_eq!(polyplug_store::Store::<u32, u64, Small>::CAPACITY, 16);
/// # drop(store);
/// ```
#[macro_export]
macro_rules! config {
    ($(#[$meta:meta])* $vis:vis $name:ident {
        index: $index:expr,
        generation: $generation:expr,
        first_segment: $first:expr $(,)?
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        $vis struct $name;

        impl $crate::Config for $name {
            const INDEX_BITS: u32 = $index;
            const GENERATION_BITS: u32 = $generation;
            const FIRST_SEGMENT_BITS: u32 = $first;
        }
    };
}

/// Derived constants, computed once per config at compile time.
pub(crate) struct Layout<C>(core::marker::PhantomData<C>);

impl<C: Config> Layout<C> {
    /// Forces the config checks; referenced by every constructor.
    pub(crate) const CHECKED: () = {
        assert!(
            C::INDEX_BITS >= 1 && C::INDEX_BITS <= 32,
            "INDEX_BITS must be in 1..=32"
        );
        assert!(
            C::GENERATION_BITS >= 1 && C::GENERATION_BITS <= 32,
            "GENERATION_BITS must be in 1..=32"
        );
        assert!(
            C::FIRST_SEGMENT_BITS <= C::INDEX_BITS && C::FIRST_SEGMENT_BITS <= 16,
            "FIRST_SEGMENT_BITS must be at most INDEX_BITS and at most 16"
        );
    };

    /// Number of slots: `2^INDEX_BITS`.
    pub(crate) const CAPACITY: u64 = 1u64 << C::INDEX_BITS;

    /// Largest generation: `2^GENERATION_BITS - 1`. Generation 0 is never issued.
    pub(crate) const MAX_GENERATION: u32 = if C::GENERATION_BITS == 32 {
        u32::MAX
    } else {
        (1u32 << C::GENERATION_BITS) - 1
    };

    /// Segments needed so that `first * (2^segments - 1) >= CAPACITY`.
    pub(crate) const SEGMENTS: usize = {
        let mut segments = 0u32;
        // Covered slots after `segments` segments: first * (2^segments - 1).
        while (1u64 << C::FIRST_SEGMENT_BITS) * ((1u64 << segments) - 1) < Self::CAPACITY {
            segments += 1;
        }
        segments as usize
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::config! {
        Tiny { index: 2, generation: 2, first_segment: 0 }
    }

    #[test]
    fn derived_constants() {
        assert_eq!(Layout::<DefaultConfig>::CAPACITY, 1 << 32);
        assert_eq!(Layout::<DefaultConfig>::MAX_GENERATION, u32::MAX);
        // 32 * (2^28 - 1) >= 2^32 > 32 * (2^27 - 1)
        assert_eq!(Layout::<DefaultConfig>::SEGMENTS, 28);
        assert_eq!(Layout::<Tiny>::CAPACITY, 4);
        assert_eq!(Layout::<Tiny>::MAX_GENERATION, 3);
        // sizes 1, 2, 4 cover 7 >= 4 slots; 1, 2 cover only 3.
        assert_eq!(Layout::<Tiny>::SEGMENTS, 3);
    }
}
