//! State handover of stateful wasm contracts: `Instance::upgrade` moves a
//! live instance to the serving version through the old version's
//! `+save` and the new version's `+restore` (`counter.wat`, in the format
//! of the native `handover-v1`/`-v2` fixtures), between wasm versions and
//! between native and wasm ones; a failed step leaves the old instance
//! serving with its state and names the step.

use std::path::{Path, PathBuf};

use polyplug::{HandoverError, HandoverStep, Instance, LoadError, Runtime, Version};
use polyplug_abi::{ERR_BUDGET, ERR_INVALID, ERR_TRAP};

use super::wat_modules::{TempDir, bundle, compile, runtime, wat};

const COUNTER: &str = "handover.counter";
const V1: Version = Version::new(1, 0, 0);
const V2: Version = Version::new(1, 1, 0);

/// `counter.wat` at contract `version`, answering `answer` to `version`
/// and stepping by `step`.
fn counter_module(version: &str, answer: u32, step: u32) -> Vec<u8> {
    compile(
        &wat("counter.wat")
            .replace("VERSION", version)
            .replace("ANSWER", &answer.to_string())
            .replace("STEP", &step.to_string()),
    )
}

/// A bundle `handover-test` (the native fixtures' name) of `module`.
fn counter_bundle(dir: &Path, label: &str, version: &str, module: &[u8], limits: &str) -> PathBuf {
    bundle(
        dir,
        label,
        "handover-test",
        "3.0.0",
        &[(COUNTER, version)],
        module,
        limits,
    )
}

fn v1_bundle(dir: &Path) -> PathBuf {
    counter_bundle(dir, "v1", "1.0.0", &counter_module("1.0.0", 1, 1), "")
}

fn v2_bundle(dir: &Path, limits: &str) -> PathBuf {
    counter_bundle(dir, "v2", "1.1.0", &counter_module("1.1.0", 2, 10), limits)
}

fn typed(instance: &mut Instance, function: &str) -> u32 {
    instance
        .typed::<extern "C" fn() -> u32>(function)
        .unwrap()
        .call()
        .unwrap()
}

fn arm(instance: &mut Instance, mode: u32) {
    let armed = instance
        .typed::<extern "C" fn(u32) -> u32>("arm")
        .unwrap()
        .call(mode)
        .unwrap();
    assert_eq!(armed, mode);
}

/// A new instance of the serving `handover.counter` 1.x.
fn new_counter(runtime: &Runtime) -> Instance {
    runtime
        .reader()
        .pin()
        .find(COUNTER, V1)
        .unwrap()
        .create_instance()
        .unwrap()
}

/// wasm v1 loaded from `dir`, and an instance counted to `n`.
fn wasm_counted_to(runtime: &Runtime, dir: &Path, n: u32) -> (polyplug::BundleId, Instance) {
    let id = runtime.load_bundle(v1_bundle(dir)).unwrap();
    let mut counter = new_counter(runtime);
    for _ in 0..n {
        typed(&mut counter, "step");
    }
    assert_eq!(typed(&mut counter, "count"), n);
    (id, counter)
}

#[test]
fn a_wasm_counter_keeps_counting_from_n_after_a_reload_and_upgrade() {
    let tmp = TempDir::new("handover-wasm");
    let (runtime, stats) = runtime();
    let (id, mut counter) = wasm_counted_to(&runtime, &tmp.0, 7);
    runtime
        .reload_bundle(id, Some(&v2_bundle(&tmp.0, "")))
        .unwrap();
    // Until it is upgraded, the instance runs v1's code.
    assert_eq!(typed(&mut counter, "version"), 1);
    assert_eq!(typed(&mut counter, "step"), 8);

    let reader = runtime.reader();
    assert!(counter.upgrade(&reader.pin()).unwrap());
    assert_eq!(counter.version(), V2);
    assert_eq!(typed(&mut counter, "version"), 2); // v2's code
    assert_eq!(typed(&mut counter, "count"), 8); // v1's count
    assert_eq!(typed(&mut counter, "step"), 18); // v2 steps by 10
    // The state copied in for +restore went back to polyplug_free.
    assert_eq!(typed(&mut counter, "frees"), 1);
    assert!(!counter.upgrade(&reader.pin()).unwrap());

    // A new v2 instance starts from zero.
    let mut fresh = new_counter(&runtime);
    assert_eq!(typed(&mut fresh, "step"), 10);
    drop((fresh, counter, reader));
    runtime.drain(std::time::Duration::from_secs(30)).unwrap();
    let s = stats.get();
    // v1's and v2's at load, the instance, its restored one, the fresh one.
    assert_eq!((s.instances_made, s.instances_alive()), (5, 0), "{s:?}");
}

