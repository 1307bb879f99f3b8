//! Python bundles end to end: load, typed calls of every kind, modules
//! from the bundle directory, signatures, syntax and load errors, the
//! time limit and the recursion limit broken, limits refused by name,
//! reload under six dispatchers, edit-in-place and failed reloads,
//! modules and host functions freed after unload, calls across Python,
//! Rust and C, and the instances of stateful contracts (their state,
//! version, threads, limits and constructors, and their state handover
//! across a reload, Python to Python and native to Python and back). The
//! scripts are the `.py` files in `bundles/`, copied into a bundle
//! directory per test.
#![cfg(not(any(loom, shuttle, miri)))]
#![expect(
    clippy::unwrap_used,
    reason = "test support: a failed step fails the test"
)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use polyplug::{Bytes, ContractHandle, FindError, HostContract, LoadError, Runtime, Str, Version};
use polyplug_abi::{ERR_BAD_ARGUMENT, ERR_BUDGET, ERR_TRAP, ERR_UNSUPPORTED};
use polyplug_python::{PythonConfig, PythonLoader, StatsHandle};

const V1: Version = Version::new(1, 0, 0);

/// A temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!(
            "polyplug-python-{label}-{}-{:?}",
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

fn script(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/bundles")
        .join(file);
    std::fs::read_to_string(&path).unwrap()
}

