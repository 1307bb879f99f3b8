//! State handover across a reload: `Instance::upgrade` moves a live
//! instance to the version that serves now through the old version's
//! `save` and the new version's `restore`; any failure leaves the old
//! instance serving, with its state, and names the step.
#![cfg(not(any(loom, shuttle, miri)))]
#![expect(
    clippy::unwrap_used,
    reason = "test support: a failed step fails the test"
)]

use polyplug::{HandoverError, HandoverStep, Instance, Runtime, Version};
use polyplug_fixtures::bundle;

const COUNTER: &str = "handover.counter";
const V1: Version = Version::new(1, 0, 0);
const V2: Version = Version::new(1, 1, 0);

#[repr(C)]
struct AddArgs {
    a: u32,
    b: u32,
}

/// Calls native `function` of handover.counter on `instance` with `a`.
fn call(instance: &mut Instance, function: &str, a: u32) -> u32 {
    let mut out = 0u32;
    // SAFETY: [P1] handover.counter documents every native function as
    // reading an `AddArgs` and writing a `u32`.
    unsafe { instance.call(function, &AddArgs { a, b: 0 }, &mut out) }.unwrap();
    out
}

/// A runtime with handover-v1 loaded, its bundle id, and an instance
/// that has stepped `n` times (v1 steps by 1, so its count is `n`).
fn counted_to(runtime: &Runtime, n: u32) -> (polyplug::BundleId, Instance) {
    let id = runtime.load_bundle(bundle("handover-v1")).unwrap();
    let reader = runtime.reader();
    let mut counter = reader
        .pin()
        .find(COUNTER, V1)
        .unwrap()
        .create_instance()
        .unwrap();
    for _ in 0..n {
        call(&mut counter, "step", 0);
    }
    assert_eq!(call(&mut counter, "count", 0), n);
    (id, counter)
}

#[test]
fn a_counter_keeps_counting_from_n_after_a_reload_that_changes_its_code() {
    let runtime = Runtime::new().unwrap();
    let (id, mut counter) = counted_to(&runtime, 7);
    runtime
        .reload_bundle(id, Some(&bundle("handover-v2")))
        .unwrap();
    // Until it is upgraded, the instance runs v1's code.
    assert_eq!(call(&mut counter, "version", 0), 1);
    assert_eq!(call(&mut counter, "step", 0), 8);

    let reader = runtime.reader();
    assert!(counter.upgrade(&reader.pin()).unwrap());
    assert_eq!(counter.version(), V2);
    assert_eq!(call(&mut counter, "version", 0), 2); // v2's code
    assert_eq!(call(&mut counter, "count", 0), 8); // v1's count
    assert_eq!(call(&mut counter, "step", 0), 18); // v2 steps by 10
    assert_eq!(call(&mut counter, "step", 0), 28);

    // Already on the serving version: nothing to do.
    assert!(!counter.upgrade(&reader.pin()).unwrap());
    assert_eq!(call(&mut counter, "count", 0), 28);

    // A new v2 instance starts from zero: the count came from the handover.
    let mut fresh = reader
        .pin()
        .find(COUNTER, V1)
        .unwrap()
        .create_instance()
        .unwrap();
    assert_eq!(call(&mut fresh, "step", 0), 10);
}

#[test]
fn a_handover_back_to_the_first_version_keeps_the_count_too() {
    let runtime = Runtime::new().unwrap();
    let (id, mut counter) = counted_to(&runtime, 2);
    let reader = runtime.reader();
    runtime
        .reload_bundle(id, Some(&bundle("handover-v2")))
        .unwrap();
    assert!(counter.upgrade(&reader.pin()).unwrap());
    assert_eq!(call(&mut counter, "step", 0), 12);
    runtime
        .reload_bundle(id, Some(&bundle("handover-v1")))
        .unwrap();
    assert!(counter.upgrade(&reader.pin()).unwrap());
    assert_eq!(counter.version(), V1);
    assert_eq!(call(&mut counter, "step", 0), 13);
}

