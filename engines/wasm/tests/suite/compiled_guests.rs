//! Plugins compiled to wasm32, loaded through the wasm loader. Rust ones
//! built with the guest SDK's `plugin!` (fixtures `wasm-add`,
//! `wasm-reload-v1`, `wasm-reload-v2` from `fixtures/wasm-plugins/`):
//! typed calls, a panic that traps, stateful instances with `instance
//! typed` functions, and hot reload v1 ↔ v2 under dispatcher threads. A C
//! one built by clang and wasm-ld (fixture `wasm-c-mul`).
//!
//! Run on each engine: `super::engine` makes the loader.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::Receiver;
use std::time::Duration;

use polyplug::{ContractHandle, Event, Runtime, Version};
use polyplug_abi::ERR_TRAP;
use polyplug_fixtures::bundle;
use polyplug_wasm::{StatsHandle, WasmConfig};

const V1: Version = Version::new(1, 0, 0);

fn runtime() -> (Runtime, StatsHandle) {
    let loader = super::engine(WasmConfig::default());
    let stats = loader.stats_handle();
    (Runtime::builder().loader(loader).build().unwrap(), stats)
}

fn drain(runtime: &Runtime) {
    runtime.drain(Duration::from_secs(30)).unwrap();
}

/// The messages logged so far.
fn logged(events: &Receiver<Event>) -> Vec<String> {
    events
        .try_iter()
        .filter_map(|e| match e {
            Event::Log { message, .. } => Some(message),
            _ => None,
        })
        .collect()
}

fn version_of(runtime: &Runtime, handle: ContractHandle) -> u32 {
    let reader = runtime.reader();
    let guard = reader.pin();
    guard
        .get(handle)
        .unwrap()
        .typed::<extern "C" fn() -> u32>("version")
        .unwrap()
        .try_call()
        .unwrap()
}

#[test]
fn a_rust_plugin_built_for_wasm32_registers_its_typed_functions() {
    let (runtime, stats) = runtime();
    let id = runtime.load_bundle(bundle("wasm-add")).unwrap();
    {
        let reader = runtime.reader();
        let guard = reader.pin();
        let add = guard.find("test.add", V1).unwrap();
        let mut signatures: Vec<_> = add.typed_signatures().collect();
        signatures.sort_unstable();
        assert_eq!(
            signatures,
            [
                ("add", "u32(u32,u32)"),
                ("add64", "u64(u64,u64)"),
                ("boom", "u32()"),
                ("inc", "u32(u32)"),
            ]
        );
        assert_eq!(
            add.native_names().count(),
            0,
            "native functions are not exported to wasm"
        );
        assert!(!add.is_stateful());
        let sum = add.typed::<extern "C" fn(u32, u32) -> u32>("add").unwrap();
        assert_eq!(sum.try_call(2, 3).unwrap(), 5);
        assert_eq!(sum.try_call(u32::MAX, 2).unwrap(), 1, "wrapping_add");
        let inc = add.typed::<extern "C" fn(u32) -> u32>("inc").unwrap();
        assert_eq!(inc.try_call(41).unwrap(), 42);
        let add64 = add
            .typed::<extern "C" fn(u64, u64) -> u64>("add64")
            .unwrap();
        assert_eq!(
            add64.try_call(1 << 40, 1 << 33).unwrap(),
            (1 << 40) + (1 << 33)
        );
    }
    runtime.unload_bundle(id).unwrap();
    drain(&runtime);
    let s = stats.get();
    assert_eq!((s.modules_alive(), s.instances_alive()), (0, 0), "{s:?}");
}

/// A panic in a typed function: the SDK's hook logs it with its place,
/// the module traps, the call fails with `ERR_TRAP`, and the next call on
/// the same thread runs in a fresh instance.
#[test]
fn a_panic_in_a_wasm_guest_is_logged_and_traps() {
    let (runtime, stats) = runtime();
    let events = runtime.subscribe();
    runtime.load_bundle(bundle("wasm-add")).unwrap();
    let reader = runtime.reader();
    let guard = reader.pin();
    let add = guard.find("test.add", V1).unwrap();
    let boom = add.typed::<extern "C" fn() -> u32>("boom").unwrap();
    let err = boom.try_call().unwrap_err();
    assert_eq!(err.code, ERR_TRAP, "{err}");
    assert_eq!(err.function, "boom");
    let messages = logged(&events);
    let panic = messages
        .iter()
        .find(|m| m.starts_with("panic at "))
        .unwrap_or_else(|| panic!("no panic logged: {messages:?}"));
    assert!(panic.contains("wasm-add/src/lib.rs"), "{panic}");
    assert!(panic.ends_with("test.add boom on purpose"), "{panic}");
    let made = stats.get().instances_made;
    let inc = add.typed::<extern "C" fn(u32) -> u32>("inc").unwrap();
    assert_eq!(inc.try_call(1).unwrap(), 2, "the thread goes on");
    assert_eq!(
        stats.get().instances_made,
        made + 1,
        "the trapped instance was replaced"
    );
}