/// Writes a Python bundle `name` into `dir/label`: `files` (name, text),
/// the first being the script the manifest names.
fn bundle(
    dir: &Path,
    label: &str,
    name: &str,
    provides: &[(&str, &str)],
    files: &[(&str, &str)],
    limits: &str,
) -> PathBuf {
    let path = dir.join(label);
    std::fs::create_dir_all(&path).unwrap();
    for (file, text) in files {
        std::fs::write(path.join(file), text).unwrap();
    }
    let mut manifest = format!(
        "[bundle]\nname = \"{name}\"\nversion = \"1.0.0\"\nloader = \"python\"\n\n\
         [library]\n{} = \"{}\"\n",
        std::env::consts::OS,
        files[0].0
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

fn reload_script(answer: u32) -> String {
    let version = if answer == 100 { "1.0.0" } else { "1.1.0" };
    script("reload.py")
        .replace("VERSION", version)
        .replace("ANSWER", &answer.to_string())
}

fn reload_bundle(dir: &Path, label: &str, answer: u32) -> PathBuf {
    let version = if answer == 100 { "1.0.0" } else { "1.1.0" };
    bundle(
        dir,
        label,
        "reload-test",
        &[("reload.test", version)],
        &[("reload.py", &reload_script(answer))],
        "",
    )
}

fn runtime() -> (Runtime, StatsHandle) {
    let loader = PythonLoader::new(PythonConfig::default());
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

#[test]
fn a_python_bundle_loads_and_is_called_typed() {
    let tmp = TempDir::new("calc");
    let (runtime, stats) = runtime();
    std::fs::write(tmp.0.join("outside.py"), script("outside.py")).unwrap();
    runtime
        .load_bundle(bundle(
            &tmp.0,
            "calc",
            "calc",
            &[("demo.calc", "1.0.0")],
            &[
                ("calc.py", &script("calc.py")),
                ("helper.py", &script("helper.py")),
            ],
            "",
        ))
        .unwrap();
    let reader = runtime.reader();
    let guard = reader.pin();
    let calc = guard.find("demo.calc", V1).unwrap();
    let inc = calc.typed::<extern "C" fn(u32) -> u32>("inc").unwrap();
    assert_eq!(inc.call(41), 42);
    let add64 = calc
        .typed::<extern "C" fn(i64, i64) -> i64>("add64")
        .unwrap();
    assert_eq!(add64.try_call(1 << 40, -2).unwrap(), (1 << 40) - 2);
    let digits = calc
        .typed::<extern "C" fn(u8, u16, u32, u64, i32, i64) -> u64>("digits")
        .unwrap();
    assert_eq!(digits.try_call(1, 2, 3, 4, 5, 6).unwrap(), 654_321);
    let half = calc.typed::<extern "C" fn(f64) -> f64>("half").unwrap();
    assert_eq!(half.try_call(3.0).unwrap(), 1.5);
    let small = calc.typed::<extern "C" fn(u16) -> u8>("small").unwrap();
    assert_eq!(small.try_call(255).unwrap(), 255);
    let err = small.try_call(256).unwrap_err();
    assert_eq!(
        (err.code, err.function.as_str()),
        (ERR_TRAP, "small"),
        "{err}"
    );
    assert!(
        err.message.as_str().contains("int 256 does not fit u8"),
        "{err}"
    );
    for function in ["negative", "wrong_kind"] {
        let err = calc
            .typed::<extern "C" fn() -> u32>(function)
            .unwrap()
            .try_call()
            .unwrap_err();
        assert_eq!(
            (err.code, err.function.as_str()),
            (ERR_TRAP, function),
            "{err}"
        );
        assert!(err.message.as_str().contains("does not fit u32"), "{err}");
    }
    let err = calc
        .typed::<extern "C" fn() -> i64>("fraction")
        .unwrap()
        .try_call()
        .unwrap_err();
    assert_eq!(
        (err.code, err.function.as_str()),
        (ERR_TRAP, "fraction"),
        "{err}"
    );
    let greet = calc.typed::<extern "C" fn(Str) -> String>("greet").unwrap();
    assert_eq!(greet.try_call("python").unwrap(), "hello python");
    let reverse = calc
        .typed::<extern "C" fn(Bytes) -> Vec<u8>>("reverse")
        .unwrap();
    assert_eq!(reverse.try_call(b"a\0b").unwrap(), b"b\0a");
    let imports = calc.typed::<extern "C" fn() -> u32>("imports").unwrap();
    assert_eq!(
        imports.try_call().unwrap(),
        0,
        "a module beside the bundle directory is not importable"
    );
    // One thread state per calling thread, kept across calls: a
    // `threading.local` keeps its value; another thread has its own.
    let calls = calc
        .typed::<extern "C" fn() -> u32>("calls_on_this_thread")
        .unwrap();
    assert_eq!((calls.call(), calls.call(), calls.call()), (1, 2, 3));
    std::thread::scope(|s| {
        s.spawn(|| {
            let reader = runtime.reader();
            let guard = reader.pin();
            let calls = guard
                .find("demo.calc", V1)
                .unwrap()
                .typed::<extern "C" fn() -> u32>("calls_on_this_thread")
                .unwrap();
            assert_eq!((calls.call(), calls.call()), (1, 2));
        });
    });
    assert_eq!(calls.call(), 4);
    // The script's module and `helper`, made once for every thread.
    let s = stats.get();
    assert_eq!(
        (s.loads, s.modules_made, s.modules_alive()),
        (1, 2, 2),
        "{s:?}"
    );
}

/// A signature the grammar refuses, or a function that cannot take the
/// arguments of its signature, is a load error naming the function; a
/// typed lookup with other types is the runtime's signature mismatch.
#[test]
fn signatures_are_checked_and_errors_name_the_function() {
    let tmp = TempDir::new("signatures");
    let (runtime, stats) = runtime();
    for (file, function, problem) in [
        ("bad_signature.py", "mix", "signature \"str(u32)\""),
        (
            "wrong_arity.py",
            "version",
            "cannot be called with the 0 arguments",
        ),
    ] {
        let dir = bundle(
            &tmp.0,
            file,
            "reload-test",
            &[("reload.test", "1.0.0")],
            &[(file, &script(file))],
            "",
        );
        let err = runtime.load_bundle(&dir).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, LoadError::Code { .. }), "{file}: {err:?}");
        for part in [file, &format!("function {function}"), problem] {
            assert!(text.contains(part), "{file}: {text} lacks {part}");
        }
    }
    runtime
        .load_bundle(reload_bundle(&tmp.0, "v1", 100))
        .unwrap();
    let reader = runtime.reader();
    let guard = reader.pin();
    let contract = guard.find("reload.test", V1).unwrap();
    assert!(matches!(
        contract.typed::<extern "C" fn(u32) -> u32>("version"),
        Err(FindError::SignatureMismatch { .. })
    ));
    drop(guard);
    drain(&runtime);
    assert_eq!(stats.get().loads_alive(), 1, "refused loads are freed");
}

/// A script that does not parse, or raises while loading, is a load error
/// naming its file and line.
#[test]
fn syntax_and_load_errors_name_file_and_line() {
    let tmp = TempDir::new("syntax");
    let (runtime, _stats) = runtime();
    for (file, at, what) in [
        ("broken.py", "broken.py:4:", "SyntaxError"),
        ("raises.py", "raises.py:3:", "init failed with 200"),
    ] {
        let dir = bundle(
            &tmp.0,
            file,
            "reload-test",
            &[("reload.test", "1.0.0")],
            &[(file, &script(file))],
            "",
        );
        let text = runtime.load_bundle(&dir).unwrap_err().to_string();
        assert!(text.contains(at) && text.contains(what), "{file}: {text}");
    }
}

/// Limits CPython cannot enforce are refused, naming the field, not
/// ignored.
#[test]
fn limits_python_cannot_enforce_are_refused_by_name() {
    let tmp = TempDir::new("refused");
    let (runtime, stats) = runtime();
    for (label, limits, field) in [
        ("memory", "memory_pages = 16", "limits.memory_pages"),
        ("depth", "recursion_depth = 100", "limits.recursion_depth"),
        ("tables", "table_elements = 100", "limits.table_elements"),
    ] {
        let dir = bundle(
            &tmp.0,
            label,
            "reload-test",
            &[("reload.test", "1.0.0")],
            &[("reload.py", &reload_script(100))],
            limits,
        );
        let err = runtime.load_bundle(&dir).unwrap_err();
        let LoadError::Code { error: code, .. } = &err else {
            panic!("{label}: {err:?}");
        };
        assert_eq!(
            (code.field.as_str(), code.code),
            (field, ERR_UNSUPPORTED),
            "{err}"
        );
    }
    assert_eq!(stats.get().loads, 0, "refused before the script runs");
}

/// Each budget, broken on purpose: the call returns a `CallError` naming
/// bundle, contract, function, reason and the script's file:line; the
/// next call works, and another thread keeps serving meanwhile.
#[test]
fn each_budget_broken_gives_a_typed_error_and_the_host_keeps_serving() {
    let tmp = TempDir::new("budgets");
    let (runtime, _stats) = runtime();
    runtime
        .load_bundle(bundle(
            &tmp.0,
            "budget",
            "budget-test",
            &[("budget.test", "1.0.0")],
            &[("budget.py", &script("budget.py"))],
            // 2_000_000 fuel: 40 ms per call.
            "fuel = 2000000",
        ))
        .unwrap();
    let call = |name: &str| {
        let reader = runtime.reader();
        let guard = reader.pin();
        let contract = guard.find("budget.test", V1).unwrap();
        contract
            .typed::<extern "C" fn() -> u32>(name)
            .unwrap()
            .try_call()
    };
    let done = AtomicBool::new(false);
    let served = AtomicU64::new(0);
    std::thread::scope(|s| {
        s.spawn(|| {
            // Relaxed: a flag and a counter, read after the join.
            while !done.load(Ordering::Relaxed) {
                assert_eq!(call("ok").unwrap(), 7);
                served.fetch_add(1, Ordering::Relaxed);
            }
        });
        /// Stops the serving thread also when an assertion fails.
        struct Done<'a>(&'a AtomicBool);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::Relaxed);
            }
        }
        let _done = Done(&done);
        for (function, code, reason) in [
            (
                "spin",
                ERR_BUDGET,
                "time limit of 40 ms (limits.fuel): budget.py:1",
            ),
            (
                "stubborn",
                ERR_BUDGET,
                "time limit of 40 ms (limits.fuel): budget.py:3",
            ),
            ("recurse", ERR_BUDGET, "budget.py:7: RecursionError"),
            ("raise", ERR_TRAP, "budget.py:28: ValueError: boom"),
        ] {
            let err = call(function).unwrap_err();
            assert_eq!(err.code, code, "{function}: {err}");
            assert_eq!(
                (err.contract.as_str(), err.function.as_str()),
                ("budget.test", function)
            );
            for part in [
                "bundle budget-test",
                "contract budget.test",
                function,
                reason,
            ] {
                assert!(
                    err.message.as_str().contains(part),
                    "{function}: {err} lacks {part}"
                );
            }
            assert_eq!(call("ok").unwrap(), 7, "{function}: the next call works");
        }
        while served.load(Ordering::Relaxed) < 10 {
            std::thread::yield_now();
        }
    });
}

