//! WebAssembly bundles end to end: load, typed calls, stateful instances,
//! reload under six dispatchers, failed reloads, unload, budgets, the
//! bad-module corpus, and a bundle that changes loader between reloads.
//! The modules are the `.wat` files beside this one, compiled here by the
//! `wat` crate.
//!
//! Run on each engine: `super::engine` makes the loader.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use polyplug::{ContractHandle, Event, FindError, LoadError, Runtime, Version};
use polyplug_abi::{ERR_BUDGET, ERR_TRAP};
use polyplug_wasm::{StatsHandle, WasmConfig};

const V1: Version = Version::new(1, 0, 0);

/// A temporary directory, removed on drop.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(label: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!(
            "polyplug-wasm-{label}-{}-{:?}",
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

pub(crate) fn wat(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/wat")
        .join(file);
    std::fs::read_to_string(&path).unwrap()
}

pub(crate) fn compile(text: &str) -> Vec<u8> {
    wat::parse_str(text).unwrap()
}

/// `reload.wat` answering `answer` at contract version `version`.
fn reload_module(answer: u32, version: &str) -> Vec<u8> {
    compile(
        &wat("reload.wat")
            .replace("ANSWER", &answer.to_string())
            .replace("VERSION", version),
    )
}

/// Writes a wasm bundle `name` into `dir/label`.
pub(crate) fn bundle(
    dir: &Path,
    label: &str,
    name: &str,
    version: &str,
    provides: &[(&str, &str)],
    module: &[u8],
    limits: &str,
) -> PathBuf {
    let path = dir.join(label);
    std::fs::create_dir_all(&path).unwrap();
    std::fs::write(path.join("module.wasm"), module).unwrap();
    let mut manifest = format!(
        "[bundle]\nname = \"{name}\"\nversion = \"{version}\"\nloader = \"wasm\"\n\n\
         [library]\n{} = \"module.wasm\"\n",
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

fn reload_bundle(dir: &Path, label: &str, answer: u32) -> PathBuf {
    let version = if answer == 100 { "1.0.0" } else { "1.1.0" };
    let bundle_version = if answer == 100 { "1.0.0" } else { "2.0.0" };
    bundle(
        dir,
        label,
        "reload-test",
        bundle_version,
        &[("reload.test", version)],
        &reload_module(answer, version),
        "",
    )
}

fn add_bundle(dir: &Path, label: &str, module: &[u8], limits: &str) -> PathBuf {
    bundle(
        dir,
        label,
        "wasm-add",
        "1.0.0",
        &[("test.add", "1.0.0")],
        module,
        limits,
    )
}

pub(crate) fn runtime() -> (Runtime, StatsHandle) {
    let loader = super::engine(WasmConfig::default());
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
fn a_wasm_bundle_loads_and_is_called_typed_and_bound() {
    let tmp = TempDir::new("load");
    let (runtime, stats) = runtime();
    runtime
        .load_bundle(add_bundle(&tmp.0, "add", &compile(&wat("add.wat")), ""))
        .unwrap();
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
            ("inc", "u32(u32)")
        ]
    );
    let sum = add.typed::<extern "C" fn(u32, u32) -> u32>("add").unwrap();
    assert_eq!(sum.call(2, 3), 5);
    assert_eq!(sum.call(u32::MAX, 1), 0, "wraps as wasm i32.add does");
    let add64 = add
        .typed::<extern "C" fn(u64, u64) -> u64>("add64")
        .unwrap();
    assert_eq!(add64.try_call(1 << 40, 2).unwrap(), (1 << 40) + 2);
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
    // One module; an instance at load, and one for this thread.
    let s = stats.get();
    assert_eq!((s.modules_compiled, s.instances_made), (1, 2));
    assert_eq!(s.instances_alive(), 1);
}

#[test]
fn stateful_instances_have_their_own_memory_and_keep_their_version() {
    let tmp = TempDir::new("stateful");
    let (runtime, stats) = runtime();
    let events = runtime.subscribe();
    let id = runtime
        .load_bundle(reload_bundle(&tmp.0, "v1", 100))
        .unwrap();
    let reader = runtime.reader();
    let contract_instance = || {
        reader
            .pin()
            .find("reload.test", V1)
            .unwrap()
            .create_instance()
            .unwrap()
    };
    let (mut one, mut two) = (contract_instance(), contract_instance());
    let bump = |i: &mut polyplug::Instance| {
        i.typed::<extern "C" fn() -> u32>("bump")
            .unwrap()
            .call()
            .unwrap()
    };
    assert_eq!((bump(&mut one), bump(&mut one), bump(&mut one)), (1, 2, 3));
    assert_eq!(bump(&mut two), 1);
    // The instance constructor logged through the host import.
    let logged = events
        .try_iter()
        .filter(|e| matches!(e, Event::Log { message, .. } if message == "reload.test instance"))
        .count();
    assert_eq!(logged, 2);
    runtime
        .reload_bundle(id, Some(&reload_bundle(&tmp.0, "v2", 200)))
        .unwrap();
    assert_eq!(version_of(&runtime, handle_of(&runtime)), 200);
    let mut version = one.typed::<extern "C" fn() -> u32>("version").unwrap();
    assert_eq!(version.call().unwrap(), 100, "the instance keeps v1");
    assert_eq!(bump(&mut one), 4);
    drop((one, two));
    runtime.unload_bundle(id).unwrap();
    drain(&runtime);
    let s = stats.get();
    assert_eq!((s.modules_alive(), s.instances_alive()), (0, 0), "{s:?}");
}

#[test]
fn reload_keeps_handles_failed_reloads_leave_v1_and_unload_goes_stale() {
    let tmp = TempDir::new("reload");
    let (runtime, stats) = runtime();
    let id = runtime
        .load_bundle(reload_bundle(&tmp.0, "v1", 100))
        .unwrap();
    let handle = handle_of(&runtime);
    runtime
        .reload_bundle(id, Some(&reload_bundle(&tmp.0, "v2", 200)))
        .unwrap();
    assert_eq!(version_of(&runtime, handle), 200);
    let revision = runtime.revision();
    let not_wasm = bundle(
        &tmp.0,
        "bad",
        "reload-test",
        "3.0.0",
        &[("reload.test", "1.2.0")],
        b"not wasm at all",
        "",
    );
    let err = runtime.reload_bundle(id, Some(&not_wasm)).unwrap_err();
    assert!(matches!(err, LoadError::Code { .. }), "{err}");
    assert_eq!(runtime.revision(), revision);
    assert_eq!(version_of(&runtime, handle), 200, "v2 keeps serving");
    runtime.unload_bundle(id).unwrap();
    assert!(matches!(
        runtime.reader().pin().get(handle),
        Err(FindError::Stale { .. })
    ));
    drain(&runtime);
    let s = stats.get();
    assert_eq!(
        s.modules_compiled, 2,
        "the file that is not wasm never compiled"
    );
    assert_eq!(
        (s.modules_alive(), s.instances_alive()),
        (0, 0),
        "every engine object dropped after unload and drain: {s:?}"
    );
    assert_eq!(runtime.code_stats().alive(), 0);
}

/// Seed scenario 3 with wasm: six dispatcher threads call `reload.test`
/// through a kept handle while 80 real reloads alternate v1 (100) and v2
/// (200); every call answers 100 or 200.
#[test]
fn six_dispatchers_during_eighty_wasm_reloads() {
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
    assert_eq!(s.modules_compiled, 81);
    assert_eq!(s.modules_alive(), 1, "only the serving module: {s:?}");
    assert_eq!(runtime.code_stats().alive(), 1);
    runtime.unload_bundle(id).unwrap();
    drain(&runtime);
    let s = stats.get();
    assert_eq!((s.modules_alive(), s.instances_alive()), (0, 0), "{s:?}");
}

/// Each budget, broken on purpose: the call returns a `CallError` naming
/// bundle, contract, function and reason, and the next call works.
#[test]
fn each_budget_broken_gives_a_typed_error_and_the_host_keeps_serving() {
    let tmp = TempDir::new("budgets");
    let (runtime, _stats) = runtime();
    runtime
        .load_bundle(bundle(
            &tmp.0,
            "budget",
            "budget-test",
            "1.0.0",
            &[("budget.test", "1.0.0")],
            &compile(&wat("budget.wat")),
            "memory_pages = 4\nfuel = 200000\nrecursion_depth = 64",
        ))
        .unwrap();
    let reader = runtime.reader();
    let call = |name: &str| {
        let guard = reader.pin();
        let contract = guard.find("budget.test", V1).unwrap();
        contract
            .typed::<extern "C" fn() -> u32>(name)
            .unwrap()
            .try_call()
    };
    // The reason in each engine's words: a trap code both share, or for
    // a growth the store's limiter refused, wasmi's trap code or
    // wasmtime's message (it has no trap code for it).
    for (function, code, reasons) in [
        ("spin", ERR_BUDGET, &["fuel"][..]),
        ("recurse", ERR_TRAP, &["StackOverflow"][..]),
        ("trap", ERR_TRAP, &["UnreachableCodeReached"][..]),
        (
            "grow",
            ERR_BUDGET,
            &["GrowthOperationLimited", "forcing trap when growing memory"][..],
        ),
    ] {
        let err = call(function).unwrap_err();
        println!("{function}: {err}");
        assert_eq!(err.code, code, "{function}: {err}");
        assert_eq!(
            (err.contract.as_str(), err.function.as_str()),
            ("budget.test", function)
        );
        for part in ["bundle budget-test", "contract budget.test", function] {
            assert!(
                err.message.as_str().contains(part),
                "{function}: {err} lacks {part}"
            );
        }
        assert!(
            reasons.iter().any(|r| err.message.as_str().contains(r)),
            "{function}: {err} lacks any of {reasons:?}"
        );
        assert_eq!(call("ok").unwrap(), 7, "{function}: the next call works");
    }
    // `call` on a failing function gives zero, and the thread goes on.
    let guard = reader.pin();
    let trap = guard
        .find("budget.test", V1)
        .unwrap()
        .typed::<extern "C" fn() -> u32>("trap")
        .unwrap();
    assert_eq!(trap.call(), 0);
}

/// The host's ceiling caps what a manifest asks for.
#[test]
fn the_hosts_ceiling_caps_the_manifest() {
    let tmp = TempDir::new("ceiling");
    let config = WasmConfig::default().ceiling(polyplug_wasm::Budget {
        fuel: 10_000,
        ..WasmConfig::default().ceiling
    });
    let runtime = Runtime::builder()
        .loader(super::engine(config))
        .build()
        .unwrap();
    runtime
        .load_bundle(bundle(
            &tmp.0,
            "budget",
            "budget-test",
            "1.0.0",
            &[("budget.test", "1.0.0")],
            &compile(&wat("budget.wat")),
            "fuel = 1000000000000",
        ))
        .unwrap();
    let reader = runtime.reader();
    let guard = reader.pin();
    let spin = guard
        .find("budget.test", V1)
        .unwrap()
        .typed::<extern "C" fn() -> u32>("spin")
        .unwrap();
    assert_eq!(spin.try_call().unwrap_err().code, ERR_BUDGET);
}

/// One bad module: label, bytes, the field, the contract and words its
/// error names.
type Case<'a> = (&'a str, Vec<u8>, &'a str, Option<&'a str>, &'a str);

/// The bad-module corpus: each is refused as a load and as a reload, with
/// an error naming bundle, file and field (and contract where there is
/// one), and the runtime unchanged: same revision, same bundles, the
/// serving `test.add` still answers.
#[test]
fn bad_modules_are_refused_and_change_nothing() {
    let tmp = TempDir::new("corpus");
    let good = compile(&wat("add.wat"));
    let mut cases: Vec<Case<'_>> = vec![
        (
            "not-wasm",
            b"#!/bin/sh\necho hello\n".to_vec(),
            "module",
            None,
            "not a WebAssembly module",
        ),
        (
            "truncated",
            good[..good.len() / 2].to_vec(),
            "module",
            None,
            "",
        ),
        (
            "import",
            compile(&wat("bad_import.wat")),
            "import env.system",
            None,
            "polyplug.log",
        ),
        (
            "start-traps",
            compile(&wat("bad_start.wat")),
            "start",
            None,
            "Unreachable",
        ),
        (
            "signature",
            compile(&wat("bad_signature.wat")),
            "export \"test.add@1.0.0/add:u32(u32,u32)\"",
            Some("test.add"),
            "(i64, i64) -> (i64)",
        ),
        (
            "memory-4gib",
            compile(&wat("bad_memory.wat")),
            "limits.memory_pages",
            None,
            "memory",
        ),
        (
            "init-loops",
            compile(&wat("bad_init_loop.wat")),
            "limits.fuel",
            None,
            "fuel",
        ),
    ];
    cases.push((
        "malformed-export",
        compile(r#"(module (func (export "test.add@1.0/inc:u32(u32)") (param i32) (result i32) (local.get 0)))"#),
        "export \"test.add@1.0/inc:u32(u32)\"",
        Some("test.add"),
        "major.minor.patch",
    ));
    for (label, module, field, contract, words) in cases {
        let dir = add_bundle(&tmp.0, label, &module, "fuel = 100000");
        for as_reload in [false, true] {
            let case = format!("{label} ({})", if as_reload { "reload" } else { "load" });
            let (runtime, stats) = runtime();
            let serving = runtime
                .load_bundle(add_bundle(&tmp.0, "serving", &good, ""))
                .unwrap();
            let answers = || {
                let reader = runtime.reader();
                let guard = reader.pin();
                let inc = guard
                    .find("test.add", V1)
                    .unwrap()
                    .typed::<extern "C" fn(u32) -> u32>("inc")
                    .unwrap();
                assert_eq!(inc.try_call(41).unwrap(), 42, "{case}: test.add answers");
            };
            answers();
            let (revision, bundles) = (runtime.revision(), runtime.bundles());
            let err = if as_reload {
                runtime.reload_bundle(serving, Some(&dir)).unwrap_err()
            } else {
                // Another bundle name, so the load is not refused as a
                // duplicate.
                let renamed = dir.with_file_name(format!("{label}-renamed"));
                std::fs::create_dir_all(&renamed).unwrap();
                std::fs::copy(dir.join("module.wasm"), renamed.join("module.wasm")).unwrap();
                let manifest = std::fs::read_to_string(dir.join("manifest.toml"))
                    .unwrap()
                    .replace("name = \"wasm-add\"", "name = \"wasm-other\"");
                std::fs::write(renamed.join("manifest.toml"), manifest).unwrap();
                runtime.load_bundle(&renamed).unwrap_err()
            };
            println!("{case}: {err}");
            let LoadError::Code { bundle, error } = &err else {
                panic!("{case}: expected LoadError::Code, found {err}");
            };
            assert!(bundle.starts_with("wasm-"), "{case}: {err}");
            assert!(error.file.ends_with("module.wasm"), "{case}: {err}");
            assert_eq!(error.field, field, "{case}: {err}");
            assert_eq!(error.contract.as_deref(), contract, "{case}: {err}");
            assert!(
                error.problem.contains(words),
                "{case}: {err} lacks {words:?}"
            );
            assert_eq!(runtime.revision(), revision, "{case}: revision unchanged");
            assert_eq!(runtime.bundles(), bundles, "{case}: bundles unchanged");
            answers();
            drain(&runtime);
            let s = stats.get();
            assert_eq!(
                s.modules_alive(),
                1,
                "{case}: only the serving module: {s:?}"
            );
        }
    }
}

#[test]
fn an_undeclared_contract_is_refused_by_the_runtimes_own_check() {
    let tmp = TempDir::new("undeclared");
    let (runtime, _) = runtime();
    let err = runtime
        .load_bundle(add_bundle(
            &tmp.0,
            "undeclared",
            &compile(&wat("bad_undeclared.wat")),
            "",
        ))
        .unwrap_err();
    assert!(
        matches!(&err, LoadError::Undeclared { bundle, contract, .. }
            if bundle == "wasm-add" && contract == "undeclared.extra"),
        "{err}"
    );
    assert!(runtime.bundles().is_empty());
}

/// A bundle may move from native to wasm and back between reloads: the
/// contract keeps its handle and serves throughout.
#[test]
fn a_bundle_moves_from_native_to_wasm_and_back() {
    let tmp = TempDir::new("native-wasm");
    let (runtime, stats) = runtime();
    let id = runtime
        .load_bundle(polyplug_fixtures::bundle("reload-v1"))
        .unwrap();
    let handle = handle_of(&runtime);
    assert_eq!(version_of(&runtime, handle), 100);
    runtime
        .reload_bundle(id, Some(&reload_bundle(&tmp.0, "v2", 200)))
        .unwrap();
    assert_eq!(version_of(&runtime, handle), 200);
    runtime
        .reload_bundle(id, Some(&polyplug_fixtures::bundle("reload-v1")))
        .unwrap();
    assert_eq!(version_of(&runtime, handle), 100);
    drain(&runtime);
    assert_eq!(stats.get().modules_alive(), 0);
    let libraries = runtime.library_stats();
    assert_eq!((libraries.opened, libraries.closed), (2, 1));
}

/// `chain.wat` as contract `contract`, in a bundle of its own.
fn chain_bundle(dir: &Path, contract: &str) -> PathBuf {
    let module = compile(&wat("chain.wat").replace("CONTRACT", contract));
    let name = contract.replace('.', "-");
    bundle(
        dir,
        &name,
        &name,
        "1.0.0",
        &[(contract, "1.0.0")],
        &module,
        "",
    )
}

/// One call path for every language, both ways: a C plugin calls a wasm
/// contract through the host table (`pp_typed_call`), which calls a Rust
/// plugin through the host imports; a wasm guest calls the C plugin, which
/// calls the other wasm module; and a call that comes back into the module
/// already running on this thread is an error, not an aliased instance.
#[test]
fn calls_cross_native_and_wasm_both_ways_and_reentry_is_an_error() {
    let tmp = TempDir::new("chain");
    let (runtime, _stats) = runtime();
    runtime
        .load_bundle(polyplug_fixtures::bundle("test-add"))
        .unwrap();
    runtime
        .load_bundle(polyplug_fixtures::bundle("c-caller"))
        .unwrap();
    runtime
        .load_bundle(chain_bundle(&tmp.0, "chain.wasm"))
        .unwrap();
    runtime
        .load_bundle(chain_bundle(&tmp.0, "relay.wasm"))
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
            .unwrap()
    };
    // wasm -> Rust plugin.
    assert_eq!(call("chain.wasm", "inc_via_native", 41), 42);
    // C plugin -> wasm -> Rust plugin.
    assert_eq!(call("test.caller", "call_wasm", 41), 42);
    // wasm -> C plugin -> another wasm module -> Rust plugin.
    assert_eq!(call("relay.wasm", "via_c", 9), 10);
    // wasm -> C plugin -> the same wasm module on this thread: refused.
    assert_eq!(
        call("chain.wasm", "via_c", 9),
        0xE000_0000 | polyplug_abi::ERR_INTERNAL,
        "re-entry into the running instance fails with ERR_INTERNAL"
    );
    // The module still serves after the refused re-entry.
    assert_eq!(call("chain.wasm", "inc_via_native", 1), 2);
}