#[test]
fn native_hands_over_to_wasm_and_wasm_back_to_native() {
    let tmp = TempDir::new("handover-native");
    let (runtime, _) = runtime();
    let id = runtime
        .load_bundle(polyplug_fixtures::bundle("handover-v1"))
        .unwrap();
    let mut counter = new_counter(&runtime);
    #[repr(C)]
    struct AddArgs {
        a: u32,
        b: u32,
    }
    let native_step = |counter: &mut Instance| {
        let mut out = 0u32;
        // SAFETY: [P1] handover.counter documents its native `step` as
        // reading an `AddArgs` and writing a `u32`.
        unsafe { counter.call("step", &AddArgs { a: 0, b: 0 }, &mut out) }.unwrap();
        out
    };
    for _ in 0..5 {
        native_step(&mut counter);
    }
    let reader = runtime.reader();

    let wasm = counter_bundle(&tmp.0, "v3", "1.2.0", &counter_module("1.2.0", 3, 100), "");
    runtime.reload_bundle(id, Some(&wasm)).unwrap();
    assert!(counter.upgrade(&reader.pin()).unwrap()); // native save, wasm restore
    assert_eq!(counter.version(), Version::new(1, 2, 0));
    assert_eq!(typed(&mut counter, "count"), 5);
    assert_eq!(typed(&mut counter, "step"), 105); // wasm steps by 100

    runtime
        .reload_bundle(id, Some(&polyplug_fixtures::bundle("handover-v2")))
        .unwrap();
    assert!(counter.upgrade(&reader.pin()).unwrap()); // wasm save, native restore
    assert_eq!(counter.version(), V2);
    assert_eq!(native_step(&mut counter), 115); // native v2 steps by 10
}

/// Arms a wasm v1 instance counted to 5 with `mode`, reloads to v2 (with
/// `limits`), and returns the upgrade's error, after checking that the
/// old instance serves on with v1's code and its count.
fn failed_upgrade(mode: u32, limits: &str, before: impl FnOnce(&Runtime)) -> HandoverError {
    let tmp = TempDir::new(&format!("handover-fail-{mode}"));
    let (runtime, _) = runtime();
    let (id, mut counter) = wasm_counted_to(&runtime, &tmp.0, 5);
    arm(&mut counter, mode);
    runtime
        .reload_bundle(id, Some(&v2_bundle(&tmp.0, limits)))
        .unwrap();
    before(&runtime);
    let reader = runtime.reader();
    let err = counter.upgrade(&reader.pin()).unwrap_err();
    println!("{err}");
    assert_eq!(counter.version(), V1);
    assert_eq!(typed(&mut counter, "version"), 1);
    assert_eq!(typed(&mut counter, "step"), 6);
    err
}

fn source(err: &HandoverError) -> &polyplug::CallError {
    let HandoverError::Failed {
        source, contract, ..
    } = err
    else {
        unreachable!("expected HandoverError::Failed, got {err:?}");
    };
    assert_eq!(contract, COUNTER);
    source
}

#[test]
fn a_trapping_save_leaves_the_old_instance_serving_and_names_the_step() {
    let err = failed_upgrade(1, "", |_| {});
    assert_eq!(err.step(), HandoverStep::Save);
    let source = source(&err);
    assert_eq!(source.function, "save");
    assert_eq!(source.code, ERR_TRAP);
    let message = source.message.as_str();
    for words in ["handover-test", "handover.counter", "save", "nreachable"] {
        assert!(message.contains(words), "{message} lacks {words:?}");
    }
}

#[test]
fn a_refusing_restore_leaves_the_old_instance_serving_and_names_the_step() {
    let err = failed_upgrade(2, "", |_| {});
    assert_eq!(err.step(), HandoverStep::Restore);
    let source = source(&err);
    assert_eq!(source.function, "restore");
    assert_eq!(source.code, ERR_INVALID);
    let message = source.message.as_str();
    assert!(
        message.contains("handover.counter@1.1.0/+restore returned 7"),
        "{message}"
    );
}

#[test]
fn a_restore_counts_against_the_instance_limit() {
    // v2 allows one wasm instance, which a new v2 instance takes.
    let mut kept = None;
    let err = failed_upgrade(0, "instances = 1", |runtime| {
        kept = Some(new_counter(runtime));
    });
    assert_eq!(err.step(), HandoverStep::Restore);
    let source = source(&err);
    assert_eq!(source.code, ERR_BUDGET);
    assert!(
        source.message.as_str().contains("limits.instances"),
        "{err}"
    );
    drop(kept);
}