/// The watchdog parks when no call is timed, and the next call wakes it:
/// a call that runs past its time limit after the watchdog rested is
/// still stopped.
#[test]
fn the_watchdog_rests_between_calls_and_wakes_for_the_next() {
    let tmp = TempDir::new("watchdog");
    let (runtime, stats) = runtime();
    runtime
        .load_bundle(bundle(
            &tmp.0,
            "budget",
            "budget-test",
            &[("budget.test", "1.0.0")],
            &[("budget.py", &script("budget.py"))],
            // 2_000_000 fuel: 40 ms per call.
            "fuel = 2000000",
        ))
        .unwrap();
    let call = move |name: &str| {
        let reader = runtime.reader();
        let guard = reader.pin();
        let contract = guard.find("budget.test", V1).unwrap();
        contract
            .typed::<extern "C" fn() -> u32>(name)
            .unwrap()
            .try_call()
    };
    assert_eq!(call("ok").unwrap(), 7);
    let before = stats.get().watchdog_rests;
    // A deadlock guard, not a time bound: the watchdog parks at its next
    // look at no timed call.
    let rested = (0..6000).any(|_| {
        std::thread::sleep(Duration::from_millis(10));
        stats.get().watchdog_rests > before
    });
    assert!(rested, "the watchdog never parked: {:?}", stats.get());
    let (answer, answered) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = answer.send(call("spin").map_err(|e| (e.code, e.to_string())));
    });
    let result = answered.recv_timeout(Duration::from_secs(60));
    let Ok(Err((code, text))) = result else {
        panic!("a spinning call was not stopped: {result:?}");
    };
    assert_eq!(code, ERR_BUDGET, "{text}");
    assert!(text.contains("time limit of 40 ms (limits.fuel)"), "{text}");
}

/// Seed scenario 3 with Python: six dispatcher threads call
/// `reload.test` through a kept handle while 80 real reloads alternate
/// v1 (100) and v2 (200); every call answers 100 or 200. Each thread
/// keeps one thread state for all its calls. After unload no module is
/// left.
#[test]
fn six_dispatchers_during_eighty_python_reloads() {
    let tmp = TempDir::new("seed3");
    let (runtime, stats) = runtime();
    let (v1, v2) = (
        reload_bundle(&tmp.0, "v1", 100),
        reload_bundle(&tmp.0, "v2", 200),
    );
    let id = runtime.load_bundle(&v1).unwrap();
    let handle = handle_of(&runtime);
    let before = stats.get();
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
    assert_eq!(torn.load(Ordering::Relaxed), 0);
    assert_eq!(errors.load(Ordering::Relaxed), 0);
    let calls = ones.load(Ordering::Relaxed) + twos.load(Ordering::Relaxed);
    assert!(ones.load(Ordering::Relaxed) > 0 && twos.load(Ordering::Relaxed) > 0);
    assert_eq!(version_of(&runtime, handle), 100, "80 reloads end on v1");
    // Thread states are the process's (other tests run beside this one):
    // the calls here made at most a few dozen, not one per call.
    let made = stats.get().thread_states_made - before.thread_states_made;
    assert!(
        made <= 64 && calls > 10 * made,
        "{made} thread states for {calls} calls"
    );
    drain(&runtime);
    let s = stats.get();
    assert_eq!(s.loads, 81);
    assert_eq!(
        (s.loads_alive(), s.modules_alive()),
        (1, 1),
        "only the serving load: {s:?}"
    );
    assert_eq!(runtime.code_stats().alive(), 1);
    runtime.unload_bundle(id).unwrap();
    drain(&runtime);
    let s = stats.get();
    assert_eq!((s.loads_alive(), s.modules_alive()), (0, 0), "{s:?}");
    assert_eq!(runtime.code_stats().alive(), 0);
}

/// Reload from the same directory after editing the script in place, and
/// failed reloads (a v2 that does not parse, a v2 that raises while
/// loading) that leave v1 serving.
#[test]
fn edit_in_place_reloads_and_failed_reloads_leave_v1_serving() {
    let tmp = TempDir::new("edit");
    let (runtime, stats) = runtime();
    let dir = reload_bundle(&tmp.0, "v1", 100);
    let id = runtime.load_bundle(&dir).unwrap();
    let handle = handle_of(&runtime);
    assert_eq!(version_of(&runtime, handle), 100);
    for (bad, at) in [("broken.py", "reload.py:4:"), ("raises.py", "reload.py:3:")] {
        std::fs::write(dir.join("reload.py"), script(bad)).unwrap();
        let err = runtime.reload_bundle(id, None).unwrap_err();
        assert!(err.to_string().contains(at), "{bad}: {err}");
        assert_eq!(version_of(&runtime, handle), 100, "{bad}: v1 still serves");
    }
    std::fs::write(dir.join("reload.py"), reload_script(200)).unwrap();
    // The manifest still declares 1.0.0; 1.1.0 must be declared to register.
    let manifest = std::fs::read_to_string(dir.join("manifest.toml")).unwrap();
    std::fs::write(
        dir.join("manifest.toml"),
        manifest.replace(
            "name = \"reload.test\"\nversion = \"1.0.0\"",
            "name = \"reload.test\"\nversion = \"1.1.0\"",
        ),
    )
    .unwrap();
    runtime.reload_bundle(id, None).unwrap();
    assert_eq!(version_of(&runtime, handle), 200);
    drain(&runtime);
    let s = stats.get();
    assert_eq!((s.loads_alive(), s.modules_alive()), (1, 1), "{s:?}");
}

