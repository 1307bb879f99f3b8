//! Typed-function signatures: the spelling a plugin registers
//! ([`PlainInterface::validate`] normalizes it) against the Rust type a
//! host asks for ([`Signature::matches`]).
//!
//! Properties, for every spelling:
//!
//! 1. Neither side panics.
//! 2. A whitespace-free spelling matches a function type exactly when it
//!    equals that type's [`Signature::spelling`].
//! 3. A spelling that some type matches is one a plugin can register:
//!    `validate` accepts it (when it fits [`MAX_NAME_BYTES`]).

use polyplug::Signature;
use polyplug::interface::{MAX_NAME_BYTES, PlainInterface};
use polyplug_abi::{ContractId, Version, VoidFn};

/// The function types the host side is checked with: none to six
/// arguments, every value type at least once, `void` returns.
type Types = [(fn(&str) -> bool, fn() -> String); 8];

fn types() -> Types {
    type A = extern "C" fn();
    type B = extern "C" fn(u32) -> u32;
    type C = extern "C" fn(u32, u32) -> u32;
    type D = extern "C" fn(u8, u16, u64) -> i64;
    type E = extern "C" fn(i8, i16, i32) -> f64;
    type F = extern "C" fn(usize, isize, f32, f64, u32, u8) -> usize;
    type G = extern "C" fn(f32) -> f32;
    type H = extern "C" fn() -> u32;
    [
        (A::matches, A::spelling),
        (B::matches, B::spelling),
        (C::matches, C::spelling),
        (D::matches, D::spelling),
        (E::matches, E::spelling),
        (F::matches, F::spelling),
        (G::matches, G::spelling),
        (H::matches, H::spelling),
    ]
}

extern "C" fn void_fn() {}

/// Whether a contract with one typed function spelled `signature`
/// validates.
fn registers(signature: Vec<u8>) -> bool {
    let plain = PlainInterface {
        id: ContractId::of("fuzz.sig", 1),
        name: b"fuzz.sig".to_vec(),
        version: Version::new(1, 0, 0),
        native: Vec::new(),
        typed: vec![(b"f".to_vec(), signature, Some(void_fn as VoidFn))],
        typed_packed: Vec::new(),
        create_instance: None,
        destroy_instance: None,
        context: Vec::new(),
        instance_ctx: std::ptr::null_mut(),
        create_context_instance: None,
        destroy_context_instance: None,
        save_instance: None,
        restore_instance: None,
        save_context_instance: None,
        restore_context_instance: None,
    };
    plain.validate().is_ok()
}

/// Checks the properties above for the spelling `bytes`.
///
/// ```
/// polyplug_fuzz::signature::check(b" u32 (u32,\tu32)");
/// polyplug_fuzz::signature::check(b"u32(u32,)");
/// ```
pub fn check(bytes: &[u8]) {
    let Ok(text) = core::str::from_utf8(bytes) else {
        assert!(
            !registers(bytes.to_vec()),
            "a signature that is not UTF-8 registers"
        );
        return;
    };
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let fits = bytes.len() <= MAX_NAME_BYTES;
    let registered = registers(bytes.to_vec());
    for (matches, spelling) in types() {
        let spelling = spelling();
        let matched = matches(&compact);
        assert_eq!(
            matched,
            compact == spelling,
            "{compact:?} against {spelling:?}"
        );
        if matched && fits {
            assert!(registered, "{text:?} matches {spelling:?} but is refused");
        }
        // The host's own spelling always registers.
        assert!(registers(spelling.clone().into_bytes()), "{spelling:?}");
    }
}
