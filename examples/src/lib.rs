//! Example plugins for polyplug, in Rust, C, C++, WebAssembly, Lua,
//! JavaScript and Python, each in two versions so that a hot reload shows, and the
//! paths of their bundles.
//!
//! # The problem
//!
//! A newcomer wants to see a host call plugins written in three languages
//! and swap them while it calls, without installing anything by hand. This
//! crate's build script builds every example bundle with nothing but cargo
//! and the C and C++ compilers that the `cc` crate finds: the Rust plugins
//! in the separate workspace `examples/plugins/`, the C and C++ ones from
//! `examples/c/` and `examples/cpp/`; the Lua, JavaScript and Python
//! scripts are copied from their bundle directories. This crate tells a host where
//! they are.
//!
//! # The contract
//!
//! Every plugin implements contract `demo.counter` 1.0.0; build `N`
//! (1 or 2) steps by `N`:
//!
//! | function | kind | behaviour |
//! |---|---|---|
//! | `version` | typed `u32()` | `N` |
//! | `step` | typed `u32(u32)` | `x + N`, wrapping |
//! | `step` | native [`StepArgs`] → `u32`, instance optional | `x + N`; error [`ERR_OVERFLOW`] when it overflows |
//! | `count` | native [`StepArgs`] → `u32`, needs an instance | `total += x + N`; returns `total`; error [`ERR_OVERFLOW`] on overflow |
//!
//! An instance holds a running total and keeps calling the version that
//! made it. Each plugin logs at `LOG_INFO` when it is loaded and when an
//! instance is created. The Lua, JavaScript and Python counters have the
//! typed functions only: a script contract offers no native functions and
//! no instances, and does not log (a Lua or JavaScript script runs once
//! per calling thread).
//!
//! A second contract, [`TEXT_CONTRACT`] (`demo.text` 1.0.0), shows typed
//! functions over borrowed text and bytes with an owned result: `upper`
//! (`string(str)`) and `checksum` (`u64(bytes)`), in Rust
//! (`plugins/text-rust`), C (`c/text.c`) and Rust built for wasm32
//! (`wasm-plugins/text-wasm`, the same source), one build each, listed in
//! [`TEXT_PLUGINS`]; `cargo run -p polyplug-examples --example text`
//! calls them.
//!
//! # The bundles
//!
//! | plugin | language | v1 | v2 |
//! |---|---|---|---|
//! | `counter-rust` | Rust (`polyplug_guest::plugin!`) | `counter-rust-v1` | `counter-rust-v2` |
//! | `counter-c` | C (`abi/include/polyplug.h`) | `counter-c-v1` | `counter-c-v2` |
//! | `counter-cpp` | C++ (`abi/include/polyplug.h`) | `counter-cpp-v1` | `counter-cpp-v2` |
//! | `counter-wasm` | Rust built for wasm32 (the same `counter.rs` as `counter-rust`) | `counter-wasm-v1` | `counter-wasm-v2` |
//! | `counter-lua` | Lua (`bundles/v<N>/counter-lua/counter.lua`) | `counter-lua-v1` | `counter-lua-v2` |
//! | `counter-js` | JavaScript (`bundles/v<N>/counter-js/counter.js`) | `counter-js-v1` | `counter-js-v2` |
//! | `counter-python` | Python (`bundles/v<N>/counter-python/counter.py`) | `counter-python-v1` | `counter-python-v2` |
//!
//! [`PLUGINS`] are the three native ones, which `polyplug::Runtime::new`
//! loads; [`WASM_PLUGIN`] needs a runtime with the wasm loader
//! (`polyplug_wasm::WasmLoader`), and has the typed functions and
//! instances of `demo.counter` but no native functions. [`LUA_PLUGIN`],
//! [`JS_PLUGIN`] and [`PYTHON_PLUGIN`] need the Lua, JavaScript and
//! Python loaders (`polyplug_lua::LuaLoader`, `polyplug_js::JsLoader`,
//! `polyplug_python::PythonLoader`).
//!
//! Both versions of a plugin carry the same bundle name (`counter-c`), so
//! one reloads into the other. [`build_dir`] holds one version of every
//! plugin, for loading a whole directory.
//!
//! # Example
//!
//! ```
//! use polyplug_examples::{Build, PLUGINS, bundle};
//!
//! for plugin in &PLUGINS {
//!     assert!(plugin.dir(Build::V1).join("manifest.toml").is_file());
//! }
//! assert_eq!(bundle("counter-c-v2"), PLUGINS[1].dir(Build::V2));
//! ```
#![forbid(unsafe_code)]