/// One call path for every language: a C plugin calls a Python contract
/// through the host table, which calls a Rust plugin through
/// `polyplug.call`; a Python function calls the C plugin, which calls
/// back into Python on the same thread; a failed find raises a typed
/// error.
#[test]
fn calls_cross_native_and_python_both_ways() {
    let tmp = TempDir::new("chain");
    let (runtime, _stats) = runtime();
    runtime
        .load_bundle(polyplug_fixtures::bundle("test-add"))
        .unwrap();
    runtime
        .load_bundle(polyplug_fixtures::bundle("c-caller"))
        .unwrap();
    runtime
        .load_bundle(bundle(
            &tmp.0,
            "chain",
            "chain-python",
            &[("chain.wasm", "1.0.0")],
            &[("chain.py", &script("chain.py"))],
            "",
        ))
        .unwrap();
    let reader = runtime.reader();
    let call = |contract: &str, function: &str, x: u32| {
        let guard = reader.pin();
        guard
            .find(contract, V1)
            .unwrap()
            .typed::<extern "C" fn(u32) -> u32>(function)
            .unwrap()
            .try_call(x)
    };
    // Python -> Rust plugin.
    assert_eq!(call("chain.wasm", "inc_via_native", 41).unwrap(), 42);
    // C plugin -> Python -> Rust plugin.
    assert_eq!(call("test.caller", "call_wasm", 41).unwrap(), 42);
    // Python -> C plugin -> Python (nested, same thread) -> Rust plugin.
    assert_eq!(call("chain.wasm", "via_c", 9).unwrap(), 10);
    let guard = reader.pin();
    let err = guard
        .find("chain.wasm", V1)
        .unwrap()
        .typed::<extern "C" fn() -> u32>("missing")
        .unwrap()
        .try_call()
        .unwrap_err();
    assert_eq!(err.code, ERR_TRAP, "{err}");
    assert!(
        err.message.as_str().contains("polyplug.find no.such")
            && err.message.as_str().contains("chain.py:17:"),
        "{err}"
    );
}

/// The runtime and bundle of `a_load_from_inside_a_python_call_is_refused`,
/// for the host function the script calls.
static INSIDE: OnceLock<(Runtime, PathBuf)> = OnceLock::new();

/// `test.loader` `load`: loads the bundle from inside the calling
/// script's call; the load's error code, 0 when it loaded.
extern "C" fn load_from_inside() -> u32 {
    let Some((runtime, dir)) = INSIDE.get() else {
        return u32::MAX;
    };
    match runtime.load_bundle(dir) {
        Ok(_) => 0,
        Err(LoadError::Code { error, .. }) => error.code,
        Err(_) => u32::MAX - 1,
    }
}

/// A Python call that makes the host load a Python bundle on the same
/// thread gets a typed error back (`ERR_UNSUPPORTED`), and the host
/// keeps serving; the same load from outside a call succeeds.
#[test]
fn a_load_from_inside_a_python_call_is_refused() {
    let tmp = TempDir::new("reenter");
    let dir = reload_bundle(&tmp.0, "v1", 100);
    let (runtime, _stats) = runtime();
    let (runtime, _) = INSIDE.get_or_init(|| (runtime, dir));
    runtime
        .register_host_contract(
            HostContract::new("test.loader", V1)
                .typed("load", load_from_inside as extern "C" fn() -> u32),
        )
        .unwrap();
    runtime
        .load_bundle(bundle(
            &tmp.0,
            "reenter",
            "reenter",
            &[("reenter.test", "1.0.0")],
            &[("reenter.py", &script("reenter.py"))],
            "",
        ))
        .unwrap();
    let call = || {
        let reader = runtime.reader();
        let guard = reader.pin();
        guard
            .find("reenter.test", V1)
            .unwrap()
            .typed::<extern "C" fn() -> u32>("load_inside")
            .unwrap()
            .try_call()
            .unwrap()
    };
    assert_eq!(call(), ERR_UNSUPPORTED);
    assert!(runtime.bundle_id("reload-test").is_none());
    // From the host's own thread, outside any call, the same load works.
    assert_eq!(load_from_inside(), 0);
    assert_eq!(version_of(runtime, handle_of(runtime)), 100);
}

/// The example bundles `examples/bundles/v{1,2}/counter-python` load,
/// step (wrapping at 2^32 as `u32` does), and reload from v1 to v2 under
/// the same handle.
#[test]
fn the_example_counter_loads_steps_and_reloads() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/bundles");
    let (runtime, stats) = runtime();
    let id = runtime
        .load_bundle(examples.join("v1/counter-python"))
        .unwrap();
    let reader = runtime.reader();
    let handle = reader.pin().find("demo.counter", V1).unwrap().handle();
    let step = |x: u32| {
        let guard = reader.pin();
        guard
            .get(handle)
            .unwrap()
            .typed::<extern "C" fn(u32) -> u32>("step")
            .unwrap()
            .try_call(x)
            .unwrap()
    };
    assert_eq!((version_of(&runtime, handle), step(41)), (1, 42));
    assert_eq!(step(u32::MAX), 0);
    runtime
        .reload_bundle(id, Some(&examples.join("v2/counter-python")))
        .unwrap();
    assert_eq!((version_of(&runtime, handle), step(40)), (2, 42));
    assert_eq!(step(u32::MAX), 1);
    runtime.unload_bundle(id).unwrap();
    drain(&runtime);
    let s = stats.get();
    assert_eq!(
        (s.loads, s.loads_alive(), s.modules_alive()),
        (2, 0, 0),
        "{s:?}"
    );
}

/// `counter.py` answering `tag` with `tag`, under `limits`.
fn counter_bundle(dir: &Path, label: &str, tag: u32, limits: &str) -> PathBuf {
    counter_bundle_from(
        dir,
        label,
        &script("counter.py").replace("TAG", &tag.to_string()),
        limits,
    )
}

fn counter_bundle_from(dir: &Path, label: &str, text: &str, limits: &str) -> PathBuf {
    bundle(
        dir,
        label,
        "counter",
        &[("py.counter", "1.0.0")],
        &[("counter.py", text)],
        limits,
    )
}

fn counter(runtime: &Runtime) -> polyplug::Instance {
    runtime
        .reader()
        .pin()
        .find("py.counter", V1)
        .unwrap()
        .create_instance()
        .unwrap()
}

/// Calls method `name`, of type `u32()`, on `instance`.
fn method(instance: &mut polyplug::Instance, name: &str) -> Result<u32, polyplug::CallError> {
    instance
        .typed::<extern "C" fn() -> u32>(name)
        .unwrap()
        .call()
}

/// A stateful Python contract: each instance is its own object, counts on
/// its own, and keeps the version that made it across a reload; a method
/// called without an instance is refused; everything is freed after
/// unload.
#[test]
fn python_instances_keep_their_state_and_their_version() {
    let tmp = TempDir::new("instances");
    let (runtime, stats) = runtime();
    let id = runtime
        .load_bundle(counter_bundle(&tmp.0, "v1", 100, ""))
        .unwrap();
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
        .find("py.counter", V1)
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
    assert_eq!((s.instances_made, s.instances_alive()), (3, 3), "{s:?}");
    drop((one, two, three));
    let s = stats.get();
    assert_eq!(s.instances_alive(), 0, "dropped, freed at once: {s:?}");
    runtime.unload_bundle(id).unwrap();
    drain(&runtime);
    let s = stats.get();
    assert_eq!(
        (s.loads_alive(), s.modules_alive(), s.instances_alive()),
        (0, 0, 0),
        "{s:?}"
    );
}

