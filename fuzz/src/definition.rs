//! Contract definition files ([`Definition::parse`]).
//!
//! Properties, for every input:
//!
//! 1. The parser never panics.
//! 2. A refusal points inside the text: a line from 1 to the text's line
//!    count (plus one, for an error at its end) and a column from 1.
//! 3. What it accepts is sound: unique function names, one argument name
//!    per argument, and each signature prints as a spelling that parses
//!    back to itself.

use polyplug_contract::{Definition, TypedSignature};

/// Checks the properties on `bytes` (as UTF-8, lossily).
pub fn check(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    match Definition::parse(&text, "fuzz.toml") {
        Err(e) => {
            let lines = text.matches('\n').count() + 1;
            assert!(
                (1..=lines).contains(&e.line) && e.column >= 1,
                "{e} points outside {lines} lines"
            );
        }
        Ok(d) => {
            let mut names: Vec<&str> = d.functions.iter().map(|f| f.name.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(
                names.len(),
                d.functions.len(),
                "duplicate function in {d:?}"
            );
            for f in &d.functions {
                assert_eq!(f.args.len(), f.signature.args.len(), "{f}");
                let again = TypedSignature::parse(&f.signature.to_string());
                assert_eq!(again.as_ref(), Ok(&f.signature), "{f}");
            }
        }
    }
}