use std::fmt;
use std::path::PathBuf;

pub use polyplug_abi::Version;

/// Where the build script put the bundles.
const BUNDLES_DIR: &str = concat!(env!("OUT_DIR"), "/bundles");

/// The name of the contract every example plugin implements.
///
/// # Example
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// use polyplug::Runtime;
/// use polyplug_examples::{CONTRACT, CONTRACT_VERSION, bundle};
///
/// let runtime = Runtime::new()?;
/// runtime.load_bundle(bundle("counter-c-v1"))?;
/// let reader = runtime.reader();
/// let guard = reader.pin();
/// let counter = guard.find(CONTRACT, CONTRACT_VERSION)?;
/// assert_eq!(counter.name(), "demo.counter");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub const CONTRACT: &str = "demo.counter";

/// The version of [`CONTRACT`] every example plugin provides. Both builds
/// of a plugin provide it: the bundle version changes, the contract does not.
///
/// # Example
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// use polyplug::Runtime;
/// use polyplug_examples::{Build, CONTRACT, CONTRACT_VERSION, PLUGINS};
///
/// let runtime = Runtime::new()?;
/// runtime.load_bundle(PLUGINS[0].dir(Build::V2))?;
/// let reader = runtime.reader();
/// let guard = reader.pin();
/// assert_eq!(guard.find(CONTRACT, CONTRACT_VERSION)?.version(), CONTRACT_VERSION);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub const CONTRACT_VERSION: Version = Version::new(1, 0, 0);

/// The error code of `step` and `count` when the result would overflow a
/// `u32` (`ERR_PLUGIN + 1`).
///
/// # Example
///
/// The typed `step` wraps; the native one reports the overflow:
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// use polyplug::Runtime;
/// use polyplug_examples::{CONTRACT, CONTRACT_VERSION, ERR_OVERFLOW, StepArgs, bundle};
///
/// let runtime = Runtime::new()?;
/// runtime.load_bundle(bundle("counter-rust-v1"))?;
/// let reader = runtime.reader();
/// let guard = reader.pin();
/// let step = guard.find(CONTRACT, CONTRACT_VERSION)?.native("step")?;
/// let mut out = 0u32;
/// // SAFETY: [P1] demo.counter documents `step` as reading a `StepArgs` and writing a `u32`.
/// let err = unsafe { step.call(&StepArgs { x: u32::MAX }, &mut out) }.unwrap_err();
/// assert_eq!(err.code, ERR_OVERFLOW);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub const ERR_OVERFLOW: u32 = polyplug_abi::ERR_PLUGIN + 1;

/// The arguments of the native functions `step` and `count`; the C and
/// C++ plugins declare the same layout, `struct { uint32_t x; }`.
///
/// # Example
///
/// ```
/// use polyplug_examples::StepArgs;
///
/// let args = StepArgs { x: 10 };
/// assert_eq!(size_of_val(&args), 4); // one `uint32_t`, as in C
/// assert_eq!(StepArgs::default(), StepArgs { x: 0 });
/// ```
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StepArgs {
    /// The number to step from.
    pub x: u32,
}

/// One of the two builds of every plugin.
///
/// ```
/// use polyplug_examples::Build;
///
/// assert_eq!(Build::V1.number(), 1);
/// assert_eq!(Build::V1.other(), Build::V2);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Build {
    /// Bundle version 1.0.0: `version()` answers 1, `step` adds 1.
    V1,
    /// Bundle version 2.0.0: `version()` answers 2, `step` adds 2.
    V2,
}

