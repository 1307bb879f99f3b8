//! JavaScript bundles end to end: load, typed calls with numbers, strings
//! and bytes, registration errors, budgets, reload under six dispatchers,
//! failed reloads, per-thread states after unload, and calls to a native
//! contract. The modules are the `.js` files beside this one.
#![cfg(not(any(loom, shuttle, miri)))]
#![expect(
    clippy::unwrap_used,
    reason = "test support: a failed step fails the test"
)]

#[path = "../../tests/support/script_handover.rs"]
mod script_handover;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use polyplug::{Bytes, CallError, ContractHandle, FindError, LoadError, Runtime, Str, Version};
use polyplug_abi::{ERR_BAD_ARGUMENT, ERR_BUDGET, ERR_INVALID, ERR_TRAP};
use polyplug_js::{JsConfig, JsLoader, JsStatsHandle};

const V1: Version = Version::new(1, 0, 0);

/// A temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!(
            "polyplug-js-{label}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn js(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/js")
        .join(file);
    std::fs::read_to_string(&path).unwrap()
}

/// Writes a JavaScript bundle `name` into `dir/label`, its module
/// `(file name, source)`.
fn bundle(
    dir: &Path,
    label: &str,
    name: &str,
    version: &str,
    provides: &[(&str, &str)],
    (file, source): (&str, &str),
    limits: &str,
) -> PathBuf {
    let path = dir.join(label);
    std::fs::create_dir_all(&path).unwrap();
    std::fs::write(path.join(file), source).unwrap();
    let mut manifest = format!(
        "[bundle]\nname = \"{name}\"\nversion = \"{version}\"\nloader = \"javascript\"\n\n\
         [library]\n{} = \"{file}\"\n",
        std::env::consts::OS
    );
    for (contract, v) in provides {
        manifest.push_str(&format!(
            "\n[[provides]]\nname = \"{contract}\"\nversion = \"{v}\"\n"
        ));
    }
    if !limits.is_empty() {
        manifest.push_str(&format!("\n[limits]\n{limits}\n"));
    }
    std::fs::write(path.join("manifest.toml"), manifest).unwrap();
    path
}

fn reload_source(answer: u32, version: &str) -> String {
    js("reload.js")
        .replace("ANSWER", &answer.to_string())
        .replace("VERSION", version)
}

fn reload_bundle(dir: &Path, label: &str, answer: u32) -> PathBuf {
    let version = if answer == 100 { "1.0.0" } else { "1.1.0" };
    let bundle_version = if answer == 100 { "1.0.0" } else { "2.0.0" };
    bundle(
        dir,
        label,
        "reload-test",
        bundle_version,
        &[("reload.test", version)],
        ("reload.js", &reload_source(answer, version)),
        "",
    )
}

fn add_bundle(dir: &Path, label: &str, source: &str) -> PathBuf {
    bundle(
        dir,
        label,
        "js-add",
        "1.0.0",
        &[("test.add", "1.0.0")],
        ("add.js", source),
        "",
    )
}

fn runtime() -> (Runtime, JsStatsHandle) {
    let loader = JsLoader::new(JsConfig::default());
    let stats = loader.stats_handle();
    (Runtime::builder().loader(loader).build().unwrap(), stats)
}

