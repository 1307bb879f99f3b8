//! Black-box tests of the small pure parsers (versions, names, contract
//! keys) and of the totality of every parser on arbitrary input.
#![cfg(not(any(loom, shuttle)))]

use std::path::Path;

use polyplug_abi::Version;
use polyplug_loader::{
    BundleName, ContractKeyError, ContractName, NameError, NameKind, VersionError, VersionShape,
    parse_contract_key, parse_manifest, parse_version, parse_version_req,
};

/// A valid manifest whose every prefix and mutation is parsed below.
const FULL: &str = r#"[bundle]
name = "test-add"
version = "1.2.3"
loader = "native"

[library]
linux = "libtest_add.so"
sha256 = "00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff"

[[provides]]
name = "test.add"
version = "1.0.0"

[[requires]]
name = "test.host"
version = "1.2"
"#;

const FILE: &str = "bundles/test-add/manifest.toml";

#[test]
fn versions_parse_exactly() {
    assert_eq!(parse_version("0.0.0"), Ok(Version::new(0, 0, 0)));
    assert_eq!(
        parse_version("4294967295.10.0"),
        Ok(Version::new(u32::MAX, 10, 0))
    );
    let shape = |input: &str| {
        Err(VersionError::Shape {
            input: input.to_owned(),
            expected: VersionShape::Exact,
        })
    };
    for input in [
        "",
        "1",
        "1.2",
        "1.2.3.4",
        "1..2",
        ".1.2",
        "1.2.",
        " 1.0.0",
        "1.0.0 ",
        "-1.0.0",
        "+1.0.0",
        "1.0.x",
        "1.0.0-beta",
    ] {
        assert_eq!(parse_version(input), shape(input), "{input:?}");
    }
    assert_eq!(
        parse_version("01.0.0"),
        Err(VersionError::LeadingZero {
            input: "01.0.0".to_owned(),
            expected: VersionShape::Exact
        })
    );
    assert_eq!(
        parse_version("4294967296.0.0"),
        Err(VersionError::Overflow {
            input: "4294967296.0.0".to_owned()
        })
    );
}

#[test]
fn version_requirements_take_one_to_three_parts() {
    assert_eq!(parse_version_req("1"), Ok(Version::new(1, 0, 0)));
    assert_eq!(parse_version_req("1.2"), Ok(Version::new(1, 2, 0)));
    assert_eq!(parse_version_req("1.2.3"), Ok(Version::new(1, 2, 3)));
    assert_eq!(parse_version_req("0"), Ok(Version::new(0, 0, 0)));
    for input in ["", "1.2.3.4", "1.", ".", "a", "1.2.x"] {
        assert!(
            matches!(
                parse_version_req(input),
                Err(VersionError::Shape {
                    expected: VersionShape::Requirement,
                    ..
                })
            ),
            "{input:?}"
        );
    }
    assert!(matches!(
        parse_version_req("01"),
        Err(VersionError::LeadingZero { .. })
    ));
    assert!(matches!(
        parse_version_req("1.01"),
        Err(VersionError::LeadingZero { .. })
    ));
    assert!(matches!(
        parse_version_req("4294967296"),
        Err(VersionError::Overflow { .. })
    ));
}

#[test]
fn contract_keys_parse_name_at_major() {
    let (name, major) = parse_contract_key("test.add@1").unwrap();
    assert_eq!((name.as_str(), major), ("test.add", 1));
    assert_eq!(parse_contract_key("x@0").map(|(_, m)| m), Ok(0));
    assert_eq!(
        parse_contract_key("x@4294967295").map(|(_, m)| m),
        Ok(u32::MAX)
    );
    let major_error = |input: &str| {
        Err(ContractKeyError::Major {
            input: input.to_owned(),
        })
    };
    for input in [
        "a@",
        "x@01",
        "x@4294967296",
        "x@-1",
        "x@+1",
        "x@1.0",
        "x@ 1",
        "a@b@1",
    ] {
        assert_eq!(parse_contract_key(input), major_error(input), "{input:?}");
    }
    assert_eq!(
        parse_contract_key("@1"),
        Err(ContractKeyError::Name {
            input: "@1".to_owned(),
            source: NameError::Length {
                kind: NameKind::Contract,
                len: 0
            }
        })
    );
    assert!(matches!(
        parse_contract_key("Test@1"),
        Err(ContractKeyError::Name { .. })
    ));
    for input in ["", "test.add", "test.add1"] {
        assert_eq!(
            parse_contract_key(input),
            Err(ContractKeyError::NoSeparator {
                input: input.to_owned()
            })
        );
    }
}