impl Build {
    /// Both builds.
    ///
    /// # Example
    ///
    /// ```
    /// use polyplug_examples::{Build, PLUGINS};
    ///
    /// for build in Build::ALL {
    ///     assert!(PLUGINS[2].dir(build).join("manifest.toml").is_file());
    /// }
    /// ```
    pub const ALL: [Build; 2] = [Build::V1, Build::V2];

    /// What `version()` answers, and what `step` adds: 1 or 2.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// use polyplug::Runtime;
    /// use polyplug_examples::{Build, CONTRACT, CONTRACT_VERSION, PLUGINS};
    ///
    /// let runtime = Runtime::new()?;
    /// runtime.load_bundle(PLUGINS[1].dir(Build::V2))?;
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// let counter = guard.find(CONTRACT, CONTRACT_VERSION)?;
    /// let step = counter.typed::<extern "C" fn(u32) -> u32>("step")?;
    /// assert_eq!(step.call(10), 10 + Build::V2.number());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn number(self) -> u32 {
        match self {
            Build::V1 => 1,
            Build::V2 => 2,
        }
    }

    /// The other build: the one a reload swaps to.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// use polyplug::Runtime;
    /// use polyplug_examples::{Build, CONTRACT, CONTRACT_VERSION, PLUGINS};
    ///
    /// let plugin = PLUGINS[0];
    /// let runtime = Runtime::new()?;
    /// let id = runtime.load_bundle(plugin.dir(Build::V1))?;
    /// runtime.reload_bundle(id, Some(&plugin.dir(Build::V1.other())))?;
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// let counter = guard.find(CONTRACT, CONTRACT_VERSION)?;
    /// let version = counter.typed::<extern "C" fn() -> u32>("version")?;
    /// assert_eq!(version.call(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn other(self) -> Build {
        match self {
            Build::V1 => Build::V2,
            Build::V2 => Build::V1,
        }
    }
}

/// The language a plugin is written in, and what it is built into.
///
/// ```
/// use polyplug_examples::Language;
///
/// assert_eq!(Language::Cpp.to_string(), "C++");
/// assert_eq!(Language::RustWasm.to_string(), "Rust→wasm");
/// assert!(Language::C.is_native() && !Language::Lua.is_native());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Language {
    /// Rust, with the `polyplug-guest` SDK.
    Rust,
    /// C, with the generated header.
    C,
    /// C++, with the generated header.
    Cpp,
    /// Rust, with the `polyplug-guest` SDK, built for wasm32: a module for
    /// the wasm loader.
    RustWasm,
    /// A Lua script, for the Lua loader.
    Lua,
    /// A JavaScript ES module, for the JavaScript loader.
    JavaScript,
    /// A Python script, for the Python loader.
    Python,
}

impl Language {
    /// Whether its plugins are native libraries, whose contracts have
    /// native functions (the wasm and script ones have typed functions
    /// only).
    ///
    /// ```
    /// use polyplug_examples::Language;
    ///
    /// assert!(Language::Rust.is_native());
    /// assert!(!Language::RustWasm.is_native());
    /// assert!(!Language::JavaScript.is_native());
    /// ```
    pub const fn is_native(self) -> bool {
        matches!(self, Language::Rust | Language::C | Language::Cpp)
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Language::Rust => "Rust",
            Language::C => "C",
            Language::Cpp => "C++",
            Language::RustWasm => "Rust→wasm",
            Language::Lua => "Lua",
            Language::JavaScript => "JavaScript",
            Language::Python => "Python",
        })
    }
}

/// One example plugin, built in both versions.
///
/// # Example
///
/// ```
/// use polyplug_examples::{Build, Language, PLUGINS, Plugin};
///
/// let c: &Plugin = PLUGINS.iter().find(|p| p.language == Language::C).ok_or("no C plugin")?;
/// assert_eq!(c.name, "counter-c");
/// assert!(c.dir(Build::V1).ends_with("v1/counter-c"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plugin {
    /// The bundle name both versions carry, for example `counter-c`.
    pub name: &'static str,
    /// Its language.
    pub language: Language,
}