fn drain(runtime: &Runtime) {
    runtime.drain(Duration::from_secs(30)).unwrap();
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

fn handle_of(runtime: &Runtime) -> ContractHandle {
    runtime
        .reader()
        .pin()
        .find("reload.test", V1)
        .unwrap()
        .handle()
}

/// Waits until no JavaScript state is alive, or a minute passes. A scope
/// ends when its threads' closures return; their thread-local states are
/// freed as the threads exit, just after.
fn wait_for_thread_exits(stats: &JsStatsHandle) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while stats.get().states_alive() > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The load error's text, for a bundle that must not load.
fn load_error(runtime: &Runtime, path: &Path) -> String {
    let err = runtime.load_bundle(path).unwrap_err();
    assert!(matches!(err, LoadError::Code { .. }), "{err}");
    err.to_string()
}

#[test]
fn a_javascript_bundle_loads_and_is_called_typed() {
    let tmp = TempDir::new("load");
    let (runtime, stats) = runtime();
    runtime
        .load_bundle(add_bundle(&tmp.0, "add", &js("add.js")))
        .unwrap();
    let reader = runtime.reader();
    let guard = reader.pin();
    let add = guard.find("test.add", V1).unwrap();
    let sum = add.typed::<extern "C" fn(u32, u32) -> u32>("add").unwrap();
    assert_eq!(sum.try_call(2, 3).unwrap(), 5);
    assert_eq!(
        sum.try_call(u32::MAX, 1).unwrap(),
        0,
        "the script's >>> 0 wraps"
    );
    let add64 = add
        .typed::<extern "C" fn(u64, u64) -> u64>("add64")
        .unwrap();
    assert_eq!(
        add64.try_call(u64::MAX - 5, 5).unwrap(),
        u64::MAX,
        "BigInt, exact"
    );
    let neg64 = add.typed::<extern "C" fn(i64) -> i64>("neg64").unwrap();
    assert_eq!(neg64.try_call(i64::MAX).unwrap(), -i64::MAX);
    let neg = add.typed::<extern "C" fn(i32) -> i32>("neg").unwrap();
    assert_eq!(neg.try_call(7).unwrap(), -7);
    let half = add.typed::<extern "C" fn(f64) -> f64>("half").unwrap();
    assert_eq!(half.try_call(3.0).unwrap(), 1.5);
    let touch = add.typed::<extern "C" fn(u32)>("touch").unwrap();
    touch.try_call(5).unwrap();
    assert!(matches!(
        add.typed::<extern "C" fn(u64) -> u64>("inc"),
        Err(FindError::SignatureMismatch { .. })
    ));
    let inc = add.bind::<extern "C" fn(u32) -> u32>("inc").unwrap();
    let mut x = 0;
    for _ in 0..100 {
        x = guard.bound(&inc).unwrap().call(x);
    }
    assert_eq!(x, 100);
    // A state at load to read the registration, freed; one for this thread.
    let s = stats.get();
    assert_eq!(
        (s.loads, s.states_made, s.states_alive()),
        (1, 2, 1),
        "{s:?}"
    );
}

#[test]
fn strings_and_bytes_cross_both_ways() {
    let tmp = TempDir::new("strings");
    let (runtime, _stats) = runtime();
    runtime
        .load_bundle(add_bundle(&tmp.0, "add", &js("add.js")))
        .unwrap();
    let reader = runtime.reader();
    let guard = reader.pin();
    let add = guard.find("test.add", V1).unwrap();
    let greet = add.typed::<extern "C" fn(Str) -> String>("greet").unwrap();
    assert_eq!(greet.try_call("wörld").unwrap(), "hello, wörld");
    assert_eq!(greet.try_call("").unwrap(), "hello, ");
    let reverse = add
        .typed::<extern "C" fn(Bytes) -> Vec<u8>>("reverse")
        .unwrap();
    let bytes = [1u8, 2, 3, 250];
    assert_eq!(reverse.try_call(&bytes).unwrap(), [250, 3, 2, 1]);
    let sum = add.typed::<extern "C" fn(Bytes) -> u32>("sum").unwrap();
    assert_eq!(sum.try_call(&bytes).unwrap(), 256);
}

#[test]
fn a_result_that_does_not_fit_is_a_fault_naming_the_function() {
    let tmp = TempDir::new("misfit");
    let (runtime, _stats) = runtime();
    runtime
        .load_bundle(add_bundle(&tmp.0, "add", &js("add.js")))
        .unwrap();
    let reader = runtime.reader();
    let guard = reader.pin();
    let add = guard.find("test.add", V1).unwrap();
    for (function, what) in [("frac", "1.5"), ("wide", "out of the range of u32")] {
        let f = add.typed::<extern "C" fn(u32) -> u32>(function).unwrap();
        let err = f.try_call(1).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(&format!("function {function}")), "{text}");
        assert!(text.contains(what), "{text}");
        assert_eq!(err.code, ERR_TRAP, "{text}");
    }
    let small = add.typed::<extern "C" fn(u8) -> u8>("small").unwrap();
    assert_eq!(small.try_call(100).unwrap(), 200);
    assert!(
        small
            .try_call(200)
            .unwrap_err()
            .to_string()
            .contains("out of the range of u8")
    );
    let text = add.typed::<extern "C" fn(u32) -> String>("text").unwrap();
    let err = text.try_call(1).unwrap_err().to_string();
    assert!(
        err.contains("function text") && err.contains("not a string"),
        "{err}"
    );
}

#[test]
fn registration_errors_name_the_function_file_and_line() {
    let tmp = TempDir::new("bad");
    let (runtime, stats) = runtime();
    let mismatch = add_bundle(&tmp.0, "mismatch", &js("mismatch.js"));
    let text = load_error(&runtime, &mismatch);
    assert!(
        text.contains("function add") && text.contains("takes 2 arguments"),
        "{text}"
    );
    let missing = add_bundle(&tmp.0, "missing", &js("missing.js"));
    let text = load_error(&runtime, &missing);
    assert!(
        text.contains("function inc") && text.contains("not a function"),
        "{text}"
    );
    let syntax = add_bundle(&tmp.0, "syntax", &js("syntax.js"));
    let text = load_error(&runtime, &syntax);
    assert!(
        text.contains("SyntaxError") && text.contains("add.js:4"),
        "{text}"
    );
    let throws = add_bundle(&tmp.0, "throws", &js("throws.js"));
    let text = load_error(&runtime, &throws);
    assert!(
        text.contains("TypeError") && text.contains("add.js:3"),
        "{text}"
    );
    let import = add_bundle(&tmp.0, "import", &js("import.js"));
    let text = load_error(&runtime, &import);
    assert!(text.contains("helper.js"), "{text}");
    drain(&runtime);
    let s = stats.get();
    assert_eq!((s.loads_alive(), s.states_alive()), (0, 0), "{s:?}");
}

