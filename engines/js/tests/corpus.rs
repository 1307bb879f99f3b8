//! The bad-bundle corpus of JavaScript bundles: each way a module, or the
//! manifest that names it, can be wrong, tried as a load next to a good
//! bundle and as a reload of it.
//!
//! The good bundle is `corpus/good` (`corpus.test` 1.0.0, whose `version`
//! answers 1, under a `[limits]` of its own). Each case copies it into a
//! temporary directory and replaces its module with one of `corpus/bad/`
//! (or edits the manifest), then:
//!
//! - as a load, in a runtime serving the good bundle, of the case under
//!   another bundle name;
//! - as a reload of the good bundle from the case's directory;
//!
//! and each time checks [`refused`]: the error is the expected
//! `LoadError` and names the bundle, the module file and line, the field,
//! the contract or the function at fault; the revision, `bundles()`, the
//! code and JavaScript counters are as before; and the good bundle still answers
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
use polyplug_js::{JsConfig, JsLoader, JsStatsHandle as StatsHandle};

const V1: Version = Version::new(1, 0, 0);

/// A temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        let path =
            std::env::temp_dir().join(format!("polyplug-js-corpus-{label}-{}", std::process::id()));
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

/// The cases whose module is `bad/<label>.lua`, named in the manifest as
/// `corpus.js`.
fn script_case(label: &'static str, expect: Expect) -> Case {
    Case {
        label,
        files: vec![("corpus.js", read(&format!("bad/{label}.js")))],
        links: Vec::new(),
        manifest: same,
        expect,
    }
}

fn cases() -> Vec<Case> {
    let evaluation = |code, words| Expect::Code {
        file: "corpus.js",
        field: "evaluation",
        contract: None,
        code,
        words,
    };
    let in_contract = |field, words| Expect::Code {
        file: "corpus.js",
        field,
        contract: Some("corpus.test"),
        code: ERR_INVALID,
        words,
    };
    vec![
        script_case(
            "syntax",
            evaluation(ERR_TRAP, &["SyntaxError", "corpus.js:5"]),
        ),
        script_case(
            "throws",
            evaluation(ERR_TRAP, &["TypeError", "corpus.js:3"]),
        ),
        script_case(
            "missing_contract",
            Expect::Other(&["contract corpus.test", "did not register"]),
        ),
        script_case("undeclared", Expect::Other(&["corpus.extra"])),
        script_case(
            "wrong_signature",
            in_contract("contracts: function version", &["str()"]),
        ),
        script_case(
            "wrong_arity",
            in_contract(
                "contracts: function greet",
                &["takes 1 arguments", "declares 2 parameters"],
            ),
        ),
        script_case(
            "not_a_function",
            evaluation(
                ERR_INVALID,
                &["contract corpus.test", "function version", "not a function"],
            ),
        ),
        script_case(
            "functions_not_an_object",
            evaluation(
                ERR_INVALID,
                &["contract corpus.test", "functions must be an object"],
            ),
        ),
        script_case(
            "contracts_not_an_array",
            evaluation(ERR_INVALID, &["must export `contracts`"]),
        ),
        script_case(
            "no_contracts_export",
            evaluation(ERR_INVALID, &["must export `contracts`"]),
        ),
        script_case(
            "name_not_a_string",
            evaluation(ERR_INVALID, &["contracts[0].name must be a string"]),
        ),
        script_case(
            "version_not_semver",
            in_contract("contracts: version", &["1.0"]),
        ),
        script_case(
            "registered_twice",
            in_contract("contracts: name", &["exported twice"]),
        ),
        Case {
            label: "imports_outside",
            // `outside.js` lies next to the bundle directory, where the
            // case writes it (see `write_case`).
            files: vec![("corpus.js", read("bad/imports_outside.js"))],
            links: Vec::new(),
            manifest: same,
            expect: evaluation(ERR_TRAP, &["could not load module", "outside.js'"]),
        },
        script_case(
            "loops_at_load",
            evaluation(ERR_BUDGET, &["ran out of fuel (limits.fuel)", "corpus.js:"]),
        ),
        script_case(
            "hoards_at_load",
            evaluation(ERR_BUDGET, &["memory", "limits.memory_pages"]),
        ),
        script_case(
            "recurses_at_load",
            evaluation(ERR_BUDGET, &["stack", "limits.recursion_depth"]),
        ),
        Case {
            label: "script_missing",
            files: Vec::new(),
            links: Vec::new(),
            manifest: same,
            expect: Expect::Other(&["corpus.js"]),
        },
        Case {
            label: "path_escape",
            files: Vec::new(),
            links: Vec::new(),
            manifest: |m| m.replace("= \"corpus.js\"", "= \"../outside.js\""),
            expect: Expect::Other(&["../outside.js"]),
        },
    ]
}

