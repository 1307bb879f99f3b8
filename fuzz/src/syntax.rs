//! The small parsers: versions, minimum versions, bundle and contract
//! names, `name@major` keys, and [`ContractId::of`].
//!
//! Each parser is compared with a rule written here from its documentation
//! (accepts exactly when the rule does), and each accepted value must
//! display back to its input, since every accepted spelling is canonical
//! (no leading zeros, no optional parts beyond those given). In the other
//! direction, every value displays to a spelling that parses back to it.

use polyplug_abi::{ContractId, Version};
use polyplug_loader::{
    BundleName, ContractName, MAX_BUNDLE_NAME, MAX_CONTRACT_NAME, parse_contract_key,
    parse_version, parse_version_req,
};

/// Runs every parser on `bytes` (as text, when they are UTF-8) and checks
/// the properties above. The value-to-text checks use a version and a
/// major drawn from the hash of `bytes`, and the extremes 0 and
/// `u32::MAX`.
///
/// ```
/// polyplug_fuzz::syntax::check(b"test.add@1");
/// polyplug_fuzz::syntax::check(b"01.2");
/// polyplug_fuzz::syntax::check(b"\xff");
/// ```
pub fn check(bytes: &[u8]) {
    let [a, b, c, d, e, f, g, h] = ContractId::of_key(bytes).0.to_le_bytes();
    let drawn = Version::new(
        u32::from_le_bytes([a, b, c, d]),
        u32::from_le_bytes([e, f, g, h]),
        u32::from_le_bytes([c, d, e, f]),
    );
    for version in [
        drawn,
        Version::new(0, 0, 0),
        Version::new(u32::MAX, 0, u32::MAX),
    ] {
        let spelled = version.to_string();
        assert_eq!(parse_version(&spelled), Ok(version));
        assert_eq!(parse_version_req(&spelled), Ok(version));
        assert_eq!(
            parse_version_req(&version.major.to_string()),
            Ok(Version::new(version.major, 0, 0))
        );
    }
    let Ok(text) = core::str::from_utf8(bytes) else {
        return;
    };
    versions(text);
    names(text);
    for major in [drawn.major, 0, u32::MAX] {
        keys(text, major);
    }
}

/// Whether `part` is a decimal `u32` without a leading zero.
fn decimal_part(part: &str) -> bool {
    let digits = !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    let no_leading_zero = part == "0" || !part.starts_with('0');
    digits && no_leading_zero && part.parse::<u32>().is_ok()
}

fn versions(text: &str) {
    let parts: Vec<&str> = text.split('.').collect();
    let all_decimal = parts.iter().all(|p| decimal_part(p));
    let exact = parse_version(text);
    let minimum = parse_version_req(text);
    assert_eq!(exact.is_ok(), all_decimal && parts.len() == 3, "{exact:?}");
    assert_eq!(
        minimum.is_ok(),
        all_decimal && (1..=3).contains(&parts.len()),
        "{minimum:?}"
    );
    match exact {
        Ok(version) => {
            assert_eq!(version.to_string(), text);
            assert_eq!(minimum, Ok(version));
        }
        Err(error) => assert_names_input(&error.to_string(), text),
    }
    match minimum {
        Ok(version) => {
            let padding = ".0".repeat(3 - parts.len());
            assert_eq!(version.to_string(), format!("{text}{padding}"));
        }
        Err(error) => assert_names_input(&error.to_string(), text),
    }
}

/// Every parse error quotes the whole input.
fn assert_names_input(message: &str, text: &str) {
    let quoted = format!("{text:?}");
    assert!(
        message.contains(&quoted),
        "{message:?} does not quote {quoted}"
    );
}

/// The documented name rule: a letter `a-z` first, then only `a-z`, `0-9`
/// and `punctuation`, at most `max` characters.
fn name_rule(text: &str, punctuation: &[u8], max: usize) -> bool {
    let bytes = text.as_bytes();
    bytes.first().is_some_and(u8::is_ascii_lowercase)
        && bytes.len() <= max
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || punctuation.contains(b))
}

fn names(text: &str) {
    let bundle = BundleName::parse(text);
    let contract = ContractName::parse(text);
    assert_eq!(
        bundle.is_ok(),
        name_rule(text, b"_-", MAX_BUNDLE_NAME),
        "{bundle:?}"
    );
    assert_eq!(
        contract.is_ok(),
        name_rule(text, b"_.-", MAX_CONTRACT_NAME),
        "{contract:?}"
    );
    assert_eq!(text.parse::<BundleName>(), bundle);
    assert_eq!(text.parse::<ContractName>(), contract);
    match bundle {
        Ok(name) => {
            assert_eq!((name.as_str(), name.to_string()), (text, text.to_owned()));
            // Every bundle name is also a contract name.
            assert!(contract.is_ok());
        }
        Err(error) => assert!(error.to_string().contains("bundle name"), "{error}"),
    }
    match contract {
        Ok(name) => assert_eq!((name.as_str(), name.to_string()), (text, text.to_owned())),
        Err(error) => assert!(error.to_string().contains("contract name"), "{error}"),
    }
}

fn keys(text: &str, major: u32) {
    // `text` itself as a key.
    match parse_contract_key(text) {
        Ok((name, major)) => {
            assert_eq!(format!("{name}@{major}"), text);
            assert_eq!(
                ContractId::of(name.as_str(), major),
                ContractId::of_key(text.as_bytes())
            );
        }
        Err(error) => assert_names_input(&error.to_string(), text),
    }
    // `text@major`: a key exactly when `text` is a contract name.
    let key = format!("{text}@{major}");
    let parsed = parse_contract_key(&key);
    match ContractName::parse(text) {
        Ok(name) => assert_eq!(parsed, Ok((name, major))),
        Err(_) => assert!(parsed.is_err(), "{key:?} parsed as {parsed:?}"),
    }
    // The id is the hash of the formatted key, for any text at all.
    assert_eq!(
        ContractId::of(text, major),
        ContractId::of_key(key.as_bytes())
    );
}
