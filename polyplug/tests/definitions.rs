//! Bundles that ship contract definitions: the registration is checked
//! against them at load and reload, and a mismatch is a `LoadError` naming
//! the contract, the function and both signatures, with the runtime
//! unchanged.
#![cfg(not(any(loom, shuttle, miri)))]
#![expect(
    clippy::unwrap_used,
    reason = "test support: a failed step fails the test"
)]

#[expect(
    dead_code,
    reason = "this test uses only TempDir and V1 of the shared support"
)]
mod common;

use std::path::{Path, PathBuf};

use common::{TempDir, V1};
use polyplug::{LoadError, Runtime};

const GOOD: &str = r#"[contract]
name = "test.add"
version = "1.0.0"

[[function]]
name = "add"
sig = "u32(u32, u32)"
args = ["a", "b"]

[[function]]
name = "inc"
sig = "u32(u32)"
"#;

/// A copy of the `test-add` fixture in `dir/name` whose manifest ships
/// `definition` as `test_add.toml`.
fn bundle_with(dir: &Path, name: &str, definition: &str) -> PathBuf {
    let from = polyplug_fixtures::bundle("test-add");
    let to = dir.join(name);
    std::fs::create_dir_all(&to).unwrap();
    for entry in std::fs::read_dir(&from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
    let manifest = std::fs::read_to_string(to.join("manifest.toml")).unwrap();
    let manifest = manifest.replace(
        "[[provides]]\nname = \"test.add\"\nversion = \"1.0.0\"",
        "[[provides]]\nname = \"test.add\"\nversion = \"1.0.0\"\ndefinition = \"test_add.toml\"",
    );
    assert!(manifest.contains("definition = "), "{manifest}");
    std::fs::write(to.join("manifest.toml"), manifest).unwrap();
    std::fs::write(to.join("test_add.toml"), definition).unwrap();
    to
}

fn serving(runtime: &Runtime) -> bool {
    runtime.reader().pin().find("test.add", V1).is_ok()
}

#[test]
fn a_matching_definition_loads_and_reloads() {
    let dir = TempDir::new("definition-good");
    let bundle = bundle_with(dir.path(), "good", GOOD);
    let runtime = Runtime::new().unwrap();
    let id = runtime.load_bundle(&bundle).unwrap();
    assert!(serving(&runtime));
    runtime.reload_bundle(id, Some(&bundle)).unwrap();
    assert!(serving(&runtime));
}

#[test]
fn another_signature_is_refused_naming_both() {
    let dir = TempDir::new("definition-sig");
    let bad = bundle_with(dir.path(), "bad", &GOOD.replace("u32(u32)", "u64(u64)"));
    let runtime = Runtime::new().unwrap();
    let err = runtime.load_bundle(&bad).unwrap_err();
    match &err {
        LoadError::ContractMismatch(m) => {
            assert_eq!(
                (
                    m.contract.as_str(),
                    m.function.as_str(),
                    m.defined.as_str(),
                    m.registered.as_str()
                ),
                ("test.add", "inc", "u64(u64)", "u32(u32)")
            );
        }
        other => unreachable!("{other}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("test_add.toml") && text.contains("u64(u64)"),
        "{text}"
    );
    assert!(!serving(&runtime));

    // A reload to the mismatching copy leaves the serving version serving.
    let good = bundle_with(dir.path(), "good", GOOD);
    let id = runtime.load_bundle(&good).unwrap();
    let before = runtime
        .reader()
        .pin()
        .find("test.add", V1)
        .unwrap()
        .handle();
    let err = runtime.reload_bundle(id, Some(&bad)).unwrap_err();
    assert!(matches!(err, LoadError::ContractMismatch(_)), "{err}");
    let guard_reader = runtime.reader();
    let guard = guard_reader.pin();
    let after = guard.find("test.add", V1).unwrap();
    assert_eq!(after.handle(), before);
    let add = after
        .typed::<extern "C" fn(u32, u32) -> u32>("add")
        .unwrap();
    assert_eq!(add.call(2, 3), 5);
}

#[test]
fn a_missing_or_extra_function_is_refused() {
    let dir = TempDir::new("definition-set");
    let runtime = Runtime::new().unwrap();
    let missing = GOOD.to_owned() + "\n[[function]]\nname = \"mul\"\nsig = \"u32(u32,u32)\"\n";
    let err = runtime
        .load_bundle(bundle_with(dir.path(), "missing", &missing))
        .unwrap_err();
    assert!(
        matches!(&err, LoadError::ContractMismatch(m) if m.function == "mul" && m.registered == "none"),
        "{err}"
    );
    let extra = &GOOD[..GOOD.find("[[function]]\nname = \"inc\"").unwrap()];
    let err = runtime
        .load_bundle(bundle_with(dir.path(), "extra", extra))
        .unwrap_err();
    assert!(
        matches!(&err, LoadError::ContractMismatch(m) if m.function == "inc" && m.defined == "none"),
        "{err}"
    );
    assert!(!serving(&runtime));
}

#[test]
fn a_bad_definition_file_is_refused_at_its_line() {
    let dir = TempDir::new("definition-file");
    let runtime = Runtime::new().unwrap();
    let err = runtime
        .load_bundle(bundle_with(
            dir.path(),
            "broken",
            &GOOD.replace("u32(u32)", "u32(u33)"),
        ))
        .unwrap_err();
    match &err {
        LoadError::Definition { error, .. } => {
            assert_eq!((error.line, error.column), (12, 7), "{error}");
        }
        other => unreachable!("{other}"),
    }
    assert!(!serving(&runtime));
}

#[test]
fn the_hosts_copy_is_required_of_every_registration() {
    let host_copy =
        |text: &str| polyplug_contract::Definition::parse(text, "host/test_add.toml").unwrap();
    // The host knows 1.0.0 with `inc` only: the plugin's extra `add` is fine.
    let head = &GOOD[..GOOD.find("[[function]]").unwrap()];
    let older = host_copy(&format!(
        "{head}[[function]]\nname = \"inc\"\nsig = \"u32(u32)\"\n"
    ));
    let runtime = Runtime::builder().definition(older).build().unwrap();
    runtime
        .load_bundle(polyplug_fixtures::bundle("test-add"))
        .unwrap();
    assert!(serving(&runtime));

    // Another signature, and a later minor than the plugin provides.
    for (text, function) in [
        (GOOD.replace("u32(u32, u32)", "u32(u32, u64)"), "add"),
        (
            GOOD.replace("version = \"1.0.0\"", "version = \"1.2.0\""),
            "(contract)",
        ),
    ] {
        let runtime = Runtime::builder()
            .definition(host_copy(&text))
            .build()
            .unwrap();
        let err = runtime
            .load_bundle(polyplug_fixtures::bundle("test-add"))
            .unwrap_err();
        assert!(
            matches!(&err, LoadError::ContractMismatch(m) if m.function == function),
            "{err}"
        );
        assert!(err.to_string().contains("host/test_add.toml"), "{err}");
        assert!(!serving(&runtime));
    }
}
