//! Static contract tables, and the const helpers that fill them.

use core::fmt;

use polyplug_abi::{ContractInterface, NativeEntry, TypedEntry, Version};

mod sealed {
    /// The ABI table types that [`StaticTable`](super::StaticTable) may hold.
    pub trait AbiTable {}
}

impl sealed::AbiTable for ContractInterface {}
impl sealed::AbiTable for NativeEntry {}
impl sealed::AbiTable for TypedEntry {}
impl<T: sealed::AbiTable, const N: usize> sealed::AbiTable for [T; N] {}

/// A contract table in a `static`: a [`ContractInterface`], or an array of
/// [`NativeEntry`] or [`TypedEntry`].
///
/// The ABI types hold raw pointers, which are not `Sync`, so a `static` of
/// them does not compile. This wrapper is `Sync` for exactly those types:
/// they are plain data without interior mutability, built at compile time
/// and never written, and their pointers point at other immutable statics
/// and string literals (\[G6\] in SAFETY.md). Sharing one between threads
/// only ever reads it.
///
/// [`plugin!`](crate::plugin) declares these for you.
///
/// ```
/// use polyplug_guest::StaticTable;
/// use polyplug_guest::abi::{NativeEntry, StrView};
///
/// static NATIVE: StaticTable<[NativeEntry; 1]> = StaticTable::new([NativeEntry {
///     name: StrView::from_static("add"),
///     func: None,
/// }]);
/// assert_eq!(NATIVE.get()[0].name.len, 3);
/// ```
#[repr(transparent)]
pub struct StaticTable<T>(T);

// SAFETY: [G6] `T` is a sealed ABI table type: plain data with no interior
// mutability, never written after compile time; shared access only reads.
unsafe impl<T: sealed::AbiTable> Sync for StaticTable<T> {}

impl<T> StaticTable<T> {
    /// Wraps a table.
    ///
    /// ```
    /// # use polyplug_guest::{StaticTable, abi::TypedEntry};
    /// static NONE: StaticTable<[TypedEntry; 0]> = StaticTable::new([]);
    /// assert!(NONE.get().is_empty());
    /// ```
    pub const fn new(table: T) -> StaticTable<T> {
        StaticTable(table)
    }

    /// The table.
    ///
    /// ```
    /// # use polyplug_guest::{StaticTable, abi::TypedEntry};
    /// static NONE: StaticTable<[TypedEntry; 0]> = StaticTable::new([]);
    /// assert_eq!(NONE.get().len(), 0);
    /// ```
    pub const fn get(&self) -> &T {
        &self.0
    }
}

impl<T, const N: usize> StaticTable<[T; N]> {
    /// A pointer to the first entry, for [`ContractInterface::native`] or
    /// [`ContractInterface::typed`].
    ///
    /// ```
    /// # use polyplug_guest::{StaticTable, abi::TypedEntry};
    /// static NONE: StaticTable<[TypedEntry; 0]> = StaticTable::new([]);
    /// assert!(!NONE.as_ptr().is_null());
    /// ```
    pub const fn as_ptr(&self) -> *const T {
        self.0.as_ptr()
    }
}

impl<T: fmt::Debug> fmt::Debug for StaticTable<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("StaticTable").field(&self.0).finish()
    }
}

/// Parses `major.minor.patch` at compile time; anything else fails the
/// build (a panic in const evaluation).
#[doc(hidden)]
#[expect(
    clippy::panic,
    reason = "evaluated in a constant: a panic is a compile error"
)]
pub const fn parse_version(text: &str) -> Version {
    let bytes = text.as_bytes();
    let mut parts = [0u32; 3];
    let mut part = 0;
    let mut digits = 0;
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        if byte == b'.' {
            if digits == 0 || part == 2 {
                panic!("contract version: expected \"major.minor.patch\"");
            }
            part += 1;
            digits = 0;
        } else if byte.is_ascii_digit() {
            let shifted = match parts[part].checked_mul(10) {
                Some(value) => value,
                None => panic!("contract version: a part does not fit in u32"),
            };
            parts[part] = match shifted.checked_add((byte - b'0') as u32) {
                Some(value) => value,
                None => panic!("contract version: a part does not fit in u32"),
            };
            digits += 1;
        } else {
            panic!("contract version: expected \"major.minor.patch\" with decimal digits");
        }
        i += 1;
    }
    if part != 2 || digits == 0 {
        panic!("contract version: expected \"major.minor.patch\"");
    }
    Version::new(parts[0], parts[1], parts[2])
}

/// A table length as the ABI's `u32` count; a longer table fails the build.
#[doc(hidden)]
#[expect(
    clippy::panic,
    reason = "evaluated in a constant: a panic is a compile error"
)]
pub const fn count_u32(len: usize) -> u32 {
    if len as u64 > u32::MAX as u64 {
        panic!("a contract table has more than u32::MAX entries");
    }
    #[expect(
        clippy::cast_possible_truncation,
        reason = "checked against u32::MAX above"
    )]
    let count = len as u32;
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse() {
        assert_eq!(parse_version("1.0.0"), Version::new(1, 0, 0));
        assert_eq!(parse_version("12.345.6789"), Version::new(12, 345, 6789));
        assert_eq!(
            parse_version("4294967295.0.1"),
            Version::new(u32::MAX, 0, 1)
        );
    }

    #[test]
    #[should_panic(expected = "major.minor.patch")]
    fn two_part_version_is_refused() {
        let _ = parse_version("1.0");
    }

    #[test]
    #[should_panic(expected = "decimal digits")]
    fn letters_are_refused() {
        let _ = parse_version("1.x.0");
    }

    #[test]
    fn counts() {
        assert_eq!(count_u32(0), 0);
        assert_eq!(count_u32(7), 7);
    }
}
