//! A structured registration, rendered as a Lua script's returned table,
//! as a JavaScript module's `contracts` export and as a Python script's
//! `CONTRACTS` list, loaded through the Lua, JavaScript and Python loaders
//! in a scratch runtime.
//!
//! Each field of the registration (contract name, version, the functions
//! table, a function's name, `sig` and `fn`, the `contracts` list itself)
//! is either a value the engines document as good or an odd one: `nil`
//! (`undefined`), a boolean, an integer, a float (NaN and infinities
//! included), a string of arbitrary bytes, a nested table, or a malformed
//! signature. The manifest declares the contracts whose `declared` flag is
//! set, and maybe one the script does not register.
//!
//! Properties, for each language:
//!
//! - nothing panics or hangs (the script is straight-line code);
//! - a registration whose every field is good, every registered contract
//!   declared and every declared contract registered, loads with exactly
//!   those contracts; one with a field of the wrong type (a boolean, nil or
//!   a table where a string is expected, a non-function `fn`, a non-table
//!   `functions`), a malformed signature, a contract registered twice, a
//!   JavaScript or Python function whose parameters do not match its
//!   signature, an undeclared or an unregistered contract, is refused with
//!   a [`LoadError`]; odd strings and numbers (which Lua may coerce) may go
//!   either way, but what loads is what the script registered;
//! - Python differs where its engine does: two entries of one contract at
//!   one version make one contract (so a repeated name may load), a
//!   contract with no function registers nothing (so it is refused only
//!   when declared), and a version is read only with a function;
//! - the runtime is usable after: it is empty after a refusal, a good
//!   bundle then loads, answers and unloads, and after a drain and the
//!   checking thread's exit no load, Lua or QuickJS state or Python module
//!   is left alive (CPython itself is one interpreter for the process).
//!
//! ```
//! use polyplug_fuzz::script_registration::{Contract, Function, Pick, ScriptInput, check};
//!
//! let input = ScriptInput {
//!     contracts: vec![Contract {
//!         name: Pick::Good(0),
//!         version: Pick::Good(0),
//!         functions: Pick::Good(vec![Function {
//!             name: Pick::Good(0),
//!             sig: Pick::Good(0),
//!             body: Pick::Good(true),
//!         }]),
//!         declared: true,
//!     }],
//!     list: None,
//!     declare_missing: false,
//! };
//! assert_eq!(check(&input), [true, true, true]);
//! ```

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use arbitrary::Arbitrary;
use polyplug::{LoadError, Runtime, Version};
use polyplug_js::{JsConfig, JsLoader};
use polyplug_lua::{LuaConfig, LuaLoader};
use polyplug_python::{PythonConfig, PythonLoader};

/// Contracts rendered at most.
pub const MAX_CONTRACTS: usize = 4;
/// Functions rendered per contract at most.
pub const MAX_FUNCTIONS: usize = 6;
/// Nesting of odd tables rendered at most.
pub const MAX_DEPTH: usize = 3;

/// Good contract names (valid, distinct).
const NAMES: [&str; 4] = ["demo.alpha", "demo.beta", "test.add", "x.y.z"];
/// Good versions.
const VERSIONS: [&str; 3] = ["1.0.0", "2.3.4", "0.0.1"];
/// Good function names.
const FUNCTIONS: [&str; 4] = ["f", "step", "version", "add_two"];
/// Good signatures, with their number of arguments and a body that returns
/// a fitting value in Lua, in JavaScript and in Python.
const SIGNATURES: [(&str, usize, &str, &str, &str); 7] = [
    ("u32(u32)", 1, "return a", "a", "a"),
    ("u32()", 0, "return 7", "7", "7"),
    ("string(str)", 1, "return a", "a", "a"),
    ("buf(bytes)", 1, "return a", "a", "a"),
    ("f64(f64,f64)", 2, "return a + b", "a + b", "a + b"),
    ("void(u32)", 1, "", "undefined", "None"),
    ("i64(i64)", 1, "return a", "a", "a"),
];
/// Malformed signatures.
const BAD_SIGNATURES: [&str; 6] = ["str(u32)", "u32(", "", "u33()", "u32(u32", "u32(void)"];
/// Parameter names.
const PARAMS: [&str; 6] = ["a", "b", "c", "d", "e", "g"];

