//! `polyplug gen`: the bindings checked in beside the example definition
//! are what the command writes now (`POLYPLUG_BLESS=1` rewrites them), the
//! Rust host wrapper and guest trait compile and call, the C and C++
//! headers compile, the wasm C stubs compile for wasm32 and load, and
//! refusals name the file, line and column.
#![cfg(not(any(loom, shuttle, miri)))]
#![expect(
    clippy::unwrap_used,
    reason = "test support: a failed step fails the test"
)]

pub mod common;

#[path = "../../examples/contracts/demo_counter_guest.rs"]
pub mod guest;
#[path = "../../examples/contracts/demo_counter_host.rs"]
pub mod host;
#[path = "../../examples/contracts/demo_text_host.rs"]
pub mod text_host;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{TempDir, polyplug};
use polyplug::{HostContract, Runtime};

fn contracts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/contracts")
}

/// Each language and the file its output is checked in as, for
/// `counter.toml`.
const OUTPUTS: [(&str, &str); 8] = [
    ("rust-host", "demo_counter_host.rs"),
    ("rust-guest", "demo_counter_guest.rs"),
    ("c", "demo_counter.h"),
    ("cpp", "demo_counter.hpp"),
    ("lua", "demo_counter.lua"),
    ("js", "demo_counter.js"),
    ("python", "demo_counter.py"),
    ("wasm-c", "demo_counter_wasm.c"),
];

/// The same for `text.toml`. Its `rust-guest` output is compiled and
/// registered by `guest/tests/generated_text.rs` (one `plugin!` per test
/// binary: the counter's is here).
const TEXT_OUTPUTS: [(&str, &str); 8] = [
    ("rust-host", "demo_text_host.rs"),
    ("rust-guest", "demo_text_guest.rs"),
    ("c", "demo_text.h"),
    ("cpp", "demo_text.hpp"),
    ("lua", "demo_text.lua"),
    ("js", "demo_text.js"),
    ("python", "demo_text.py"),
    ("wasm-c", "demo_text_wasm.c"),
];

/// Fails when a checked-in output of `definition` differs from what `gen`
/// writes now; rewrites it instead under `POLYPLUG_BLESS`.
fn check_fresh(definition: &str, outputs: &[(&str, &str)]) {
    let definition = contracts().join(definition);
    let bless = std::env::var_os("POLYPLUG_BLESS").is_some();
    for &(lang, file) in outputs {
        let run = polyplug(&[
            "gen".as_ref(),
            definition.as_os_str(),
            "--lang".as_ref(),
            lang.as_ref(),
        ]);
        assert_eq!(run.code, Some(0), "{run:?}");
        let path = contracts().join(file);
        if bless {
            std::fs::write(&path, &run.stdout).unwrap();
        }
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            checked_in == run.stdout,
            "{} is stale: run `POLYPLUG_BLESS=1 cargo test -p polyplug-cli --test gen`",
            path.display()
        );
    }
}

#[test]
fn checked_in_bindings_are_fresh() {
    check_fresh("counter.toml", &OUTPUTS);
}

#[test]
fn checked_in_text_bindings_are_fresh() {
    check_fresh("text.toml", &TEXT_OUTPUTS);
}

#[test]
fn out_writes_the_same_as_stdout() {
    let dir = TempDir::new("gen-out");
    let out = dir.path().join("counter.h");
    let definition = contracts().join("counter.toml");
    let run = polyplug(&[
        "gen".as_ref(),
        definition.as_os_str(),
        "--lang".as_ref(),
        "c".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let checked_in = std::fs::read_to_string(contracts().join("demo_counter.h")).unwrap();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), checked_in);
}

extern "C" fn version() -> u32 {
    7
}

extern "C" fn step(x: u32) -> u32 {
    x.wrapping_add(7)
}

#[test]
fn the_host_wrapper_binds_once_and_calls() {
    let runtime = Runtime::new().unwrap();
    runtime
        .register_host_contract(
            HostContract::new(host::NAME, host::VERSION)
                .typed("version", version as extern "C" fn() -> u32)
                .typed("step", step as extern "C" fn(u32) -> u32),
        )
        .unwrap();
    let reader = runtime.reader();
    let counter = host::DemoCounter::bind(&reader.pin()).unwrap();
    let guard = reader.pin();
    assert_eq!(counter.version(&guard).unwrap(), 7);
    assert_eq!(counter.step(&guard, 35).unwrap(), 42);
}

