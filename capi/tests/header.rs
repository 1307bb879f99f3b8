//! The committed C header `include/polyplug_host.h` is exactly what
//! cbindgen generates from this crate today.
//!
//! Regenerate it after a change to `src/` or `cbindgen.toml` with
//!
//! ```text
//! POLYPLUG_BLESS=1 cargo test -p polyplug-capi --test header
//! ```
#![cfg(not(any(loom, shuttle, miri)))]
#![expect(
    clippy::panic,
    reason = "test support: a failure here fails the test with this message"
)]

use std::path::{Path, PathBuf};

/// Set to `1` to write the header instead of checking it.
const BLESS_ENV: &str = "POLYPLUG_BLESS";

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn header_path() -> PathBuf {
    manifest_dir().join("include").join("polyplug_host.h")
}

/// The header, as the committed file should read.
fn generate() -> Vec<u8> {
    let path = manifest_dir().join("cbindgen.toml");
    let config = cbindgen::Config::from_file(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    // `with_src` parses `src/lib.rs` and the modules it declares, in their
    // order, without running `cargo metadata`.
    let bindings = cbindgen::Builder::new()
        .with_src(manifest_dir().join("src").join("lib.rs"))
        .with_config(config)
        .generate()
        .unwrap_or_else(|e| panic!("cbindgen failed on polyplug-capi: {e}"));
    let mut out = Vec::new();
    bindings.write(&mut out);
    out
}

/// The first line where `a` and `b` differ, 1-based, for the failure message.
fn first_difference(a: &[u8], b: &[u8]) -> usize {
    let a = String::from_utf8_lossy(a);
    let b = String::from_utf8_lossy(b);
    let mut lines_a = a.lines();
    let mut lines_b = b.lines();
    let mut line = 1;
    loop {
        match (lines_a.next(), lines_b.next()) {
            (Some(x), Some(y)) if x == y => line += 1,
            _ => return line,
        }
    }
}

#[test]
fn committed_header_is_current() {
    let generated = generate();
    let path = header_path();
    if std::env::var_os(BLESS_ENV).is_some_and(|v| v == "1") {
        std::fs::write(&path, &generated)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        return;
    }
    let committed = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}; generate it with `{BLESS_ENV}=1 cargo test -p polyplug-capi --test header`",
            path.display()
        )
    });
    assert!(
        committed == generated,
        "{} is stale: it differs from the cbindgen output from line {} on.\n\
         Regenerate it with `{BLESS_ENV}=1 cargo test -p polyplug-capi --test header` \
         and commit the result; never edit it by hand.",
        path.display(),
        first_difference(&committed, &generated),
    );
}

/// Every function the library exports is declared, every object type is
/// opaque, and nothing internal leaks into the header.
#[test]
fn header_declares_every_export_and_nothing_internal() {
    let header = String::from_utf8(generate()).expect("cbindgen writes UTF-8");
    let mut exported = 0;
    for entry in std::fs::read_dir(manifest_dir().join("src")).expect("src/ is readable") {
        let source = std::fs::read_to_string(entry.expect("a directory entry").path())
            .expect("sources are UTF-8");
        let mut lines = source.lines();
        while let Some(line) = lines.next() {
            if line.trim() != "#[unsafe(no_mangle)]" {
                continue;
            }
            let signature = lines.next().unwrap_or_default();
            let name = signature
                .split("fn ")
                .nth(1)
                .and_then(|rest| rest.split('(').next())
                .unwrap_or_else(|| panic!("cannot read the export after {line:?}: {signature:?}"));
            assert!(
                header.contains(&format!(" {name}(")),
                "the header does not declare {name}"
            );
            exported += 1;
        }
    }
    assert!(exported >= 40, "found only {exported} exports");
    for object in [
        "polyplug_runtime",
        "polyplug_reader",
        "polyplug_fn",
        "polyplug_instance",
        "polyplug_bundle_list",
        "polyplug_host_contract",
        "polyplug_subscription",
        "polyplug_listener",
    ] {
        assert!(
            header.contains(&format!("typedef struct {object} {object};")),
            "{object} is not declared opaque"
        );
        assert!(
            !header.contains(&format!("typedef struct {object} {{")),
            "{object} has its fields in the header"
        );
    }
    for internal in ["Option_", "Tag ", "Slot", "Arc_", "Vec_", "Inbox"] {
        assert!(
            !header.contains(internal),
            "the header names the internal {internal:?}"
        );
    }
}

/// Every status the header defines has its own name in
/// `polyplug_status_name`.
#[test]
fn every_status_in_the_header_has_its_name() {
    let header = String::from_utf8(generate()).expect("cbindgen writes UTF-8");
    let mut statuses = 0;
    for line in header.lines() {
        let Some(rest) = line.strip_prefix("#define ") else {
            continue;
        };
        let mut words = rest.split_whitespace();
        let (Some(name), Some(value)) = (words.next(), words.next()) else {
            continue;
        };
        if name != "POLYPLUG_OK" && !name.starts_with("POLYPLUG_ERR_") {
            continue;
        }
        let value: u32 = value.parse().expect("statuses are integers");
        // SAFETY: [C7] any status is accepted; the name is static and
        // NUL-terminated.
        let named = unsafe { std::ffi::CStr::from_ptr(polyplug_capi::polyplug_status_name(value)) };
        assert_eq!(named.to_str(), Ok(name), "polyplug_status_name({value})");
        statuses += 1;
    }
    assert!(statuses >= 30, "found only {statuses} statuses");
}