/// A Python object is the interpreter's, not a thread's: an instance made
/// on one thread is called on another, and dropped there, its object freed
/// at once.
#[test]
fn a_python_instance_is_called_and_dropped_on_any_thread() {
    let tmp = TempDir::new("instance-threads");
    let (runtime, stats) = runtime();
    runtime
        .load_bundle(counter_bundle(&tmp.0, "v1", 100, ""))
        .unwrap();
    let mut instance = std::thread::scope(|s| {
        s.spawn(|| {
            let mut made = counter(&runtime);
            assert_eq!(method(&mut made, "bump").unwrap(), 1);
            made
        })
        .join()
        .unwrap()
    });
    assert_eq!(method(&mut instance, "bump").unwrap(), 2);
    std::thread::scope(|s| {
        s.spawn(move || {
            assert_eq!(method(&mut instance, "bump").unwrap(), 3);
            drop(instance);
        });
    });
    let s = stats.get();
    assert_eq!((s.instances_made, s.instances_alive()), (1, 0), "{s:?}");
}

/// Instance calls run under the bundle's limits: the time limit per call
/// (an instance that ran out, or raised, is unusable and its object
/// freed; its sibling keeps counting), and `limits.instances` live
/// instances.
#[test]
fn python_instance_calls_run_under_the_limits() {
    let tmp = TempDir::new("instance-limits");
    let (runtime, stats) = runtime();
    runtime
        .load_bundle(counter_bundle(
            &tmp.0,
            "v1",
            100,
            "fuel = 2500000\ninstances = 2",
        ))
        .unwrap();
    let (mut a, mut b) = (counter(&runtime), counter(&runtime));
    let err = runtime
        .reader()
        .pin()
        .find("py.counter", V1)
        .unwrap()
        .create_instance()
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(&err, polyplug::InstanceError::Call(e) if e.code == ERR_BUDGET)
            && text.contains("limits.instances")
            && text.contains("py.counter"),
        "{text}"
    );
    assert_eq!(method(&mut a, "bump").unwrap(), 1);
    let err = method(&mut a, "spin").unwrap_err();
    assert_eq!(
        (err.code, err.function.as_str()),
        (ERR_BUDGET, "spin"),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("limits.fuel") && text.contains("counter.py:"),
        "{text}"
    );
    let err = method(&mut a, "bump").unwrap_err();
    assert_eq!(err.code, ERR_TRAP, "{err}");
    assert!(err.to_string().contains("unusable"), "{err}");
    assert_eq!(
        method(&mut b, "bump").unwrap(),
        1,
        "the sibling keeps its state"
    );
    // The instance that ran out was freed: there is room for another.
    let mut c = counter(&runtime);
    assert_eq!(method(&mut c, "bump").unwrap(), 1);
    let err = method(&mut c, "fail").unwrap_err();
    assert_eq!(err.code, ERR_TRAP, "{err}");
    let text = err.to_string();
    assert!(
        text.contains("counter.py:") && text.contains("no count today"),
        "{text}"
    );
    assert!(
        method(&mut c, "bump")
            .unwrap_err()
            .to_string()
            .contains("unusable")
    );
    assert_eq!(
        method(&mut b, "bump").unwrap(),
        2,
        "the sibling keeps its state"
    );
    let s = stats.get();
    assert_eq!((s.instances_made, s.instances_alive()), (3, 1), "{s:?}");
}

/// A `new` that is not callable, raises, or makes an object lacking a
/// method or with one of the wrong arity, and an `fn` in a stateful
/// contract, are load errors naming the file, the contract and the
/// function.
#[test]
fn bad_python_constructors_are_load_errors() {
    let tmp = TempDir::new("constructors");
    let (runtime, stats) = runtime();
    let good = script("counter.py").replace("TAG", "100");
    for (case, (from, to, function, problem)) in [
        (
            "\"new\": Counter",
            "\"new\": 4.5",
            "function new",
            "`new` is a float",
        ),
        (
            "\"new\": Counter",
            "\"new\": lambda: 1 / 0",
            "function new",
            "ZeroDivisionError",
        ),
        (
            "    def add(self, x):",
            "    def add_(self, x):",
            "function add",
            "NoneType for method add",
        ),
        (
            "    def add(self, x):",
            "    def add(self):",
            "function add",
            "cannot be called with the 1 arguments",
        ),
        (
            "\"bump\": {\"sig\": \"u32()\"}",
            "\"bump\": {\"sig\": \"u32()\", \"fn\": Counter.bump}",
            "function bump",
            "give only `sig`",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        assert!(good.contains(from), "{from}");
        let dir = counter_bundle_from(&tmp.0, &format!("case{case}"), &good.replace(from, to), "");
        let err = runtime.load_bundle(&dir).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, LoadError::Code { .. }), "{to}: {err:?}");
        for part in ["counter.py", "py.counter", function, problem] {
            assert!(text.contains(part), "{to}: {text} lacks {part}");
        }
    }
    drain(&runtime);
    let s = stats.get();
    assert_eq!((s.loads_alive(), s.instances_made), (0, 0), "{s:?}");
}

/// As a native instance does, an instance keeps its load after an unload:
/// it still answers, off the read path (the contract is no longer found);
/// the load goes when the instance is dropped and the runtime reclaims.
#[test]
fn a_python_instance_keeps_its_load_after_unload() {
    let tmp = TempDir::new("instance-unload");
    let (runtime, stats) = runtime();
    let id = runtime
        .load_bundle(counter_bundle(&tmp.0, "v1", 100, ""))
        .unwrap();
    let mut one = counter(&runtime);
    assert_eq!(method(&mut one, "bump").unwrap(), 1);
    runtime.unload_bundle(id).unwrap();
    drain(&runtime);
    assert!(runtime.reader().pin().find("py.counter", V1).is_err());
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
        (s.loads_alive(), s.modules_alive(), s.instances_alive()),
        (0, 0, 0),
        "{s:?}"
    );
}