/// Arms the instance with `mode`, reloads to v2, and returns the
/// upgrade's error after checking that the old instance kept serving v1
/// with its count.
fn failed_upgrade(mode: u32) -> HandoverError {
    let runtime = Runtime::new().unwrap();
    let (id, mut counter) = counted_to(&runtime, 5);
    call(&mut counter, "arm", mode);
    runtime
        .reload_bundle(id, Some(&bundle("handover-v2")))
        .unwrap();
    let reader = runtime.reader();
    let err = counter.upgrade(&reader.pin()).unwrap_err();
    // The old instance serves on: v1's code, v1's count.
    assert_eq!(counter.version(), V1);
    assert_eq!(call(&mut counter, "version", 0), 1);
    assert_eq!(call(&mut counter, "step", 0), 6);
    // Disarmed, the same instance hands over.
    call(&mut counter, "arm", 0);
    assert!(counter.upgrade(&reader.pin()).unwrap());
    assert_eq!(call(&mut counter, "step", 0), 16);
    err
}

#[test]
fn a_failed_save_leaves_the_old_instance_serving_and_names_the_step() {
    let err = failed_upgrade(1);
    let HandoverError::Failed {
        step,
        contract,
        from,
        from_bundle,
        to,
        to_bundle,
        source,
    } = &err
    else {
        panic!("expected HandoverError::Failed, got {err:?}");
    };
    assert_eq!(*step, HandoverStep::Save);
    assert_eq!((contract.as_str(), *from, *to), (COUNTER, V1, V2));
    assert_eq!(
        (from_bundle.as_str(), to_bundle.as_str()),
        ("handover-test", "handover-test")
    );
    assert_eq!(source.function, "save");
    assert_eq!(source.code, polyplug_abi::ERR_PLUGIN);
    assert!(source.message.as_str().contains("armed to fail"), "{err}");
    assert_eq!(err.step(), HandoverStep::Save);
    let text = err.to_string();
    assert!(text.contains("failed at save"), "{text}");
    assert!(text.contains("handover.counter"), "{text}");
    assert!(text.contains("handover-test"), "{text}");
}

#[test]
fn a_failed_restore_leaves_the_old_instance_serving_and_names_the_step() {
    let err = failed_upgrade(2);
    let HandoverError::Failed { step, source, .. } = &err else {
        panic!("expected HandoverError::Failed, got {err:?}");
    };
    assert_eq!(*step, HandoverStep::Restore);
    assert_eq!(source.function, "restore");
    assert_eq!(source.code, polyplug_abi::ERR_INVALID);
    assert!(
        source.message.as_str().contains("v2: restore refused"),
        "{err}"
    );
    assert!(err.to_string().contains("failed at restore"), "{err}");
}

#[test]
fn a_contract_without_a_handover_is_not_supported() {
    let runtime = Runtime::new().unwrap();
    let id = runtime.load_bundle(bundle("reload-v1")).unwrap();
    let reader = runtime.reader();
    let mut instance = reader
        .pin()
        .find("reload.test", V1)
        .unwrap()
        .create_instance()
        .unwrap();
    let mut out = 0u32;
    // SAFETY: [P1] reload.test documents `bump` as reading an `AddArgs`
    // and writing a `u32`.
    unsafe { instance.call("bump", &AddArgs { a: 0, b: 0 }, &mut out) }.unwrap();
    runtime
        .reload_bundle(id, Some(&bundle("reload-v2")))
        .unwrap();
    let err = instance.upgrade(&reader.pin()).unwrap_err();
    assert!(
        matches!(
            &err,
            HandoverError::NotSupported { step: HandoverStep::Save, contract, to, .. }
                if contract == "reload.test" && *to == V2
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("offers no save"), "{err}");
    // Still v1, with its state.
    // SAFETY: as above.
    unsafe { instance.call("bump", &AddArgs { a: 0, b: 0 }, &mut out) }.unwrap();
    assert_eq!(out, 2);
    assert_eq!(instance.version(), V1);
}

#[test]
fn an_unloaded_contract_has_nothing_to_hand_over_to() {
    let runtime = Runtime::new().unwrap();
    let (id, mut counter) = counted_to(&runtime, 3);
    runtime.unload_bundle(id).unwrap();
    let reader = runtime.reader();
    let err = counter.upgrade(&reader.pin()).unwrap_err();
    assert!(matches!(err, HandoverError::NotFound { .. }), "{err:?}");
    assert_eq!(err.step(), HandoverStep::Find);
    // The instance keeps its library loaded and serves on.
    assert_eq!(call(&mut counter, "step", 0), 4);
}