/// A field: a good value (an index into the good ones, or the good value
/// itself), or an odd value.
#[derive(Debug, Clone, Arbitrary)]
pub enum Pick<T> {
    /// The documented kind of value.
    Good(T),
    /// Anything else.
    Odd(Odd),
}

/// An odd value in a registration field.
#[derive(Debug, Clone, Arbitrary)]
pub enum Odd {
    /// Lua `nil`, JavaScript `undefined`.
    Nil,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float, NaN and infinities included.
    Float(f64),
    /// A string of arbitrary bytes.
    Text(Vec<u8>),
    /// A table (object) of odd values under string keys.
    Table(Vec<(Vec<u8>, Odd)>),
    /// A list (array) of odd values.
    List(Vec<Odd>),
    /// A malformed signature string (an index into the malformed ones).
    BadSignature(u8),
}

/// One function of a contract.
#[derive(Debug, Clone, Arbitrary)]
pub struct Function {
    /// Its name; an odd one becomes a string key of arbitrary bytes.
    pub name: Pick<u8>,
    /// Its `sig`.
    pub sig: Pick<u8>,
    /// Its `fn`: `Good(true)` a function taking the signature's arguments,
    /// `Good(false)` one taking one more.
    pub body: Pick<bool>,
}

/// One contract of the registration.
#[derive(Debug, Clone, Arbitrary)]
pub struct Contract {
    /// Its `name`.
    pub name: Pick<u8>,
    /// Its `version`.
    pub version: Pick<u8>,
    /// Its `functions` table.
    pub functions: Pick<Vec<Function>>,
    /// Whether the manifest declares it.
    pub declared: bool,
}

/// The whole input.
#[derive(Debug, Clone, Arbitrary)]
pub struct ScriptInput {
    /// The contracts registered.
    pub contracts: Vec<Contract>,
    /// `Some`: the `contracts` field (the export) is this odd value instead.
    pub list: Option<Odd>,
    /// Whether the manifest also declares a contract nobody registers.
    pub declare_missing: bool,
}

/// What the oracle expects of a load.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expect {
    /// Loads with exactly these contracts.
    Loads(BTreeSet<(String, Version)>),
    /// Refused.
    Refused,
    /// Either; if it loads, with a subset of these.
    Either(BTreeSet<(String, Version)>),
}

/// The three script languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Lua: the script returns `{ contracts = { ... } }`.
    Lua,
    /// JavaScript: the module exports `contracts`.
    Js,
    /// Python: the script sets `CONTRACTS = [ ... ]`.
    Python,
}

fn pick<T: Copy>(list: &[T], index: u8) -> T {
    list[usize::from(index) % list.len()]
}

/// Whether an odd value in a string field must be refused: only values no
/// engine coerces to a string (numbers may be, and strings are strings).
fn refused_as_string(odd: &Odd) -> bool {
    !matches!(
        odd,
        Odd::Int(_) | Odd::Float(_) | Odd::Text(_) | Odd::BadSignature(_)
    )
}

fn version_of(text: &str) -> Version {
    let mut parts = text.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let mut next = || parts.next().unwrap_or(0);
    Version::new(next(), next(), next())
}