#[test]
fn the_host_wrapper_refuses_another_signature() {
    extern "C" fn wide(x: u64) -> u64 {
        x
    }
    let runtime = Runtime::new().unwrap();
    runtime
        .register_host_contract(
            HostContract::new(host::NAME, host::VERSION)
                .typed("version", version as extern "C" fn() -> u32)
                .typed("step", wide as extern "C" fn(u64) -> u64),
        )
        .unwrap();
    let reader = runtime.reader();
    let err = host::DemoCounter::bind(&reader.pin()).unwrap_err();
    assert!(err.to_string().contains("step"), "{err}");
}

struct Counter;

impl guest::DemoCounter for Counter {
    fn version() -> u32 {
        3
    }
    fn step(x: u32) -> u32 {
        x + 3
    }
}

mod registered {
    use super::Counter;
    use super::guest::DemoCounter;
    crate::demo_counter_plugin!(Counter);
}

#[test]
fn the_guest_trait_is_implemented_and_registered() {
    assert_eq!(<Counter as guest::DemoCounter>::step(1), 4);
    assert_eq!(registered::polyplug_abi_version, polyplug_abi::ABI_VERSION);
}

fn compiles(compiler: &str, std: &str, source: &str, ext: &str) {
    let dir = TempDir::new(&format!("gen-{compiler}"));
    let file = dir.path().join(format!("use.{ext}"));
    std::fs::write(&file, source).unwrap();
    let abi = Path::new(env!("CARGO_MANIFEST_DIR")).join("../abi/include");
    let out = Command::new(compiler)
        .args([std, "-Wall", "-Wextra", "-Werror", "-fsyntax-only", "-I"])
        .arg(&abi)
        .arg("-I")
        .arg(contracts())
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{compiler}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_c_header_compiles_in_a_plugin() {
    compiles(
        "gcc",
        "-std=c11",
        r#"#include "demo_counter.h"
uint32_t demo_counter_version(void) { return 1; }
uint32_t demo_counter_step(uint32_t x) { return x + 1; }
const PpTypedEntry typed[] = { DEMO_COUNTER_TYPED_ENTRIES };
demo_counter_fns fns = { demo_counter_version, demo_counter_step };
"#,
        "c",
    );
}

#[test]
fn the_text_c_header_compiles_in_a_plugin() {
    compiles(
        "gcc",
        "-std=c11",
        r#"#include "demo_text.h"
PpOwnedBuf demo_text_upper(PpStrView text) { (void)text; PpOwnedBuf none = {NULL, 0}; return none; }
uint64_t demo_text_checksum(PpBytesView bytes) { return (uint64_t)bytes.len; }
const PpTypedEntry typed[] = { DEMO_TEXT_TYPED_ENTRIES };
demo_text_fns fns = { demo_text_upper, demo_text_checksum };
"#,
        "c",
    );
}

#[test]
fn the_cpp_header_compiles() {
    compiles(
        "g++",
        "-std=c++17",
        r#"#include <cstring>
#include <type_traits>
#include "demo_counter.hpp"
static_assert(std::is_same_v<demo_counter::step_type, uint32_t(uint32_t)>);
static_assert(demo_counter::version_major == 1);
int main() { return std::strcmp(demo_counter::step_sig, "u32(u32)"); }
"#,
        "cpp",
    );
}

#[test]
fn a_bad_definition_is_refused_at_its_line() {
    let dir = TempDir::new("gen-bad");
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        "[contract]\nname = \"a.b\"\nversion = \"1.0.0\"\n[[function]]\nname = \"f\"\nsig = \"u32(string)\"\n",
    )
    .unwrap();
    let run = polyplug(&[
        "gen".as_ref(),
        file.as_os_str(),
        "--lang".as_ref(),
        "c".as_ref(),
    ]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.contains("bad.toml:6:7: function \"f\""),
        "{}",
        run.stderr
    );
}