#[test]
fn runaway_scripts_return_typed_errors_and_the_runtime_keeps_serving() {
    let tmp = TempDir::new("faults");
    let (runtime, stats) = runtime();
    runtime
        .load_bundle(bundle(
            &tmp.0,
            "faults",
            "js-faults",
            "1.0.0",
            &[("test.faults", "1.0.0")],
            ("faults.js", &js("faults.js")),
            "memory_pages = 64\nfuel = 20000000\n",
        ))
        .unwrap();
    let reader = runtime.reader();
    let call0 = |function: &str| -> Result<u32, CallError> {
        let guard = reader.pin();
        let f = guard.find("test.faults", V1).unwrap();
        f.typed::<extern "C" fn() -> u32>(function)
            .unwrap()
            .try_call()
    };
    let ok = |x: u32| -> u32 {
        let guard = reader.pin();
        let f = guard.find("test.faults", V1).unwrap();
        f.typed::<extern "C" fn(u32) -> u32>("ok")
            .unwrap()
            .try_call(x)
            .unwrap()
    };
    let named = |err: &CallError, function: &str| {
        let text = err.to_string();
        assert!(
            text.contains("bundle js-faults")
                && text.contains("contract test.faults")
                && text.contains(&format!("function {function}")),
            "{text}"
        );
        text
    };
    assert_eq!(ok(2), 6);
    let err = call0("spin").unwrap_err();
    let text = named(&err, "spin");
    assert_eq!(err.code, ERR_BUDGET, "{text}");
    assert!(
        text.contains("fuel") && text.contains("faults.js:"),
        "{text}"
    );
    assert_eq!(ok(3), 9);
    let err = call0("deep").unwrap_err();
    let text = named(&err, "deep");
    assert_eq!(err.code, ERR_BUDGET, "{text}");
    assert!(text.contains("stack"), "{text}");
    assert_eq!(ok(4), 12);
    let err = call0("hoard").unwrap_err();
    let text = named(&err, "hoard");
    assert_eq!(err.code, ERR_BUDGET, "{text}");
    assert!(text.contains("memory"), "{text}");
    assert_eq!(ok(5), 15);
    let fail = {
        let guard = reader.pin();
        let f = guard.find("test.faults", V1).unwrap();
        f.typed::<extern "C" fn(u32) -> u32>("fail")
            .unwrap()
            .try_call(7)
            .unwrap_err()
    };
    let text = named(&fail, "fail");
    assert_eq!(fail.code, ERR_TRAP, "{text}");
    assert!(
        text.contains("Error: no good: 7") && text.contains("faults.js:11"),
        "{text}"
    );
    // Another thread serves while this one's budgets ran out.
    std::thread::scope(|s| {
        s.spawn(|| {
            let reader = runtime.reader();
            let guard = reader.pin();
            let f = guard.find("test.faults", V1).unwrap();
            let ok = f.typed::<extern "C" fn(u32) -> u32>("ok").unwrap();
            assert_eq!(ok.try_call(10).unwrap(), 30);
        });
    });
    assert_eq!(ok(6), 18);
    let _ = stats;
}

#[test]
fn edit_in_place_reload_and_failed_reloads_leave_v1_serving() {
    let tmp = TempDir::new("reload");
    let (runtime, stats) = runtime();
    let dir = reload_bundle(&tmp.0, "live", 100);
    let id = runtime.load_bundle(&dir).unwrap();
    let handle = handle_of(&runtime);
    assert_eq!(version_of(&runtime, handle), 100);
    // Edit in place: the same directory, a new module.
    std::fs::write(dir.join("reload.js"), reload_source(150, "1.0.0")).unwrap();
    runtime.reload_bundle(id, None).unwrap();
    assert_eq!(version_of(&runtime, handle), 150);
    let revision = runtime.revision();
    for (label, source) in [("syntax", js("syntax.js")), ("throws", js("throws.js"))] {
        let bad = bundle(
            &tmp.0,
            label,
            "reload-test",
            "3.0.0",
            &[("reload.test", "1.2.0")],
            ("reload.js", &source),
            "",
        );
        let err = runtime.reload_bundle(id, Some(&bad)).unwrap_err();
        assert!(matches!(err, LoadError::Code { .. }), "{err}");
        assert!(err.to_string().contains("reload.js:"), "{err}");
        assert_eq!(runtime.revision(), revision);
        assert_eq!(
            version_of(&runtime, handle),
            150,
            "the old load keeps serving"
        );
    }
    runtime.unload_bundle(id).unwrap();
    assert!(matches!(
        runtime.reader().pin().get(handle),
        Err(FindError::Stale { .. })
    ));
    drain(&runtime);
    // This thread's state of the unloaded load is pending until its next
    // call into the engine.
    let s = stats.get();
    assert_eq!(s.loads_alive(), 0, "{s:?}");
    assert_eq!((s.states_alive(), s.states_pending), (1, 1), "{s:?}");
    assert_eq!(polyplug_js::collect_this_thread(), 1);
    let s = stats.get();
    assert_eq!((s.states_alive(), s.states_pending), (0, 0), "{s:?}");
}

/// After unload, states of other threads are pending until those threads
/// call into the engine again or exit; then none is left.
#[test]
fn states_of_an_unloaded_load_are_freed_by_their_threads() {
    let tmp = TempDir::new("states");
    let (runtime, stats) = runtime();
    let runtime = &runtime;
    let id = runtime
        .load_bundle(reload_bundle(&tmp.0, "v1", 100))
        .unwrap();
    let other = runtime
        .load_bundle(add_bundle(&tmp.0, "add", &js("add.js")))
        .unwrap();
    let handle = handle_of(runtime);
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    std::thread::scope(|s| {
        // A thread that calls both, waits while one load goes away, then
        // calls the other again, in the state it already has: that call
        // frees its pending state.
        s.spawn(move || {
            let inc = || {
                let reader = runtime.reader();
                let guard = reader.pin();
                let inc = guard
                    .find("test.add", V1)
                    .unwrap()
                    .typed::<extern "C" fn(u32) -> u32>("inc")
                    .unwrap();
                inc.try_call(1).unwrap()
            };
            assert_eq!(version_of(runtime, handle), 100);
            assert_eq!(inc(), 2);
            done_tx.send(()).unwrap();
            go_rx.recv_timeout(Duration::from_secs(60)).unwrap();
            assert_eq!(inc(), 2);
            done_tx.send(()).unwrap();
            go_rx.recv_timeout(Duration::from_secs(60)).unwrap();
        });
        // A thread that calls once and exits.
        s.spawn(move || assert_eq!(version_of(runtime, handle), 100))
            .join()
            .unwrap();
        done_rx.recv_timeout(Duration::from_secs(60)).unwrap();
        runtime.unload_bundle(id).unwrap();
        drain(runtime);
        let s = stats.get();
        assert_eq!(s.states_pending, 1, "the waiting thread's state: {s:?}");
        go_tx.send(()).unwrap();
        done_rx.recv_timeout(Duration::from_secs(60)).unwrap();
        let s = stats.get();
        assert_eq!(s.states_pending, 0, "freed at its next call: {s:?}");
        go_tx.send(()).unwrap();
    });
    runtime.unload_bundle(other).unwrap();
    drain(runtime);
    polyplug_js::collect_this_thread();
    wait_for_thread_exits(&stats);
    let s = stats.get();
    assert_eq!(
        (s.loads_alive(), s.states_alive(), s.states_pending),
        (0, 0, 0),
        "{s:?}"
    );
}

