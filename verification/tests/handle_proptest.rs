//! Handle packing round trips at production widths and at a few others.
//!
//! `store/src/handle.rs` enumerates a 4+4-bit config exhaustively; these
//! properties cover the widths that cannot be enumerated: `DefaultConfig`
//! (32+32 bits, every bit of the `u64` used) and configs whose handles leave
//! high bits unused or put all the width on one side.
//!
//! For each config `C`, with `used = INDEX_BITS + GENERATION_BITS`:
//!
//! - `Handle::new(i, g)` succeeds exactly when `i < 2^INDEX_BITS` and
//!   `1 <= g < 2^GENERATION_BITS`, and then `index()`, `generation()`,
//!   `to_raw()` and `from_raw()` round-trip;
//! - `from_raw(raw)` succeeds exactly when no bit at or above `used` is set
//!   and the generation field is not 0, and then `to_raw()` gives `raw` back.
#![cfg(not(any(loom, shuttle)))]

use polyplug_store::{Config, DefaultConfig, Generation, Handle, Index};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

polyplug_store::config! {
    /// 20 index bits, 12 generation bits: 32 bits used, 32 unused.
    W20x12 { index: 20, generation: 12, first_segment: 4 }
}

polyplug_store::config! {
    /// 24 + 24 bits: 16 unused high bits.
    W24x24 { index: 24, generation: 24, first_segment: 5 }
}

polyplug_store::config! {
    /// All generation: 1 index bit, 32 generation bits.
    W1x32 { index: 1, generation: 32, first_segment: 0 }
}

polyplug_store::config! {
    /// All index: 32 index bits, 1 generation bit (every slot used once).
    W32x1 { index: 32, generation: 1, first_segment: 5 }
}

polyplug_store::config! {
    /// 32 + 31 bits: only the top bit of the word is unused.
    W32x31 { index: 32, generation: 31, first_segment: 16 }
}

/// `2^bits - 1` for `bits <= 64`.
fn low_mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

fn used<C: Config>() -> u32 {
    C::INDEX_BITS + C::GENERATION_BITS
}

fn max_index<C: Config>() -> u32 {
    u32::try_from(low_mask(C::INDEX_BITS)).unwrap_or(u32::MAX)
}

fn max_generation<C: Config>() -> u32 {
    u32::try_from(low_mask(C::GENERATION_BITS)).unwrap_or(u32::MAX)
}

/// A `u32` in `lo..=hi`, often at or next to an edge.
fn edgy(lo: u32, hi: u32) -> BoxedStrategy<u32> {
    prop_oneof![
        4 => lo..=hi,
        1 => Just(lo),
        1 => Just(hi),
        1 => Just(lo.saturating_add(1).min(hi)),
        1 => Just(hi.saturating_sub(1).max(lo)),
    ]
    .boxed()
}

/// A valid `(index, generation)` pair for `C`.
fn valid_parts<C: Config>() -> BoxedStrategy<(u32, u32)> {
    (edgy(0, max_index::<C>()), edgy(1, max_generation::<C>())).boxed()
}

/// Any `(index, generation)` pair, biased to the edges of `C`'s widths.
fn any_parts<C: Config>() -> BoxedStrategy<(u32, u32)> {
    let index = prop_oneof![any::<u32>(), edgy(0, max_index::<C>()), Just(u32::MAX)];
    let generation = prop_oneof![
        any::<u32>(),
        edgy(0, max_generation::<C>()),
        Just(max_generation::<C>().saturating_add(1)),
        Just(u32::MAX),
    ];
    (index, generation).boxed()
}

/// `new` then the accessors, `to_raw` and `from_raw`.
fn check_new<C: Config>(index: u32, generation: u32) -> Result<(), TestCaseError> {
    let handle = Handle::<C>::new(Index::new(index), Generation::new(generation));
    let valid = u64::from(index) <= low_mask(C::INDEX_BITS)
        && generation != 0
        && u64::from(generation) <= low_mask(C::GENERATION_BITS);
    prop_assert_eq!(handle.is_some(), valid, "new({}, {})", index, generation);
    if let Some(h) = handle {
        prop_assert_eq!(h.index(), Index::new(index));
        prop_assert_eq!(h.generation(), Generation::new(generation));
        let raw = h.to_raw();
        prop_assert_eq!(
            raw,
            (u64::from(generation) << C::INDEX_BITS) | u64::from(index),
            "layout: index low, generation above it"
        );
        prop_assert_eq!(raw & !low_mask(used::<C>()), 0, "no bit above the handle");
        prop_assert_eq!(Handle::<C>::from_raw(raw), Some(h));
    }
    Ok(())
}

