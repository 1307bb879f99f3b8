//! Contract ids: a stable hash of `name@major`.

use core::fmt;

/// The id of a contract: the 64-bit FNV-1a hash of the UTF-8 bytes of
/// `name@major`, with `major` written in decimal without leading zeros.
///
/// FNV-1a 64: start from the offset basis `0xcbf29ce484222325`; for each
/// byte, XOR it into the hash, then multiply by the prime `0x100000001b3`
/// modulo 2^64. The function is fixed for the life of ABI version 1, so ids
/// may be stored, compiled into plugins and compared across processes.
///
/// ```
/// use polyplug_abi::ContractId;
///
/// // The hash of the bytes "test.add@1".
/// assert_eq!(ContractId::of("test.add", 1), ContractId::of_key(b"test.add@1"));
/// assert_eq!(ContractId::of_key(b""), ContractId(0xcbf2_9ce4_8422_2325));
/// ```
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContractId(pub u64);

const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0000_0100_0000_01b3;
const DECIMAL: &[u8; 10] = b"0123456789";

const fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(PRIME);
        i += 1;
    }
    hash
}

impl ContractId {
    /// The id of contract `name` at major version `major`: the hash of
    /// `name@major`. Usable in constants.
    ///
    /// ```
    /// use polyplug_abi::ContractId;
    ///
    /// const TEST_ADD: ContractId = ContractId::of("test.add", 1);
    /// assert_eq!(TEST_ADD, ContractId::of("test.add", 1)); // stable: store it, compile it in
    /// assert_ne!(TEST_ADD, ContractId::of("test.add", 2)); // the major is part of the id
    /// ```
    pub const fn of(name: &str, major: u32) -> ContractId {
        let mut hash = fnv1a(OFFSET_BASIS, name.as_bytes());
        hash = fnv1a(hash, b"@");
        // The decimal digits of `major`, most significant first.
        let mut digits = [0u8; 10];
        let mut count = 0;
        let mut rest = major;
        loop {
            digits[count] = DECIMAL[(rest % 10) as usize];
            count += 1;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        while count > 0 {
            count -= 1;
            hash = fnv1a(hash, &[digits[count]]);
        }
        ContractId(hash)
    }

    /// The hash of an already formatted `name@major` key.
    ///
    /// ```
    /// use polyplug_abi::ContractId;
    ///
    /// assert_eq!(ContractId::of_key(b"test.add@10"), ContractId::of("test.add", 10));
    /// assert_eq!(ContractId::of_key(b"a").to_string(), "0xaf63dc4c8601ec8c");
    /// ```
    pub const fn of_key(key: &[u8]) -> ContractId {
        ContractId(fnv1a(OFFSET_BASIS, key))
    }
}

impl fmt::Display for ContractId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#018x}", self.0)
    }
}