/// A signed bundle whose file is swapped between the check and the
/// import: the script itself (Python is unsandboxed) rewrites `util.py`
/// on disk as it runs, then imports it, and gets the checked bytes. The
/// rewritten bundle's reload is refused, naming the file.
#[test]
fn a_file_swapped_before_its_import_is_not_what_runs() {
    use polyplug::{SealError, SecretKey, Trust};
    use polyplug_loader::{BundleError, seal_bundle};

    let tmp = TempDir::new("sealed-import");
    let main = "import os\n\
                with open(os.path.join(os.path.dirname(__file__), 'util.py'), 'w') as f:\n\
                \x20   f.write('ANSWER = 666\\n')\n\
                import util\n\
                CONTRACTS = [{'name': 'reload.test', 'version': '1.0.0',\n\
                \x20   'functions': {'version': {'sig': 'u32()', 'fn': lambda: util.ANSWER}}}]\n";
    let path = bundle(
        &tmp.0,
        "sealed",
        "reload-test",
        &[("reload.test", "1.0.0")],
        &[("main.py", main), ("util.py", "ANSWER = 100\n")],
        "",
    );
    let key = SecretKey::from_seed([1; 32]);
    seal_bundle(&path, &key).unwrap();
    let runtime = Runtime::builder()
        .loader(PythonLoader::new(PythonConfig::default()))
        .trust(Trust::required([key.public()]))
        .build()
        .unwrap();
    let id = runtime.load_bundle(&path).unwrap();
    let handle = handle_of(&runtime);
    assert_eq!(version_of(&runtime, handle), 100);
    assert_eq!(
        std::fs::read_to_string(path.join("util.py")).unwrap(),
        "ANSWER = 666\n",
        "the script did rewrite the file"
    );
    let error = runtime.reload_bundle(id, None).unwrap_err();
    assert!(
        matches!(&error, LoadError::Bundle(e)
            if matches!(&**e, BundleError::Seal(SealError::FileChanged { path, .. }) if path == "util.py")),
        "{error}"
    );
    assert_eq!(version_of(&runtime, handle), 100, "v1 keeps serving");
}

/// The `find`, `call` and `log` closures each load's `polyplug` module
/// holds go with the load: after loads that served and unloaded, loads
/// refused by the runtime (a contract the manifest does not declare) and
/// scripts that raised, a collection of the interpreter's cycles leaves
/// none of them alive. The script's builtins and its import hook form a
/// cycle that reaches the `polyplug` module, so before a collection they
/// may still be alive, unreachable garbage the interpreter's collector
/// tracks (which is why LeakSanitizer sees them as reachable when every
/// Python object is a heap block, `PYTHONMALLOC=malloc`).
#[test]
fn host_functions_go_with_their_load() {
    let tmp = TempDir::new("host-probe");
    let (runtime, stats) = runtime();
    runtime
        .load_bundle(bundle(
            &tmp.0,
            "count",
            "host-count",
            &[("probe.count", "1.0.0")],
            &[("host_count.py", &script("host_count.py"))],
            "",
        ))
        .unwrap();
    let count = |function: &str| -> u32 {
        let reader = runtime.reader();
        let guard = reader.pin();
        let counter = guard.find("probe.count", V1).unwrap();
        counter
            .typed::<extern "C" fn() -> u32>(function)
            .unwrap()
            .try_call()
            .unwrap()
    };
    let served = script("host_probe.py").replace("RAISE", "False");
    let raising = script("host_probe.py").replace("RAISE", "True");
    let mut runs = 0;
    for round in 0..4 {
        let label = format!("served-{round}");
        let dir = bundle(
            &tmp.0,
            &label,
            "host-probe",
            &[("probe.host", "1.0.0")],
            &[("host_probe.py", &served)],
            "",
        );
        let id = runtime.load_bundle(dir).unwrap();
        {
            let reader = runtime.reader();
            let guard = reader.pin();
            let answer = guard
                .find("probe.host", V1)
                .unwrap()
                .typed::<extern "C" fn() -> u32>("answer")
                .unwrap();
            assert_eq!(answer.try_call().unwrap(), 7);
        }
        runtime.unload_bundle(id).unwrap();
        let undeclared = bundle(
            &tmp.0,
            &format!("undeclared-{round}"),
            "host-probe",
            &[],
            &[("host_probe.py", &served)],
            "",
        );
        assert!(runtime.load_bundle(undeclared).is_err());
        let raises = bundle(
            &tmp.0,
            &format!("raises-{round}"),
            "host-probe",
            &[("probe.host", "1.0.0")],
            &[("host_probe.py", &raising)],
            "",
        );
        assert!(runtime.load_bundle(raises).is_err());
        runs += 3;
    }
    drain(&runtime);
    assert_eq!(count("recorded"), 3 * runs, "three host functions a run");
    let before = count("alive_now");
    assert_eq!(
        count("alive_after_collect"),
        0,
        "host functions alive after a collection ({before} before it)"
    );
    let s = stats.get();
    assert_eq!((s.loads_alive(), s.modules_alive()), (1, 1), "{s:?}");
}

/// `handover.counter` in Python: `handover.py` as version `version`,
/// stepping by `step`, answering `tag` to `version()`, in a bundle named
/// as the native fixtures are, `handover-test`.
fn handover_script(version: &str, step: u32, tag: u32) -> String {
    script("handover.py")
        .replace("VERSION", version)
        .replace("STEP", &step.to_string())
        .replace("TAG", &tag.to_string())
}

fn handover_bundle_from(dir: &Path, label: &str, version: &str, text: &str) -> PathBuf {
    bundle(
        dir,
        label,
        "handover-test",
        &[("handover.counter", version)],
        &[("handover.py", text)],
        "fuel = 10000000\ninstances = 2",
    )
}

fn handover_bundle(dir: &Path, label: &str, version: &str, step: u32, tag: u32) -> PathBuf {
    handover_bundle_from(dir, label, version, &handover_script(version, step, tag))
}

const HANDOVER: &str = "handover.counter";

/// A `handover.counter` instance of the serving version.
fn handover_counter(runtime: &Runtime) -> polyplug::Instance {
    runtime
        .reader()
        .pin()
        .find(HANDOVER, V1)
        .unwrap()
        .create_instance()
        .unwrap()
}