/// `from_raw` then `to_raw` and `new`.
fn check_raw<C: Config>(raw: u64) -> Result<(), TestCaseError> {
    let parsed = Handle::<C>::from_raw(raw);
    let above = raw & !low_mask(used::<C>());
    let generation_field = (raw >> C::INDEX_BITS) & low_mask(C::GENERATION_BITS);
    let valid = above == 0 && generation_field != 0;
    prop_assert_eq!(parsed.is_some(), valid, "from_raw({:#x})", raw);
    if let Some(h) = parsed {
        prop_assert_eq!(h.to_raw(), raw);
        prop_assert_eq!(u64::from(h.index().get()), raw & low_mask(C::INDEX_BITS));
        prop_assert_eq!(u64::from(h.generation().get()), generation_field);
        prop_assert_eq!(Handle::new(h.index(), h.generation()), Some(h));
    }
    Ok(())
}

/// Valid parts with stray bits above the handle: always rejected.
fn check_high_bits<C: Config>(index: u32, generation: u32, high: u64) -> Result<(), TestCaseError> {
    let used = used::<C>();
    prop_assert!(used < 64, "this config has no unused high bits");
    let high = high << used;
    prop_assume!(high != 0);
    let Some(h) = Handle::<C>::new(Index::new(index), Generation::new(generation)) else {
        return Err(TestCaseError::fail("valid_parts gave invalid parts"));
    };
    prop_assert_eq!(Handle::<C>::from_raw(h.to_raw() | high), None);
    Ok(())
}

/// An index with generation field 0: always rejected, by both constructors.
fn check_generation_zero<C: Config>(index: u32) -> Result<(), TestCaseError> {
    prop_assert_eq!(Handle::<C>::from_raw(u64::from(index)), None);
    prop_assert_eq!(
        Handle::<C>::new(Index::new(index), Generation::new(0)),
        None
    );
    Ok(())
}

/// Any raw word, biased to words near the handle's edges.
fn any_raw<C: Config>() -> BoxedStrategy<u64> {
    let used = used::<C>();
    prop_oneof![
        any::<u64>(),
        any::<u64>().prop_map(move |r| r & low_mask(used)),
        Just(0u64),
        Just(low_mask(used)),
        Just(low_mask(C::INDEX_BITS)),
        Just(low_mask(C::INDEX_BITS) + 1),
        Just(u64::MAX),
    ]
    .boxed()
}

macro_rules! width_tests {
    ($($module:ident => $config:ty;)*) => {$(
        mod $module {
            use super::*;

            proptest! {
                #[test]
                fn new_round_trips((index, generation) in valid_parts::<$config>()) {
                    check_new::<$config>(index, generation)?;
                }

                #[test]
                fn new_validates((index, generation) in any_parts::<$config>()) {
                    check_new::<$config>(index, generation)?;
                }

                #[test]
                fn from_raw_is_exact(raw in any_raw::<$config>()) {
                    check_raw::<$config>(raw)?;
                }

                #[test]
                fn generation_zero_is_rejected(index in edgy(0, max_index::<$config>())) {
                    check_generation_zero::<$config>(index)?;
                }
            }
        }
    )*};
}

width_tests! {
    default_config => DefaultConfig;
    w20x12 => W20x12;
    w24x24 => W24x24;
    w1x32 => W1x32;
    w32x1 => W32x1;
    w32x31 => W32x31;
}

/// Stray bits above the handle, for the configs that leave some unused
/// (`DefaultConfig` uses all 64).
macro_rules! high_bit_tests {
    ($($name:ident => $config:ty;)*) => {
        proptest! {$(
            #[test]
            fn $name((index, generation) in valid_parts::<$config>(), high in 1..=u64::MAX) {
                check_high_bits::<$config>(index, generation, high)?;
            }
        )*}
    };
}

high_bit_tests! {
    w20x12_rejects_high_bits => W20x12;
    w24x24_rejects_high_bits => W24x24;
    w1x32_rejects_high_bits => W1x32;
    w32x1_rejects_high_bits => W32x1;
    w32x31_rejects_high_bits => W32x31;
}

/// The production layout, spelled out: index in the low word, generation in
/// the high word, and every `u64` with a non-zero high word is a handle.
#[test]
fn default_layout_uses_the_whole_word() {
    assert_eq!(used::<DefaultConfig>(), 64);
    let h = Handle::<DefaultConfig>::new(Index::new(0xDEAD_BEEF), Generation::new(0x1234_5678))
        .unwrap();
    assert_eq!(h.to_raw(), 0x1234_5678_DEAD_BEEF);
    assert_eq!(
        Handle::<DefaultConfig>::from_raw(1 << 32).map(Handle::index),
        Some(Index::new(0))
    );
    assert_eq!(Handle::<DefaultConfig>::from_raw(u64::from(u32::MAX)), None);
}