impl Plugin {
    /// The built bundle directory of this plugin's `build`.
    ///
    /// ```
    /// use polyplug_examples::{Build, PLUGINS};
    ///
    /// assert!(PLUGINS[0].dir(Build::V2).ends_with("v2/counter-rust"));
    /// ```
    pub fn dir(&self, build: Build) -> PathBuf {
        build_dir(build).join(self.name)
    }

    /// The built bundle directory of a [`TEXT_PLUGINS`] entry, which has
    /// one build: in [`text_bundles_dir`].
    ///
    /// ```
    /// use polyplug_examples::TEXT_PLUGINS;
    ///
    /// for plugin in TEXT_PLUGINS {
    ///     assert!(plugin.text_dir().join("manifest.toml").is_file(), "{}", plugin.name);
    /// }
    /// ```
    pub fn text_dir(&self) -> PathBuf {
        text_bundles_dir().join(self.name)
    }
}

/// The example plugins: Rust, C, C++.
///
/// # Example
///
/// Load one version of each and call them all:
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// use polyplug::Runtime;
/// use polyplug_examples::{Build, CONTRACT, CONTRACT_VERSION, PLUGINS};
///
/// let runtime = Runtime::new()?;
/// for plugin in &PLUGINS {
///     runtime.load_bundle(plugin.dir(Build::V1))?;
/// }
/// let reader = runtime.reader();
/// let guard = reader.pin();
/// let mut steps = Vec::new();
/// for counter in guard.find_all(CONTRACT, CONTRACT_VERSION) {
///     steps.push(counter.typed::<extern "C" fn(u32) -> u32>("step")?.call(10));
/// }
/// assert_eq!(steps, [11, 11, 11]); // Rust, C and C++ alike
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub const PLUGINS: [Plugin; 3] = [
    Plugin {
        name: "counter-rust",
        language: Language::Rust,
    },
    Plugin {
        name: "counter-c",
        language: Language::C,
    },
    Plugin {
        name: "counter-cpp",
        language: Language::Cpp,
    },
];

/// The name of the second example contract, which the [`TEXT_PLUGINS`]
/// implement: typed functions over borrowed text and bytes with an owned
/// result.
///
/// | function | signature | behaviour |
/// |---|---|---|
/// | `upper` | `string(str)` | the text upper-cased ([`text_upper`] says how far, per language) |
/// | `checksum` | `u64(bytes)` | the wrapping sum of the bytes ([`text_checksum`]) |
///
/// A host calls them with a `&str` and a `&[u8]`, lent for the call; the
/// plugin allocates the `string` result with the host's allocator and
/// hands it over, so the host gets a `String` that it owns and drops.
///
/// # Example
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// use polyplug::{Bytes, Runtime, Str};
/// use polyplug_examples::{TEXT_CONTRACT, TEXT_CONTRACT_VERSION, TEXT_PLUGINS};
///
/// let runtime = Runtime::new()?;
/// runtime.load_bundle(TEXT_PLUGINS[0].text_dir())?;
/// let reader = runtime.reader();
/// let guard = reader.pin();
/// let text = guard.find(TEXT_CONTRACT, TEXT_CONTRACT_VERSION)?;
/// let upper = text.typed::<extern "C" fn(Str) -> String>("upper")?;
/// let owned: String = upper.try_call("hello")?; // the host's now
/// assert_eq!(owned, "HELLO");
/// let checksum = text.typed::<extern "C" fn(Bytes) -> u64>("checksum")?;
/// assert_eq!(checksum.try_call(&[0xFF, 1])?, 256);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub const TEXT_CONTRACT: &str = "demo.text";

/// The version of [`TEXT_CONTRACT`] the [`TEXT_PLUGINS`] provide.
///
/// ```
/// assert_eq!(polyplug_examples::TEXT_CONTRACT_VERSION.to_string(), "1.0.0");
/// ```
pub const TEXT_CONTRACT_VERSION: Version = Version::new(1, 0, 0);