/// Seed scenario 3 in JavaScript: six dispatcher threads call
/// `reload.test` through a kept handle while 80 real reloads alternate v1
/// (100) and v2 (200); every call answers 100 or 200.
#[test]
fn six_dispatchers_during_eighty_javascript_reloads() {
    let tmp = TempDir::new("seed3");
    let (runtime, stats) = runtime();
    let (v1, v2) = (
        reload_bundle(&tmp.0, "v1", 100),
        reload_bundle(&tmp.0, "v2", 200),
    );
    let id = runtime.load_bundle(&v1).unwrap();
    let handle = handle_of(&runtime);
    let stop = AtomicBool::new(false);
    let (ones, twos, torn, errors) = (
        AtomicU64::new(0),
        AtomicU64::new(0),
        AtomicU64::new(0),
        AtomicU64::new(0),
    );
    std::thread::scope(|s| {
        for _ in 0..6 {
            s.spawn(|| {
                let reader = runtime.reader();
                // Relaxed: counters and a stop flag, read after the join.
                while !stop.load(Ordering::Relaxed) {
                    let guard = reader.pin();
                    let contract = guard.get(handle).unwrap();
                    let version = contract.typed::<extern "C" fn() -> u32>("version").unwrap();
                    match version.try_call() {
                        Ok(100) => ones.fetch_add(1, Ordering::Relaxed),
                        Ok(200) => twos.fetch_add(1, Ordering::Relaxed),
                        Ok(_) => torn.fetch_add(1, Ordering::Relaxed),
                        Err(_) => errors.fetch_add(1, Ordering::Relaxed),
                    };
                }
            });
        }
        while ones.load(Ordering::Relaxed) < 600 {
            std::thread::yield_now();
        }
        for i in 0..80 {
            let from = if i % 2 == 0 { &v2 } else { &v1 };
            runtime.reload_bundle(id, Some(from)).unwrap();
        }
        stop.store(true, Ordering::Relaxed);
    });
    let (ones, twos) = (ones.into_inner(), twos.into_inner());
    assert_eq!((torn.into_inner(), errors.into_inner()), (0, 0));
    assert!(
        ones > 0 && twos > 0,
        "both versions answered: {ones} {twos}"
    );
    runtime.unload_bundle(id).unwrap();
    drain(&runtime);
    // The dispatchers exited: their states went with them.
    wait_for_thread_exits(&stats);
    let s = stats.get();
    assert_eq!(s.loads, 81);
    assert_eq!(
        (s.loads_alive(), s.states_alive(), s.states_pending),
        (0, 0, 0),
        "{s:?}"
    );
}

/// A script calls a native contract through the `polyplug` global; a call
/// back into the module running on this thread is refused, not re-entered.
#[test]
fn a_script_calls_a_native_contract_and_reentry_is_an_error() {
    let tmp = TempDir::new("host");
    let (runtime, _stats) = runtime();
    runtime
        .load_bundle(polyplug_fixtures::bundle("test-add"))
        .unwrap();
    runtime
        .load_bundle(bundle(
            &tmp.0,
            "chain",
            "js-chain",
            "1.0.0",
            &[("test.chain", "1.0.0")],
            ("host.js", &js("host.js")),
            "",
        ))
        .unwrap();
    let reader = runtime.reader();
    let call = |function: &str, x: u32| {
        let guard = reader.pin();
        guard
            .find("test.chain", V1)
            .unwrap()
            .typed::<extern "C" fn(u32) -> u32>(function)
            .unwrap()
            .try_call(x)
    };
    assert_eq!(call("via_native", 41).unwrap(), 42);
    let err = call("again", 1).unwrap_err().to_string();
    assert!(err.contains("re-entrant"), "{err}");
    let err = call("missing", 1).unwrap_err().to_string();
    assert!(err.contains("no.such"), "{err}");
    assert_eq!(call("via_native", 1).unwrap(), 2, "still serving");
    let _ = ERR_INVALID;
}

/// `counter.js` answering `tag` with `tag`, under `limits`.
fn counter_bundle(dir: &Path, label: &str, tag: u32, limits: &str) -> PathBuf {
    counter_bundle_from(
        dir,
        label,
        &js("counter.js").replace("TAG", &tag.to_string()),
        limits,
    )
}

fn counter_bundle_from(dir: &Path, label: &str, source: &str, limits: &str) -> PathBuf {
    bundle(
        dir,
        label,
        "counter",
        "1.0.0",
        &[("js.counter", "1.0.0")],
        ("counter.js", source),
        limits,
    )
}

fn counter(runtime: &Runtime) -> polyplug::Instance {
    runtime
        .reader()
        .pin()
        .find("js.counter", V1)
        .unwrap()
        .create_instance()
        .unwrap()
}

/// Calls method `name`, of type `u32()`, on `instance`.
fn method(instance: &mut polyplug::Instance, name: &str) -> Result<u32, CallError> {
    instance
        .typed::<extern "C" fn() -> u32>(name)
        .unwrap()
        .call()
}

