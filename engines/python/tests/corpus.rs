//! The bad-bundle corpus of Python bundles: each way a Python script, or
//! the manifest that names it, can be wrong, tried as a load next to a
//! good bundle and as a reload of it.
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
//! code and Python counters (loads and modules alive) are as before; and
//! the good bundle still answers through a handle taken before. Run with
//! `--nocapture` to see each case and its message.
//!
//! Python plugins are trusted code, so there is no sandbox case here: a
//! script may import what the interpreter finds. The corpus checks only
//! that a module next to the bundle directory is not found as the
//! bundle's own.
#![cfg(not(any(loom, shuttle, miri)))]
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test support: a failed step fails the test"
)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use polyplug::{BundleId, ContractHandle, Event, LoadError, LogLevel, Runtime, Str, Version};
use polyplug_abi::{ERR_BUDGET, ERR_INVALID, ERR_TRAP, ERR_UNSUPPORTED};
use polyplug_python::{PythonConfig, PythonLoader, StatsHandle};

const V1: Version = Version::new(1, 0, 0);

/// A temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!(
            "polyplug-python-corpus-{label}-{}",
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

/// The cases whose script is `bad/<label>.py`, named in the manifest as
/// `corpus.py`.
fn script_case(label: &'static str, expect: Expect) -> Case {
    Case {
        label,
        files: vec![("corpus.py", read(&format!("bad/{label}.py")))],
        manifest: same,
        expect,
    }
}

/// The case whose manifest asks for `limit` under `[limits]`, which
/// Python cannot enforce.
fn limit_case(label: &'static str, manifest: fn(String) -> String, expect: Expect) -> Case {
    Case {
        label,
        files: vec![("corpus.py", read("good/corpus.py"))],
        manifest,
        expect,
    }
}

fn cases() -> Vec<Case> {
    let code = |field, contract, code, words| Expect::Code {
        file: "corpus.py",
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
                ERR_TRAP,
                &["corpus.py:5:", "SyntaxError: invalid syntax"],
            ),
        ),
        script_case(
            "raises",
            code(
                "script",
                None,
                ERR_TRAP,
                &[
                    "corpus.py:4:",
                    "TypeError",
                    "'NoneType' object is not subscriptable",
                ],
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
                    "corpus.py:",
                    "contract corpus.test",
                    "function version",
                    "signature \"str()\"",
                ],
            ),
        ),
        script_case(
            "wrong_arity",
            code(
                "script",
                None,
                ERR_INVALID,
                &[
                    "corpus.py:",
                    "contract corpus.test",
                    "function version",
                    "cannot be called with the 0 arguments of u32()",
                ],
            ),
        ),
        script_case(
            "not_callable",
            code(
                "script",
                None,
                ERR_TRAP,
                &[
                    "contract corpus.test",
                    "function version",
                    "`fn` is a int, not callable",
                ],
            ),
        ),
        script_case(
            "functions_not_a_dict",
            code(
                "script",
                None,
                ERR_TRAP,
                &["contract corpus.test", "`functions` must be a dict"],
            ),
        ),
        script_case(
            "contracts_not_a_list",
            code(
                "script",
                None,
                ERR_TRAP,
                &["CONTRACTS is a bool, expected a list of contracts"],
            ),
        ),
        script_case(
            "contract_not_a_dict",
            code(
                "script",
                None,
                ERR_TRAP,
                &["CONTRACTS[0] is a str, expected a dict"],
            ),
        ),
        script_case(
            "version_not_semver",
            code(
                "script",
                None,
                ERR_INVALID,
                &[
                    "contract corpus.test",
                    "`version`",
                    "major.minor.patch",
                    "\"1.0\"",
                ],
            ),
        ),
        script_case(
            "version_not_a_string",
            code(
                "script",
                None,
                ERR_TRAP,
                &[
                    "contract corpus.test",
                    "function version",
                    "`sig` and `version` must be strings",
                ],
            ),
        ),
        script_case(
            "two_versions",
            code(
                "script",
                None,
                ERR_INVALID,
                &["contract corpus.test is registered with two versions"],
            ),
        ),
        script_case(
            "registered_twice",
            code(
                "script",
                None,
                ERR_INVALID,
                &[
                    "contract corpus.test",
                    "function version",
                    "registered twice",
                ],
            ),
        ),
        Case {
            label: "imports_outside",
            // `outside.py` lies next to the bundle directory, where the
            // case writes it (see `write_case`).
            files: vec![("corpus.py", read("bad/imports_outside.py"))],
            manifest: same,
            expect: code(
                "script",
                None,
                ERR_TRAP,
                &["corpus.py:2:", "No module named 'outside'"],
            ),
        },
        script_case(
            "loops_at_load",
            code(
                "limits.fuel",
                None,
                ERR_BUDGET,
                &["corpus.py:4:", "time limit of 100 ms", "BudgetExceeded"],
            ),
        ),
        script_case(
            "recurses_at_load",
            code(
                "limits.fuel",
                None,
                ERR_BUDGET,
                &["corpus.py:3:", "too deep a recursion", "RecursionError"],
            ),
        ),
        limit_case(
            "memory_pages",
            |m| m.replace("[limits]\n", "[limits]\nmemory_pages = 64\n"),
            code(
                "limits.memory_pages",
                None,
                ERR_UNSUPPORTED,
                &["CPython cannot bound one plugin's memory"],
            ),
        ),
        limit_case(
            "recursion_depth",
            |m| m.replace("[limits]\n", "[limits]\nrecursion_depth = 100\n"),
            code(
                "limits.recursion_depth",
                None,
                ERR_UNSUPPORTED,
                &["one for the whole interpreter"],
            ),
        ),
        limit_case(
            "table_elements",
            |m| m.replace("[limits]\n", "[limits]\ntable_elements = 100\n"),
            code(
                "limits.table_elements",
                None,
                ERR_UNSUPPORTED,
                &["Python has no tables to bound"],
            ),
        ),
        Case {
            label: "script_missing",
            files: Vec::new(),
            manifest: same,
            expect: Expect::Other(&["corpus.py"]),
        },
        Case {
            label: "path_escape",
            files: Vec::new(),
            manifest: |m| m.replace("= \"corpus.py\"", "= \"../outside.py\""),
            expect: Expect::Other(&["../outside.py"]),
        },
    ]
}