/// The plugins of [`TEXT_CONTRACT`], one build each, in the order a host
/// loads them: the one list to extend with another language's `demo.text`
/// plugin (its bundle in `examples/bundles/text/`, built by
/// `examples/build.rs`).
///
/// | plugin | language | `upper` |
/// |---|---|---|
/// | `text-rust` | Rust (`plugins/text-rust`) | all of Unicode (`str::to_uppercase`) |
/// | `text-c` | C (`c/text.c`) | ASCII `a`-`z` only; other bytes as they are |
/// | `text-wasm` | Rust built for wasm32 (`wasm-plugins/text-wasm`, the same `text.rs` as `text-rust`) | all of Unicode (`str::to_uppercase`) |
///
/// # Example
///
/// Every one loads into a runtime that also has the wasm loader, and
/// `find_all` finds them all:
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// use polyplug::{Runtime, Str};
/// use polyplug_examples::{TEXT_CONTRACT, TEXT_CONTRACT_VERSION, TEXT_PLUGINS};
/// use polyplug_wasm::{WasmConfig, WasmLoader};
///
/// let runtime = Runtime::builder().loader(WasmLoader::new(WasmConfig::default())).build()?;
/// for plugin in TEXT_PLUGINS {
///     runtime.load_bundle(plugin.text_dir())?;
/// }
/// let reader = runtime.reader();
/// let guard = reader.pin();
/// let mut results = Vec::new();
/// for text in guard.find_all(TEXT_CONTRACT, TEXT_CONTRACT_VERSION) {
///     results.push(text.typed::<extern "C" fn(Str) -> String>("upper")?.try_call("ok")?);
/// }
/// assert_eq!(results.len(), TEXT_PLUGINS.len());
/// assert!(results.iter().all(|r| r == "OK"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub const TEXT_PLUGINS: &[Plugin] = &[
    Plugin {
        name: "text-rust",
        language: Language::Rust,
    },
    Plugin {
        name: "text-c",
        language: Language::C,
    },
    Plugin {
        name: "text-wasm",
        language: Language::RustWasm,
    },
];

/// What `upper` of a [`TEXT_CONTRACT`] plugin in `language` answers for
/// `text`: ASCII `a`-`z` upper-cased and every other character kept for
/// C, `str::to_uppercase` (Unicode-aware: `ß` → `SS`) for the others.
///
/// ```
/// use polyplug_examples::{Language, text_upper};
///
/// assert_eq!(text_upper(Language::Rust, "straße é"), "STRASSE É");
/// assert_eq!(text_upper(Language::C, "straße é"), "STRAßE é");
/// assert_eq!(text_upper(Language::C, "hello"), text_upper(Language::Rust, "hello"));
/// ```
pub fn text_upper(language: Language, text: &str) -> String {
    match language {
        Language::C => text.to_ascii_uppercase(),
        _ => text.to_uppercase(),
    }
}

/// What `checksum` of every [`TEXT_CONTRACT`] plugin answers: the
/// wrapping sum of the bytes as `u64`.
///
/// ```
/// assert_eq!(polyplug_examples::text_checksum(&[0xFF, 0xFF, 2]), 512);
/// assert_eq!(polyplug_examples::text_checksum(&[]), 0);
/// ```
pub fn text_checksum(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0u64, |sum, &byte| sum.wrapping_add(u64::from(byte)))
}

/// The directory holding the built bundle of every [`TEXT_PLUGINS`] entry,
/// one directory each (`Runtime::load_dir` loads them all).
///
/// ```
/// let dir = polyplug_examples::text_bundles_dir();
/// assert!(dir.join("text-c").join("manifest.toml").is_file());
/// ```
pub fn text_bundles_dir() -> PathBuf {
    PathBuf::from(BUNDLES_DIR).join("text")
}

