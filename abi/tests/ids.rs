//! Known answers for [`ContractId::of`] and the compatibility table of
//! [`Version::satisfies`].
//!
//! The expected ids are computed here independently, by a plain FNV-1a 64
//! loop over the formatted key `name@major`, and pinned against published
//! FNV-1a test vectors; `ContractId::of` must agree for every name and major.
#![cfg(not(any(loom, shuttle)))]

use polyplug_abi::{ContractId, Version};

/// FNV-1a 64 of `bytes`, written out the obvious way.
fn fnv1a_64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

const NAMES: [&str; 9] = [
    "",
    "a",
    "test.add",
    "host.log",
    "org.example.storage.kv",
    "with space",
    "@",
    "名前",
    "0",
];

const MAJORS: [u32; 12] = [
    0,
    1,
    2,
    9,
    10,
    11,
    99,
    100,
    1000,
    12345,
    u32::MAX - 1,
    u32::MAX,
];

/// The reference loop itself, against the published FNV-1a 64 test vectors.
#[test]
fn reference_fnv1a_matches_published_vectors() {
    assert_eq!(fnv1a_64(b""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
    assert_eq!(fnv1a_64(b"foobar"), 0x8594_4171_f739_67e8);
}

#[test]
fn of_key_is_fnv1a_64() {
    for key in [
        &b""[..],
        b"a",
        b"foobar",
        b"test.add@1",
        "名前@3".as_bytes(),
    ] {
        assert_eq!(ContractId::of_key(key).0, fnv1a_64(key), "key {key:?}");
    }
}

#[test]
fn of_hashes_name_at_decimal_major() {
    for name in NAMES {
        for major in MAJORS {
            let key = format!("{name}@{major}");
            assert_eq!(
                ContractId::of(name, major).0,
                fnv1a_64(key.as_bytes()),
                "ContractId::of({name:?}, {major}) is not FNV-1a 64 of {key:?}"
            );
            assert_eq!(
                ContractId::of(name, major),
                ContractId::of_key(key.as_bytes())
            );
        }
    }
}

/// Literal answers, fixed for the life of ABI version 1: ids are compiled
/// into plugins and stored, so they may never change.
#[test]
fn known_answers() {
    assert_eq!(ContractId::of("test.add", 1).0, 14_718_382_584_480_468_267);
    assert_eq!(ContractId::of("test.add", 0).0, 14_718_381_484_968_840_056);
    assert_eq!(ContractId::of("test.add", 10).0, 6_163_663_145_765_782_753);
    assert_eq!(
        ContractId::of("test.add", u32::MAX).0,
        4_872_811_582_293_658_895
    );
    assert_eq!(ContractId::of("", 0).0, 651_922_467_453_162_845);
}

#[test]
fn of_is_usable_in_constants() {
    const ID: ContractId = ContractId::of("test.add", 1);
    assert_eq!(ID, ContractId::of("test.add", 1));
}

#[test]
fn majors_and_names_give_distinct_ids() {
    let mut ids = Vec::new();
    for name in NAMES {
        for major in MAJORS {
            ids.push(ContractId::of(name, major));
        }
    }
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count, "two keys of the table share an id");
    // "a@11" is not "a1@1": the separator keeps name and major apart.
    assert_ne!(ContractId::of("a", 11), ContractId::of("a1", 1));
}

#[test]
fn display_is_fixed_width_hex() {
    assert_eq!(
        ContractId(0xcbf2_9ce4_8422_2325).to_string(),
        "0xcbf29ce484222325"
    );
    assert_eq!(ContractId(1).to_string(), "0x0000000000000001");
    assert_eq!(ContractId(u64::MAX).to_string(), "0xffffffffffffffff");
}

#[test]
fn satisfies_table() {
    let v = Version::new;
    // (provided, required, satisfies)
    let table = [
        // Equal versions.
        (v(1, 0, 0), v(1, 0, 0), true),
        (v(0, 0, 0), v(0, 0, 0), true),
        // A higher minor serves a lower one; the patch never matters.
        (v(1, 3, 7), v(1, 3, 0), true),
        (v(1, 3, 0), v(1, 3, 7), true),
        (v(1, 3, 7), v(1, 0, 9), true),
        (v(1, 3, 0), v(1, 0, u32::MAX), true),
        (v(1, u32::MAX, 0), v(1, 0, 0), true),
        (v(1, u32::MAX, 0), v(1, u32::MAX, 0), true),
        // A lower minor does not serve a higher one.
        (v(1, 3, 7), v(1, 4, 0), false),
        (v(1, 0, u32::MAX), v(1, 1, 0), false),
        (v(1, u32::MAX - 1, 0), v(1, u32::MAX, 0), false),
        // Majors must be equal, in either direction.
        (v(1, 3, 7), v(2, 0, 0), false),
        (v(2, 0, 0), v(1, 0, 0), false),
        (v(2, 9, 9), v(1, 0, 0), false),
        (v(0, 1, 0), v(1, 1, 0), false),
        (v(0, 5, 0), v(0, 4, 0), true),
        (v(u32::MAX, 0, 0), v(u32::MAX, 0, 0), true),
        (v(u32::MAX, 0, 0), v(0, 0, 0), false),
    ];
    for (provided, required, expected) in table {
        assert_eq!(
            provided.satisfies(required),
            expected,
            "{provided}.satisfies({required})"
        );
    }
}

#[test]
fn version_display() {
    assert_eq!(Version::new(1, 2, 3).to_string(), "1.2.3");
    assert_eq!(Version::new(u32::MAX, 0, 10).to_string(), "4294967295.0.10");
}