/// The oracle: what loading `input` in `lang` must do.
fn expect(input: &ScriptInput, lang: Lang) -> Expect {
    if input.list.is_some() {
        // An odd list: refused, unless it is an empty list or table, which
        // registers nothing (and then the manifest's declarations decide).
        return Expect::Either(BTreeSet::new());
    }
    let mut refused = false;
    let mut unsure = false;
    let mut registered = BTreeSet::new();
    let mut names = BTreeSet::new();
    for contract in input.contracts.iter().take(MAX_CONTRACTS) {
        let name = match &contract.name {
            Pick::Good(i) => Some(pick(&NAMES, *i)),
            Pick::Odd(odd) => {
                if refused_as_string(odd) {
                    refused = true;
                } else {
                    unsure = true;
                }
                None
            }
        };
        let version = match &contract.version {
            Pick::Good(i) => Some(pick(&VERSIONS, *i)),
            Pick::Odd(odd) => {
                // Python reads a contract's version with each of its
                // functions only: with none, any version passes.
                if refused_as_string(odd) && lang != Lang::Python {
                    refused = true;
                } else {
                    unsure = true;
                }
                None
            }
        };
        // Whether the contract registers anything: Python registers a
        // contract only with a function.
        let mut registers = true;
        match &contract.functions {
            Pick::Good(functions) => {
                // Later keys replace earlier ones, in a Lua table
                // constructor as in an object literal.
                // An odd name (a string, which may equal a good one)
                // makes every function's verdict unsure.
                let mut last = std::collections::BTreeMap::new();
                let mut odd_name = false;
                for function in functions.iter().take(MAX_FUNCTIONS) {
                    match &function.name {
                        Pick::Good(i) => {
                            last.insert(pick(&FUNCTIONS, *i).to_owned(), function);
                        }
                        Pick::Odd(_) => odd_name = true,
                    }
                }
                if odd_name {
                    unsure = true;
                    last.clear();
                } else if last.is_empty() && lang == Lang::Python {
                    registers = false;
                }
                for function in last.values() {
                    match &function.sig {
                        Pick::Good(_) => {}
                        Pick::Odd(Odd::BadSignature(_)) => refused = true,
                        Pick::Odd(odd) => {
                            if refused_as_string(odd) {
                                refused = true;
                            } else {
                                unsure = true;
                            }
                        }
                    }
                    match &function.body {
                        Pick::Good(true) => {}
                        Pick::Good(false) => {
                            // JavaScript checks `fn.length` and Python the
                            // function's parameters; Lua does not.
                            if lang != Lang::Lua && matches!(function.sig, Pick::Good(_)) {
                                refused = true;
                            }
                        }
                        Pick::Odd(_) => refused = true,
                    }
                }
            }
            Pick::Odd(odd) => {
                // A table or list is a table in Lua and an object in
                // JavaScript (empty, it registers no function); anything
                // else is refused.
                if matches!(odd, Odd::Table(_) | Odd::List(_)) {
                    unsure = true;
                    // Python refuses a list, and a dict of odd values has
                    // no function to register: either way, nothing.
                    if lang == Lang::Python {
                        registers = false;
                    }
                } else {
                    refused = true;
                }
            }
        }
        if let Some(name) = name
            && !names.insert(name)
        {
            // Python makes one contract of two entries at one version.
            if lang == Lang::Python {
                unsure = true;
            } else {
                refused = true;
            }
        }
        if let (Some(name), Some(version)) = (name, version) {
            if registers {
                registered.insert((name.to_owned(), version_of(version)));
                if !contract.declared {
                    refused = true;
                }
            } else if contract.declared {
                // Declared, and registers nothing (Python).
                refused = true;
            }
        }
        // A contract without a good name and version is not declared (the
        // manifest cannot spell it): `unsure` or `refused` covers it.
    }
    if input.declare_missing {
        refused = true;
    }
    if refused {
        Expect::Refused
    } else if unsure {
        Expect::Either(registered)
    } else {
        Expect::Loads(registered)
    }
}

/// A Lua string literal of `bytes`.
fn lua_string(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for b in bytes {
        let _ = write!(out, "\\{b:03}");
    }
    out.push('"');
    out
}

/// A JavaScript string literal of `bytes`, one UTF-16 unit per byte; a
/// Python one, one code point per byte, is spelled the same.
fn js_string(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for b in bytes {
        let _ = write!(out, "\\x{b:02x}");
    }
    out.push('"');
    out
}