/// The example plugin built for WebAssembly: `counter-wasm`, the Rust
/// counter's source compiled for wasm32-unknown-unknown.
///
/// # Example
///
/// It loads in a runtime with the wasm loader, and steps like the others:
///
/// ```
/// use polyplug::Runtime;
/// use polyplug_examples::{Build, CONTRACT, CONTRACT_VERSION, WASM_PLUGIN};
/// use polyplug_wasm::{WasmConfig, WasmLoader};
///
/// let runtime = Runtime::builder().loader(WasmLoader::new(WasmConfig::default())).build()?;
/// runtime.load_bundle(WASM_PLUGIN.dir(Build::V2))?;
/// let reader = runtime.reader();
/// let guard = reader.pin();
/// let counter = guard.find(CONTRACT, CONTRACT_VERSION)?;
/// assert_eq!(counter.typed::<extern "C" fn(u32) -> u32>("step")?.try_call(10)?, 12);
/// assert_eq!(counter.native_names().count(), 0); // typed functions only
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub const WASM_PLUGIN: Plugin = Plugin {
    name: "counter-wasm",
    language: Language::RustWasm,
};

/// The example plugin in Lua: `counter-lua`, a script that returns its
/// contracts.
///
/// # Example
///
/// It loads in a runtime with the Lua loader, and steps like the others:
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// use polyplug::Runtime;
/// use polyplug_examples::{Build, CONTRACT, CONTRACT_VERSION, LUA_PLUGIN};
/// use polyplug_lua::{LuaConfig, LuaLoader};
///
/// let runtime = Runtime::builder().loader(LuaLoader::new(LuaConfig::default())).build()?;
/// runtime.load_bundle(LUA_PLUGIN.dir(Build::V2))?;
/// let reader = runtime.reader();
/// let guard = reader.pin();
/// let counter = guard.find(CONTRACT, CONTRACT_VERSION)?;
/// let step = counter.typed::<extern "C" fn(u32) -> u32>("step")?;
/// assert_eq!(step.try_call(10)?, 12);
/// assert_eq!(step.try_call(u32::MAX)?, 1); // wrapping, as the others do
/// assert_eq!(counter.native_names().count(), 0); // typed functions only
/// assert!(!counter.is_stateful()); // and no instances
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub const LUA_PLUGIN: Plugin = Plugin {
    name: "counter-lua",
    language: Language::Lua,
};

/// The example plugin in JavaScript: `counter-js`, an ES module that
/// exports its contracts.
///
/// # Example
///
/// It loads in a runtime with the JavaScript loader, and steps like the
/// others:
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// use polyplug::Runtime;
/// use polyplug_examples::{Build, CONTRACT, CONTRACT_VERSION, JS_PLUGIN};
/// use polyplug_js::{JsConfig, JsLoader};
///
/// let runtime = Runtime::builder().loader(JsLoader::new(JsConfig::default())).build()?;
/// runtime.load_bundle(JS_PLUGIN.dir(Build::V1))?;
/// let reader = runtime.reader();
/// let guard = reader.pin();
/// let counter = guard.find(CONTRACT, CONTRACT_VERSION)?;
/// let step = counter.typed::<extern "C" fn(u32) -> u32>("step")?;
/// assert_eq!(step.try_call(10)?, 11);
/// assert_eq!(step.try_call(u32::MAX)?, 0); // wrapping, as the others do
/// assert_eq!(counter.typed::<extern "C" fn() -> u32>("version")?.try_call()?, 1);
/// assert!(!counter.is_stateful()); // no instances
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub const JS_PLUGIN: Plugin = Plugin {
    name: "counter-js",
    language: Language::JavaScript,
};

/// The example plugin in Python: `counter-python`, a script that marks
/// its functions with `@polyplug.export`.
///
/// # Example
///
/// It loads in a runtime with the Python loader
/// (`polyplug_python::PythonLoader`), which `engines/python/tests` and
/// `polyplug demo` do; its bundle is a script and a manifest:
///
/// ```
/// use polyplug_examples::{Build, Language, PYTHON_PLUGIN};
///
/// assert_eq!(PYTHON_PLUGIN.language, Language::Python);
/// let dir = PYTHON_PLUGIN.dir(Build::V2);
/// let manifest = std::fs::read_to_string(dir.join("manifest.toml"))?;
/// assert!(manifest.contains("loader = \"python\""));
/// assert!(std::fs::read_to_string(dir.join("counter.py"))?.contains("VERSION = 2"));
/// # Ok::<(), std::io::Error>(())
/// ```
pub const PYTHON_PLUGIN: Plugin = Plugin {
    name: "counter-python",
    language: Language::Python,
};

