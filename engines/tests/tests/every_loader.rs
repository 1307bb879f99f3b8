//! One call chain that crosses every loader once: the host calls a Lua
//! contract, which calls a JavaScript contract, which calls a Python
//! contract, which calls a wasm contract, which calls the native fixture
//! `test-add`. The host sees one
//! typed `u32(u32)` function and cannot tell how many languages answer it;
//! every link keeps serving while any bundle of the chain is reloaded, and
//! a broken link anywhere comes back to the host as a typed error.
#![cfg(not(any(loom, shuttle, miri)))]
#![expect(
    clippy::unwrap_used,
    reason = "test support: a failed step fails the test"
)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use polyplug::{BundleId, CallError, Runtime, Version};
use polyplug_js::{JsConfig, JsLoader};
use polyplug_lua::{LuaConfig, LuaLoader};
use polyplug_python::{PythonConfig, PythonLoader};
use polyplug_wasm::{WasmConfig, WasmLoader};

const V1: Version = Version::new(1, 0, 0);

/// A temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!(
            "polyplug-chain-{label}-{}-{:?}",
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

fn source(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/chain")
        .join(file);
    std::fs::read_to_string(&path).unwrap()
}

/// Writes bundle `name` (loader `loader`, providing `contract` 1.0.0, code
/// file `file`) into `dir/name`.
fn bundle(
    dir: &Path,
    name: &str,
    loader: &str,
    contract: &str,
    file: &str,
    code: &[u8],
) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(&path).unwrap();
    std::fs::write(path.join(file), code).unwrap();
    let manifest = format!(
        "[bundle]\nname = \"{name}\"\nversion = \"1.0.0\"\nloader = \"{loader}\"\n\n\
         [library]\n{} = \"{file}\"\n\n[[provides]]\nname = \"{contract}\"\nversion = \"1.0.0\"\n",
        std::env::consts::OS
    );
    std::fs::write(path.join("manifest.toml"), manifest).unwrap();
    path
}

/// The chain's bundles, head first: (path, contract).
fn chain(dir: &Path) -> Vec<(PathBuf, &'static str)> {
    let wasm = wat::parse_str(source("chain.wat")).unwrap();
    vec![
        (
            bundle(
                dir,
                "chain-lua",
                "lua",
                "chain.lua",
                "chain.lua",
                source("chain.lua").as_bytes(),
            ),
            "chain.lua",
        ),
        (
            bundle(
                dir,
                "chain-js",
                "javascript",
                "chain.js",
                "chain.js",
                source("chain.js").as_bytes(),
            ),
            "chain.js",
        ),
        (
            bundle(
                dir,
                "chain-python",
                "python",
                "chain.python",
                "chain.py",
                source("chain.py").as_bytes(),
            ),
            "chain.python",
        ),
        (
            bundle(
                dir,
                "chain-wasm",
                "wasm",
                "chain.wasm",
                "module.wasm",
                &wasm,
            ),
            "chain.wasm",
        ),
    ]
}

fn runtime() -> Runtime {
    Runtime::builder()
        .loader(LuaLoader::new(LuaConfig::default()))
        .loader(JsLoader::new(JsConfig::default()))
        .loader(PythonLoader::new(PythonConfig::default()))
        .loader(WasmLoader::new(WasmConfig::default()))
        .build()
        .unwrap()
}

/// Loads the native end and every link; returns the links' bundle ids,
/// head first, and the native one last.
fn load_all(runtime: &Runtime, links: &[(PathBuf, &str)]) -> Vec<BundleId> {
    let mut ids: Vec<BundleId> = links
        .iter()
        .map(|(path, _)| runtime.load_bundle(path).unwrap())
        .collect();
    ids.push(
        runtime
            .load_bundle(polyplug_fixtures::bundle("test-add"))
            .unwrap(),
    );
    ids
}

fn call_head(runtime: &Runtime, x: u32) -> Result<u32, CallError> {
    let reader = runtime.reader();
    let guard = reader.pin();
    guard
        .find("chain.lua", V1)
        .unwrap()
        .typed::<extern "C" fn(u32) -> u32>("inc")
        .unwrap()
        .try_call(x)
}

#[test]
fn a_call_crosses_lua_javascript_python_wasm_and_native_and_back() {
    let tmp = TempDir::new("cross");
    let runtime = runtime();
    let links = chain(&tmp.0);
    let ids = load_all(&runtime, &links);
    assert_eq!(call_head(&runtime, 41).unwrap(), 42);
    assert_eq!(call_head(&runtime, 0).unwrap(), 1);

    // Every link can be entered directly, and answers the same.
    let reader = runtime.reader();
    for (_, contract) in &links {
        let guard = reader.pin();
        let inc = guard
            .find(contract, V1)
            .unwrap()
            .typed::<extern "C" fn(u32) -> u32>("inc")
            .unwrap();
        assert_eq!(inc.try_call(7).unwrap(), 8, "{contract}");
    }
    drop(reader);

    for id in ids {
        runtime.unload_bundle(id).unwrap();
    }
    runtime.drain(Duration::from_secs(30)).unwrap();
    let code = runtime.code_stats();
    assert_eq!(code.loaded, 4, "{code:?}");
    assert_eq!(
        code.released, code.loaded,
        "no engine code outlives its unload: {code:?}"
    );
    let libraries = runtime.library_stats();
    assert_eq!(
        (libraries.opened, libraries.closed),
        (1, 1),
        "{libraries:?}"
    );
}

