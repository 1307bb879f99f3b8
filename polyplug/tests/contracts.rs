//! Loading and calling real Rust, C and C++ plugins; host contracts,
//! plugin-to-plugin calls, instances, events and dependency order.
#![cfg(not(any(loom, shuttle, miri)))]
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test support: a failed step fails the test"
)]

mod common;

use common::{AddArgs, TempDir, V1, call, drain, drain_events, handle_of, version_of};
use polyplug::{
    Event, FindError, HostContract, Instance, InstanceError, LoadError, Runtime, Unmapped, Version,
};
use polyplug_fixtures::{bundle, copy_bundle};

fn check_test_add(runtime: &Runtime, provider: &str) {
    let reader = runtime.reader();
    let guard = reader.pin();
    let all: Vec<_> = guard.find_all("test.add", V1).collect();
    let contract = all
        .into_iter()
        .find(
            |c| matches!(c.provider(), polyplug::Provider::Bundle { name, .. } if name == provider),
        )
        .unwrap();
    let out = call(&contract, "add", 40, 2).unwrap();
    assert_eq!(out, 42, "{provider}: native add");
    let add = contract
        .typed::<extern "C" fn(u32, u32) -> u32>("add")
        .unwrap();
    assert_eq!(add.call(u32::MAX, 3), 2, "{provider}: typed add wraps");
    let inc = contract.typed::<extern "C" fn(u32) -> u32>("inc").unwrap();
    let mut counter = 0;
    for _ in 0..1000 {
        counter = inc.call(counter);
    }
    assert_eq!(counter, 1000, "{provider}: typed inc");
    match contract.typed::<extern "C" fn(u32) -> u64>("inc") {
        Err(FindError::SignatureMismatch {
            found, expected, ..
        }) => {
            assert_eq!(
                (found.as_str(), expected.as_str()),
                ("u32(u32)", "u64(u32)")
            );
        }
        other => panic!("{provider}: expected a signature mismatch, got {other:?}"),
    }
    let err = call(&contract, "fail", 1, 1).unwrap_err();
    assert_eq!(err.code, 1001, "{provider}: {err}");
    assert!(
        err.message.as_str().contains("failed on purpose"),
        "{provider}: {err}"
    );
}

/// Calls a fixture's native function `function` on an instance, with
/// arguments it ignores.
pub(crate) fn call_instance(instance: &mut Instance, function: &str) -> Result<u32, InstanceError> {
    let mut out = 0u32;
    // SAFETY: [P1] as for `call`: `AddArgs` in, a `u32` out.
    unsafe { instance.call(function, &AddArgs { a: 0, b: 0 }, &mut out) }?;
    Ok(out)
}

/// A new instance of the serving `reload.test`.
fn new_instance(runtime: &Runtime) -> Instance {
    let reader = runtime.reader();
    let guard = reader.pin();
    guard
        .find("reload.test", V1)
        .unwrap()
        .create_instance()
        .unwrap()
}

#[test]
fn rust_and_cpp_plugins_serve_test_add() {
    let runtime = Runtime::new().unwrap();
    runtime.load_bundle(bundle("test-add")).unwrap();
    runtime.load_bundle(bundle("test-add-cpp")).unwrap();
    check_test_add(&runtime, "test-add");
    check_test_add(&runtime, "test-add-cpp");
}

#[test]
fn a_rust_panic_becomes_an_error_and_the_plugin_keeps_serving() {
    let runtime = Runtime::new().unwrap();
    runtime.load_bundle(bundle("test-add")).unwrap();
    let reader = runtime.reader();
    let guard = reader.pin();
    let contract = guard.find("test.add", V1).unwrap();
    let err = call(&contract, "panic", 1, 2).unwrap_err();
    assert_eq!(err.code, polyplug_abi::ERR_PANIC);
    assert!(
        err.message
            .as_str()
            .contains("test.add panicked on purpose"),
        "{err}"
    );
    let out = call(&contract, "add", 1, 2).unwrap();
    assert_eq!(out, 3);
}

