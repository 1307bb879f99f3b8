//! A structured registration rendered as a Lua script, a JavaScript module
//! and a Python script, loaded through the Lua, JavaScript and Python
//! loaders; see `polyplug_fuzz::script_registration`.
#![no_main]

use polyplug_fuzz::script_registration::{ScriptInput, check};

libfuzzer_sys::fuzz_target!(
    init: {
        // CPython keeps its small objects in arenas it maps itself, which
        // LeakSanitizer does not scan: every heap block only such an
        // object points to (a dict's table, a host function's closure)
        // would be reported as leaked after the first inputs. With
        // `PYTHONMALLOC=malloc`, read when the interpreter starts, each
        // object is a heap block LeakSanitizer scans, reachable from the
        // interpreter's state; a block really lost is still reported. The
        // variable is not set from here: the crate has no unsafe code, and
        // `std::env::set_var` is unsafe. ci/fuzz.sh sets it.
        if std::env::var_os("PYTHONMALLOC").is_none_or(|v| v != "malloc") {
            eprintln!(
                "script_registration: run with PYTHONMALLOC=malloc (as ci/fuzz.sh does), \
                 else LeakSanitizer reports what CPython's own allocator holds as leaked"
            );
            std::process::exit(2);
        }
    },
    |input: ScriptInput| {
        check(&input);
    }
);