fn render_odd(odd: &Odd, lang: Lang, depth: usize, out: &mut String) {
    let string = |bytes: &[u8]| match lang {
        Lang::Lua => lua_string(bytes),
        Lang::Js | Lang::Python => js_string(bytes),
    };
    match odd {
        Odd::Nil => out.push_str(match lang {
            Lang::Lua => "nil",
            Lang::Js => "undefined",
            Lang::Python => "None",
        }),
        Odd::Bool(b) => out.push_str(match (lang, *b) {
            (Lang::Python, true) => "True",
            (Lang::Python, false) => "False",
            (_, true) => "true",
            (_, false) => "false",
        }),
        Odd::Int(i) => match lang {
            Lang::Lua if *i == i64::MIN => out.push_str("math.mininteger"),
            Lang::Lua => {
                let _ = write!(out, "{i}");
            }
            // An integer beyond 2^53 is a float in JavaScript, as written.
            Lang::Js | Lang::Python => {
                let _ = write!(out, "({i})");
            }
        },
        Odd::Float(f) => {
            let text = if f.is_nan() {
                match lang {
                    Lang::Lua => "(0/0)",
                    Lang::Js => "NaN",
                    Lang::Python => "float(\"nan\")",
                }
                .to_owned()
            } else if f.is_infinite() {
                let sign = if *f < 0.0 { "-" } else { "" };
                let inf = match lang {
                    Lang::Lua => "math.huge",
                    Lang::Js => "Infinity",
                    Lang::Python => "float(\"inf\")",
                };
                format!("({sign}{inf})")
            } else {
                format!("({f:?})")
            };
            out.push_str(&text);
        }
        Odd::Text(bytes) => out.push_str(&string(bytes)),
        Odd::BadSignature(i) => out.push_str(&string(pick(&BAD_SIGNATURES, *i).as_bytes())),
        Odd::Table(entries) => {
            out.push('{');
            if depth < MAX_DEPTH {
                for (key, value) in entries.iter().take(MAX_FUNCTIONS) {
                    match lang {
                        Lang::Lua => {
                            let _ = write!(out, "[{}] = ", lua_string(key));
                        }
                        Lang::Js => {
                            let _ = write!(out, "[{}]: ", js_string(key));
                        }
                        Lang::Python => {
                            let _ = write!(out, "{}: ", js_string(key));
                        }
                    }
                    render_odd(value, lang, depth + 1, out);
                    out.push_str(", ");
                }
            }
            out.push('}');
        }
        Odd::List(items) => {
            out.push(if lang == Lang::Lua { '{' } else { '[' });
            if depth < MAX_DEPTH {
                for item in items.iter().take(MAX_FUNCTIONS) {
                    render_odd(item, lang, depth + 1, out);
                    out.push_str(", ");
                }
            }
            out.push(if lang == Lang::Lua { '}' } else { ']' });
        }
    }
}

fn render_string_field(field: &Pick<u8>, list: &[&str], lang: Lang, out: &mut String) {
    match field {
        Pick::Good(i) => {
            let _ = write!(out, "\"{}\"", pick(list, *i));
        }
        Pick::Odd(odd) => render_odd(odd, lang, 0, out),
    }
}

