//! The bad-bundle corpus of Lua bundles: each way a Lua script, or the
//! manifest that names it, can be wrong, tried as a load next to a good
//! bundle and as a reload of it.
//!
//! The good bundle is `corpus/good` (`corpus.test` 1.0.0, whose `version`
//! answers 1, under a `[limits]` of its own). Each case copies it into a
//! temporary directory and replaces its script with one of `corpus/bad/`
//! (or edits the manifest), then:
//!
//! - as a load, in a runtime serving the good bundle, of the case under
//!   another bundle name;
//! - as a reload of the good bundle from the case's directory;
//!
//! and each time checks [`refused`]: the error is the expected
//! `LoadError` and names the bundle, the script file and line, the field,
//! the contract or the function at fault; the revision, `bundles()`, the
//! code and Lua counters are as before; and the good bundle still answers
//! through a handle taken before. Run with `--nocapture` to see each case
//! and its message.
#![cfg(not(any(loom, shuttle, miri)))]
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test support: a failed step fails the test"
)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use polyplug::{BundleId, ContractHandle, Event, LoadError, LogLevel, Runtime, Str, Version};
use polyplug_abi::{ERR_BUDGET, ERR_INVALID, ERR_TRAP};
use polyplug_lua::{LuaConfig, LuaLoader, StatsHandle};

const V1: Version = Version::new(1, 0, 0);

/// A temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!(
            "polyplug-lua-corpus-{label}-{}",
            std::process::id()
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

fn corpus(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(corpus(path)).unwrap()
}

/// The good bundle's manifest, with `edit` applied.
fn manifest(edit: &dyn Fn(String) -> String) -> String {
    edit(read("good/manifest.toml"))
}

/// What one case writes and what its error must say.
struct Case {
    label: &'static str,
    /// Files written into the bundle directory, `(name, text)`.
    files: Vec<(&'static str, String)>,
    /// Symbolic links made in the bundle directory, `(name, target)`.
    links: Vec<(&'static str, &'static str)>,
    /// Edits the good manifest.
    manifest: fn(String) -> String,
    /// The error's kind and what it must name.
    expect: Expect,
}

/// The error a case must give.
enum Expect {
    /// `LoadError::Code`: the script file, the field, the contract, the
    /// ABI code, and words of the problem (the `file:line` among them).
    Code {
        file: &'static str,
        field: &'static str,
        contract: Option<&'static str>,
        code: u32,
        words: &'static [&'static str],
    },
    /// Any other `LoadError` whose text names each of these.
    Other(&'static [&'static str]),
}

fn same(text: String) -> String {
    text
}

/// The cases whose script is `bad/<label>.lua`, named in the manifest as
/// `corpus.lua`.
fn script_case(label: &'static str, expect: Expect) -> Case {
    Case {
        label,
        files: vec![("corpus.lua", read(&format!("bad/{label}.lua")))],
        links: Vec::new(),
        manifest: same,
        expect,
    }
}