/// Writes `case` into `dir/label` as bundle `name`; `outside.py` (a module
/// that would serve) goes next to it, outside the bundle.
fn write_case(dir: &Path, case: &Case, name: &str) -> PathBuf {
    let path = dir.join(format!("{}-{name}", case.label));
    std::fs::create_dir_all(&path).unwrap();
    for (file, text) in &case.files {
        std::fs::write(path.join(file), text).unwrap();
    }
    let text =
        manifest(&|m| (case.manifest)(m).replace("\"corpus-python\"", &format!("\"{name}\"")));
    std::fs::write(path.join("manifest.toml"), text).unwrap();
    std::fs::write(
        dir.join("outside.py"),
        "import polyplug\n\n\
         @polyplug.export(\"corpus.test\", \"1.0.0\", \"u32()\")\n\
         def version():\n    return 2\n",
    )
    .unwrap();
    path
}

/// A runtime with the Python loader serving the good bundle, its id and a
/// handle of `corpus.test` taken now.
fn serving(dir: &Path) -> (Runtime, StatsHandle, BundleId, ContractHandle) {
    let loader = PythonLoader::new(PythonConfig::default());
    let stats = loader.stats_handle();
    let runtime = Runtime::builder().loader(loader).build().unwrap();
    let good = dir.join("good");
    std::fs::create_dir_all(&good).unwrap();
    for file in ["manifest.toml", "corpus.py"] {
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
    let (code, python) = (runtime.code_stats().alive(), stats.get());
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
        (now.loads_alive(), now.modules_alive()),
        (python.loads_alive(), python.modules_alive()),
        "{case}: Python loads and modules as before: {now:?}"
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
fn every_bad_python_bundle_is_refused_as_load_and_reload_and_changes_nothing() {
    let tmp = TempDir::new("cases");
    let cases = cases();
    assert!(cases.len() >= 20);
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
        let dir = write_case(&tmp.0, case, "corpus-python");
        let label = format!("{} (reload)", case.label);
        let error = refused(&runtime, &stats, handle, &label, || {
            runtime.reload_bundle(id, Some(&dir))
        });
        check(&error, &case.expect, &label, "corpus-python");
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
    assert_eq!(greet.try_call("python").unwrap(), "hello, python");
    let logged =
        std::iter::from_fn(|| events.recv_timeout(Duration::from_millis(100)).ok()).any(|event| {
            matches!(event, Event::Log { bundle, level: LogLevel::Info, message }
                if bundle == "corpus-python" && message == "greeting python")
        });
    assert!(logged, "greet logged");
}