/// Calls Python method `name`, of type `u32(u32)`, on `instance`.
fn method1(instance: &mut polyplug::Instance, name: &str, x: u32) -> u32 {
    instance
        .typed::<extern "C" fn(u32) -> u32>(name)
        .unwrap()
        .call(x)
        .unwrap()
}

/// A Python counter that counted to 7 keeps counting from 7 after a
/// reload that changes its code (v1 steps by 1, v2 by 10), through its
/// `save` and the new version's `restore`; the old object is freed, and
/// only the handover carried the count.
#[test]
fn a_python_counter_keeps_counting_from_n_after_a_reload_that_changes_its_code() {
    let tmp = TempDir::new("handover");
    let (runtime, stats) = runtime();
    let id = runtime
        .load_bundle(handover_bundle(&tmp.0, "v1", "1.0.0", 1, 1))
        .unwrap();
    let mut counter = handover_counter(&runtime);
    for _ in 0..7 {
        method(&mut counter, "step").unwrap();
    }
    assert_eq!(method(&mut counter, "count").unwrap(), 7);
    runtime
        .reload_bundle(id, Some(&handover_bundle(&tmp.0, "v2", "1.1.0", 10, 2)))
        .unwrap();
    // Until it is upgraded, the instance runs v1's code.
    assert_eq!(method(&mut counter, "version").unwrap(), 1);
    assert_eq!(method(&mut counter, "step").unwrap(), 8);

    let reader = runtime.reader();
    assert!(counter.upgrade(&reader.pin()).unwrap());
    assert_eq!(counter.version(), Version::new(1, 1, 0));
    assert_eq!(method(&mut counter, "version").unwrap(), 2); // v2's code
    assert_eq!(method(&mut counter, "count").unwrap(), 8); // v1's count
    assert_eq!(method(&mut counter, "step").unwrap(), 18); // v2 steps by 10
    assert!(!counter.upgrade(&reader.pin()).unwrap()); // already serving
    let s = stats.get();
    assert_eq!((s.instances_made, s.instances_alive()), (2, 1), "{s:?}");

    let mut fresh = handover_counter(&runtime);
    assert_eq!(method(&mut fresh, "step").unwrap(), 10);
    drop((counter, fresh));
    runtime.unload_bundle(id).unwrap();
    drain(&runtime);
    let s = stats.get();
    assert_eq!(
        (s.loads_alive(), s.modules_alive(), s.instances_alive()),
        (0, 0, 0),
        "{s:?}"
    );
}

#[repr(C)]
struct AddArgs {
    a: u32,
    b: u32,
}

/// Calls native `function` of the handover fixtures on `instance`.
fn native(instance: &mut polyplug::Instance, function: &str) -> u32 {
    let mut out = 0u32;
    // SAFETY: [P1] handover.counter documents every native function as
    // reading an `AddArgs` and writing a `u32`.
    unsafe { instance.call(function, &AddArgs { a: 0, b: 0 }, &mut out) }.unwrap();
    out
}

/// The native fixture `handover-v1` hands a count over to a Python
/// version in its own 8-byte format, and the Python version hands it on
/// to native `handover-v2`.
#[test]
fn a_native_version_hands_over_to_a_python_version_and_back() {
    let tmp = TempDir::new("handover-native");
    let (runtime, stats) = runtime();
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
        .reload_bundle(id, Some(&handover_bundle(&tmp.0, "v3", "1.2.0", 100, 3)))
        .unwrap();
    assert!(counter.upgrade(&reader.pin()).unwrap()); // native save, Python restore
    assert_eq!(counter.version(), Version::new(1, 2, 0));
    assert_eq!(method(&mut counter, "version").unwrap(), 3);
    assert_eq!(method(&mut counter, "step").unwrap(), 105); // Python steps by 100

    runtime
        .reload_bundle(id, Some(&polyplug_fixtures::bundle("handover-v2")))
        .unwrap();
    assert!(counter.upgrade(&reader.pin()).unwrap()); // Python save, native restore
    assert_eq!(counter.version(), Version::new(1, 1, 0));
    assert_eq!(native(&mut counter, "version"), 2);
    assert_eq!(native(&mut counter, "step"), 115);
    let s = stats.get();
    assert_eq!((s.instances_made, s.instances_alive()), (1, 0), "{s:?}");
}

/// Counts a Python v1 counter to 5, arms it with `mode`, reloads to v2,
/// and returns the upgrade's error after checking that the old instance
/// kept serving v1 with its count and then, disarmed, hands over.
fn failed_python_upgrade(mode: u32) -> polyplug::HandoverError {
    let tmp = TempDir::new(&format!("handover-fail{mode}"));
    let (runtime, stats) = runtime();
    let id = runtime
        .load_bundle(handover_bundle(&tmp.0, "v1", "1.0.0", 1, 1))
        .unwrap();
    let mut counter = handover_counter(&runtime);
    for _ in 0..5 {
        method(&mut counter, "step").unwrap();
    }
    method1(&mut counter, "arm", mode);
    runtime
        .reload_bundle(id, Some(&handover_bundle(&tmp.0, "v2", "1.1.0", 10, 2)))
        .unwrap();
    let reader = runtime.reader();
    let err = counter.upgrade(&reader.pin()).unwrap_err();
    // The old instance serves on: v1's code, v1's count, one object.
    assert_eq!(counter.version(), V1);
    assert_eq!(method(&mut counter, "version").unwrap(), 1);
    assert_eq!(method(&mut counter, "step").unwrap(), 6);
    assert_eq!(stats.get().instances_alive(), 1, "{:?}", stats.get());
    // Disarmed, the same instance hands over.
    method1(&mut counter, "arm", 0);
    assert!(counter.upgrade(&reader.pin()).unwrap());
    assert_eq!(method(&mut counter, "step").unwrap(), 16);
    err
}

/// The step of `err`, its source's function, code and message.
fn failed_step(err: &polyplug::HandoverError) -> (polyplug::HandoverStep, String, u32, String) {
    let failed = match err {
        polyplug::HandoverError::Failed { step, source, .. } => Some((
            *step,
            source.function.clone(),
            source.code,
            source.message.as_str().to_owned(),
        )),
        _ => None,
    };
    failed
        .ok_or_else(|| format!("expected HandoverError::Failed, got {err:?}"))
        .unwrap()
}