fn render_function(function: &Function, lang: Lang, out: &mut String) {
    match &function.name {
        // A Python key is a string literal.
        Pick::Good(i) if lang == Lang::Python => {
            let _ = write!(out, "\"{}\"", pick(&FUNCTIONS, *i));
        }
        Pick::Good(i) => out.push_str(pick(&FUNCTIONS, *i)),
        Pick::Odd(odd) => {
            let key = match odd {
                Odd::Text(bytes) => bytes.clone(),
                other => format!("{other:?}").into_bytes(),
            };
            match lang {
                Lang::Lua => {
                    let _ = write!(out, "[{}]", lua_string(&key));
                }
                Lang::Js => {
                    let _ = write!(out, "[{}]", js_string(&key));
                }
                Lang::Python => out.push_str(&js_string(&key)),
            }
        }
    }
    out.push_str(match lang {
        Lang::Lua => " = { sig = ",
        Lang::Js => ": { sig: ",
        Lang::Python => ": {\"sig\": ",
    });
    let (arity, lua_body, js_body, py_body) = match &function.sig {
        Pick::Good(i) => {
            let (sig, arity, lua_body, js_body, py_body) = pick(&SIGNATURES, *i);
            let _ = write!(out, "\"{sig}\"");
            (arity, lua_body, js_body, py_body)
        }
        Pick::Odd(odd) => {
            render_odd(odd, lang, 0, out);
            (1, "return a", "a", "a")
        }
    };
    out.push_str(match lang {
        Lang::Lua => ", fn = ",
        Lang::Js => ", fn: ",
        Lang::Python => ", \"fn\": ",
    });
    match &function.body {
        Pick::Good(exact) => {
            let n = if *exact { arity } else { arity + 1 };
            let params = PARAMS[..n.min(PARAMS.len())].join(", ");
            match lang {
                Lang::Lua => {
                    let _ = write!(out, "function({params}) {lua_body} end");
                }
                Lang::Js => {
                    let _ = write!(out, "({params}) => {js_body}");
                }
                Lang::Python if n == 0 => {
                    let _ = write!(out, "lambda: {py_body}");
                }
                Lang::Python => {
                    let _ = write!(out, "lambda {params}: {py_body}");
                }
            }
        }
        Pick::Odd(odd) => render_odd(odd, lang, 0, out),
    }
    out.push_str(" }");
}

/// The script of `input` in `lang`.
pub fn render(input: &ScriptInput, lang: Lang) -> String {
    let mut out = match lang {
        Lang::Lua => String::from("return { contracts = "),
        Lang::Js => String::from("export const contracts = "),
        Lang::Python => String::from("CONTRACTS = "),
    };
    if let Some(odd) = &input.list {
        render_odd(odd, lang, 0, &mut out);
    } else {
        out.push(if lang == Lang::Lua { '{' } else { '[' });
        for contract in input.contracts.iter().take(MAX_CONTRACTS) {
            out.push_str(match lang {
                Lang::Lua => "\n  { name = ",
                Lang::Js => "\n  { name: ",
                Lang::Python => "\n  {\"name\": ",
            });
            render_string_field(&contract.name, &NAMES, lang, &mut out);
            out.push_str(match lang {
                Lang::Lua => ", version = ",
                Lang::Js => ", version: ",
                Lang::Python => ", \"version\": ",
            });
            render_string_field(&contract.version, &VERSIONS, lang, &mut out);
            out.push_str(match lang {
                Lang::Lua => ", functions = ",
                Lang::Js => ", functions: ",
                Lang::Python => ", \"functions\": ",
            });
            match &contract.functions {
                Pick::Good(functions) => {
                    out.push('{');
                    for function in functions.iter().take(MAX_FUNCTIONS) {
                        out.push_str("\n    ");
                        render_function(function, lang, &mut out);
                        out.push(',');
                    }
                    out.push('}');
                }
                Pick::Odd(odd) => render_odd(odd, lang, 0, &mut out),
            }
            out.push_str(" },");
        }
        out.push(if lang == Lang::Lua { '}' } else { ']' });
    }
    out.push_str(match lang {
        Lang::Lua => " }\n",
        Lang::Js => ";\n",
        Lang::Python => "\n",
    });
    out
}

/// The scratch directory of this process.
fn scratch() -> PathBuf {
    std::env::temp_dir().join(format!("polyplug-fuzz-script-{}", std::process::id()))
}