#[test]
fn names_follow_their_character_sets_and_limits() {
    for good in ["a", "test-add", "a_b", "x9", &"a".repeat(64)] {
        assert_eq!(BundleName::parse(good).unwrap().as_str(), good);
    }
    for good in ["test.add", "a.b-c_d", &"a".repeat(128)] {
        assert_eq!(ContractName::parse(good).unwrap().as_str(), good);
    }
    assert_eq!(
        BundleName::parse(""),
        Err(NameError::Length {
            kind: NameKind::Bundle,
            len: 0
        })
    );
    assert_eq!(
        BundleName::parse(&"a".repeat(65)),
        Err(NameError::Length {
            kind: NameKind::Bundle,
            len: 65
        })
    );
    assert_eq!(
        ContractName::parse(&"a".repeat(129)),
        Err(NameError::Length {
            kind: NameKind::Contract,
            len: 129
        })
    );
    for bad_start in ["1a", "-a", "_a", ".a", "A"] {
        assert!(
            matches!(ContractName::parse(bad_start), Err(NameError::Start { .. })),
            "{bad_start:?}"
        );
    }
    for (bad, found) in [
        ("a b", ' '),
        ("aB", 'B'),
        ("a/b", '/'),
        ("a@1", '@'),
        ("a.b", '.'),
    ] {
        assert!(
            matches!(BundleName::parse(bad), Err(NameError::Char { found: f, .. }) if f == found),
            "{bad:?}"
        );
    }
    assert_eq!(
        ContractName::parse("a:b").unwrap_err().to_string(),
        "expected a contract name of the characters [a-z0-9_.-], found ':' in \"a:b\""
    );
}

/// A small deterministic generator, so the totality tests need no crate.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn parsers_are_total_on_arbitrary_strings() {
    const ALPHABET: &[u8] = b"0123456789.@abzAZ_- \xff\xc3\xa9\n";
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    for _ in 0..20_000 {
        let len = usize::try_from(rng.next() % 14).unwrap();
        let bytes: Vec<u8> = (0..len)
            .map(|_| ALPHABET[usize::try_from(rng.next() % ALPHABET.len() as u64).unwrap()])
            .collect();
        let text = String::from_utf8_lossy(&bytes);
        // Each must return, and render its error, without panicking.
        let _ = parse_version(&text).map_err(|e| e.to_string());
        let _ = parse_version_req(&text).map_err(|e| e.to_string());
        let _ = parse_contract_key(&text).map_err(|e| e.to_string());
        let _ = BundleName::parse(&text).map_err(|e| e.to_string());
        let _ = parse_manifest(&bytes, Path::new("m.toml")).map_err(|e| e.to_string());
    }
}

#[test]
fn every_prefix_and_single_byte_mutation_of_a_manifest_is_handled() {
    let full = FULL.as_bytes();
    let lines = FULL.lines().count() + 1;
    let check = |bytes: &[u8]| {
        if let Err(err) = parse_manifest(bytes, Path::new(FILE)) {
            assert!(err.line >= 1 && err.line <= lines, "{err}");
            assert!(err.column >= 1, "{err}");
            assert!(!err.to_string().contains('\n'), "one line: {err}");
        }
    };
    for end in 0..=full.len() {
        check(&full[..end]);
    }
    let mut rng = XorShift(42);
    for _ in 0..3_000 {
        let mut bytes = full.to_vec();
        let at = usize::try_from(rng.next() % full.len() as u64).unwrap();
        bytes[at] = u8::try_from(rng.next() % 256).unwrap();
        check(&bytes);
    }
}