/// Functions of every kind of shape: integer shapes the engines call
/// typed (mixed `i32` and `i64`, four parameters, no result), and shapes
/// they call dynamically (five parameters, floats); each argument lands
/// in its own place. And fuel is per call on either path: three calls
/// that each burn most of the budget all succeed, one that burns more
/// than the budget fails.
#[test]
fn typed_and_dynamic_shapes_pass_each_argument_and_get_fuel_per_call() {
    let module = compile(
        r#"(module
  (global $last (mut i64) (i64.const 0))
  (func (export "test.shapes@1.0.0/mix:i64(u32,i64)") (param i32 i64) (result i64)
    (i64.add (local.get 1) (i64.mul (i64.extend_i32_u (local.get 0)) (i64.const 1000))))
  (func (export "test.shapes@1.0.0/four:u64(u64,u32,u64,u32)")
    (param i64 i32 i64 i32) (result i64)
    (i64.add
      (i64.add (i64.mul (local.get 0) (i64.const 1000))
               (i64.mul (i64.extend_i32_u (local.get 1)) (i64.const 100)))
      (i64.add (i64.mul (local.get 2) (i64.const 10)) (i64.extend_i32_u (local.get 3)))))
  (func (export "test.shapes@1.0.0/five:u32(u32,u32,u32,u32,u32)")
    (param i32 i32 i32 i32 i32) (result i32)
    (i32.add
      (i32.add (i32.mul (local.get 0) (i32.const 10000)) (i32.mul (local.get 1) (i32.const 1000)))
      (i32.add (i32.add (i32.mul (local.get 2) (i32.const 100)) (i32.mul (local.get 3) (i32.const 10)))
               (local.get 4))))
  (func (export "test.shapes@1.0.0/half:f64(f64)") (param f64) (result f64)
    (f64.mul (local.get 0) (f64.const 0.5)))
  (func (export "test.shapes@1.0.0/neg:i32(i32)") (param i32) (result i32)
    (i32.sub (i32.const 0) (local.get 0)))
  (func (export "test.shapes@1.0.0/scale:f32(f32,u32)") (param f32 i32) (result f32)
    (f32.mul (local.get 0) (f32.convert_i32_u (local.get 1))))
  (func (export "test.shapes@1.0.0/set:void(i64)") (param i64)
    (global.set $last (local.get 0)))
  (func (export "test.shapes@1.0.0/last:i64()") (result i64)
    (global.get $last))
  ;; Counts down from n: a few units of fuel per round.
  (func (export "test.shapes@1.0.0/burn:u32(u32)") (param i32) (result i32)
    (block $done
      (loop $again
        (br_if $done (i32.eqz (local.get 0)))
        (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
        (br $again)))
    (i32.const 1)))"#,
    );
    let tmp = TempDir::new("shapes");
    let (runtime, _stats) = runtime();
    runtime
        .load_bundle(bundle(
            &tmp.0,
            "shapes",
            "shapes-test",
            "1.0.0",
            &[("test.shapes", "1.0.0")],
            &module,
            "fuel = 200000",
        ))
        .unwrap();
    let reader = runtime.reader();
    let guard = reader.pin();
    let shapes = guard.find("test.shapes", V1).unwrap();
    let mix = shapes
        .typed::<extern "C" fn(u32, i64) -> i64>("mix")
        .unwrap();
    assert_eq!(mix.try_call(7, -3).unwrap(), 6_997);
    let four = shapes
        .typed::<extern "C" fn(u64, u32, u64, u32) -> u64>("four")
        .unwrap();
    assert_eq!(four.try_call(1, 2, 3, 4).unwrap(), 1_234);
    assert_eq!(
        four.try_call(1 << 40, 0, 0, 9).unwrap(),
        (1 << 40) * 1000 + 9
    );
    let five = shapes
        .typed::<extern "C" fn(u32, u32, u32, u32, u32) -> u32>("five")
        .unwrap();
    assert_eq!(five.try_call(1, 2, 3, 4, 5).unwrap(), 12_345);
    let half = shapes.typed::<extern "C" fn(f64) -> f64>("half").unwrap();
    assert_eq!(half.try_call(3.0).unwrap(), 1.5);
    // A signed argument crosses sign-extended, a signed result whole.
    let neg = shapes.typed::<extern "C" fn(i32) -> i32>("neg").unwrap();
    assert_eq!(neg.try_call(-5).unwrap(), 5);
    assert_eq!(neg.try_call(7).unwrap(), -7);
    assert_eq!(neg.try_call(i32::MIN).unwrap(), i32::MIN);
    let scale = shapes
        .typed::<extern "C" fn(f32, u32) -> f32>("scale")
        .unwrap();
    assert_eq!(scale.try_call(-1.5, 3).unwrap(), -4.5);
    let set = shapes.typed::<extern "C" fn(i64)>("set").unwrap();
    let last = shapes.typed::<extern "C" fn() -> i64>("last").unwrap();
    set.try_call(-42).unwrap();
    assert_eq!(last.try_call().unwrap(), -42);
    let burn = shapes.typed::<extern "C" fn(u32) -> u32>("burn").unwrap();
    // The engines charge different fuel per round: double the rounds
    // until a call runs out. Half of that takes more than half the budget.
    let mut rounds = 1_000;
    let err = loop {
        match burn.try_call(rounds) {
            Ok(_) => rounds *= 2,
            Err(err) => break err,
        }
    };
    assert_eq!(err.code, ERR_BUDGET, "{err}");
    assert!(err.message.as_str().contains("fuel"), "{err}");
    for call in 0..3 {
        assert_eq!(burn.try_call(rounds / 2).unwrap(), 1, "call {call}");
    }
}
