//! Lua bundles end to end: load, typed calls of every kind, the sandbox,
//! signatures, syntax and load errors, each budget broken, reload under
//! six dispatchers, edit-in-place and failed reloads, states freed after
//! unload, and calls across Lua, Rust and C. The scripts are the `.lua`
//! files in `bundles/`, copied into a bundle directory per test.
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

use polyplug::{Bytes, ContractHandle, FindError, LoadError, Runtime, Str, Version};
use polyplug_abi::{ERR_BAD_ARGUMENT, ERR_BUDGET, ERR_TRAP};
use polyplug_lua::{LuaConfig, LuaLoader, StatsHandle};

const V1: Version = Version::new(1, 0, 0);

/// A temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!(
            "polyplug-lua-{label}-{}-{:?}",
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

/// Writes a Lua bundle `name` into `dir/label`: `files` (name, text), the
/// first being the script the manifest names.
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
        "[bundle]\nname = \"{name}\"\nversion = \"1.0.0\"\nloader = \"lua\"\n\n\
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
    script("reload.lua")
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
        &[("reload.lua", &reload_script(answer))],
        "",
    )
}

fn runtime() -> (Runtime, StatsHandle) {
    let loader = LuaLoader::new(LuaConfig::default());
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

/// The stats once `done` holds of them: a thread's states are freed by
/// its thread-local destructors, which may run after `scope` returned.
/// Bounded: a minute, to detect a state that is never freed.
fn stats_when(
    stats: &StatsHandle,
    done: impl Fn(&polyplug_lua::LuaStats) -> bool,
) -> polyplug_lua::LuaStats {
    for _ in 0..6000 {
        let s = stats.get();
        if done(&s) {
            return s;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    stats.get()
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
fn a_lua_bundle_loads_and_is_called_typed() {
    let tmp = TempDir::new("calc");
    let (runtime, stats) = runtime();
    runtime
        .load_bundle(bundle(
            &tmp.0,
            "calc",
            "calc",
            &[("demo.calc", "1.0.0")],
            &[
                ("calc.lua", &script("calc.lua")),
                ("helper.lua", &script("helper.lua")),
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
        err.message.as_str().contains("256 does not fit u8"),
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
    assert_eq!(greet.try_call("lua").unwrap(), "hello lua");
    let reverse = calc
        .typed::<extern "C" fn(Bytes) -> Vec<u8>>("reverse")
        .unwrap();
    assert_eq!(reverse.try_call(b"a\0b").unwrap(), b"b\0a");
    let sandbox = calc.typed::<extern "C" fn() -> u32>("sandbox").unwrap();
    assert_eq!(
        sandbox.try_call().unwrap(),
        0,
        "no io, os, debug, dofile, loadfile, C loaders or outside modules"
    );
    // One state at load, one for this thread, which is kept.
    let s = stats.get();
    assert_eq!(
        (s.loads, s.states_made, s.states_alive()),
        (1, 2, 1),
        "{s:?}"
    );
}

/// A signature the grammar refuses, or a function without `fn`, is a load
/// error naming the function; a typed lookup with other types is the
/// runtime's signature mismatch.
#[test]
fn signatures_are_checked_and_errors_name_the_function() {
    let tmp = TempDir::new("signatures");
    let (runtime, stats) = runtime();
    for (file, function, problem) in [
        ("bad_signature.lua", "mix", "signature \"str(u32)\""),
        ("missing_fn.lua", "version", "`fn` is a nil"),
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
        ("broken.lua", "broken.lua:4:", "unexpected symbol"),
        ("raises.lua", "raises.lua:3:", "init failed with 200"),
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
            &[("budget.lua", &script("budget.lua"))],
            "memory_pages = 2048\nfuel = 2000000",
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
                "budget.lua:12: instruction budget exhausted",
            ),
            ("recurse", ERR_TRAP, "stack overflow"),
            ("raise", ERR_TRAP, "budget.lua:14: boom"),
            ("grow", ERR_BUDGET, "limits.memory_pages"),
        ] {
            let err = call(function).unwrap_err();
            println!("{function}: {err}");
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

/// Seed scenario 3 with Lua: six dispatcher threads call `reload.test`
/// through a kept handle while 80 real reloads alternate v1 (100) and v2
/// (200); every call answers 100 or 200. After unload, and the threads'
/// exit, no Lua state is left.
#[test]
fn six_dispatchers_during_eighty_lua_reloads() {
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
    assert_eq!(torn.load(Ordering::Relaxed), 0);
    assert_eq!(errors.load(Ordering::Relaxed), 0);
    assert!(ones.load(Ordering::Relaxed) > 0 && twos.load(Ordering::Relaxed) > 0);
    assert_eq!(version_of(&runtime, handle), 100, "80 reloads end on v1");
    drain(&runtime);
    let s = stats.get();
    assert_eq!(s.loads, 81);
    assert_eq!(s.loads_alive(), 1, "only the serving load: {s:?}");
    assert_eq!(runtime.code_stats().alive(), 1);
    runtime.unload_bundle(id).unwrap();
    drain(&runtime);
    // The dispatchers exited, freeing their states; this thread's state
    // (from `version_of`) is pending until its next call or its exit.
    let s = stats_when(&stats, |s| s.states_alive() <= 1);
    assert_eq!(s.loads_alive(), 0, "{s:?}");
    assert_eq!((s.states_alive(), s.states_pending), (1, 1), "{s:?}");
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
    for bad in ["broken.lua", "raises.lua"] {
        std::fs::write(dir.join("reload.lua"), script(bad)).unwrap();
        let err = runtime.reload_bundle(id, None).unwrap_err();
        assert!(err.to_string().contains("reload.lua:"), "{bad}: {err}");
        assert_eq!(version_of(&runtime, handle), 100, "{bad}: v1 still serves");
    }
    std::fs::write(dir.join("reload.lua"), reload_script(200)).unwrap();
    // The manifest still declares 1.0.0; 1.1.0 must be declared to register.
    let manifest = std::fs::read_to_string(dir.join("manifest.toml")).unwrap();
    std::fs::write(
        dir.join("manifest.toml"),
        manifest.replace("\"1.0.0\"\n\n[limits]", "").replace(
            "name = \"reload.test\"\nversion = \"1.0.0\"",
            "name = \"reload.test\"\nversion = \"1.1.0\"",
        ),
    )
    .unwrap();
    runtime.reload_bundle(id, None).unwrap();
    assert_eq!(version_of(&runtime, handle), 200);
    drain(&runtime);
    assert_eq!(stats.get().loads_alive(), 1);
}

/// After unload, a thread's state of the dropped load is pending until
/// that thread calls into any Lua load again, or exits.
#[test]
fn states_of_dropped_loads_are_freed_at_the_next_call_or_thread_exit() {
    let tmp = TempDir::new("pending");
    let (runtime, stats) = runtime();
    let reload = runtime
        .load_bundle(reload_bundle(&tmp.0, "v1", 100))
        .unwrap();
    runtime
        .load_bundle(bundle(
            &tmp.0,
            "calc",
            "calc",
            &[("demo.calc", "1.0.0")],
            &[
                ("calc.lua", &script("calc.lua")),
                ("helper.lua", &script("helper.lua")),
            ],
            "",
        ))
        .unwrap();
    let handle = handle_of(&runtime);
    let (ask, asked) = mpsc::channel::<&'static str>();
    let (answer, answers) = mpsc::channel::<u32>();
    std::thread::scope(|s| {
        s.spawn(|| {
            let reader = runtime.reader();
            for what in asked {
                let guard = reader.pin();
                let value = match what {
                    "version" => guard
                        .get(handle)
                        .map(|c| c.typed::<extern "C" fn() -> u32>("version").unwrap().call())
                        .unwrap_or(0),
                    _ => guard
                        .find("demo.calc", V1)
                        .unwrap()
                        .typed::<extern "C" fn(u32) -> u32>("inc")
                        .unwrap()
                        .call(1),
                };
                answer.send(value).unwrap();
            }
        });
        let timeout = Duration::from_secs(60);
        ask.send("version").unwrap();
        assert_eq!(answers.recv_timeout(timeout).unwrap(), 100);
        ask.send("inc").unwrap();
        assert_eq!(answers.recv_timeout(timeout).unwrap(), 2);
        let s = stats.get();
        assert_eq!((s.states_alive(), s.states_pending), (2, 0), "{s:?}");
        runtime.unload_bundle(reload).unwrap();
        drain(&runtime);
        let s = stats.get();
        assert_eq!(
            (s.loads_alive(), s.states_alive(), s.states_pending),
            (1, 2, 1),
            "{s:?}"
        );
        // The thread's next call into Lua, in the calc state it already
        // has, frees it.
        ask.send("inc").unwrap();
        assert_eq!(answers.recv_timeout(timeout).unwrap(), 2);
        let s = stats.get();
        assert_eq!((s.states_alive(), s.states_pending), (1, 0), "{s:?}");
        drop(ask);
    });
    // The thread exited: its calc state went with it.
    let s = stats_when(&stats, |s| s.states_alive() == 0);
    assert_eq!((s.states_alive(), s.states_pending), (0, 0), "{s:?}");
}

/// One call path for every language: a C plugin calls a Lua contract
/// through the host table, which calls a Rust plugin through
/// `polyplug.call`; a Lua function calls the C plugin, which calls back
/// into Lua on the same thread; a failed find raises a typed error.
#[test]
fn calls_cross_native_and_lua_both_ways() {
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
            "chain-lua",
            &[("chain.wasm", "1.0.0")],
            &[("chain.lua", &script("chain.lua"))],
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
    // Lua -> Rust plugin.
    assert_eq!(call("chain.wasm", "inc_via_native", 41).unwrap(), 42);
    // C plugin -> Lua -> Rust plugin.
    assert_eq!(call("test.caller", "call_wasm", 41).unwrap(), 42);
    // Lua -> C plugin -> Lua (the same state, nested) -> Rust plugin.
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
        err.message.as_str().contains("polyplug.find no.such"),
        "{err}"
    );
}

/// `counter.lua` answering `tag` with `tag`, under `limits`.
fn counter_bundle(dir: &Path, label: &str, tag: u32, limits: &str) -> PathBuf {
    counter_bundle_from(
        dir,
        label,
        &script("counter.lua").replace("TAG", &tag.to_string()),
        limits,
    )
}

fn counter_bundle_from(dir: &Path, label: &str, text: &str, limits: &str) -> PathBuf {
    bundle(
        dir,
        label,
        "counter",
        &[("lua.counter", "1.0.0")],
        &[("counter.lua", text)],
        limits,
    )
}

fn counter(runtime: &Runtime) -> polyplug::Instance {
    runtime
        .reader()
        .pin()
        .find("lua.counter", V1)
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

/// A stateful Lua contract: each instance is its own object, counts on its
/// own, and keeps the version that made it across a reload; a method
/// called without an instance is refused; everything is freed after
/// unload.
#[test]
fn lua_instances_keep_their_state_and_their_version() {
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
                .find("lua.counter", V1)
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
    let s = stats_when(&stats, |s| s.states_alive() == 0);
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
fn a_lua_instance_belongs_to_the_thread_that_made_it() {
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
            ("lua.counter", "bump", ERR_BAD_ARGUMENT),
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
    let s = stats_when(&stats, |s| s.states_alive() == 0);
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
fn lua_instance_calls_run_under_the_budgets() {
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
        .find("lua.counter", V1)
        .unwrap()
        .create_instance()
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(&err, polyplug::InstanceError::Call(e) if e.code == ERR_BUDGET)
            && text.contains("limits.instances")
            && text.contains("lua.counter"),
        "{text}"
    );
    assert_eq!(method(&mut a, "bump").unwrap(), 1);
    let err = method(&mut a, "spin").unwrap_err();
    assert_eq!(err.code, ERR_BUDGET, "{err}");
    let text = err.to_string();
    assert!(
        text.contains("limits.fuel") && text.contains("counter.lua:"),
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

/// A constructor that is not a function, returns no table, returns an
/// object without a method, or raises, and a `fn` in a stateful contract,
/// are load errors naming the file, the contract and the function.
#[test]
fn bad_lua_constructors_are_load_errors() {
    let tmp = TempDir::new("constructors");
    let (runtime, stats) = runtime();
    let good = script("counter.lua").replace("TAG", "100");
    for (case, (from, to, function, problem)) in [
        (
            "new = Counter.new",
            "new = 4.5",
            "function new",
            "`new` is a number",
        ),
        (
            "new = Counter.new",
            "new = function() return \"seven\" end",
            "function new",
            "returned a string",
        ),
        (
            "new = Counter.new",
            "new = function() return { bump = Counter.bump } end",
            "function add",
            "nil for method add",
        ),
        (
            "new = Counter.new",
            "new = function() error(\"no counter today\") end",
            "function new",
            "no counter today",
        ),
        (
            "bump = { sig = \"u32()\" }",
            "bump = { sig = \"u32()\", fn = Counter.bump }",
            "function bump",
            "give only `sig`",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        assert!(good.contains(from));
        let dir = counter_bundle_from(&tmp.0, &format!("case{case}"), &good.replace(from, to), "");
        let err = runtime.load_bundle(&dir).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, LoadError::Code { .. }), "{to}: {err:?}");
        for part in ["counter.lua", "lua.counter", function, problem] {
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
fn a_lua_instance_keeps_its_load_after_unload() {
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
    let s = stats_when(&stats, |s| s.states_alive() == 0);
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

/// A signed bundle's `require`d file, edited on disk after the check: a
/// calling thread's fresh state (made after the edit) runs the checked
/// file, and a reload from the edited directory is refused, naming it.
#[test]
fn a_required_file_edited_after_the_check_is_not_what_runs() {
    use polyplug::{SealError, SecretKey, Trust};
    use polyplug_loader::{BundleError, seal_bundle};

    let tmp = TempDir::new("sealed-require");
    let main = "local util = require(\"util\")\n\
                return { contracts = { { name = \"reload.test\", version = \"1.0.0\",\n\
                  functions = { version = { sig = \"u32()\", fn = function() return util.answer end } } } } }\n";
    let path = bundle(
        &tmp.0,
        "sealed",
        "reload-test",
        &[("reload.test", "1.0.0")],
        &[("main.lua", main), ("util.lua", "return { answer = 100 }")],
        "",
    );
    let key = SecretKey::from_seed([1; 32]);
    seal_bundle(&path, &key).unwrap();
    let runtime = Runtime::builder()
        .loader(LuaLoader::new(LuaConfig::default()))
        .trust(Trust::required([key.public()]))
        .build()
        .unwrap();
    let id = runtime.load_bundle(&path).unwrap();
    let handle = handle_of(&runtime);
    std::fs::write(path.join("util.lua"), "return { answer = 666 }").unwrap();
    // A thread that never called before makes its state now, after the
    // edit, and its `require` runs the checked bytes.
    let answer = std::thread::scope(|s| s.spawn(|| version_of(&runtime, handle)).join().unwrap());
    assert_eq!(answer, 100);
    let error = runtime.reload_bundle(id, None).unwrap_err();
    assert!(
        matches!(&error, LoadError::Bundle(e)
            if matches!(&**e, BundleError::Seal(SealError::FileChanged { path, .. }) if path == "util.lua")),
        "{error}"
    );
    assert_eq!(version_of(&runtime, handle), 100, "v1 keeps serving");
}

// State handover: `Instance::upgrade` moves a live instance to the version
// that serves now through the old version's `save` and the new version's
// `restore`; the script side is the contract's `save` and `restore`.

const COUNTER: &str = "handover.counter";

/// `handover.lua` as contract version `version`, stepping by `step`, in a
/// bundle named as the native handover fixtures are (a reload keeps the
/// bundle's name).
fn handover_bundle(dir: &Path, label: &str, version: &str, step: u32) -> PathBuf {
    handover_bundle_from(
        dir,
        label,
        version,
        &script("handover.lua")
            .replace("VERSION", version)
            .replace("STEP", &step.to_string()),
    )
}

fn handover_bundle_from(dir: &Path, label: &str, version: &str, text: &str) -> PathBuf {
    bundle(
        dir,
        label,
        "handover-test",
        &[(COUNTER, version)],
        &[("handover.lua", text)],
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

/// A Lua counter that counted to 7 keeps counting from 7 after a reload
/// that changes its code, once upgraded; a fresh instance starts from 0.
#[test]
fn a_lua_counter_keeps_counting_from_n_after_a_reload_that_changes_its_code() {
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

/// Native v1 hands over to a Lua version in the native 8-byte format, and
/// the Lua version back to native v2: the count survives both ways.
#[test]
fn a_native_counter_hands_over_to_lua_and_back() {
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
        .reload_bundle(id, Some(&handover_bundle(&tmp.0, "lua", "1.2.0", 100)))
        .unwrap();
    assert!(counter.upgrade(&reader.pin()).unwrap()); // native save, Lua restore
    assert_eq!(counter.version(), Version::new(1, 2, 0));
    assert_eq!(method(&mut counter, "step").unwrap(), 105);

    runtime
        .reload_bundle(id, Some(&polyplug_fixtures::bundle("handover-v2")))
        .unwrap();
    assert!(counter.upgrade(&reader.pin()).unwrap()); // Lua save, native restore
    assert_eq!(counter.version(), Version::new(1, 1, 0));
    assert_eq!(native(&mut counter, "step"), 115);
}

/// Counts a Lua v1 instance to 5, arms it with `mode`, reloads to v2 and
/// returns the upgrade's error, after checking the old instance serves on
/// with its count and, disarmed, hands over.
fn failed_lua_upgrade(mode: u32) -> polyplug::HandoverError {
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
fn a_failed_lua_save_or_restore_leaves_the_old_instance_serving() {
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
        let err = failed_lua_upgrade(mode);
        let source = script_handover::failure(&err, step);
        assert_eq!(source.function, function, "{err}");
        assert_eq!(source.code, ERR_TRAP, "{err}");
        let text = source.message.as_str();
        for part in [
            "bundle handover-test",
            COUNTER,
            &format!("function {function}"),
            words,
            "handover.lua:",
        ] {
            assert!(text.contains(part), "{text} lacks {part}");
        }
    }
}

/// `save` without `restore` (or the reverse), or either beside no `new`,
/// or not a function, is a load error naming the file, the contract and
/// the field.
#[test]
fn a_lua_handover_needs_save_and_restore_together() {
    let tmp = TempDir::new("handover-load");
    let (runtime, _stats) = runtime();
    let good = script("handover.lua")
        .replace("VERSION", "1.0.0")
        .replace("STEP", "1");
    for (case, (from, to, field, problem)) in [
        (
            "      restore = restore,\n",
            "",
            "function save",
            "no `restore`",
        ),
        ("      save = save,\n", "", "function restore", "no `save`"),
        (
            "      save = save,\n",
            "      save = true,\n",
            "function save",
            "`save` is a boolean",
        ),
        (
            "      new = Counter.new,\n",
            "",
            "function save",
            "no `new`",
        ),
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
        let err = runtime.load_bundle(&dir).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, LoadError::Code { .. }), "{err:?}");
        for part in ["handover.lua", COUNTER, field, problem] {
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
fn lua_save_and_restore_run_as_calls_do() {
    use polyplug::HandoverStep;
    let tmp = TempDir::new("handover-calls");
    let (runtime, _stats) = runtime();
    let text = |version: &str, step: u32| {
        script("handover.lua")
            .replace("VERSION", version)
            .replace("STEP", &step.to_string())
    };
    let v1 = text("1.0.0", 1).replace(
        "if counter.armed == 1 then error(\"save armed to fail\") end",
        "if counter.armed == 1 then while true do end end\n  if counter.armed == 3 then return true end\n  if counter.armed == 4 then return string.rep(\"x\", 64 * 1024 * 1024) end",
    );
    let v2 = text("1.1.0", 10).replace(
        "return setmetatable({ n = n, armed = 0 }, Counter)",
        "return \"seven\"",
    );
    let id = runtime
        .load_bundle(bundle(
            &tmp.0,
            "v1",
            "handover-test",
            &[(COUNTER, "1.0.0")],
            &[("handover.lua", &v1)],
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
        script_handover::save_failures(
            &mut counter,
            &reader,
            2,
            "function save: returned a boolean"
        ),
        5
    );
    method_with(&mut counter, "arm", 0);
    failed(
        counter.upgrade(&reader.pin()).unwrap_err(),
        HandoverStep::Restore,
        ERR_TRAP,
        "restoring an instance: function restore: returned a string",
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
                &[(COUNTER, "1.1.0")],
                &[("handover.lua", &text("1.1.0", 10))],
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
