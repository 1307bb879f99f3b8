//! C and C++ hosts against libpolyplug: seed scenario 3 (six dispatchers,
//! 80 real reloads) from C with pthreads and from C++ with std::thread, a C
//! host loading the Rust, C and C++ fixture plugins, and the example hosts.
#![cfg(not(any(loom, shuttle, miri)))]

mod support;

use polyplug_fixtures::bundle;
use support::{build, run, test_source};

#[test]
fn seed_scenario_3_from_a_c_host_with_pthreads() {
    let exe = build("seed-c", &[test_source("seed.c")], false);
    let out = run(&exe, &[&bundle("reload-v1"), &bundle("reload-v2")]);
    assert!(out.ends_with("ok\n"), "{out}");
}

#[test]
fn a_c_host_uses_rust_c_and_cpp_plugins() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("polyplug-capi-dir-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    polyplug_fixtures::copy_bundle("test-add", &dir).unwrap();
    polyplug_fixtures::copy_bundle("consumer", &dir).unwrap();
    let exe = build("plugins-c", &[test_source("plugins.c")], false);
    let bundles = [
        "test-add",
        "c-add",
        "test-add-cpp",
        "c-mul",
        "host-user",
        "reload-v1",
        "reload-v2",
    ]
    .map(bundle);
    let mut args: Vec<&std::path::Path> = bundles.iter().map(|p| p.as_path()).collect();
    args.push(&dir);
    let out = run(&exe, &args);
    assert!(out.ends_with("ok\n"), "{out}");
    std::fs::remove_dir_all(&dir).unwrap();
}