#[test]
fn a_c_plugin_serves_test_mul() {
    let runtime = Runtime::new().unwrap();
    runtime.load_bundle(bundle("c-mul")).unwrap();
    let reader = runtime.reader();
    let guard = reader.pin();
    let contract = guard.find("test.mul", V1).unwrap();
    let out = call(&contract, "mul", 6, 7).unwrap();
    assert_eq!(out, 42);
    assert_eq!(
        contract
            .typed::<extern "C" fn(u32, u32) -> u32>("mul")
            .unwrap()
            .call(3, 5),
        15
    );
}

extern "C" fn double(x: u32) -> u32 {
    x.wrapping_mul(2)
}

#[test]
fn a_plugin_calls_a_host_contract() {
    let runtime = Runtime::new().unwrap();
    // The bundle requires test.host: without it the load is refused.
    match runtime.load_bundle(bundle("host-user")) {
        Err(LoadError::MissingProvider {
            bundle, contract, ..
        }) => {
            assert_eq!(
                (bundle.as_str(), contract.as_str()),
                ("host-user", "test.host")
            );
        }
        other => panic!("expected a missing provider, got {other:?}"),
    }
    runtime
        .register_host_contract(
            HostContract::new("test.host", V1).typed("double", double as extern "C" fn(u32) -> u32),
        )
        .unwrap();
    let events = runtime.subscribe();
    runtime.load_bundle(bundle("host-user")).unwrap();
    let reader = runtime.reader();
    let guard = reader.pin();
    let contract = guard.find("host.user", V1).unwrap();
    let out = call(&contract, "double_plus_one", 20, 0).unwrap();
    assert_eq!(out, 41);
    assert_eq!(call(&contract, "log", 0, 0).unwrap(), 0);
    let logged = drain_events(&events).into_iter().any(|e| {
        matches!(e, Event::Log { bundle, message, .. } if bundle == "host-user" && message == "host-user says hi")
    });
    assert!(logged, "the plugin's log reached the subscribers");
}

#[test]
fn a_plugin_calls_another_plugin_and_pins_its_provider() {
    let runtime = Runtime::new().unwrap();
    let provider = runtime.load_bundle(bundle("test-add")).unwrap();
    let consumer = runtime.load_bundle(bundle("consumer")).unwrap();
    {
        let reader = runtime.reader();
        let guard = reader.pin();
        let calc = guard.find("consumer.calc", V1).unwrap();
        let out = call(&calc, "add_via", 2, 3).unwrap();
        assert_eq!(out, 1005);
    }
    match runtime.unload_bundle(provider) {
        Err(LoadError::HasDependents { bundle, dependents }) => {
            assert_eq!(bundle, "test-add");
            assert_eq!(dependents, ["consumer"]);
        }
        other => panic!("expected the unload to be refused, got {other:?}"),
    }
    // Refused means untouched: the consumer still reaches its provider.
    assert!(runtime.bundle_id("test-add").is_some());
    let order = runtime.unload_cascade(provider).unwrap();
    assert_eq!(order, [consumer, provider]);
    assert!(runtime.bundles().is_empty());
}

#[test]
fn instances_live_across_a_reload_and_call_the_version_that_made_them() {
    let runtime = Runtime::new().unwrap();
    let events = runtime.subscribe();
    let id = runtime.load_bundle(bundle("reload-v1")).unwrap();
    let mut v1_instance = new_instance(&runtime);
    for expected in 1..=3 {
        let out = call_instance(&mut v1_instance, "bump").unwrap();
        assert_eq!(out, expected);
    }
    let handle = handle_of(&runtime);
    runtime
        .reload_bundle(id, Some(&bundle("reload-v2")))
        .unwrap();
    drain(&runtime);
    assert_eq!(
        version_of(&runtime, handle),
        200,
        "the kept handle reaches v2"
    );
    // The v1 instance still runs v1 code: its library stayed loaded.
    let out = call_instance(&mut v1_instance, "tag").unwrap();
    assert_eq!(out, 100);
    let closed_before = runtime.library_stats().closed;
    drop(v1_instance);
    runtime.reclaim().unwrap();
    assert_eq!(
        runtime.library_stats().closed,
        closed_before + 1,
        "dropping the last v1 instance closes v1"
    );
    let mut v2_instance = new_instance(&runtime);
    let out = call_instance(&mut v2_instance, "tag").unwrap();
    assert_eq!(out, 200);
    drop(v2_instance);
    let logs: Vec<String> = drain_events(&events)
        .into_iter()
        .filter_map(|e| match e {
            Event::Log { message, .. } => Some(message),
            _ => None,
        })
        .collect();
    assert_eq!(
        logs,
        [
            "reload.test create v1",
            "reload.test destroy v1",
            "reload.test create v2",
            "reload.test destroy v2"
        ]
    );
}