/// Writes `case` into `dir/label` as bundle `name`; `outside.js` (a
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
    let text = manifest(&|m| (case.manifest)(m).replace("\"corpus-js\"", &format!("\"{name}\"")));
    std::fs::write(path.join("manifest.toml"), text).unwrap();
    std::fs::write(dir.join("outside.js"), "export const version = () => 2;\n").unwrap();
    path
}

/// A runtime with the Lua loader serving the good bundle, its id and a
/// handle of `corpus.test` taken now.
fn serving(dir: &Path) -> (Runtime, StatsHandle, BundleId, ContractHandle) {
    let loader = JsLoader::new(JsConfig::default());
    let stats = loader.stats_handle();
    let runtime = Runtime::builder().loader(loader).build().unwrap();
    let good = dir.join("good");
    std::fs::create_dir_all(&good).unwrap();
    for file in ["manifest.toml", "corpus.js"] {
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
    let (code, js) = (runtime.code_stats().alive(), stats.get());
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
        (js.loads_alive(), js.states_alive(), js.states_pending),
        "{case}: JavaScript loads and states as before: {now:?}"
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
fn every_bad_javascript_bundle_is_refused_as_load_and_reload_and_changes_nothing() {
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
        let dir = write_case(&tmp.0, case, "corpus-js");
        let label = format!("{} (reload)", case.label);
        let error = refused(&runtime, &stats, handle, &label, || {
            runtime.reload_bundle(id, Some(&dir))
        });
        check(&error, &case.expect, &label, "corpus-js");
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
    assert_eq!(greet.try_call("js").unwrap(), "hello, js");
    let logged =
        std::iter::from_fn(|| events.recv_timeout(Duration::from_millis(100)).ok()).any(|event| {
            matches!(event, Event::Log { bundle, level: LogLevel::Info, message }
                if bundle == "corpus-js" && message == "greeting js")
        });
    assert!(logged, "greet logged");
}

/// A module that exports one contract at two versions, both declared, is
/// refused: a bundle offers one version of a contract (as the Lua and
/// WebAssembly loaders require), and each function must resolve to its
/// own entry, never to the other version's.
#[test]
fn a_contract_exported_at_two_versions_is_refused() {
    let tmp = TempDir::new("two-versions");
    let loader = JsLoader::new(JsConfig::default());
    let runtime = Runtime::builder().loader(loader).build().unwrap();
    let dir = tmp.0.join("two");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("corpus.js"), read("bad/two_versions.js")).unwrap();
    let manifest = read("good/manifest.toml")
        + "\n[[provides]]\nname = \"corpus.test\"\nversion = \"2.0.0\"\n";
    std::fs::write(dir.join("manifest.toml"), manifest).unwrap();
    let result = runtime.load_bundle(&dir);
    if result.is_ok() {
        let reader = runtime.reader();
        let guard = reader.pin();
        let two = guard
            .find("corpus.test", Version::new(2, 0, 0))
            .unwrap()
            .typed::<extern "C" fn() -> u32>("version")
            .unwrap()
            .try_call();
        panic!("loaded both versions; 2.0.0's version() answers {two:?}");
    }
    let error = result.unwrap_err();
    let LoadError::Code { error, .. } = &error else {
        panic!("expected LoadError::Code, got {error:?}");
    };
    assert_eq!(error.contract.as_deref(), Some("corpus.test"), "{error}");
    assert!(error.problem.contains("exported twice"), "{error}");
    assert!(runtime.bundles().is_empty());
}