/// A stateful JavaScript contract: each instance is its own object,
/// counts on its own, and keeps the version that made it across a
/// reload; a method called without an instance is refused; everything is
/// freed after unload.
#[test]
fn javascript_instances_keep_their_state_and_their_version() {
    let tmp = TempDir::new("instances");
    let (runtime, stats) = runtime();
    let id = runtime
        .load_bundle(counter_bundle(&tmp.0, "v1", 100, ""))
        .unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            let (mut one, mut two) = (counter(&runtime), counter(&runtime));
            let bumps: Vec<u32> = (0..3).map(|_| method(&mut one, "bump").unwrap()).collect();
            assert_eq!(bumps, [1, 2, 3]);
            assert_eq!(
                method(&mut two, "bump").unwrap(),
                1,
                "two instances are independent"
            );
            let mut add = two.typed::<extern "C" fn(u32) -> u32>("add").unwrap();
            assert_eq!(add.call(10).unwrap(), 11);
            let reader = runtime.reader();
            let guard = reader.pin();
            let err = guard
                .find("js.counter", V1)
                .unwrap()
                .typed::<extern "C" fn() -> u32>("bump")
                .unwrap()
                .try_call()
                .unwrap_err();
            assert_eq!(err.code, ERR_BAD_ARGUMENT, "{err}");
            assert!(err.to_string().contains("create_instance"), "{err}");
            drop(guard);
            runtime
                .reload_bundle(id, Some(&counter_bundle(&tmp.0, "v2", 200, "")))
                .unwrap();
            assert_eq!(
                method(&mut one, "tag").unwrap(),
                100,
                "the instance keeps v1"
            );
            assert_eq!(method(&mut one, "bump").unwrap(), 4);
            let mut three = counter(&runtime);
            assert_eq!(method(&mut three, "tag").unwrap(), 200);
            assert_eq!(method(&mut three, "bump").unwrap(), 1);
            let s = stats.get();
            assert_eq!(
                (s.instances_made, s.instances_alive(), s.instances_pending),
                (3, 3, 0),
                "{s:?}"
            );
            drop((one, two, three));
            let s = stats.get();
            assert_eq!(
                (s.instances_alive(), s.instances_pending),
                (0, 0),
                "dropped on their own thread, freed at once: {s:?}"
            );
        });
    });
    runtime.unload_bundle(id).unwrap();
    drain(&runtime);
    wait_for_thread_exits(&stats);
    let s = stats.get();
    assert_eq!(
        (
            s.loads_alive(),
            s.states_alive(),
            s.states_pending,
            s.instances_alive(),
            s.instances_pending
        ),
        (0, 0, 0, 0, 0),
        "{s:?}"
    );
}

/// An instance moved to another thread: a call there is a typed error
/// naming bundle, contract and function; a drop there leaves its object
/// pending, freed at the owner's next call, or when the owner exits.
#[test]
fn a_javascript_instance_belongs_to_the_thread_that_made_it() {
    let tmp = TempDir::new("instance-threads");
    let (runtime, stats) = runtime();
    let id = runtime
        .load_bundle(counter_bundle(&tmp.0, "v1", 100, ""))
        .unwrap();
    let (ask, asked) = mpsc::channel::<&'static str>();
    let (give, given) = mpsc::channel::<polyplug::Instance>();
    let (answer, answers) = mpsc::channel::<u32>();
    let timeout = Duration::from_secs(60);
    let shared = &runtime;
    std::thread::scope(|s| {
        s.spawn(move || {
            for what in asked {
                let mut instance = counter(shared);
                let value = method(&mut instance, "bump").unwrap();
                if what == "make" {
                    give.send(instance).unwrap();
                } else {
                    drop(instance);
                    answer.send(value).unwrap();
                }
            }
        });
        ask.send("make").unwrap();
        let mut moved = given.recv_timeout(timeout).unwrap();
        let err = method(&mut moved, "bump").unwrap_err();
        assert_eq!(
            (err.contract.as_str(), err.function.as_str(), err.code),
            ("js.counter", "bump", ERR_BAD_ARGUMENT),
            "{err}"
        );
        let text = err.to_string();
        assert!(
            text.contains("bundle counter") && text.contains("belongs to another thread"),
            "{text}"
        );
        let s = stats.get();
        assert_eq!((s.instances_alive(), s.instances_pending), (1, 0), "{s:?}");
        drop(moved);
        let s = stats.get();
        assert_eq!(
            (s.instances_alive(), s.instances_pending),
            (1, 1),
            "dropped here, its object waits for its thread: {s:?}"
        );
        // The owner's next call frees it (the new instance it makes for
        // the call is dropped there, at once).
        ask.send("call").unwrap();
        assert_eq!(answers.recv_timeout(timeout).unwrap(), 1);
        let s = stats.get();
        assert_eq!((s.instances_alive(), s.instances_pending), (0, 0), "{s:?}");
        // Once more; this time the owner exits without calling again.
        ask.send("make").unwrap();
        drop(given.recv_timeout(timeout).unwrap());
        let s = stats.get();
        assert_eq!((s.instances_alive(), s.instances_pending), (1, 1), "{s:?}");
        drop(ask);
    });
    wait_for_thread_exits(&stats);
    let s = stats.get();
    assert_eq!(
        (s.states_alive(), s.instances_alive(), s.instances_pending),
        (0, 0, 0),
        "the owner exited, its state and the object with it: {s:?}"
    );
    runtime.unload_bundle(id).unwrap();
    drain(&runtime);
    assert_eq!(stats.get().loads_alive(), 0);
}