fn cases() -> Vec<Case> {
    let code = |field, contract, code, words| Expect::Code {
        file: "corpus.lua",
        field,
        contract,
        code,
        words,
    };
    vec![
        script_case(
            "syntax",
            code(
                "script",
                None,
                ERR_INVALID,
                &["corpus.lua:5:", "unexpected symbol"],
            ),
        ),
        script_case(
            "raises",
            code(
                "script",
                None,
                ERR_TRAP,
                &["corpus.lua:3:", "attempt to index a nil value"],
            ),
        ),
        script_case(
            "missing_contract",
            Expect::Other(&["contract corpus.test", "did not register"]),
        ),
        script_case("undeclared", Expect::Other(&["corpus.extra"])),
        script_case(
            "wrong_signature",
            code(
                "script",
                None,
                ERR_INVALID,
                &[
                    "corpus.lua:",
                    "contract corpus.test",
                    "function version",
                    "\"str()\"",
                ],
            ),
        ),
        script_case(
            "not_a_function",
            code(
                "script",
                None,
                ERR_INVALID,
                &[
                    "contract corpus.test",
                    "function version",
                    "`fn` is a integer",
                ],
            ),
        ),
        script_case(
            "functions_not_a_table",
            code(
                "script",
                None,
                ERR_INVALID,
                &["contract corpus.test", "`functions` is a string"],
            ),
        ),
        script_case(
            "contracts_not_a_list",
            code("script", None, ERR_INVALID, &["`contracts` is a boolean"]),
        ),
        script_case(
            "version_not_semver",
            code(
                "script",
                None,
                ERR_INVALID,
                &["contract corpus.test", "`version`", "major.minor.patch"],
            ),
        ),
        script_case(
            "registered_twice",
            code(
                "script",
                None,
                ERR_INVALID,
                &["contract corpus.test is registered twice"],
            ),
        ),
        script_case(
            "returns_nothing",
            code(
                "script",
                None,
                ERR_INVALID,
                &["corpus.lua", "returned a nil"],
            ),
        ),
        Case {
            label: "requires_outside",
            // `outside.lua` lies next to the bundle directory, where the
            // case writes it (see `write_case`).
            files: vec![("corpus.lua", read("bad/requires_outside.lua"))],
            links: Vec::new(),
            manifest: same,
            expect: code(
                "script",
                None,
                ERR_TRAP,
                &["corpus.lua:2:", "module 'outside' not found"],
            ),
        },
        Case {
            label: "requires_through_link",
            // The bundle's `outside.lua` is a link to the module outside.
            files: vec![("corpus.lua", read("bad/requires_outside.lua"))],
            links: vec![("outside.lua", "../outside.lua")],
            manifest: same,
            expect: code(
                "script",
                None,
                ERR_TRAP,
                &[
                    "corpus.lua:2:",
                    "outside.lua is not a file inside the bundle directory",
                ],
            ),
        },
        script_case(
            "loops_at_load",
            code(
                "limits.fuel",
                None,
                ERR_BUDGET,
                &["corpus.lua:3:", "instruction budget exhausted", "1000000"],
            ),
        ),
        script_case(
            "hoards_at_load",
            code(
                "limits.memory_pages",
                None,
                ERR_BUDGET,
                &["memory limit of 64 pages"],
            ),
        ),
        Case {
            label: "script_missing",
            files: Vec::new(),
            links: Vec::new(),
            manifest: same,
            expect: Expect::Other(&["corpus.lua"]),
        },
        Case {
            label: "path_escape",
            files: Vec::new(),
            links: Vec::new(),
            manifest: |m| m.replace("= \"corpus.lua\"", "= \"../outside.lua\""),
            expect: Expect::Other(&["../outside.lua"]),
        },
    ]
}

/// Writes `case` into `dir/label` as bundle `name`; `outside.lua` (a
/// module that would serve) goes next to it, outside the bundle.
fn write_case(dir: &Path, case: &Case, name: &str) -> PathBuf {
    let path = dir.join(format!("{}-{name}", case.label));
    std::fs::create_dir_all(&path).unwrap();
    for (file, text) in &case.files {
        std::fs::write(path.join(file), text).unwrap();
    }
    for (link, target) in &case.links {
        let _ = std::fs::remove_file(path.join(link));
        std::os::unix::fs::symlink(target, path.join(link)).unwrap();
    }
    let text = manifest(&|m| (case.manifest)(m).replace("\"corpus-lua\"", &format!("\"{name}\"")));
    std::fs::write(path.join("manifest.toml"), text).unwrap();
    std::fs::write(
        dir.join("outside.lua"),
        "return { version = function() return 2 end }\n",
    )
    .unwrap();
    path
}

/// A runtime with the Lua loader serving the good bundle, its id and a
/// handle of `corpus.test` taken now.
fn serving(dir: &Path) -> (Runtime, StatsHandle, BundleId, ContractHandle) {
    let loader = LuaLoader::new(LuaConfig::default());
    let stats = loader.stats_handle();
    let runtime = Runtime::builder().loader(loader).build().unwrap();
    let good = dir.join("good");
    std::fs::create_dir_all(&good).unwrap();
    for file in ["manifest.toml", "corpus.lua"] {
        std::fs::copy(corpus(&format!("good/{file}")), good.join(file)).unwrap();
    }
    let id = runtime.load_bundle(&good).unwrap();
    let handle = runtime
        .reader()
        .pin()
        .find("corpus.test", V1)
        .unwrap()
        .handle();
    (runtime, stats, id, handle)
}

fn answers(runtime: &Runtime, handle: ContractHandle, case: &str) {
    let reader = runtime.reader();
    let guard = reader.pin();
    let version = guard
        .get(handle)
        .unwrap()
        .typed::<extern "C" fn() -> u32>("version")
        .unwrap()
        .try_call()
        .unwrap();
    assert_eq!(version, 1, "{case}: the good bundle still answers");
}