/// Writes bundle `name` to `dir`: `script` as `file`, and the manifest
/// declaring `provides`.
fn write_bundle(dir: &Path, name: &str, lang: Lang, script: &str, provides: &[(String, Version)]) {
    // Python bounds time, not memory (a `memory_pages` is refused): its
    // default of a second per load is plenty for straight-line code.
    let (loader, file, limits) = match lang {
        Lang::Lua => ("lua", "script.lua", "fuel = 1000000\nmemory_pages = 64\n"),
        Lang::Js => (
            "javascript",
            "script.js",
            "fuel = 1000000\nmemory_pages = 64\n",
        ),
        Lang::Python => ("python", "script.py", ""),
    };
    let mut manifest = format!(
        "[bundle]\nname = \"{name}\"\nversion = \"1.0.0\"\nloader = \"{loader}\"\n\n\
         [library]\n{} = \"{file}\"\n\n[limits]\n{limits}",
        polyplug_loader::platform_key()
    );
    for (contract, version) in provides {
        let _ = write!(
            manifest,
            "\n[[provides]]\nname = \"{contract}\"\nversion = \"{version}\"\n"
        );
    }
    let written = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(dir.join(file), script))
        .and_then(|()| std::fs::write(dir.join("manifest.toml"), manifest));
    if let Err(e) = written {
        panic!("writing the scratch bundle {}: {e}", dir.display());
    }
}

/// What the manifest declares for `input`.
fn provides(input: &ScriptInput) -> Vec<(String, Version)> {
    let mut out = Vec::new();
    if input.list.is_none() {
        for contract in input.contracts.iter().take(MAX_CONTRACTS) {
            if let (true, Pick::Good(name), Pick::Good(version)) =
                (contract.declared, &contract.name, &contract.version)
            {
                out.push((
                    pick(&NAMES, *name).to_owned(),
                    version_of(pick(&VERSIONS, *version)),
                ));
            }
        }
    }
    if input.declare_missing {
        out.push(("never.registered".to_owned(), Version::new(1, 0, 0)));
    }
    out
}

/// The good bundle loaded after each attempt: `good.answer` 1.0.0, whose
/// `answer` is 42.
fn good_script(lang: Lang) -> &'static str {
    match lang {
        Lang::Lua => {
            "return { contracts = { { name = \"good.answer\", version = \"1.0.0\",\n\
             functions = { answer = { sig = \"u32()\", fn = function() return 42 end } } } } }\n"
        }
        Lang::Js => {
            "export const contracts = [{ name: \"good.answer\", version: \"1.0.0\",\n\
             functions: { answer: { sig: \"u32()\", fn: () => 42 } } }];\n"
        }
        Lang::Python => {
            "CONTRACTS = [{\"name\": \"good.answer\", \"version\": \"1.0.0\",\n\
             \"functions\": {\"answer\": {\"sig\": \"u32()\", \"fn\": lambda: 42}}}]\n"
        }
    }
}

