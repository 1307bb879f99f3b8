//! The checks behind polyplug's fuzz targets, one module per input that a
//! file or a plugin can hand the host.
//!
//! # The problem
//!
//! A host loads bundles it did not write. Every byte of a `manifest.toml`,
//! every version or contract key in it, and every table a plugin registers
//! reaches a parser or a validator before anything else happens. Those
//! functions are pure and must be total: a typed value or a typed error for
//! every input, never a panic. The slot store under the runtime must answer
//! exactly as its reference model does, whatever sequence of writes, reads
//! and reclaims it sees.
//!
//! # The concepts
//!
//! Each module holds one `check` function that takes what libFuzzer made
//! (bytes, or for the structured targets a value built with [`arbitrary`]) and panics only when a
//! property fails. The targets in `fuzz_targets/` are one line each.
//!
//! | module | what it feeds | what it asserts |
//! |---|---|---|
//! | [`manifest`] | bytes to `parse_manifest` | no panic; errors name the file and a real position, in a message without control characters; an accepted manifest renders back to text that parses to the same manifest |
//! | [`syntax`] | text to the version, name and contract-key parsers | each agrees with an independent rule; every accepted value displays back to its input; `ContractId::of` equals the hash of the formatted key |
//! | [`registration`] | a `PlainInterface` to `validate` | accepted exactly when an independent oracle of the documented limits accepts; a refusal names a faulty field, in a message without control characters |
//! | [`signature`] | signature spellings to `validate` and `Signature::matches` | a spelling matches exactly the type whose spelling it is, and every such spelling registers |
//! | [`text`] | bytes, as text, to `Escaped`, which every error message shows plugin and file text through | no control or bidi character comes out, whole or in pieces; printable text comes out unchanged |
//! | [`seal`] | bytes to the signed-bundle parsers: the signature file, the hash list, the key files | no panic; errors name a real line; a signature verifies only when it is the trusted key's own, never with another key; an accepted hash list formats back to its input byte for byte; a key formats back to itself |
//! | [`store_ops`] | a script of store operations to `Store` and the reference model | every result identical; reclamation and drop destroy each value exactly once |
//! | [`script_registration`] | a structured registration with odd values, as a Lua returned table, a JavaScript export and a Python `CONTRACTS` list, to the Lua, JavaScript and Python loaders | loads with exactly the contracts registered when every field is good and declared, is refused with a `LoadError` when one is wrong; the runtime serves a good bundle after; no load or state left alive |
//! | [`wasm_module`] | bytes as a wasm module (and arguments) to the wasm loader in a scratch runtime, every typed export called | no panic; a refused module leaves nothing; calls answer or fail with a trap, budget or internal code naming the function; nothing alive after unload |
//!
//! # Example
//!
//! ```
//! polyplug_fuzz::manifest::check(b"[bundle]\nname = \"demo\"\n");
//! polyplug_fuzz::syntax::check(b"1.2.3");
//! polyplug_fuzz::signature::check(b"u32 (u32, u32)");
//! ```

pub mod definition;
pub mod manifest;
pub mod registration;
pub mod script_registration;
pub mod seal;
pub mod signature;
pub mod store_ops;
pub mod syntax;
pub mod text;
pub mod wasm_module;