/// Runs `write`, which must fail, and checks that nothing changed; returns
/// the error.
fn refused(
    runtime: &Runtime,
    stats: &StatsHandle,
    handle: ContractHandle,
    case: &str,
    write: impl FnOnce() -> Result<(), LoadError>,
) -> LoadError {
    answers(runtime, handle, case);
    runtime.drain(Duration::from_secs(30)).unwrap();
    let (revision, bundles) = (runtime.revision(), runtime.bundles());
    let (code, lua) = (runtime.code_stats().alive(), stats.get());
    let Err(error) = write() else {
        panic!("{case}: expected a refusal, but it loaded");
    };
    println!("{case}: {error}");
    answers(runtime, handle, case);
    assert_eq!(runtime.revision(), revision, "{case}: revision unchanged");
    assert_eq!(runtime.bundles(), bundles, "{case}: bundles unchanged");
    runtime.drain(Duration::from_secs(30)).unwrap();
    assert_eq!(runtime.code_stats().alive(), code, "{case}: loads alive");
    let now = stats.get();
    assert_eq!(
        (now.loads_alive(), now.states_alive(), now.states_pending),
        (lua.loads_alive(), lua.states_alive(), lua.states_pending),
        "{case}: Lua loads and states as before: {now:?}"
    );
    error
}

/// Checks that `error` is what `case` expects, and names `bundle`.
fn check(error: &LoadError, expect: &Expect, case: &str, bundle: &str) {
    let text = error.to_string();
    assert!(text.contains(bundle), "{case}: {text} names {bundle}");
    match expect {
        Expect::Code {
            file,
            field,
            contract,
            code,
            words,
        } => {
            let LoadError::Code { bundle: b, error } = error else {
                panic!("{case}: expected LoadError::Code, got {error:?}");
            };
            assert_eq!(b, bundle, "{case}");
            assert!(error.file.ends_with(file), "{case}: {text}");
            assert_eq!(error.field, *field, "{case}: {text}");
            assert_eq!(error.contract.as_deref(), *contract, "{case}: {text}");
            assert_eq!(error.code, *code, "{case}: {text}");
            for word in *words {
                assert!(
                    error.problem.contains(word),
                    "{case}: {text} lacks {word:?}"
                );
            }
        }
        Expect::Other(words) => {
            assert!(
                !matches!(error, LoadError::Code { .. }),
                "{case}: {error:?}"
            );
            for word in *words {
                assert!(text.contains(word), "{case}: {text} lacks {word:?}");
            }
        }
    }
}

#[test]
fn every_bad_lua_bundle_is_refused_as_load_and_reload_and_changes_nothing() {
    let tmp = TempDir::new("cases");
    let cases = cases();
    assert!(cases.len() >= 15);
    for case in &cases {
        let (runtime, stats, id, handle) = serving(&tmp.0);
        // As a load, under another name so it is not refused as a
        // duplicate.
        let dir = write_case(&tmp.0, case, "corpus-other");
        let label = format!("{} (load)", case.label);
        let error = refused(&runtime, &stats, handle, &label, || {
            runtime.load_bundle(&dir).map(drop)
        });
        check(&error, &case.expect, &label, "corpus-other");
        // As a reload of the good bundle.
        let dir = write_case(&tmp.0, case, "corpus-lua");
        let label = format!("{} (reload)", case.label);
        let error = refused(&runtime, &stats, handle, &label, || {
            runtime.reload_bundle(id, Some(&dir))
        });
        check(&error, &case.expect, &label, "corpus-lua");
    }
}

/// The good bundle serves: `greet` answers and logs through `polyplug.log`
/// as an `Event::Log` of the bundle.
#[test]
fn the_good_bundle_greets_and_logs() {
    let tmp = TempDir::new("good");
    let (runtime, _stats, _id, handle) = serving(&tmp.0);
    let events = runtime.subscribe();
    let reader = runtime.reader();
    let guard = reader.pin();
    let greet = guard
        .get(handle)
        .unwrap()
        .typed::<extern "C" fn(Str) -> String>("greet")
        .unwrap();
    assert_eq!(greet.try_call("lua").unwrap(), "hello, lua");
    let logged =
        std::iter::from_fn(|| events.recv_timeout(Duration::from_millis(100)).ok()).any(|event| {
            matches!(event, Event::Log { bundle, level: LogLevel::Info, message }
                if bundle == "corpus-lua" && message == "greeting lua")
        });
    assert!(logged, "greet logged");
}