/// `state` and `instance typed`: each `Instance` has its own state in its
/// own wasm instance; a call without an instance traps; after a reload the
/// instance keeps the build that made it.
#[test]
fn rust_wasm_instances_keep_their_state_and_their_version() {
    let (runtime, stats) = runtime();
    let events = runtime.subscribe();
    let id = runtime.load_bundle(bundle("wasm-reload-v1")).unwrap();
    let reader = runtime.reader();
    let new_instance = || {
        reader
            .pin()
            .find("reload.test", V1)
            .unwrap()
            .create_instance()
            .unwrap()
    };
    let (mut one, mut two) = (new_instance(), new_instance());
    let call = |i: &mut polyplug::Instance, name: &str| {
        i.typed::<extern "C" fn() -> u32>(name)
            .unwrap()
            .call()
            .unwrap()
    };
    assert_eq!(
        (
            call(&mut one, "bump"),
            call(&mut one, "bump"),
            call(&mut one, "bump")
        ),
        (1, 2, 3)
    );
    assert_eq!(call(&mut two, "bump"), 1);
    assert_eq!(call(&mut one, "tag"), 100);
    let messages = logged(&events);
    assert!(
        messages.iter().any(|m| m == "wasm reload.test v1 init"),
        "{messages:?}"
    );
    assert_eq!(
        messages
            .iter()
            .filter(|m| *m == "reload.test create v1")
            .count(),
        2,
        "{messages:?}"
    );

    // Without an instance there is no state: the guest logs why and traps.
    {
        let guard = reader.pin();
        let contract = guard.find("reload.test", V1).unwrap();
        let bump = contract.typed::<extern "C" fn() -> u32>("bump").unwrap();
        assert_eq!(bump.try_call().unwrap_err().code, ERR_TRAP);
        assert!(
            logged(&events)
                .iter()
                .any(|m| m == "reload.test/bump needs an instance: call it through Instance::typed")
        );
    }

    runtime
        .reload_bundle(id, Some(&bundle("wasm-reload-v2")))
        .unwrap();
    let handle = reader.pin().find("reload.test", V1).unwrap().handle();
    assert_eq!(version_of(&runtime, handle), 200);
    assert_eq!(call(&mut one, "tag"), 100, "the instance keeps v1");
    assert_eq!(call(&mut one, "bump"), 4);
    let mut three = new_instance();
    assert_eq!(call(&mut three, "tag"), 200);
    drop((one, two, three));
    runtime.unload_bundle(id).unwrap();
    drain(&runtime);
    let s = stats.get();
    assert_eq!((s.modules_alive(), s.instances_alive()), (0, 0), "{s:?}");
}

/// Four dispatcher threads call `version` through a kept handle while 60
/// real reloads alternate the Rust→wasm v1 (100) and v2 (200); every call
/// answers 100 or 200, none fails.
#[test]
fn rust_wasm_plugins_hot_reload_under_dispatcher_threads() {
    let (runtime, stats) = runtime();
    let (v1, v2) = (bundle("wasm-reload-v1"), bundle("wasm-reload-v2"));
    let id = runtime.load_bundle(&v1).unwrap();
    let handle = runtime
        .reader()
        .pin()
        .find("reload.test", V1)
        .unwrap()
        .handle();
    let stop = AtomicBool::new(false);
    let (ones, twos, torn, errors) = (
        AtomicU64::new(0),
        AtomicU64::new(0),
        AtomicU64::new(0),
        AtomicU64::new(0),
    );
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let reader = runtime.reader();
                // Relaxed: counters and a stop flag, read after the join.
                while !stop.load(Ordering::Relaxed) {
                    let guard = reader.pin();
                    let version = guard
                        .get(handle)
                        .ok()
                        .and_then(|c| c.typed::<extern "C" fn() -> u32>("version").ok());
                    let Some(version) = version else {
                        errors.fetch_add(1, Ordering::Relaxed);
                        break;
                    };
                    match version.try_call() {
                        Ok(100) => ones.fetch_add(1, Ordering::Relaxed),
                        Ok(200) => twos.fetch_add(1, Ordering::Relaxed),
                        Ok(_) => torn.fetch_add(1, Ordering::Relaxed),
                        Err(_) => errors.fetch_add(1, Ordering::Relaxed),
                    };
                }
            });
        }
        // Bounded: a dispatcher that fails stops counting.
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while ones.load(Ordering::Relaxed) < 400
            && errors.load(Ordering::Relaxed) == 0
            && std::time::Instant::now() < deadline
        {
            std::thread::yield_now();
        }
        for i in 0..60 {
            let from = if i % 2 == 0 { &v2 } else { &v1 };
            runtime.reload_bundle(id, Some(from)).unwrap();
        }
        stop.store(true, Ordering::Relaxed);
    });
    assert_eq!(torn.load(Ordering::Relaxed), 0);
    assert_eq!(errors.load(Ordering::Relaxed), 0);
    assert!(ones.load(Ordering::Relaxed) > 0 && twos.load(Ordering::Relaxed) > 0);
    assert_eq!(version_of(&runtime, handle), 100, "60 reloads end on v1");
    runtime.unload_bundle(id).unwrap();
    drain(&runtime);
    let s = stats.get();
    assert_eq!(s.modules_compiled, 61);
    assert_eq!((s.modules_alive(), s.instances_alive()), (0, 0), "{s:?}");
}

