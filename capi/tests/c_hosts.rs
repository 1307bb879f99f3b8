//! C and C++ hosts against libpolyplug: seed scenario 3 (six dispatchers,
//! 80 real reloads) from C with pthreads and from C++ with std::thread, a C
//! host loading the Rust, C and C++ fixture plugins, a C host loading a
//! WebAssembly plugin, a C host loading Lua and JavaScript plugins, a C++
//! host calling typed functions packed (views,
//! owned results, WebAssembly), and the example hosts.
#![cfg(not(any(loom, shuttle, miri)))]

mod support;

use polyplug_fixtures::bundle;
use support::{build, example, run, test_source};

#[test]
fn seed_scenario_3_from_a_c_host_with_pthreads() {
    let exe = build("seed-c", &[test_source("seed.c")], false);
    let out = run(&exe, &[&bundle("reload-v1"), &bundle("reload-v2")]);
    assert!(out.ends_with("ok\n"), "{out}");
}

#[test]
fn a_c_host_uses_rust_c_and_cpp_plugins() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("polyplug-capi-dir-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    polyplug_fixtures::copy_bundle("test-add", &dir).unwrap();
    polyplug_fixtures::copy_bundle("consumer", &dir).unwrap();
    let exe = build("plugins-c", &[test_source("plugins.c")], false);
    let bundles = [
        "test-add",
        "c-add",
        "test-add-cpp",
        "c-mul",
        "host-user",
        "reload-v1",
        "reload-v2",
    ]
    .map(bundle);
    let mut args: Vec<&std::path::Path> = bundles.iter().map(|p| p.as_path()).collect();
    args.push(&dir);
    let out = run(&exe, &args);
    assert!(out.ends_with("ok\n"), "{out}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn seed_scenario_3_from_a_cpp_host_with_std_thread() {
    let exe = build("seed-cpp", &[test_source("seed.cpp")], true);
    let out = run(&exe, &[&bundle("reload-v1"), &bundle("reload-v2")]);
    assert!(out.ends_with("ok\n"), "{out}");
    assert!(out.contains("POLYPLUG_ERR_SIGNATURE_MISMATCH: contract reload.test: typed function version is u32(), not u64(u64)"), "{out}");
}

#[test]
fn the_example_c_host_runs() {
    let exe = build("example-host-c", &[example("host.c")], false);
    let out = run(&exe, &[&bundle("reload-v1"), &bundle("reload-v2")]);
    assert_eq!(
        out,
        "v1 answers 100\n\
         v2 answers 200\n\
         reload from /no/such/bundle: POLYPLUG_ERR_BUNDLE\n\
         still v2: 200\n\
         event: reloaded reload-test 1.0 -> 2.0\n\
         libraries opened 2, closed 2\n"
    );
}

#[test]
fn the_example_cpp_host_runs() {
    let exe = build("example-host-cpp", &[example("host.cpp")], true);
    let out = run(
        &exe,
        &[
            &bundle("test-add"),
            &bundle("reload-v1"),
            &bundle("reload-v2"),
        ],
    );
    assert_eq!(
        out,
        "inc(41) = 42\n\
         add(2, 3) = 5\n\
         native add = 42\n\
         host twice(21) = 42\n\
         POLYPLUG_ERR_SIGNATURE_MISMATCH: contract test.add: typed function inc is u32(u32), not u64(u64)\n\
         v1 answers 100\n\
         v2 answers 200\n"
    );
}

/// Writes the `capi.calc` WebAssembly bundle (`tests/wasm/calc.wat`,
/// compiled here) to `target/tmp/polyplug-capi-wasm/calc` and returns its
/// path. The directory stays: the Python tests load it too (ci/capi.sh runs
/// them after these). Each file is written whole and renamed into place, so
/// tests writing it at once each leave a complete bundle.
fn calc_bundle() -> Result<std::path::PathBuf, Box<dyn std::error::Error>> {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("polyplug-capi-wasm")
        .join("calc");
    std::fs::create_dir_all(&dir)?;
    let text = std::fs::read_to_string(support::capi_dir().join("tests/wasm/calc.wat"))?;
    let manifest = format!(
        "[bundle]\nname = \"capi-calc\"\nversion = \"1.0.0\"\nloader = \"wasm\"\n\n\
         [library]\n{} = \"module.wasm\"\n\n[[provides]]\nname = \"capi.calc\"\nversion = \"1.0.0\"\n",
        std::env::consts::OS
    );
    for (name, bytes) in [
        ("module.wasm", wat::parse_str(text)?),
        ("manifest.toml", manifest.into_bytes()),
    ] {
        static WRITES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let temp = dir.join(format!("{name}.{}.{n}", std::process::id()));
        std::fs::write(&temp, bytes)?;
        std::fs::rename(&temp, dir.join(name))?;
    }
    Ok(dir)
}

/// Writes a script bundle of loader `loader` whose code is
/// `tests/scripts/<script>` and which provides `contract` 1.0.0 to
/// `target/tmp/polyplug-capi-scripts/<loader>` and returns its path; whole
/// files renamed into place, as `calc_bundle`.
fn script_bundle(
    loader: &str,
    script: &str,
    contract: &str,
) -> Result<std::path::PathBuf, Box<dyn std::error::Error>> {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("polyplug-capi-scripts")
        .join(loader);
    std::fs::create_dir_all(&dir)?;
    let code = std::fs::read(support::capi_dir().join("tests/scripts").join(script))?;
    let manifest = format!(
        "[bundle]\nname = \"capi-{loader}\"\nversion = \"1.0.0\"\nloader = \"{loader}\"\n\n\
         [library]\n{} = \"{script}\"\n\n[[provides]]\nname = \"{contract}\"\nversion = \"1.0.0\"\n",
        std::env::consts::OS
    );
    for (name, bytes) in [(script, code), ("manifest.toml", manifest.into_bytes())] {
        static WRITES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let temp = dir.join(format!("{name}.{}.{n}", std::process::id()));
        std::fs::write(&temp, bytes)?;
        std::fs::rename(&temp, dir.join(name))?;
    }
    Ok(dir)
}

#[test]
fn a_c_host_loads_lua_javascript_and_python_plugins_and_calls_them_as_any_other() {
    let lua = script_bundle("lua", "calc.lua", "capi.lua").unwrap();
    let js = script_bundle("javascript", "calc.js", "capi.js").unwrap();
    let python = script_bundle("python", "calc.py", "capi.python").unwrap();
    let exe = build("scripts-c", &[test_source("scripts.c")], false);
    let out = run(&exe, &[&lua, &js, &bundle("test-add"), &python]);
    assert!(out.ends_with("ok\n"), "{out}");
    assert!(out.contains("capi.lua raised: "), "{out}");
    assert!(out.contains("capi.js raised: "), "{out}");
    assert!(out.contains("capi.python raised: "), "{out}");
}

#[test]
fn a_c_host_loads_a_wasm_plugin_calls_it_packed_and_gets_a_trap_as_an_error() {
    let calc = calc_bundle().unwrap();
    let exe = build("wasm-c", &[test_source("wasm.c")], false);
    let out = run(&exe, &[&calc, &bundle("test-add")]);
    assert!(out.ends_with("ok\n"), "{out}");
}

#[test]
fn a_cpp_host_calls_views_owned_results_and_wasm_packed() {
    let calc = calc_bundle().unwrap();
    let exe = build("packed-cpp", &[test_source("packed.cpp")], true);
    let out = run(&exe, &[&bundle("c-text"), &calc, &bundle("test-add")]);
    assert!(out.ends_with("ok\n"), "{out}");
    assert!(out.contains("wasm trap: "), "{out}");
}

/// The C++ wrapper's `host_contract::typed` takes numbers only: a host
/// function with a view has no C type a caller could call it by, so
/// registering one does not compile.
#[test]
fn a_cpp_host_function_with_a_view_does_not_compile() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("polyplug-capi-c");
    std::fs::create_dir_all(&dir).unwrap();
    let source = dir.join("typed_view.cpp");
    std::fs::write(
        &source,
        "#include <polyplug_host.hpp>\n\
         static uint32_t len(std::string_view s) { return uint32_t(s.size()); }\n\
         void add(polyplug::host_contract &c) { c.typed(\"len\", len); }\n",
    )
    .unwrap();
    let capi = support::capi_dir();
    let output = std::process::Command::new(std::env::var("CXX").unwrap_or_else(|_| "c++".into()))
        .args(["-std=c++17", "-fsyntax-only", "-I"])
        .arg(capi.join("include"))
        .arg("-I")
        .arg(capi.join("..").join("abi").join("include"))
        .arg(&source)
        .output()
        .expect("the C++ compiler runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "it compiled");
    assert!(
        stderr.contains("a typed host function takes and returns numbers"),
        "{stderr}"
    );
}
