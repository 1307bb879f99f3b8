//! Contract definitions: a contract written once, in a file.
//!
//! # The problem
//!
//! A contract (`demo.counter` 1.0.0 with `step: u32(u32)`) is spelled in
//! every plugin that provides it and every host that calls it: in a
//! `plugin!` block, a C table, a Lua table, a host's `typed::<..>("step")`.
//! Nothing but a failed lookup at run time says that two spellings drifted
//! apart.
//!
//! # The design
//!
//! - A [`Definition`] is one TOML file: the contract's name, version and
//!   doc, whether it is stateful, and its functions, each with a typed
//!   signature in the grammar every loader uses ([`signature`]), argument
//!   names and a doc comment.
//! - [`Definition::parse`] checks everything once; a [`DefinitionError`]
//!   names the file, line and column of the offending value.
//! - Code generators (`polyplug gen`) and the runtime's load-time check
//!   read the same [`Definition`].
//!
//! ```
//! use polyplug_contract::Definition;
//!
//! let text = r#"
//! [contract]
//! name = "demo.counter"
//! version = "1.0.0"
//! doc = "Counts."
//!
//! [[function]]
//! name = "step"
//! sig = "u32(u32)"
//! args = ["x"]
//! doc = "The next count after `x`."
//! "#;
//! let definition = Definition::parse(text, "counter.toml")?;
//! assert_eq!(definition.name, "demo.counter");
//! assert_eq!(definition.functions[0].signature.to_string(), "u32(u32)");
//!
//! let err = Definition::parse("[contract]\nname = \"demo.counter\"\nversion = \"1.x\"\n", "counter.toml")
//!     .unwrap_err();
//! assert_eq!((err.line, err.column), (3, 11));
//! # Ok::<(), polyplug_contract::DefinitionError>(())
//! ```

mod definition;
mod diff;
pub mod signature;

pub use definition::{Definition, DefinitionError, Function, MAX_DEFINITION_BYTES};
pub use diff::{Change, Diff};
pub use signature::{TypedSignature, ValueType};