#[test]
fn events_follow_a_load_reload_unload() {
    let runtime = Runtime::new().unwrap();
    let events = runtime.subscribe();
    let id = runtime.load_bundle(bundle("reload-v1")).unwrap();
    runtime
        .reload_bundle(id, Some(&bundle("reload-v2")))
        .unwrap();
    drain(&runtime);
    runtime.unload_bundle(id).unwrap();
    drain(&runtime);
    let kinds: Vec<&'static str> = drain_events(&events)
        .iter()
        .filter_map(|e| match e {
            Event::Loading { .. } => Some("loading"),
            Event::Loaded { .. } => Some("loaded"),
            Event::Reloading { .. } => Some("reloading"),
            Event::Reloaded { from, to, .. } => {
                assert_eq!((*from, *to), (Version::new(1, 0, 0), Version::new(2, 0, 0)));
                Some("reloaded")
            }
            Event::Drained { .. } => Some("drained"),
            Event::Unloading { .. } => Some("unloading"),
            Event::Unloaded { .. } => Some("unloaded"),
            Event::LibraryClosed { .. } => Some("closed"),
            _ => None,
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "loading",
            "loaded",
            "reloading",
            "reloaded",
            "closed",
            "drained",
            "unloading",
            "unloaded",
            "closed",
            "drained"
        ]
    );
}

#[test]
fn load_dir_orders_by_dependency_and_names_cycles_and_missing_providers() {
    let dir = TempDir::new("load-dir");
    copy_bundle("consumer", dir.path()).unwrap();
    copy_bundle("test-add", dir.path()).unwrap();
    let runtime = Runtime::new().unwrap();
    let ids = runtime.load_dir(dir.path()).unwrap();
    let names: Vec<String> = ids
        .iter()
        .map(|id| {
            runtime
                .bundles()
                .into_iter()
                .find(|b| b.id == *id)
                .unwrap()
                .name
        })
        .collect();
    assert_eq!(names, ["test-add", "consumer"]);

    let missing = TempDir::new("load-dir-missing");
    copy_bundle("consumer", missing.path()).unwrap();
    let runtime = Runtime::new().unwrap();
    match runtime.load_dir(missing.path()) {
        Err(LoadError::MissingProvider {
            bundle,
            contract,
            version,
        }) => {
            assert_eq!(
                (bundle.as_str(), contract.as_str(), version),
                ("consumer", "test.add", Version::new(1, 0, 0))
            );
        }
        other => panic!("expected a missing provider, got {other:?}"),
    }
    assert!(runtime.bundles().is_empty());

    let cycle = TempDir::new("load-dir-cycle");
    let a = copy_bundle("test-add", cycle.path()).unwrap();
    let c = copy_bundle("consumer", cycle.path()).unwrap();
    // test-add now also requires what consumer provides.
    let manifest = std::fs::read_to_string(a.join("manifest.toml")).unwrap();
    polyplug_fixtures::write_manifest(
        &a,
        &format!("{manifest}\n[[requires]]\nname = \"consumer.calc\"\nversion = \"1.0\"\n"),
    );
    let _ = c;
    match Runtime::new().unwrap().load_dir(cycle.path()) {
        Err(LoadError::DependencyCycle { cycle }) => {
            assert_eq!(cycle, ["consumer", "test-add", "consumer"])
        }
        other => panic!("expected a cycle, got {other:?}"),
    }
}

#[test]
fn unload_really_unmaps_each_kind_of_plugin() {
    let runtime = Runtime::new().unwrap();
    let events = runtime.subscribe();
    for name in ["test-add", "test-add-cpp", "c-mul", "reload-v1"] {
        let id = runtime.load_bundle(bundle(name)).unwrap();
        runtime.unload_bundle(id).unwrap();
    }
    drain(&runtime);
    let closed: Vec<(String, Unmapped)> = drain_events(&events)
        .into_iter()
        .filter_map(|e| match e {
            Event::LibraryClosed { name, unmapped, .. } => Some((name, unmapped)),
            _ => None,
        })
        .collect();
    for (name, unmapped) in &closed {
        println!("{name}: {unmapped:?}");
    }
    assert_eq!(closed.len(), 4, "{closed:?}");
    let stats = runtime.library_stats();
    assert_eq!((stats.opened, stats.closed), (4, 4));
    assert!(
        closed.iter().all(|(_, u)| *u == Unmapped::Yes),
        "every image left the address space: {closed:?}"
    );
}

