//! Signed bundles' files: the signature file ([`parse_signature`] and
//! [`MinisignSignature::verify`]), the hash list ([`parse_sums`]) and the
//! key files ([`PublicKey::parse`], [`SecretKey::parse`]), fed the same
//! bytes.
//!
//! Properties, for every input:
//!
//! 1. No parser panics, and every error names a line of the input (or
//!    the one after its end), in a message without control characters.
//! 2. A signature that parses verifies over the fixed list with the fixed
//!    key only when its signature is the genuine one of that list, and
//!    never with another key.
//! 3. A hash list that parses is in its one canonical form: formatting it
//!    gives back the input, byte for byte; every path in it is relative,
//!    and sorted.
//! 4. A key that parses formats to text that parses to the same key.

use polyplug_loader::{
    FormatError, PublicKey, SecretKey, format_sums, is_unsafe_char, parse_signature, parse_sums,
};

/// The fixed list the signatures are checked against.
pub const LIST: &[u8] =
    b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef  manifest.toml\n";

/// The trusted key's seed.
pub const SEED: [u8; 32] = [1; 32];

/// The fixed trusted comment of the genuine signature.
pub const COMMENT: &str = "polyplug bundle fuzz 1.0.0";

/// Asserts property 1 of `error`, for an input of `lines` lines.
fn well_formed(error: &FormatError, lines: usize, what: &str) {
    assert!(
        error.line >= 1 && error.line <= lines + 1,
        "{what}: line {} of an input of {lines} lines",
        error.line
    );
    let text = error.to_string();
    assert!(
        !text.chars().any(is_unsafe_char),
        "{what}: a control character in {text:?}"
    );
}

/// Checks the properties above for `bytes`.
///
/// ```
/// use polyplug_loader::SecretKey;
///
/// let key = SecretKey::from_seed(polyplug_fuzz::seal::SEED);
/// polyplug_fuzz::seal::check(key.sign(polyplug_fuzz::seal::LIST, "c").as_bytes());
/// polyplug_fuzz::seal::check(polyplug_fuzz::seal::LIST);
/// polyplug_fuzz::seal::check(b"untrusted comment: x\nRUQ=\n");
/// ```
pub fn check(bytes: &[u8]) {
    let lines = bytes.split(|b| *b == b'\n').count();
    let key = SecretKey::from_seed(SEED).public();
    let other = SecretKey::from_seed([2; 32]).public();
    match parse_signature(bytes) {
        Err(error) => well_formed(&error, lines, "signature"),
        Ok(signature) => {
            assert!(
                signature.verify(LIST, &other).is_err(),
                "a signature verifies with a key that did not make it"
            );
            if signature.verify(LIST, &key).is_ok() {
                // Ed25519 signs deterministically: the key's own signature
                // of the list with this comment is the only one.
                let own = SecretKey::from_seed(SEED).sign(LIST, signature.trusted_comment());
                assert_eq!(
                    parse_signature(own.as_bytes()).ok(),
                    Some(signature),
                    "a signature that is not the key's verifies"
                );
            }
        }
    }
    match parse_sums(bytes) {
        Err(error) => well_formed(&error, lines, "hash list"),
        Ok(list) => {
            assert_eq!(
                format_sums(&list),
                bytes,
                "a hash list not in canonical form"
            );
            for path in list.keys() {
                assert!(
                    !path.starts_with('/') && !path.split('/').any(|c| c == ".." || c.is_empty()),
                    "a path that leaves the bundle: {path:?}"
                );
            }
        }
    }
    let text = String::from_utf8_lossy(bytes);
    let text_lines = text.split('\n').count();
    match PublicKey::parse(&text) {
        Err(error) => well_formed(&error, text_lines, "public key"),
        Ok(public) => assert_eq!(PublicKey::parse(&public.to_text()).ok(), Some(public)),
    }
    match SecretKey::parse(&text) {
        Err(error) => well_formed(&error, text_lines, "secret key"),
        Ok(secret) => {
            let again = SecretKey::parse(&secret.to_text()).map(|s| s.public());
            assert_eq!(again.ok(), Some(secret.public()));
        }
    }
}
