//! `polyplug new`: for Rust, C, C++ and wasm, the bundle it makes builds
//! with the command it prints, and then validates; a Lua, JavaScript or
//! Python bundle validates as it is made.
#![cfg(not(any(loom, shuttle, miri)))]
#![expect(
    clippy::unwrap_used,
    reason = "test support: a failed step fails the test"
)]

pub mod common;

use std::process::Command;

use common::{Run, TempDir, polyplug};

/// Runs `polyplug new <name> --lang <lang>`, then every command it printed
/// after `next:`, in order; returns the output of the last (validate).
fn new_builds_and_validates(name: &str, lang: &str) -> Run {
    let tmp = TempDir::new(&format!("new-{lang}"));
    let dir = tmp.path().to_str().unwrap();
    let run = polyplug(&["new", name, "--lang", lang, "--dir", dir]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let next: Vec<&str> = run
        .stdout
        .split_once("next:\n")
        .unwrap()
        .1
        .lines()
        .map(str::trim)
        .collect();
    let expected = if matches!(lang, "lua" | "js" | "python") {
        1
    } else {
        2
    };
    assert_eq!(
        next.len(),
        expected,
        "a build command unless a script, then validate: {next:?}"
    );
    assert!(next[expected - 1].contains(" validate "), "{next:?}");
    let mut last = None;
    for line in next {
        // A plain environment: no flags of an outer build leak into the
        // plugin's (a Rust plugin uses its own target directory).
        let output = Command::new("sh")
            .arg("-c")
            .arg(line)
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("CARGO_BUILD_TARGET")
            .output()
            .unwrap();
        let step = Run::from(output);
        assert_eq!(step.code, Some(0), "`{line}` failed: {step:?}");
        last = Some(step);
    }
    last.unwrap()
}

#[test]
fn a_new_c_plugin_builds_and_validates() {
    let run = new_builds_and_validates("hello-c", "c");
    assert!(
        run.stdout
            .starts_with("ok: hello-c 1.0.0: 1 contract (hello-c 1.0.0: 1 native, 2 typed)"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_new_cpp_plugin_builds_and_validates() {
    let run = new_builds_and_validates("hello-cpp", "cpp");
    assert!(
        run.stdout
            .starts_with("ok: hello-cpp 1.0.0: 1 contract (hello-cpp 1.0.0: 1 native, 2 typed)"),
        "{}",
        run.stdout
    );
}

/// Compiles the guest SDK and a cdylib in the bundle's own target
/// directory: a few seconds.
#[test]
fn a_new_rust_plugin_builds_and_validates() {
    let run = new_builds_and_validates("hello-rs", "rust");
    assert!(
        run.stdout
            .starts_with("ok: hello-rs 1.0.0: 1 contract (hello-rs 1.0.0: 1 native, 2 typed)"),
        "{}",
        run.stdout
    );
}

/// A Rust crate built for wasm32-unknown-unknown (compiles the guest SDK
/// for that target in the bundle's own target directory), then validated
/// through the wasm loader.
#[test]
fn a_new_wasm_plugin_builds_and_validates() {
    let run = new_builds_and_validates("hello-wasm", "wasm");
    assert!(
        run.stdout.starts_with(
            "ok: hello-wasm 1.0.0: 1 contract (hello-wasm 1.0.0: 0 native, 2 typed), wasm module hello_wasm.wasm sha256 "
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("unloads cleanly (module and instances dropped)"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_new_lua_plugin_validates_as_it_is_made() {
    let run = new_builds_and_validates("hello-lua", "lua");
    assert!(
        run.stdout.starts_with(
            "ok: hello-lua 1.0.0: 1 contract (hello-lua 1.0.0: 0 native, 2 typed), Lua script hello_lua.lua sha256 "
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("unloads cleanly ("), "{}", run.stdout);
}

#[test]
fn a_new_javascript_plugin_validates_as_it_is_made() {
    let run = new_builds_and_validates("hello-js", "js");
    assert!(
        run.stdout.starts_with(
            "ok: hello-js 1.0.0: 1 contract (hello-js 1.0.0: 0 native, 2 typed), JavaScript module hello_js.js sha256 "
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("unloads cleanly ("), "{}", run.stdout);
}

#[test]
fn a_new_python_plugin_validates_as_it_is_made() {
    let run = new_builds_and_validates("hello-python", "python");
    assert!(
        run.stdout.starts_with(
            "ok: hello-python 1.0.0: 1 contract (hello-python 1.0.0: 0 native, 2 typed), Python script hello_python.py sha256 "
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("unloads cleanly (script and its Python modules freed)"),
        "{}",
        run.stdout
    );
}

#[test]
fn new_refuses_a_bad_name_and_an_existing_directory() {
    let tmp = TempDir::new("new-refuses");
    let dir = tmp.path().to_str().unwrap();
    let run = polyplug(&["new", "Bad", "--lang", "c", "--dir", dir]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains("cannot use \"Bad\" as a bundle name"),
        "{}",
        run.stderr
    );
    assert_eq!(
        polyplug(&["new", "twice", "--lang", "c", "--dir", dir]).code,
        Some(0)
    );
    let run = polyplug(&["new", "twice", "--lang", "c", "--dir", dir]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains("twice exists already"),
        "{}",
        run.stderr
    );
}
