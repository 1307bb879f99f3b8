//! Plugin `{{name}}`: contract `{{name}}` 1.0.0, made by `polyplug new`,
//! built for wasm32-unknown-unknown: `{{build}}`.
//!
//! | function | kind | behaviour |
//! |---|---|---|
//! | `add` | typed `u32(u32,u32)` | `a + b`, wrapping |
//! | `version` | typed `u32()` | 1 |
//!
//! The same `plugin!` declaration builds a native plugin too; in a wasm
//! build it exports `{{name}}@1.0.0/add:u32(u32,u32)` and
//! `{{name}}@1.0.0/version:u32()`, the names the wasm loader reads.

use polyplug_guest::abi::LOG_INFO;
use polyplug_guest::{Error, Host};

fn init(host: &Host) -> Result<(), Error> {
    host.log(LOG_INFO, "{{name}} 1.0.0 starts");
    Ok(())
}

fn add(a: u32, b: u32) -> u32 {
    a.wrapping_add(b)
}

fn version() -> u32 {
    1
}

polyplug_guest::plugin! {
    init = init;
    contract "{{name}}" "1.0.0" {
        typed add(a: u32, b: u32) -> u32 = add;
        typed version() -> u32 = version;
    }
}