/// Instance calls run under the bundle's budgets: fuel per call and the
/// state's memory (an instance that ran out is unusable, its sibling in
/// the same state keeps counting), and `limits.instances` live instances.
#[test]
fn javascript_instance_calls_run_under_the_budgets() {
    let tmp = TempDir::new("instance-budgets");
    let (runtime, stats) = runtime();
    runtime
        .load_bundle(counter_bundle(
            &tmp.0,
            "v1",
            100,
            "fuel = 100000\nmemory_pages = 64\ninstances = 2",
        ))
        .unwrap();
    let (mut a, mut b) = (counter(&runtime), counter(&runtime));
    let err = runtime
        .reader()
        .pin()
        .find("js.counter", V1)
        .unwrap()
        .create_instance()
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(&err, polyplug::InstanceError::Call(e) if e.code == ERR_BUDGET)
            && text.contains("limits.instances")
            && text.contains("js.counter"),
        "{text}"
    );
    assert_eq!(method(&mut a, "bump").unwrap(), 1);
    let err = method(&mut a, "spin").unwrap_err();
    assert_eq!(err.code, ERR_BUDGET, "{err}");
    assert!(err.to_string().contains("limits.fuel"), "{err}");
    let err = method(&mut a, "bump").unwrap_err();
    assert_eq!(err.code, ERR_TRAP, "{err}");
    assert!(err.to_string().contains("unusable"), "{err}");
    assert_eq!(
        method(&mut b, "bump").unwrap(),
        1,
        "the sibling keeps its state"
    );
    assert_eq!(method(&mut b, "bump").unwrap(), 2);
    // The instance that ran out was freed: there is room for another.
    let mut c = counter(&runtime);
    assert_eq!(method(&mut c, "bump").unwrap(), 1);
    let err = method(&mut c, "grow").unwrap_err();
    assert_eq!(err.code, ERR_BUDGET, "{err}");
    assert!(err.to_string().contains("limits.memory_pages"), "{err}");
    assert_eq!(
        method(&mut b, "bump").unwrap(),
        3,
        "the sibling keeps its state"
    );
    let s = stats.get();
    assert_eq!((s.instances_made, s.instances_alive()), (3, 1), "{s:?}");
}

/// A `class` that is not a class, or lacks a method, a method whose
/// parameters do not match its signature, and a `fn` in a stateful
/// contract, are load errors naming the file, the contract and the
/// function.
#[test]
fn bad_javascript_classes_are_load_errors() {
    let tmp = TempDir::new("classes");
    let (runtime, stats) = runtime();
    let good = js("counter.js").replace("TAG", "100");
    for (case, (from, to, function, problem)) in [
        ("class: Counter", "class: 42", "class", "must be a class"),
        (
            "class: Counter",
            "class: () => ({})",
            "class",
            "must be a class",
        ),
        (
            "class: Counter",
            "class: class { bump() { return 1; } }",
            "function add",
            "the class has no method add",
        ),
        (
            "  add(x) {",
            "  add() {",
            "function add",
            "the function declares 0 parameters",
        ),
        (
            "bump: { sig: \"u32()\" }",
            "bump: { sig: \"u32()\", fn: () => 1 }",
            "function bump",
            "give only `sig`",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        assert!(good.contains(from));
        let dir = counter_bundle_from(&tmp.0, &format!("case{case}"), &good.replace(from, to), "");
        let text = load_error(&runtime, &dir);
        for part in ["counter.js", "js.counter", function, problem] {
            assert!(text.contains(part), "{to}: {text} lacks {part}");
        }
    }
    drain(&runtime);
    let s = stats.get();
    assert_eq!((s.loads_alive(), s.instances_made), (0, 0), "{s:?}");
}

/// As a native instance does, an instance keeps its load after an unload:
/// it still answers; the load goes when the instance is dropped and the
/// runtime reclaims, and the thread's state of it when the thread exits.
#[test]
fn a_javascript_instance_keeps_its_load_after_unload() {
    let tmp = TempDir::new("instance-unload");
    let (runtime, stats) = runtime();
    let id = runtime
        .load_bundle(counter_bundle(&tmp.0, "v1", 100, ""))
        .unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut one = counter(&runtime);
            assert_eq!(method(&mut one, "bump").unwrap(), 1);
            runtime.unload_bundle(id).unwrap();
            drain(&runtime);
            assert_eq!(
                method(&mut one, "bump").unwrap(),
                2,
                "the instance keeps its load"
            );
            assert_eq!(stats.get().loads_alive(), 1);
            assert_eq!(runtime.code_stats().alive(), 1);
            drop(one);
            runtime.reclaim().unwrap();
            assert_eq!(
                runtime.code_stats().alive(),
                0,
                "the load goes with its last instance"
            );
            let s = stats.get();
            assert_eq!(
                (
                    s.loads_alive(),
                    s.instances_alive(),
                    s.states_alive(),
                    s.states_pending
                ),
                (0, 0, 1, 1),
                "this thread's state of the load waits for the thread: {s:?}"
            );
        });
    });
    wait_for_thread_exits(&stats);
    let s = stats.get();
    assert_eq!(
        (
            s.loads_alive(),
            s.states_alive(),
            s.states_pending,
            s.instances_alive(),
            s.instances_pending
        ),
        (0, 0, 0, 0, 0),
        "{s:?}"
    );
}

// State handover: `Instance::upgrade` moves a live instance to the version
// that serves now through the old version's `save` and the new version's
// `restore`; the script side is the contract entry's `save` and `restore`.

const COUNTER: &str = "handover.counter";

/// `handover.js` as contract version `version`, stepping by `step`, in a
/// bundle named as the native handover fixtures are (a reload keeps the
/// bundle's name).
fn handover_bundle(dir: &Path, label: &str, version: &str, step: u32) -> PathBuf {
    handover_bundle_from(
        dir,
        label,
        version,
        &js("handover.js")
            .replace("VERSION", version)
            .replace("STEP", &step.to_string()),
    )
}