#[test]
fn rust_guest_refuses_a_stateful_contract_and_spells_views_as_rust_types() {
    let dir = TempDir::new("gen-views");
    let file = dir.path().join("views.toml");
    let head = "[contract]\nname = \"a.b\"\nversion = \"1.0.0\"\n";
    let functions = "[[function]]\nname = \"f\"\nsig = \"string(str)\"\nargs = [\"text\"]\n\
        [[function]]\nname = \"g\"\nsig = \"buf(bytes,u32)\"\nargs = [\"bytes\", \"n\"]\n";
    std::fs::write(&file, format!("{head}{functions}")).unwrap();
    let gen_guest = |file: &Path| {
        polyplug(&[
            "gen".as_ref(),
            file.as_os_str(),
            "--lang".as_ref(),
            "rust-guest".as_ref(),
        ])
    };
    let run = gen_guest(&file);
    assert_eq!(run.code, Some(0), "{run:?}");
    for line in [
        "fn f(text: &str) -> String;",
        "fn g(bytes: &[u8], n: u32) -> Vec<u8>;",
        "typed f(text: &str) -> String = <$implementation as AB>::f;",
        "typed g(bytes: &[u8], n: u32) -> Vec<u8> = <$implementation as AB>::g;",
    ] {
        assert!(run.stdout.contains(line), "{line:?} in\n{}", run.stdout);
    }

    let stateful = dir.path().join("stateful.toml");
    std::fs::write(&stateful, format!("{head}stateful = true\n{functions}")).unwrap();
    let run = gen_guest(&stateful);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("stateful"), "{}", run.stderr);
}

#[test]
fn the_guide_shows_the_example_definition() {
    let guide =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/contracts.md"))
            .unwrap();
    let block = guide
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap();
    let definition = std::fs::read_to_string(contracts().join("counter.toml")).unwrap();
    let from_contract = &definition[definition.find("[contract]").unwrap()..];
    assert_eq!(
        block, from_contract,
        "docs/contracts.md's first toml block is not counter.toml"
    );
}

