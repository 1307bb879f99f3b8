//! State handover across a reload: `Instance::upgrade` moves a live
//! instance to the version that serves now through the old version's
//! `save` and the new version's `restore`; any failure leaves the old
//! instance serving, with its state, and names the step. The bytes are
//! the plugin's own format, so a native version hands over to an
//! engine-run one (a test engine, through the loader seam) and back.
#![cfg(not(any(loom, shuttle, miri)))]
#![expect(
    clippy::unwrap_used,
    reason = "test support: a failed step fails the test"
)]

#[expect(
    dead_code,
    reason = "this file needs only some of the shared test support"
)]
mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::TempDir;
use polyplug::loader::{
    CodeError, CodeSource, EngineContract, EngineFn, EngineInstance, EngineInstances, Fault,
    LoadedCode, Loader, Registrar, Value,
};
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

/// The count of an engine-run `handover.counter` instance.
#[derive(Debug)]
struct EngineCounter(u32);

/// `step: u32()` adds 100, `count: u32()` reads: on the instance's count.
struct Step(u32);

impl EngineFn for Step {
    fn call(
        &self,
        instance: Option<&mut EngineInstance>,
        _: &[Value<'_>],
    ) -> Result<Value<'static>, Fault> {
        let counter = instance
            .and_then(|i| i.downcast_mut::<EngineCounter>())
            .ok_or_else(|| Fault::new(polyplug_abi::ERR_BAD_ARGUMENT, "needs an instance"))?;
        counter.0 = counter.0.wrapping_add(self.0);
        Ok(Value::U32(counter.0))
    }
}

/// The engine's instances, in the fixture's format (count, armed: two
/// little-endian `u32`s), when `handover` is set.
struct Counters {
    handover: bool,
}

impl EngineInstances for Counters {
    fn create(&self) -> Result<EngineInstance, Fault> {
        Ok(Box::new(EngineCounter(0)))
    }

    fn handover(&self) -> bool {
        self.handover
    }

    fn save(&self, instance: &mut EngineInstance) -> Result<Vec<u8>, Fault> {
        let counter = instance
            .downcast_mut::<EngineCounter>()
            .ok_or_else(|| Fault::new(polyplug_abi::ERR_BAD_ARGUMENT, "not a counter"))?;
        let mut bytes = counter.0.to_le_bytes().to_vec();
        bytes.extend_from_slice(&0u32.to_le_bytes());
        Ok(bytes)
    }

    fn restore(&self, state: &[u8]) -> Result<EngineInstance, Fault> {
        let count: [u8; 4] = state
            .get(..4)
            .and_then(|b| b.try_into().ok())
            .filter(|_| state.len() == 8)
            .ok_or_else(|| Fault::new(polyplug_abi::ERR_INVALID, "not 8 bytes of state"))?;
        Ok(Box::new(EngineCounter(u32::from_le_bytes(count))))
    }
}

#[derive(Debug)]
struct Module;

impl LoadedCode for Module {}

/// Registers `handover.counter` 1.2.0, run by Rust code: with a handover
/// when the code file says `handover`, without one when it says `plain`.
struct CounterEngine;

impl Loader for CounterEngine {
    fn kind(&self) -> &'static str {
        "lua"
    }

    fn load(
        &self,
        code: &CodeSource<'_>,
        registrar: &mut Registrar<'_>,
    ) -> Result<Box<dyn LoadedCode>, CodeError> {
        let handover = code.bytes() == b"handover";
        let contract = EngineContract::new(COUNTER, Version::new(1, 2, 0))
            .function("step", "u32()", Arc::new(Step(100)))
            .function("count", "u32()", Arc::new(Step(0)))
            .stateful(Arc::new(Counters { handover }));
        registrar
            .register(contract)
            .map_err(|r| r.into_code_error())?;
        Ok(Box::new(Module))
    }
}

/// An engine bundle `handover-test` 3.0.0 in `dir/<label>` whose code
/// file holds `word`.
fn engine_bundle(dir: &Path, label: &str, word: &str) -> PathBuf {
    let path = dir.join(label);
    std::fs::create_dir_all(&path).unwrap();
    std::fs::write(path.join("counter.lua"), word).unwrap();
    std::fs::write(
        path.join("manifest.toml"),
        format!(
            "[bundle]\nname = \"handover-test\"\nversion = \"3.0.0\"\nloader = \"lua\"\n\
             [library]\n{} = \"counter.lua\"\n\
             [[provides]]\nname = \"handover.counter\"\nversion = \"1.2.0\"\n",
            polyplug_loader::platform_key()
        ),
    )
    .unwrap();
    path
}

fn engine_step(counter: &mut Instance) -> u32 {
    counter
        .typed::<extern "C" fn() -> u32>("step")
        .unwrap()
        .call()
        .unwrap()
}

#[test]
fn a_native_version_hands_over_to_an_engine_version_and_back() {
    let tmp = TempDir::new("handover-engine");
    let runtime = Runtime::builder().loader(CounterEngine).build().unwrap();
    let (id, mut counter) = counted_to(&runtime, 5);
    let reader = runtime.reader();

    runtime
        .reload_bundle(id, Some(&engine_bundle(tmp.path(), "v3", "handover")))
        .unwrap();
    assert!(counter.upgrade(&reader.pin()).unwrap()); // native save, engine restore
    assert_eq!(counter.version(), Version::new(1, 2, 0));
    assert_eq!(engine_step(&mut counter), 105); // the engine steps by 100

    runtime
        .reload_bundle(id, Some(&bundle("handover-v2")))
        .unwrap();
    assert!(counter.upgrade(&reader.pin()).unwrap()); // engine save, native restore
    assert_eq!(counter.version(), V2);
    assert_eq!(call(&mut counter, "step", 0), 115);
}

#[test]
fn a_new_version_without_restore_is_not_supported_and_the_old_serves() {
    let tmp = TempDir::new("handover-plain");
    let runtime = Runtime::builder().loader(CounterEngine).build().unwrap();
    let (id, mut counter) = counted_to(&runtime, 4);
    runtime
        .reload_bundle(id, Some(&engine_bundle(tmp.path(), "plain", "plain")))
        .unwrap();
    let err = counter.upgrade(&runtime.reader().pin()).unwrap_err();
    assert!(
        matches!(
            &err,
            HandoverError::NotSupported { step: HandoverStep::Restore, to_bundle, .. }
                if to_bundle == "handover-test"
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("offers no restore"), "{err}");
    assert_eq!(counter.version(), V1);
    assert_eq!(call(&mut counter, "step", 0), 5);
}
