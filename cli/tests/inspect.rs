//! `polyplug inspect`: contracts, functions and load order.
#![cfg(not(any(loom, shuttle, miri)))]

pub mod common;

use std::path::Path;

use common::{JS_COUNTER, LUA_COUNTER, PYTHON_COUNTER, TempDir, polyplug, script_bundle};
use polyplug_examples::{Build, PLUGINS, WASM_PLUGIN, build_dir};

#[test]
fn inspect_lists_the_contracts_of_a_directory_in_load_order() {
    let run = polyplug(&[Path::new("inspect"), &build_dir(Build::V2)]);
    assert_eq!(run.code, Some(0), "{run:?}");
    for plugin in PLUGINS {
        assert!(
            run.stdout
                .contains(&format!("{} 2.0.0 (native)", plugin.name)),
            "{}",
            run.stdout
        );
    }
    assert!(
        run.stdout.contains("counter-wasm 2.0.0 (wasm)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("  module    counter_wasm_v2.wasm"),
        "{}",
        run.stdout
    );
    for expected in [
        "counter-lua 2.0.0 (lua)",
        "  script    counter.lua",
        "counter-js 2.0.0 (javascript)",
        "  module    counter.js",
        "counter-python 2.0.0 (python)",
        "  script    counter.py",
    ] {
        assert!(
            run.stdout.contains(expected),
            "{expected:?} not in:\n{}",
            run.stdout
        );
    }
    assert_eq!(
        run.stdout
            .matches("  contract  demo.counter 1.0.0 (instances)")
            .count(),
        4
    );
    assert_eq!(
        run.stdout
            .matches("  contract  demo.counter 1.0.0\n")
            .count(),
        3,
        "the Lua, JavaScript and Python ones"
    );
    assert_eq!(run.stdout.matches("    native  2 step, count").count(), 3);
    assert_eq!(
        run.stdout.matches("    native  0 -").count(),
        4,
        "the wasm, Lua, JavaScript and Python ones"
    );
    assert_eq!(
        run.stdout.matches("    typed   2 ").count(),
        7,
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "load order: counter-c, counter-cpp, counter-js, counter-lua, counter-python, counter-rust, counter-wasm"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn inspect_of_one_bundle_prints_no_load_order() {
    let run = polyplug(&[Path::new("inspect"), &PLUGINS[0].dir(Build::V1)]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout.starts_with("counter-rust 1.0.0 (native)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("  library   libcounter_rust_v1.so"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("load order"), "{}", run.stdout);
}

#[test]
fn inspect_of_a_directory_without_bundles_fails() {
    let run = polyplug(&[
        Path::new("inspect"),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src").as_path(),
    ]);
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("expected a bundle"), "{}", run.stderr);
}

#[test]
fn inspect_of_a_wasm_bundle_lists_its_exports_as_typed_functions() {
    let run = polyplug(&[Path::new("inspect"), &WASM_PLUGIN.dir(Build::V1)]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout.starts_with("counter-wasm 1.0.0 (wasm)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("  module    counter_wasm_v1.wasm"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("  contract  demo.counter 1.0.0 (instances)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("    native  0 -"), "{}", run.stdout);
    assert!(run.stdout.contains("step: u32(u32)"), "{}", run.stdout);
}

#[test]
fn inspect_lists_lua_javascript_and_python_bundles_with_their_scripts() {
    let tmp = TempDir::new("inspect-scripts");
    script_bundle(
        tmp.path(),
        "counter-js",
        "javascript",
        "counter.js",
        JS_COUNTER,
    );
    script_bundle(tmp.path(), "counter-lua", "lua", "counter.lua", LUA_COUNTER);
    script_bundle(
        tmp.path(),
        "counter-python",
        "python",
        "counter.py",
        PYTHON_COUNTER,
    );
    let run = polyplug(&[Path::new("inspect"), tmp.path()]);
    assert_eq!(run.code, Some(0), "{run:?}");
    for expected in [
        "counter-lua 1.0.0 (lua)",
        "  script    counter.lua",
        "counter-js 1.0.0 (javascript)",
        "  module    counter.js",
        "counter-python 1.0.0 (python)",
        "  script    counter.py",
        "load order: counter-js, counter-lua, counter-python",
    ] {
        assert!(
            run.stdout.contains(expected),
            "{expected:?} not in:\n{}",
            run.stdout
        );
    }
    assert_eq!(
        run.stdout
            .matches("  contract  demo.counter 1.0.0\n")
            .count(),
        3,
        "{}",
        run.stdout
    );
    assert_eq!(run.stdout.matches("    native  0 -").count(), 3);
    assert_eq!(run.stdout.matches("    typed   2 ").count(), 3);
    assert_eq!(run.stdout.matches("step: u32(u32)").count(), 3);
}