/// Loads `input` in `lang` into `runtime`, checks the oracle, then checks
/// that the runtime still loads, calls and unloads a good bundle. Returns
/// whether `input` loaded.
fn check_lang(input: &ScriptInput, lang: Lang, runtime: &Runtime) -> bool {
    let root = scratch();
    let dir = root.join(format!("{lang:?}-fuzzed"));
    let script = render(input, lang);
    write_bundle(&dir, "fuzzed", lang, &script, &provides(input));
    let expected = expect(input, lang);
    let loaded = match runtime.load_bundle(&dir) {
        Ok(id) => {
            let got: BTreeSet<(String, Version)> = runtime
                .bundles()
                .into_iter()
                .flat_map(|b| b.contracts)
                .collect();
            match &expected {
                Expect::Loads(want) => assert_eq!(&got, want, "{lang:?}:\n{script}"),
                Expect::Either(allowed) => assert!(
                    got.is_subset(allowed),
                    "{lang:?}: loaded {got:?}, registered {allowed:?}:\n{script}"
                ),
                Expect::Refused => {
                    panic!("{lang:?}: loaded {got:?}, expected a refusal:\n{script}")
                }
            }
            if let Err(e) = runtime.unload_bundle(id) {
                panic!("{lang:?}: unloading the fuzzed bundle: {e}");
            }
            true
        }
        Err(error) => {
            assert!(
                !matches!(expected, Expect::Loads(_)),
                "{lang:?}: refused with {error}, expected to load:\n{script}"
            );
            assert!(!error.to_string().is_empty(), "{lang:?}: {error:?}");
            if let LoadError::Code { bundle, error } = &error {
                assert_eq!(bundle, "fuzzed", "{lang:?}: {error}");
                assert!(
                    error.file.ends_with("script.lua")
                        || error.file.ends_with("script.js")
                        || error.file.ends_with("script.py"),
                    "{lang:?}: names {}",
                    error.file.display()
                );
            }
            assert!(
                runtime.bundles().is_empty(),
                "{lang:?}: a refused script left a bundle"
            );
            false
        }
    };
    // The runtime is usable after.
    let good = root.join(format!("{lang:?}-good"));
    let answer = Version::new(1, 0, 0);
    write_bundle(
        &good,
        "good",
        lang,
        good_script(lang),
        &[("good.answer".to_owned(), answer)],
    );
    let id = match runtime.load_bundle(&good) {
        Ok(id) => id,
        Err(e) => panic!("{lang:?}: the good bundle after the fuzzed one: {e}"),
    };
    {
        let reader = runtime.reader();
        let guard = reader.pin();
        let called = guard
            .find("good.answer", answer)
            .map_err(|e| e.to_string())
            .and_then(|c| {
                c.typed::<extern "C" fn() -> u32>("answer")
                    .map_err(|e| e.to_string())
                    .and_then(|f| f.try_call().map_err(|e| e.to_string()))
            });
        assert_eq!(called, Ok(42), "{lang:?}: the good bundle answers");
    }
    if let Err(e) = runtime.unload_bundle(id) {
        panic!("{lang:?}: unloading the good bundle: {e}");
    }
    loaded
}

/// The stack of the checking thread: more than the default, as
/// instrumented builds of the interpreters take deep frames.
const STACK_BYTES: usize = 16 << 20;

/// Renders `input` in Lua, in JavaScript and in Python, loads each and
/// checks the properties above, on a thread of its own whose exit frees
/// its interpreter states (its Python thread state too). Returns whether
/// each loaded, `[lua, js, python]`.
pub fn check(input: &ScriptInput) -> [bool; 3] {
    let lua = LuaLoader::new(LuaConfig::default());
    let js = JsLoader::new(JsConfig::default());
    let python = PythonLoader::new(PythonConfig::default());
    let (lua_stats, js_stats, python_stats) =
        (lua.stats_handle(), js.stats_handle(), python.stats_handle());
    let built = Runtime::builder()
        .loader(lua)
        .loader(js)
        .loader(python)
        .build();
    let runtime = match built {
        Ok(runtime) => runtime,
        Err(e) => panic!("a scratch runtime: {e}"),
    };
    let joined = std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("script_registration".to_owned())
            .stack_size(STACK_BYTES)
            .spawn_scoped(s, || {
                [
                    check_lang(input, Lang::Lua, &runtime),
                    check_lang(input, Lang::Js, &runtime),
                    check_lang(input, Lang::Python, &runtime),
                ]
            })
            .map(std::thread::ScopedJoinHandle::join)
    });
    let loaded = match joined {
        Ok(Ok(loaded)) => loaded,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(e) => panic!("spawning the checking thread: {e}"),
    };
    if let Err(e) = runtime.drain(Duration::from_secs(10)) {
        panic!("draining: {e}");
    }
    assert_eq!(runtime.code_stats().alive(), 0, "a load left alive");
    drop(runtime);
    let (l, j) = (lua_stats.get(), js_stats.get());
    assert_eq!(
        (l.loads_alive(), l.states_alive()),
        (0, 0),
        "Lua loads or states left alive: {l:?}"
    );
    assert_eq!(
        (j.loads_alive(), j.states_alive()),
        (0, 0),
        "JavaScript loads or states left alive: {j:?}"
    );
    let p = python_stats.get();
    assert_eq!(
        (p.loads_alive(), p.modules_alive()),
        (0, 0),
        "Python loads or modules left alive: {p:?}"
    );
    loaded
}