fn handover_bundle_from(dir: &Path, label: &str, version: &str, source: &str) -> PathBuf {
    bundle(
        dir,
        label,
        "handover-test",
        "1.0.0",
        &[(COUNTER, version)],
        ("handover.js", source),
        "",
    )
}

fn handover_counter(runtime: &Runtime) -> polyplug::Instance {
    runtime
        .reader()
        .pin()
        .find(COUNTER, V1)
        .unwrap()
        .create_instance()
        .unwrap()
}

/// Calls method `name`, of type `u32(u32)`, on `instance` with `a`.
fn method_with(instance: &mut polyplug::Instance, name: &str, a: u32) -> u32 {
    instance
        .typed::<extern "C" fn(u32) -> u32>(name)
        .unwrap()
        .call(a)
        .unwrap()
}

#[repr(C)]
struct AddArgs {
    a: u32,
    b: u32,
}

/// Calls native `function` of the native handover fixtures on `instance`.
fn native(instance: &mut polyplug::Instance, function: &str) -> u32 {
    let mut out = 0u32;
    // SAFETY: [P1] handover.counter documents every native function as
    // reading an `AddArgs` and writing a `u32`.
    unsafe { instance.call(function, &AddArgs { a: 0, b: 0 }, &mut out) }.unwrap();
    out
}

/// A JavaScript counter that counted to 7 keeps counting from 7 after a
/// reload that changes its code, once upgraded; a fresh instance starts
/// from 0.
#[test]
fn a_javascript_counter_keeps_counting_from_n_after_a_reload_that_changes_its_code() {
    let tmp = TempDir::new("handover");
    let (runtime, stats) = runtime();
    let id = runtime
        .load_bundle(handover_bundle(&tmp.0, "v1", "1.0.0", 1))
        .unwrap();
    let mut counter = handover_counter(&runtime);
    for _ in 0..7 {
        method(&mut counter, "step").unwrap();
    }
    runtime
        .reload_bundle(id, Some(&handover_bundle(&tmp.0, "v2", "1.1.0", 10)))
        .unwrap();
    assert_eq!(
        method(&mut counter, "step").unwrap(),
        8,
        "v1's code until upgraded"
    );
    let reader = runtime.reader();
    assert!(counter.upgrade(&reader.pin()).unwrap());
    assert_eq!(counter.version(), Version::new(1, 1, 0));
    assert_eq!(method(&mut counter, "count").unwrap(), 8, "v1's count");
    assert_eq!(method(&mut counter, "step").unwrap(), 18, "v2's step");
    assert!(!counter.upgrade(&reader.pin()).unwrap(), "already on v2");
    let mut fresh = handover_counter(&runtime);
    assert_eq!(method(&mut fresh, "step").unwrap(), 10);
    drop((counter, fresh));
    let s = stats.get();
    assert_eq!(
        (s.instances_made, s.instances_alive()),
        (3, 0),
        "the old instance freed, the restored one counted: {s:?}"
    );
}

/// Native v1 hands over to a JavaScript version in the native 8-byte
/// format, and the JavaScript version back to native v2: the count
/// survives both ways.
#[test]
fn a_native_counter_hands_over_to_javascript_and_back() {
    let tmp = TempDir::new("handover-native");
    let (runtime, _stats) = runtime();
    let id = runtime
        .load_bundle(polyplug_fixtures::bundle("handover-v1"))
        .unwrap();
    let mut counter = handover_counter(&runtime);
    for _ in 0..5 {
        native(&mut counter, "step");
    }
    assert_eq!(native(&mut counter, "count"), 5);
    let reader = runtime.reader();

    runtime
        .reload_bundle(id, Some(&handover_bundle(&tmp.0, "js", "1.2.0", 100)))
        .unwrap();
    assert!(counter.upgrade(&reader.pin()).unwrap()); // native save, JavaScript restore
    assert_eq!(counter.version(), Version::new(1, 2, 0));
    assert_eq!(method(&mut counter, "step").unwrap(), 105);

    runtime
        .reload_bundle(id, Some(&polyplug_fixtures::bundle("handover-v2")))
        .unwrap();
    assert!(counter.upgrade(&reader.pin()).unwrap()); // JavaScript save, native restore
    assert_eq!(counter.version(), Version::new(1, 1, 0));
    assert_eq!(native(&mut counter, "step"), 115);
}

/// Counts a JavaScript v1 instance to 5, arms it with `mode`, reloads to
/// v2 and returns the upgrade's error, after checking the old instance
/// serves on with its count and, disarmed, hands over.
fn failed_javascript_upgrade(mode: u32) -> polyplug::HandoverError {
    let tmp = TempDir::new(&format!("handover-fail{mode}"));
    let (runtime, stats) = runtime();
    let id = runtime
        .load_bundle(handover_bundle(&tmp.0, "v1", "1.0.0", 1))
        .unwrap();
    let mut counter = handover_counter(&runtime);
    for _ in 0..5 {
        method(&mut counter, "step").unwrap();
    }
    method_with(&mut counter, "arm", mode);
    runtime
        .reload_bundle(id, Some(&handover_bundle(&tmp.0, "v2", "1.1.0", 10)))
        .unwrap();
    let reader = runtime.reader();
    let err = counter.upgrade(&reader.pin()).unwrap_err();
    assert_eq!(counter.version(), V1);
    assert_eq!(
        method(&mut counter, "step").unwrap(),
        6,
        "v1 serves on: {err}"
    );
    let s = stats.get();
    assert_eq!(s.instances_alive(), 1, "nothing restored is kept: {s:?}");
    method_with(&mut counter, "arm", 0);
    assert!(counter.upgrade(&reader.pin()).unwrap());
    assert_eq!(method(&mut counter, "step").unwrap(), 16);
    err
}