/// A broken link anywhere in the chain reaches the host as a typed error
/// from the head's function, with the cause in its message; mending the
/// link mends the chain.
#[test]
fn a_missing_link_anywhere_is_a_typed_error_at_the_head() {
    let tmp = TempDir::new("broken");
    let runtime = runtime();
    let links = chain(&tmp.0);
    let ids = load_all(&runtime, &links);
    // Each link in turn, from the native end up to the second.
    for at in (1..ids.len()).rev() {
        let path = links.get(at).map(|(path, _)| path.clone());
        runtime.unload_bundle(ids[at]).unwrap();
        let err = call_head(&runtime, 41).unwrap_err();
        let text = err.to_string();
        eprintln!("link {at} missing: {text}");
        assert!(text.contains("chain.lua"), "the head is named: {text}");
        assert!(text.contains("inc"), "the function is named: {text}");
        match &path {
            // An engine link is missing: the link before it says which.
            Some(_) => {
                let missing = links[at].1;
                assert!(text.contains(missing), "{missing} is named: {text}");
                // The link that failed to find it raised: its file and
                // line (JavaScript's whole, even in a directory whose name
                // holds parentheses).
                let at = match missing {
                    "chain.python" => format!("{}:3:", links[1].0.join("chain.js").display()),
                    // Python names its file as Lua does: by the name.
                    "chain.wasm" => {
                        "chain-python: contract chain.python: function inc: chain.py:6:".to_owned()
                    }
                    _ => String::new(),
                };
                assert!(text.contains(&at), "{at} is named: {text}");
            }
            // The native end is missing: the wasm link traps.
            None => assert!(
                text.contains("chain.js") && text.contains("chain.python"),
                "the error came up through JS and Python: {text}"
            ),
        }
        let mended = match path {
            Some(path) => runtime.load_bundle(path).unwrap(),
            None => runtime
                .load_bundle(polyplug_fixtures::bundle("test-add"))
                .unwrap(),
        };
        assert_eq!(call_head(&runtime, 41).unwrap(), 42, "mended at link {at}");
        let _ = mended;
    }
}

/// Seed scenario 3 across the chain: four dispatchers call the head while
/// the writer reloads each bundle of the chain in turn, native included.
/// Every call answers 42: no reload of any link is ever seen.
#[test]
fn the_chain_keeps_answering_while_every_link_is_reloaded() {
    let tmp = TempDir::new("reload");
    let runtime = runtime();
    let links = chain(&tmp.0);
    let ids = load_all(&runtime, &links);
    let stop = AtomicBool::new(false);
    let calls = AtomicU64::new(0);
    const ROUNDS: usize = 10;
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let reader = runtime.reader();
                while !stop.load(Ordering::Relaxed) {
                    let guard = reader.pin();
                    let inc = guard
                        .find("chain.lua", V1)
                        .unwrap()
                        .typed::<extern "C" fn(u32) -> u32>("inc")
                        .unwrap();
                    let answer = inc.try_call(41);
                    if !matches!(answer, Ok(42)) {
                        stop.store(true, Ordering::Relaxed);
                        panic!("the chain answered {answer:?} during a reload");
                    }
                    calls.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        for _ in 0..ROUNDS {
            for id in &ids {
                runtime.reload_bundle(*id, None).unwrap();
                // Some calls go through after each reload; a dispatcher
                // that failed stops the wait (its panic fails the test).
                let seen = calls.load(Ordering::Relaxed);
                let deadline = Instant::now() + Duration::from_secs(30);
                while calls.load(Ordering::Relaxed) < seen + 8
                    && Instant::now() < deadline
                    && !stop.load(Ordering::Relaxed)
                {
                    std::thread::yield_now();
                }
            }
        }
        stop.store(true, Ordering::Relaxed);
    });
    assert!(calls.load(Ordering::Relaxed) >= (ROUNDS * ids.len() * 8) as u64);
    for id in ids {
        runtime.unload_bundle(id).unwrap();
    }
    runtime.drain(Duration::from_secs(30)).unwrap();
    let code = runtime.code_stats();
    assert_eq!(code.loaded, 4 * (ROUNDS as u64 + 1), "{code:?}");
    assert_eq!(code.released, code.loaded, "{code:?}");
    let libraries = runtime.library_stats();
    assert_eq!(libraries.opened, libraries.closed, "{libraries:?}");
}