/// The bundles of [`LUA_PLUGIN`], [`JS_PLUGIN`] and [`PYTHON_PLUGIN`].
///
/// ```
/// for name in polyplug_examples::SCRIPT_BUNDLES {
///     assert!(polyplug_examples::bundle(name).join("manifest.toml").is_file());
/// }
/// ```
pub const SCRIPT_BUNDLES: [&str; 6] = [
    "counter-lua-v1",
    "counter-lua-v2",
    "counter-js-v1",
    "counter-js-v2",
    "counter-python-v1",
    "counter-python-v2",
];

/// The bundles of [`WASM_PLUGIN`]: `counter-wasm-v1`, `counter-wasm-v2`.
///
/// ```
/// for name in polyplug_examples::WASM_BUNDLES {
///     assert!(polyplug_examples::bundle(name).join("manifest.toml").is_file());
/// }
/// ```
pub const WASM_BUNDLES: [&str; 2] = ["counter-wasm-v1", "counter-wasm-v2"];

/// The name of every native example bundle: `<plugin>-v<N>`
/// ([`WASM_BUNDLES`] and [`SCRIPT_BUNDLES`] are the others).
///
/// # Example
///
/// ```
/// use polyplug_examples::{BUNDLES, bundle};
///
/// for name in BUNDLES {
///     assert!(bundle(name).join("manifest.toml").is_file(), "{name}");
/// }
/// ```
pub const BUNDLES: [&str; 6] = [
    "counter-rust-v1",
    "counter-rust-v2",
    "counter-c-v1",
    "counter-c-v2",
    "counter-cpp-v1",
    "counter-cpp-v2",
];

/// The directory holding build `build` of every plugin, [`WASM_PLUGIN`],
/// [`LUA_PLUGIN`], [`JS_PLUGIN`] and [`PYTHON_PLUGIN`] too, one bundle
/// directory each: a directory to load whole (`Runtime::load_dir`, in a
/// runtime with the wasm, Lua, JavaScript and Python loaders).
///
/// ```
/// let dir = polyplug_examples::build_dir(polyplug_examples::Build::V1);
/// assert!(dir.join("counter-c").join("manifest.toml").is_file());
/// ```
pub fn build_dir(build: Build) -> PathBuf {
    PathBuf::from(BUNDLES_DIR).join(format!("v{}", build.number()))
}

/// The built directory of bundle `name` (one of [`BUNDLES`],
/// [`WASM_BUNDLES`] or [`SCRIPT_BUNDLES`]), holding `manifest.toml` and
/// the library, module or script.
///
/// # Panics
///
/// When `name` is in neither list; the message lists the names. The
/// names are fixed, so an unknown one is a bug in the caller.
///
/// ```
/// let dir = polyplug_examples::bundle("counter-cpp-v1");
/// assert!(dir.join("manifest.toml").is_file());
/// ```
#[expect(
    clippy::panic,
    reason = "the names are fixed: an unknown one is a bug in the caller, documented above"
)]
pub fn bundle(name: &str) -> PathBuf {
    for plugin in PLUGINS
        .iter()
        .chain([&WASM_PLUGIN, &LUA_PLUGIN, &JS_PLUGIN, &PYTHON_PLUGIN])
    {
        for build in Build::ALL {
            if name == format!("{}-v{}", plugin.name, build.number()) {
                return plugin.dir(build);
            }
        }
    }
    panic!(
        "no example bundle named {name:?}; the bundles are: {}, {}, {}",
        BUNDLES.join(", "),
        WASM_BUNDLES.join(", "),
        SCRIPT_BUNDLES.join(", ")
    );
}