/// The native Rust fixture and its wasm32 build serve the same bundle: a
/// reload moves `reload-test` between them and the handle keeps working.
#[test]
fn a_bundle_moves_between_its_native_and_its_wasm32_build() {
    let (runtime, _) = runtime();
    let id = runtime.load_bundle(bundle("reload-v1")).unwrap();
    let handle = runtime
        .reader()
        .pin()
        .find("reload.test", V1)
        .unwrap()
        .handle();
    for (from, answer) in [
        ("wasm-reload-v2", 200),
        ("reload-v1", 100),
        ("wasm-reload-v1", 100),
        ("reload-v2", 200),
    ] {
        runtime.reload_bundle(id, Some(&bundle(from))).unwrap();
        assert_eq!(version_of(&runtime, handle), answer, "{from}");
    }
}

/// C compiled by clang for wasm32 and linked by wasm-ld, with no libc: its
/// exports declare `test.mul`, and `polyplug_init` logs through the host.
#[test]
fn a_c_plugin_built_by_clang_for_wasm32_loads_and_answers() {
    let (runtime, stats) = runtime();
    let events = runtime.subscribe();
    let id = runtime.load_bundle(bundle("wasm-c-mul")).unwrap();
    assert!(
        logged(&events).iter().any(|m| m == "wasm-c-mul init"),
        "polyplug_init ran"
    );
    {
        let reader = runtime.reader();
        let guard = reader.pin();
        let mul = guard.find("test.mul", V1).unwrap();
        let mut signatures: Vec<_> = mul.typed_signatures().collect();
        signatures.sort_unstable();
        assert_eq!(
            signatures,
            [("mul", "u32(u32,u32)"), ("square", "u64(u64)")]
        );
        let times = mul.typed::<extern "C" fn(u32, u32) -> u32>("mul").unwrap();
        assert_eq!(times.try_call(6, 7).unwrap(), 42);
        assert_eq!(times.try_call(1 << 31, 2).unwrap(), 0, "wraps");
        let square = mul.typed::<extern "C" fn(u64) -> u64>("square").unwrap();
        assert_eq!(square.try_call(1 << 20).unwrap(), 1 << 40);
    }
    runtime.unload_bundle(id).unwrap();
    drain(&runtime);
    assert_eq!(stats.get().modules_alive(), 0);
}

/// With the module cache, reloads back to a build compile nothing new,
/// yet every load still gets its own wasm instances: state never crosses
/// from one load to the next.
#[test]
fn the_module_cache_reuses_compiled_code_but_not_state() {
    let loader = super::engine(WasmConfig::default()).module_cache(2);
    let stats = loader.stats_handle();
    let runtime = Runtime::builder().loader(loader).build().unwrap();
    let id = runtime.load_bundle(bundle("wasm-reload-v1")).unwrap();
    let reader = runtime.reader();
    let bump_new_instance = || {
        let mut instance = reader
            .pin()
            .find("reload.test", V1)
            .unwrap()
            .create_instance()
            .unwrap();
        let mut bump = instance.typed::<extern "C" fn() -> u32>("bump").unwrap();
        (bump.call().unwrap(), bump.call().unwrap())
    };
    assert_eq!(bump_new_instance(), (1, 2));
    let handle = reader.pin().find("reload.test", V1).unwrap().handle();
    for (from, answer) in [
        ("wasm-reload-v2", 200),
        ("wasm-reload-v1", 100),
        ("wasm-reload-v1", 100),
        ("wasm-reload-v2", 200),
    ] {
        runtime.reload_bundle(id, Some(&bundle(from))).unwrap();
        assert_eq!(version_of(&runtime, handle), answer, "{from}");
        assert_eq!(bump_new_instance(), (1, 2), "{from}: a fresh state");
    }
    runtime.unload_bundle(id).unwrap();
    drain(&runtime);
    let s = stats.get();
    assert_eq!((s.modules_alive(), s.instances_alive()), (0, 0), "{s:?}");
}
