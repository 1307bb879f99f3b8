//! Every error path of the C API, from a C program (`tests/c/errors.c`):
//! each call returns its status and a message naming the thing; and
//! `polyplug_buf_free` misused (`tests/c/buffers.c`).
#![cfg(not(any(loom, shuttle, miri)))]

#[expect(dead_code, reason = "this file builds no example")]
mod support;

use polyplug_fixtures::bundle;
use support::{build, run, test_source};

#[test]
fn every_error_path_returns_its_status_and_names_the_thing() {
    let exe = build("errors-c", &[test_source("errors.c")], false);
    let missing = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-such-bundle");
    let bundles = [
        "test-add",
        "c-add",
        "reload-v1",
        "reload-v2",
        "consumer",
        "bad-abi",
        "bad-init-error",
        "bad-lacks-contract",
    ]
    .map(bundle);
    let mut args: Vec<&std::path::Path> = bundles.iter().map(|p| p.as_path()).collect();
    args.push(&missing);
    let out = run(&exe, &args);
    assert!(out.ends_with("ok\n"), "{out}");
}

#[test]
fn buf_free_of_nothing_is_a_no_op_and_a_double_or_foreign_free_is_refused() {
    let exe = build("buffers-c", &[test_source("buffers.c")], false);
    let out = run(&exe, &[&bundle("c-text")]);
    assert!(out.ends_with("ok\n"), "{out}");
}
