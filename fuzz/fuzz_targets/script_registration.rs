//! A structured registration rendered as a Lua script and as a JavaScript
//! module, loaded through the Lua and JavaScript loaders; see
//! `polyplug_fuzz::script_registration`.
#![no_main]

use polyplug_fuzz::script_registration::{ScriptInput, check};

libfuzzer_sys::fuzz_target!(|input: ScriptInput| {
    check(&input);
});