fn definition_file(dir: &Path, version: &str, extra: &str) -> PathBuf {
    let path = dir.join(format!("counter-{version}.toml"));
    let text = std::fs::read_to_string(contracts().join("counter.toml"))
        .unwrap()
        .replace("version = \"1.0.0\"", &format!("version = \"{version}\""))
        + extra;
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn diff_allows_an_addition_in_a_minor_and_refuses_a_change() {
    let dir = TempDir::new("gen-diff");
    let old = definition_file(dir.path(), "1.0.0", "");
    let reset = "\n[[function]]\nname = \"reset\"\nsig = \"void()\"\n";
    let minor = definition_file(dir.path(), "1.1.0", reset);
    let run = polyplug(&["diff".as_ref(), old.as_os_str(), minor.as_os_str()]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout.contains("added     adds reset: void()"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("compatible: 1.1.0 serves every caller of 1.0.0"),
        "{}",
        run.stdout
    );

    let patch = definition_file(dir.path(), "1.0.1", reset);
    let run = polyplug(&["diff".as_ref(), old.as_os_str(), patch.as_os_str()]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.contains("without a minor bump"),
        "{}",
        run.stderr
    );

    let changed = dir.path().join("changed.toml");
    std::fs::write(
        &changed,
        std::fs::read_to_string(&minor)
            .unwrap()
            .replace("u32(u32)", "u64(u64)"),
    )
    .unwrap();
    let run = polyplug(&["diff".as_ref(), old.as_os_str(), changed.as_os_str()]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr
            .contains("changes step: u32(u32) -> u64(u64); that needs a major bump"),
        "{}",
        run.stderr
    );
}

/// A bundle in `dir` whose script is the checked-in stub `file`.
fn stub_bundle(dir: &Path, loader: &str, file: &str) -> PathBuf {
    let bundle = dir.join(format!("stub-{loader}"));
    std::fs::create_dir_all(&bundle).unwrap();
    std::fs::copy(contracts().join(file), bundle.join(file)).unwrap();
    std::fs::write(
        bundle.join("manifest.toml"),
        format!(
            "[bundle]\nname = \"stub-{loader}\"\nversion = \"1.0.0\"\nloader = \"{loader}\"\n\n\
             [library]\nlinux = \"{file}\"\nmacos = \"{file}\"\nwindows = \"{file}\"\n\n\
             [[provides]]\nname = \"demo.counter\"\nversion = \"1.0.0\"\ndefinition = \"counter.toml\"\n"
        ),
    )
    .unwrap();
    std::fs::copy(
        contracts().join("counter.toml"),
        bundle.join("counter.toml"),
    )
    .unwrap();
    bundle
}

#[test]
fn the_lua_and_js_stubs_load_match_their_definition_and_raise() {
    let dir = TempDir::new("gen-stubs");
    for (loader, file) in [
        ("lua", "demo_counter.lua"),
        ("javascript", "demo_counter.js"),
    ] {
        let runtime = Runtime::builder()
            .loader(polyplug_lua::LuaLoader::new(
                polyplug_lua::LuaConfig::default(),
            ))
            .loader(polyplug_js::JsLoader::new(polyplug_js::JsConfig::default()))
            .build()
            .unwrap();
        runtime
            .load_bundle(stub_bundle(dir.path(), loader, file))
            .unwrap();
        let reader = runtime.reader();
        let guard = reader.pin();
        let counter = host::DemoCounter::bind(&guard).unwrap();
        let err = counter.step(&guard, 1).unwrap_err();
        assert!(
            err.to_string()
                .contains("demo.counter step: not written yet"),
            "{loader}: {err}"
        );
    }
}

#[test]
fn the_python_stub_parses() {
    let out = Command::new("python3")
        .args(["-c", "import ast, sys; ast.parse(open(sys.argv[1]).read())"])
        .arg(contracts().join("demo_counter.py"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn validate_refuses_a_version_its_definition_does_not_keep() {
    let dir = TempDir::new("gen-validate");
    let bundle = stub_bundle(dir.path(), "lua", "demo_counter.lua");
    let same = contracts().join("counter.toml");
    let run = polyplug(&[
        "validate".as_ref(),
        bundle.as_os_str(),
        "--previous".as_ref(),
        same.as_os_str(),
    ]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout.contains("keeps the promise of its version"),
        "{}",
        run.stdout
    );
    // The previous 1.0.0 had `reset`; this bundle's 1.0.0 drops it.
    let with_reset = definition_file(
        dir.path(),
        "1.0.0",
        "\n[[function]]\nname = \"reset\"\nsig = \"void()\"\n",
    );
    let run = polyplug(&[
        "validate".as_ref(),
        bundle.as_os_str(),
        "--previous".as_ref(),
        with_reset.as_os_str(),
    ]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.contains("removes reset: void()"),
        "{}",
        run.stderr
    );
}

/// Compiles `source` to a wasm32 module as `fixtures/build.rs` compiles
/// the C wasm fixtures; `None`, with the reason printed, when clang or
/// wasm-ld is missing.
fn wasm_from_c(source: &Path, module: &Path) -> Option<()> {
    let clang = std::env::var_os("CLANG").unwrap_or_else(|| "clang".into());
    let out = match Command::new(&clang)
        .args([
            "--target=wasm32-unknown-unknown",
            "-O2",
            "-nostdlib",
            "-std=c11",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-Wl,--no-entry",
            "-o",
        ])
        .arg(module)
        .arg(source)
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            eprintln!("skipped: clang cannot run ({e}); install clang and lld");
            return None;
        }
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    let missing = ["not found", "doesn't exist", "No such file"]
        .iter()
        .any(|words| stderr.contains(words));
    if !out.status.success() && stderr.contains("wasm-ld") && missing {
        eprintln!("skipped: wasm-ld is missing ({stderr}); install lld");
        return None;
    }
    assert!(out.status.success(), "clang {}: {stderr}", source.display());
    Some(())
}

/// A wasm bundle in `dir` whose module is compiled from the checked-in
/// stub `stub`, shipping `definition` for `contract`.
fn wasm_stub_bundle(dir: &Path, stub: &str, contract: &str, definition: &str) -> Option<PathBuf> {
    let bundle = dir.join(stub.replace('.', "-"));
    std::fs::create_dir_all(&bundle).unwrap();
    wasm_from_c(&contracts().join(stub), &bundle.join("stub.wasm"))?;
    std::fs::copy(contracts().join(definition), bundle.join(definition)).unwrap();
    std::fs::write(
        bundle.join("manifest.toml"),
        format!(
            "[bundle]\nname = \"stub-wasm\"\nversion = \"1.0.0\"\nloader = \"wasm\"\n\n\
             [library]\nlinux = \"stub.wasm\"\nmacos = \"stub.wasm\"\nwindows = \"stub.wasm\"\n\n\
             [[provides]]\nname = \"{contract}\"\nversion = \"1.0.0\"\ndefinition = \"{definition}\"\n"
        ),
    )
    .unwrap();
    Some(bundle)
}

fn wasm_runtime() -> Runtime {
    Runtime::builder()
        .loader(polyplug_wasm::WasmLoader::new(
            polyplug_wasm::WasmConfig::default(),
        ))
        .build()
        .unwrap()
}

#[test]
fn the_wasm_c_stubs_compile_load_match_their_definitions_and_return_zero() {
    let dir = TempDir::new("gen-wasm-c");
    let Some(counter) = wasm_stub_bundle(
        dir.path(),
        "demo_counter_wasm.c",
        "demo.counter",
        "counter.toml",
    ) else {
        return;
    };
    let runtime = wasm_runtime();
    runtime.load_bundle(counter).unwrap();
    let reader = runtime.reader();
    let guard = reader.pin();
    let bound = host::DemoCounter::bind(&guard).unwrap();
    assert_eq!(bound.step(&guard, 41).unwrap(), 0);
    assert_eq!(bound.version(&guard).unwrap(), 0);

    let Some(text) = wasm_stub_bundle(dir.path(), "demo_text_wasm.c", "demo.text", "text.toml")
    else {
        return;
    };
    let runtime = wasm_runtime();
    runtime.load_bundle(text).unwrap();
    let reader = runtime.reader();
    let guard = reader.pin();
    let bound = text_host::DemoText::bind(&guard).unwrap();
    // Many calls: the arena starts over once the host gives back what it
    // copied in, so it never fills.
    let long = "x".repeat(1000);
    for _ in 0..200 {
        assert_eq!(bound.upper(&guard, &long).unwrap(), "");
        assert_eq!(bound.checksum(&guard, long.as_bytes()).unwrap(), 0);
    }
}

#[test]
fn wasm_c_refuses_types_the_wasm_loader_does_not_carry_and_writes_instance() {
    let dir = TempDir::new("gen-wasm-c-refused");
    let gen_wasm = |name: &str, text: &str| {
        let file = dir.path().join(name);
        std::fs::write(&file, text).unwrap();
        polyplug(&[
            "gen".as_ref(),
            file.as_os_str(),
            "--lang".as_ref(),
            "wasm-c".as_ref(),
        ])
    };
    let head = "[contract]\nname = \"a.b\"\nversion = \"1.0.0\"\n";
    let run = gen_wasm(
        "narrow.toml",
        &format!(
            "{head}[[function]]\nname = \"f\"\nsig = \"u32(u32,u16)\"\nargs = [\"a\", \"b\"]\n"
        ),
    );
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr
            .contains("function \"f\": argument \"b\" is a u16"),
        "{}",
        run.stderr
    );
    let run = gen_wasm(
        "result.toml",
        &format!("{head}[[function]]\nname = \"g\"\nsig = \"usize()\"\n"),
    );
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.contains("function \"g\": the result is a usize"),
        "{}",
        run.stderr
    );
    let run = gen_wasm(
        "wide.toml",
        &format!("{head}[[function]]\nname = \"h\"\nsig = \"u32(str,str,str,u32)\"\n"),
    );
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.contains("function \"h\": 7 wasm parameters"),
        "{}",
        run.stderr
    );
    let run = gen_wasm(
        "clash.toml",
        &format!(
            "{head}[[function]]\nname = \"k\"\nsig = \"u32(str,u32)\"\nargs = [\"s\", \"s_len\"]\n"
        ),
    );
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("\"s_len\""), "{}", run.stderr);

    let run = gen_wasm(
        "stateful.toml",
        &format!("{head}stateful = true\n[[function]]\nname = \"get\"\nsig = \"u64(bytes)\"\n"),
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout
            .contains("PP_WASM_EXPORT(\"a.b@1.0.0/+instance\")"),
        "{}",
        run.stdout
    );
    // The stateful stub compiles and loads: the loader accepts its
    // `+instance` and registers a contract that matches the definition.
    let bundle = dir.path().join("stateful");
    std::fs::create_dir_all(&bundle).unwrap();
    std::fs::write(bundle.join("stateful.c"), &run.stdout).unwrap();
    let Some(()) = wasm_from_c(&bundle.join("stateful.c"), &bundle.join("stub.wasm")) else {
        return;
    };
    std::fs::copy(
        dir.path().join("stateful.toml"),
        bundle.join("stateful.toml"),
    )
    .unwrap();
    std::fs::write(
        bundle.join("manifest.toml"),
        "[bundle]\nname = \"stub-stateful\"\nversion = \"1.0.0\"\nloader = \"wasm\"\n\n\
         [library]\nlinux = \"stub.wasm\"\nmacos = \"stub.wasm\"\nwindows = \"stub.wasm\"\n\n\
         [[provides]]\nname = \"a.b\"\nversion = \"1.0.0\"\ndefinition = \"stateful.toml\"\n",
    )
    .unwrap();
    wasm_runtime().load_bundle(bundle).unwrap();
}