#[test]
fn a_save_without_restore_and_a_wrong_type_are_refused_at_load() {
    let tmp = TempDir::new("handover-bad");
    let (runtime, _) = runtime();
    let text = wat("counter.wat")
        .replace("ANSWER", "1")
        .replace("STEP", "1")
        .replace("VERSION", "1.0.0");
    let cases = [
        (
            "no-restore",
            text.replace("handover.counter@1.0.0/+restore", "restore"),
            "export \"handover.counter@1.0.0/+save\"",
            "export both or neither",
        ),
        (
            "no-save",
            text.replace("handover.counter@1.0.0/+save", "save"),
            "export \"handover.counter@1.0.0/+restore\"",
            "export both or neither",
        ),
        (
            "save-type",
            // The export returns an i32; the real save is left unexported.
            text.replace(
                "(func (export \"handover.counter@1.0.0/+save\") (result i64)",
                "(func (export \"handover.counter@1.0.0/+save\") (result i32) i32.const 0)\n  (func (result i64)",
            ),
            "export \"handover.counter@1.0.0/+save\"",
            "expected () -> (i64)",
        ),
        (
            "no-alloc",
            text.replace("\"polyplug_alloc\"", "\"other_alloc\""),
            "export \"handover.counter@1.0.0/+restore\"",
            "polyplug_alloc",
        ),
    ];
    for (label, module, field, words) in cases {
        let dir = counter_bundle(&tmp.0, label, "1.0.0", &compile(&module), "");
        let err = runtime.load_bundle(&dir).unwrap_err();
        println!("{label}: {err}");
        let LoadError::Code { bundle, error } = &err else {
            panic!("{label}: expected LoadError::Code, found {err}");
        };
        assert_eq!(bundle, "handover-test", "{label}");
        assert!(error.file.ends_with("module.wasm"), "{label}: {err}");
        assert_eq!(error.field, field, "{label}: {err}");
        assert_eq!(error.contract.as_deref(), Some(COUNTER), "{label}: {err}");
        assert!(
            error.problem.contains(words),
            "{label}: {err} lacks {words:?}"
        );
        assert!(runtime.bundles().is_empty(), "{label}");
    }
}

/// The Rust guest SDK's `save = ..; restore = ..;` in a wasm build
/// (fixture `wasm-handover`, `handover.counter` 1.2.0 stepping by 100):
/// native `handover-v1` → Rust wasm → native `handover-v2` keeps the
/// count, and a save that fails traps, leaving the instance serving.
#[test]
fn a_rust_wasm_plugin_hands_over_with_the_native_fixtures() {
    let (runtime, _) = runtime();
    let id = runtime
        .load_bundle(polyplug_fixtures::bundle("handover-v1"))
        .unwrap();
    let mut counter = new_counter(&runtime);
    #[repr(C)]
    struct AddArgs {
        a: u32,
        b: u32,
    }
    let native_step = |counter: &mut Instance| {
        let mut out = 0u32;
        // SAFETY: [P1] handover.counter documents its native `step` as
        // reading an `AddArgs` and writing a `u32`.
        unsafe { counter.call("step", &AddArgs { a: 0, b: 0 }, &mut out) }.unwrap();
        out
    };
    for _ in 0..4 {
        native_step(&mut counter);
    }
    let reader = runtime.reader();
    runtime
        .reload_bundle(id, Some(&polyplug_fixtures::bundle("wasm-handover")))
        .unwrap();
    assert!(counter.upgrade(&reader.pin()).unwrap()); // native save, SDK +restore
    assert_eq!(counter.version(), Version::new(1, 2, 0));
    assert_eq!(typed(&mut counter, "version"), 3);
    assert_eq!(typed(&mut counter, "count"), 4);
    assert_eq!(typed(&mut counter, "step"), 104);

    // An SDK save that fails logs and traps: the upgrade fails at save,
    // and the instance serves on with its count.
    runtime
        .reload_bundle(id, Some(&polyplug_fixtures::bundle("handover-v2")))
        .unwrap();
    arm(&mut counter, 1);
    let err = counter.upgrade(&reader.pin()).unwrap_err();
    assert_eq!(err.step(), HandoverStep::Save);
    assert_eq!(source(&err).code, ERR_TRAP);
    assert_eq!(typed(&mut counter, "step"), 204);

    arm(&mut counter, 0);
    assert!(counter.upgrade(&reader.pin()).unwrap()); // SDK +save, native restore
    assert_eq!(counter.version(), V2);
    assert_eq!(native_step(&mut counter), 214); // native v2 steps by 10
}