/// A `save` that raises, runs past its time, or returns no bytes, and a
/// `restore` that refuses the bytes, each leave the old instance serving
/// with its state; the error names the step, the contract and, for a
/// raise, the script's words and line.
#[test]
fn a_failed_python_save_or_restore_leaves_the_old_instance_serving() {
    use polyplug::HandoverStep::{Restore, Save};
    let err = failed_python_upgrade(1);
    let (step, function, code, message) = failed_step(&err);
    assert_eq!(
        (step, function.as_str(), code),
        (Save, "save", ERR_TRAP),
        "{err}"
    );
    for part in [
        "handover.counter",
        "function save",
        "handover.py:",
        "RuntimeError",
        "save armed to fail",
    ] {
        assert!(message.contains(part), "{message} lacks {part}");
    }
    assert!(err.to_string().contains("failed at save"), "{err}");

    let err = failed_python_upgrade(2);
    let (step, function, code, message) = failed_step(&err);
    assert_eq!(
        (step, function.as_str(), code),
        (Restore, "restore", ERR_TRAP),
        "{err}"
    );
    for part in [
        "handover.counter",
        "function restore",
        "handover.py:",
        "v2",
        "restore refused",
    ] {
        assert!(message.contains(part), "{message} lacks {part}");
    }
    assert!(err.to_string().contains("failed at restore"), "{err}");

    let err = failed_python_upgrade(3);
    let (step, _, code, message) = failed_step(&err);
    assert_eq!((step, code), (Save, ERR_BUDGET), "{err}");
    assert!(
        message.contains("limits.fuel") && message.contains("function save"),
        "{message}"
    );

    let err = failed_python_upgrade(4);
    let (step, _, code, message) = failed_step(&err);
    assert_eq!((step, code), (Save, ERR_TRAP), "{err}");
    assert!(
        message.contains("returned a str") && message.contains("handover.py:"),
        "{message}"
    );

    let err = failed_python_upgrade(5);
    let (step, _, code, message) = failed_step(&err);
    assert_eq!((step, code), (Restore, ERR_TRAP), "{err}");
    assert!(
        message.contains("the object `restore` returned has a NoneType"),
        "{message}"
    );
}

/// A stateful Python contract without `save` and `restore` offers no
/// handover: an upgrade from it is refused by name, and it serves on.
#[test]
fn a_python_contract_without_save_and_restore_is_not_supported() {
    let tmp = TempDir::new("handover-none");
    let (runtime, _stats) = runtime();
    let id = runtime
        .load_bundle(counter_bundle(&tmp.0, "v1", 100, ""))
        .unwrap();
    let mut one = counter(&runtime);
    assert_eq!(method(&mut one, "bump").unwrap(), 1);
    runtime
        .reload_bundle(id, Some(&counter_bundle(&tmp.0, "v2", 200, "")))
        .unwrap();
    let err = one.upgrade(&runtime.reader().pin()).unwrap_err();
    assert!(
        matches!(
            &err,
            polyplug::HandoverError::NotSupported { step: polyplug::HandoverStep::Save, contract, .. }
                if contract == "py.counter"
        ),
        "{err:?}"
    );
    assert_eq!(method(&mut one, "tag").unwrap(), 100);
    assert_eq!(method(&mut one, "bump").unwrap(), 2);
}

/// A `save` without `restore` (or the other way round), a `save` or
/// `restore` that is not callable or cannot take one argument, and a
/// handover on a contract that gives no `new`, are load errors naming the
/// file, the contract and the field.
#[test]
fn a_half_or_bad_python_handover_is_a_load_error() {
    let tmp = TempDir::new("handover-bad");
    let (runtime, stats) = runtime();
    let good = handover_script("1.0.0", 1, 1);
    for (case, (from, to, field, problem)) in [
        (
            "        \"restore\": restore,\n",
            "",
            "function save",
            "without `restore`",
        ),
        (
            "        \"save\": save,\n",
            "",
            "function restore",
            "without `save`",
        ),
        (
            "\"restore\": restore,",
            "\"restore\": 4,",
            "function restore",
            "`restore` is a int",
        ),
        (
            "\"save\": save,",
            "\"save\": lambda: b\"\",",
            "function save",
            "cannot be called with one argument",
        ),
        (
            "        \"new\": Counter,\n",
            "",
            "function save",
            "no `new`",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        assert!(good.contains(from), "{from}");
        let dir = handover_bundle_from(
            &tmp.0,
            &format!("case{case}"),
            "1.0.0",
            &good.replacen(from, to, 1),
        );
        let err = runtime.load_bundle(&dir).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, LoadError::Code { .. }), "{to}: {err:?}");
        for part in ["handover.py", "handover-test", HANDOVER, field, problem] {
            assert!(text.contains(part), "{to:?}: {text} lacks {part}");
        }
    }
    drain(&runtime);
    let s = stats.get();
    assert_eq!((s.loads_alive(), s.instances_made), (0, 0), "{s:?}");
}

/// A restore makes an instance as `create_instance` does: counted against
/// the new load's `limits.instances`, refused at the restore step when
/// that many are live, the old instance serving on.
#[test]
fn a_python_restore_counts_against_the_instance_limit() {
    let tmp = TempDir::new("handover-limit");
    let (runtime, stats) = runtime();
    let id = runtime
        .load_bundle(handover_bundle(&tmp.0, "v1", "1.0.0", 1, 1))
        .unwrap();
    let mut counter = handover_counter(&runtime);
    assert_eq!(method(&mut counter, "step").unwrap(), 1);
    runtime
        .reload_bundle(id, Some(&handover_bundle(&tmp.0, "v2", "1.1.0", 10, 2)))
        .unwrap();
    let fresh = [handover_counter(&runtime), handover_counter(&runtime)];
    let err = counter.upgrade(&runtime.reader().pin()).unwrap_err();
    let (step, function, code, message) = failed_step(&err);
    assert_eq!(
        (step, function.as_str(), code),
        (polyplug::HandoverStep::Restore, "restore", ERR_BUDGET),
        "{err}"
    );
    assert!(message.contains("limits.instances"), "{message}");
    assert_eq!(method(&mut counter, "step").unwrap(), 2);
    assert_eq!(stats.get().instances_alive(), 3, "{:?}", stats.get());
    drop(fresh);
    assert!(counter.upgrade(&runtime.reader().pin()).unwrap());
    assert_eq!(method(&mut counter, "step").unwrap(), 12);
}