#[test]
fn a_failed_javascript_save_or_restore_leaves_the_old_instance_serving() {
    use polyplug::HandoverStep;
    for (mode, step, function, words) in [
        (1, HandoverStep::Save, "save", "save armed to fail"),
        (
            2,
            HandoverStep::Restore,
            "restore",
            "restore refused: saved armed",
        ),
    ] {
        let err = failed_javascript_upgrade(mode);
        let source = script_handover::failure(&err, step);
        assert_eq!(source.function, function, "{err}");
        assert_eq!(source.code, ERR_TRAP, "{err}");
        let text = source.message.as_str();
        for part in [
            "bundle handover-test",
            COUNTER,
            &format!("function {function}"),
            words,
            "handover.js:",
        ] {
            assert!(text.contains(part), "{text} lacks {part}");
        }
    }
}

/// `save` without `restore` (or the reverse), or either beside no
/// `class`, or not a function, is a load error naming the file, the
/// contract and the field.
#[test]
fn a_javascript_handover_needs_save_and_restore_together() {
    let tmp = TempDir::new("handover-load");
    let (runtime, _stats) = runtime();
    let good = js("handover.js")
        .replace("VERSION", "1.0.0")
        .replace("STEP", "1");
    for (case, (from, to, field, problem)) in [
        ("    restore,\n", "", "function save", "no `restore`"),
        ("    save,\n", "", "function restore", "no `save`"),
        (
            "    save,\n",
            "    save: true,\n",
            "function save",
            "must be a function, found bool",
        ),
        ("    class: Counter,\n", "", "function save", "no `class`"),
    ]
    .into_iter()
    .enumerate()
    {
        assert!(good.contains(from));
        let dir = handover_bundle_from(
            &tmp.0,
            &format!("case{case}"),
            "1.0.0",
            &good.replace(from, to),
        );
        let text = load_error(&runtime, &dir);
        for part in ["handover.js", COUNTER, field, problem] {
            assert!(text.contains(part), "case {case}: {text} lacks {part}");
        }
    }
}

/// `save` and `restore` run as calls do: `save` on the instance's own
/// thread only (from another, the upgrade stops at save with a typed
/// fault), under the bundle's fuel, their results checked, `restore`'s
/// instance counted against `limits.instances`; after each failure the old
/// instance serves on.
#[test]
fn javascript_save_and_restore_run_as_calls_do() {
    use polyplug::HandoverStep;
    let tmp = TempDir::new("handover-calls");
    let (runtime, _stats) = runtime();
    let text = |version: &str, step: u32| {
        js("handover.js")
            .replace("VERSION", version)
            .replace("STEP", &step.to_string())
    };
    let v1 = text("1.0.0", 1).replace(
        "if (counter.armed === 1) throw new Error(\"save armed to fail\");",
        "if (counter.armed === 1) for (;;) {}\n  if (counter.armed === 3) return \"42\";\n  if (counter.armed === 4) return new Uint8Array(64 * 1024 * 1024);",
    );
    let v2 = text("1.1.0", 10).replace("  return counter;\n", "  return \"seven\";\n");
    let id = runtime
        .load_bundle(bundle(
            &tmp.0,
            "v1",
            "handover-test",
            "1.0.0",
            &[(COUNTER, "1.0.0")],
            ("handover.js", &v1),
            "fuel = 100000\nmemory_pages = 64",
        ))
        .unwrap();
    let mut counter = handover_counter(&runtime);
    assert_eq!(method(&mut counter, "step").unwrap(), 1);
    runtime
        .reload_bundle(id, Some(&handover_bundle_from(&tmp.0, "v2", "1.1.0", &v2)))
        .unwrap();
    let failed = script_handover::failed;
    let moved = std::thread::scope(|s| {
        s.spawn(|| counter.upgrade(&runtime.reader().pin()).unwrap_err())
            .join()
            .unwrap()
    });
    failed(
        moved,
        HandoverStep::Save,
        ERR_BAD_ARGUMENT,
        "belongs to another thread",
    );
    assert_eq!(method(&mut counter, "step").unwrap(), 2);
    let reader = runtime.reader();
    // Saves that loop past the fuel, return what is not a state, and ask
    // for more memory than the bundle may have: each fails at save, and
    // the old instance counts on.
    assert_eq!(
        script_handover::save_failures(&mut counter, &reader, 2, "function save: returned string"),
        5
    );
    method_with(&mut counter, "arm", 0);
    failed(
        counter.upgrade(&reader.pin()).unwrap_err(),
        HandoverStep::Restore,
        ERR_TRAP,
        "function restore: returned no object",
    );
    assert_eq!(method(&mut counter, "step").unwrap(), 6);
    // The restored instance counts against the new load's
    // limits.instances, as a created one does.
    runtime
        .reload_bundle(
            id,
            Some(&bundle(
                &tmp.0,
                "v3",
                "handover-test",
                "1.0.0",
                &[(COUNTER, "1.1.0")],
                ("handover.js", &text("1.1.0", 10)),
                "instances = 1",
            )),
        )
        .unwrap();
    let fresh = handover_counter(&runtime);
    failed(
        counter.upgrade(&reader.pin()).unwrap_err(),
        HandoverStep::Restore,
        ERR_BUDGET,
        "limits.instances",
    );
    assert_eq!(method(&mut counter, "step").unwrap(), 7);
    drop(fresh);
    assert!(counter.upgrade(&reader.pin()).unwrap());
    assert_eq!(method(&mut counter, "step").unwrap(), 17);
}