#[test]
fn two_runtimes_in_one_process_are_independent() {
    let first = Runtime::new().unwrap();
    let second = Runtime::new().unwrap();
    let a = first.load_bundle(bundle("reload-v1")).unwrap();
    let b = second.load_bundle(bundle("reload-v1")).unwrap();
    first.reload_bundle(a, Some(&bundle("reload-v2"))).unwrap();
    second.unload_bundle(b).unwrap();
    let reader = first.reader();
    let guard = reader.pin();
    let version = guard
        .find("reload.test", V1)
        .unwrap()
        .typed::<extern "C" fn() -> u32>("version")
        .unwrap();
    assert_eq!(
        version.call(),
        200,
        "the first runtime serves its own reload"
    );
    let reader = second.reader();
    assert!(
        reader.pin().find("reload.test", V1).is_err(),
        "the second runtime unloaded its copy"
    );
    drop(guard);
    drain(&first);
    drain(&second);
    assert_eq!(
        (first.library_stats().opened, first.library_stats().closed),
        (2, 1)
    );
    assert_eq!(
        (second.library_stats().opened, second.library_stats().closed),
        (1, 1)
    );
}

#[test]
fn a_host_contract_is_checked_like_a_plugin_registration() {
    let runtime = Runtime::new().unwrap();
    let twice = HostContract::new("test.host", V1)
        .typed("double", double as extern "C" fn(u32) -> u32)
        .typed("double", double as extern "C" fn(u32) -> u32);
    match runtime.register_host_contract(twice) {
        Err(LoadError::HostContract(error)) => assert_eq!(error.field, "typed[1].name"),
        other => panic!("expected a refused host contract, got {other:?}"),
    }
    match runtime.register_host_contract(HostContract::new("Test Host", V1)) {
        Err(LoadError::HostContract(error)) => assert_eq!(error.field, "name"),
        other => panic!("expected a refused host contract, got {other:?}"),
    }
    assert_eq!(
        runtime.revision(),
        polyplug::Revision(0),
        "nothing was published"
    );
}

#[test]
fn a_key_made_once_finds_what_find_by_name_finds_as_bundles_come_and_go() {
    use polyplug::ContractKey;
    let runtime = Runtime::new().unwrap();
    // Made before anything is loaded: a key is a question, asked anew on
    // every find.
    let keys = [
        ContractKey::new("test.add", V1),
        ContractKey::new("test.add", Version::new(1, 1, 0)),
        ContractKey::new("test.add", Version::new(2, 0, 0)),
        ContractKey::new("test.mul", V1),
    ];
    let agree = |expect_found: [bool; 4]| {
        let reader = runtime.reader();
        let guard = reader.pin();
        for (key, expect) in keys.iter().zip(expect_found) {
            let by_key = guard.find_key(key).map(|c| c.handle());
            let by_name = guard
                .find(key.name(), key.min_version())
                .map(|c| c.handle());
            assert_eq!(
                by_key.is_ok(),
                expect,
                "{} {}",
                key.name(),
                key.min_version()
            );
            match (by_key, by_name) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{}: the same contract", key.name()),
                (
                    Err(FindError::NotFound {
                        contract,
                        min_version,
                    }),
                    Err(_),
                ) => {
                    assert_eq!(
                        (contract.as_str(), min_version),
                        (key.name(), key.min_version())
                    );
                }
                (a, b) => panic!("{}: by key {a:?}, by name {b:?}", key.name()),
            }
        }
    };
    agree([false; 4]);
    let add = runtime.load_bundle(bundle("test-add")).unwrap();
    agree([true, false, false, false]);
    let mul = runtime.load_bundle(bundle("c-mul")).unwrap();
    agree([true, false, false, true]);
    runtime.unload_bundle(add).unwrap();
    agree([false, false, false, true]);
    runtime.unload_bundle(mul).unwrap();
    agree([false; 4]);
}
