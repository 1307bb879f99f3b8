//! Lua, JavaScript and Python: polyplug's script engines against the same
//! function of the same script called through the engine's own Rust API.
//!
//! Each language has one script, [`Language::source`], registering
//! `bench.counter` 1.0.0 with `inc: u32(u32)`, `x + 1`. polyplug loads it
//! as a bundle; the baseline runs the same text in a state the bench makes
//! itself, configured as the loader configures its own (the same
//! instruction meter or interrupt handler, memory and stack limits), and
//! calls the function the script registered.
//!
//! | arm | what | baseline |
//! |---|---|---|
//! | `lua_call/polyplug` | `inc` counted 10,000 times through a resolved `Typed` | `lua_call/mlua` |
//! | `lua_call/mlua` | the same Lua function through mlua's `Function::call`, instruction hook on | floor |
//! | `js_call/polyplug` | `inc` counted 10,000 times through a resolved `Typed` | `js_call/rquickjs` |
//! | `js_call/rquickjs` | the same JavaScript function through rquickjs's `Function::call`, inside one `Context::with` per count | floor |
//! | `py_call/polyplug` | `inc` counted 10,000 times through a resolved `Typed` | `py_call/pyo3` |
//! | `py_call/pyo3` | the same Python function through pyo3's `call1`, inside one `Python::attach` per count | floor |
//! | `py_call/pyo3_attach` | the same, with a `Python::attach` (the GIL taken and given back) per call, as a host calling from several threads must | `py_call/pyo3` |
//! | `{lua,js}_scaling/polyplug/N` | N threads each calling `inc` through polyplug | `polyplug/1` |
//! | `lua_scaling/mlua/N`, `js_scaling/rquickjs/N` | N threads each calling `inc` in its own state | `…/1` |
//!
//! # Example
//!
//! ```
//! # if polyplug::MODEL_BUILD { return Ok(()); }
//! use polyplug_benches::script::{JsDirect, Language, LuaDirect, count, runtime};
//!
//! assert_eq!(LuaDirect::new()?.count(100)?, 100);
//! assert_eq!(JsDirect::new()?.count(100)?, 100);
//! assert_eq!(polyplug_benches::script::PyDirect::new()?.count(100)?, 100);
//! for language in Language::ALL {
//!     let loaded = runtime(language)?;
//!     assert_eq!(count(loaded.runtime(), 100)?, 100, "{language:?}");
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use mlua::{HookTriggers, Lua, LuaOptions, StdLib, Table, VmState};
use polyplug::{Runtime, Version};
use polyplug_js::{JsConfig, JsLoader};
use polyplug_lua::{LuaConfig, LuaLoader};
use polyplug_python::{PythonConfig, PythonLoader};
use pyo3::prelude::*;
use pyo3::types::PyModule;
use rquickjs::{Context, Function, Module, Object, Persistent};

/// Calls per measured iteration of the call arms.
///
/// ```
/// assert_eq!(polyplug_benches::script::CALLS, 10_000);
/// ```
pub const CALLS: u32 = 10_000;

/// The contract both scripts register.
///
/// ```
/// assert_eq!(polyplug_benches::script::CONTRACT, "bench.counter");
/// ```
pub const CONTRACT: &str = "bench.counter";

/// The Lua script: `inc` returns `x + 1`.
///
/// ```
/// assert!(polyplug_benches::script::LUA_SOURCE.contains("u32(u32)"));
/// ```
pub const LUA_SOURCE: &str = r#"-- bench.counter 1.0.0: the function the script benches call.
return {
  contracts = {
    { name = "bench.counter", version = "1.0.0",
      functions = {
        inc = { sig = "u32(u32)", fn = function(x) return x + 1 end },
      } },
  },
}
"#;

/// The JavaScript module: `inc` returns `x + 1`.
///
/// ```
/// assert!(polyplug_benches::script::JS_SOURCE.contains("u32(u32)"));
/// ```
pub const JS_SOURCE: &str = r#"// bench.counter 1.0.0: the function the script benches call.
export const contracts = [
  {
    name: "bench.counter",
    version: "1.0.0",
    functions: {
      inc: { sig: "u32(u32)", fn: (x) => x + 1 },
    },
  },
];
"#;

/// The Python script: `inc` returns `x + 1`.
///
/// ```
/// assert!(polyplug_benches::script::PY_SOURCE.contains("u32(u32)"));
/// ```
pub const PY_SOURCE: &str = r#"# bench.counter 1.0.0: the function the script benches call.
CONTRACTS = [
    {"name": "bench.counter", "version": "1.0.0",
     "functions": {"inc": {"sig": "u32(u32)", "fn": lambda x: x + 1}}},
]
"#;

/// Lua VM instructions the Lua baseline's meter is given before each
/// count: what the loader gives each call by default.
const LUA_FUEL: u64 = polyplug_lua::Budget::DEFAULT.fuel;

/// Interrupt checks the JavaScript baseline's handler allows before each
/// count: what the loader allows each call by default.
const JS_CHECKS: u64 = polyplug_js::Budget::DEFAULT
    .fuel
    .div_ceil(polyplug_js::OPS_PER_CHECK);

/// The memory limit of the baselines' states: the loaders' default of 256
/// pages of 64 KiB.
const MEMORY_BYTES: usize = 256 * 64 * 1024;

/// A script language polyplug runs.
///
/// ```
/// use polyplug_benches::script::Language;
///
/// assert_eq!(Language::Lua.id(), "lua");
/// assert_eq!(Language::Js.baseline(), "rquickjs");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// Lua 5.4, through polyplug-lua and mlua.
    Lua,
    /// JavaScript, through polyplug-js and rquickjs (QuickJS).
    Js,
    /// Python, through polyplug-python and pyo3 (the machine's CPython
    /// 3.11).
    Py,
}

impl Language {
    /// Every one, in the order the report prints them.
    ///
    /// ```
    /// assert_eq!(polyplug_benches::script::Language::ALL.len(), 3);
    /// ```
    pub const ALL: [Language; 3] = [Language::Lua, Language::Js, Language::Py];

    /// The ones whose calls from two threads run in parallel, measured by
    /// the scaling arms: not Python, whose calls serialise on the GIL.
    ///
    /// ```
    /// use polyplug_benches::script::Language;
    /// assert!(!Language::SCALING.contains(&Language::Py));
    /// ```
    pub const SCALING: [Language; 2] = [Language::Lua, Language::Js];

    /// The prefix of the language's criterion groups (`lua_call`,
    /// `js_scaling`).
    ///
    /// ```
    /// assert_eq!(polyplug_benches::script::Language::Js.id(), "js");
    /// ```
    pub fn id(self) -> &'static str {
        match self {
            Language::Lua => "lua",
            Language::Js => "js",
            Language::Py => "py",
        }
    }

    /// The id of the baseline arm: the engine's own Rust API.
    ///
    /// ```
    /// assert_eq!(polyplug_benches::script::Language::Lua.baseline(), "mlua");
    /// ```
    pub fn baseline(self) -> &'static str {
        match self {
            Language::Lua => "mlua",
            Language::Js => "rquickjs",
            Language::Py => "pyo3",
        }
    }

    /// The script's text.
    ///
    /// ```
    /// use polyplug_benches::script::{Language, LUA_SOURCE};
    ///
    /// assert_eq!(Language::Lua.source(), LUA_SOURCE);
    /// ```
    pub fn source(self) -> &'static str {
        match self {
            Language::Lua => LUA_SOURCE,
            Language::Js => JS_SOURCE,
            Language::Py => PY_SOURCE,
        }
    }

    fn loader(self) -> &'static str {
        match self {
            Language::Lua => "lua",
            Language::Js => "javascript",
            Language::Py => "python",
        }
    }

    fn file(self) -> &'static str {
        match self {
            Language::Lua => "counter.lua",
            Language::Js => "counter.js",
            Language::Py => "counter.py",
        }
    }
}

/// Distinguishes the bundle directories of one process.
static NEXT_BUNDLE: AtomicU64 = AtomicU64::new(0);

/// A bundle directory holding a language's script and its manifest,
/// removed on drop.
///
/// ```
/// use polyplug_benches::script::{Bundle, Language};
///
/// let bundle = Bundle::write(Language::Js)?;
/// assert!(bundle.path().join("manifest.toml").is_file());
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct Bundle {
    dir: PathBuf,
}

impl Bundle {
    /// Writes `language`'s bundle into a fresh temporary directory.
    ///
    /// # Errors
    ///
    /// The directory or a file cannot be written.
    ///
    /// ```
    /// let bundle = polyplug_benches::script::Bundle::write(polyplug_benches::script::Language::Lua)?;
    /// assert!(bundle.path().join("counter.lua").is_file());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn write(language: Language) -> std::io::Result<Bundle> {
        let dir = std::env::temp_dir().join(format!(
            "polyplug-bench-{}-{}-{}",
            language.id(),
            std::process::id(),
            NEXT_BUNDLE.fetch_add(1, Ordering::Relaxed),
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let bundle = Bundle { dir };
        std::fs::write(bundle.dir.join(language.file()), language.source())?;
        std::fs::write(
            bundle.dir.join("manifest.toml"),
            format!(
                "[bundle]\nname = \"bench-{id}\"\nversion = \"1.0.0\"\nloader = \"{loader}\"\n\n\
                 [library]\n{os} = \"{file}\"\n\n\
                 [[provides]]\nname = \"{CONTRACT}\"\nversion = \"1.0.0\"\n",
                id = language.id(),
                loader = language.loader(),
                os = std::env::consts::OS,
                file = language.file(),
            ),
        )?;
        Ok(bundle)
    }

    /// The directory.
    ///
    /// ```
    /// # let bundle = polyplug_benches::script::Bundle::write(polyplug_benches::script::Language::Lua)?;
    /// assert!(bundle.path().is_dir());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn path(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Bundle {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A runtime with one language's loader (default configuration) and its
/// bundle loaded; the bundle directory lives as long as this.
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// let loaded = polyplug_benches::script::runtime(polyplug_benches::script::Language::Lua)?;
/// assert_eq!(loaded.runtime().bundles().len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Loaded {
    runtime: Runtime,
    _bundle: Bundle,
}

impl Loaded {
    /// The runtime.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// let loaded = polyplug_benches::script::runtime(polyplug_benches::script::Language::Js)?;
    /// let runtime: &polyplug::Runtime = loaded.runtime();
    /// # let _ = runtime;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }
}

/// A runtime with `language`'s loader and the script loaded as a bundle.
///
/// # Errors
///
/// The bundle cannot be written, or the runtime or the load failed.
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// use polyplug_benches::script::{Language, count, runtime};
///
/// let loaded = runtime(Language::Js)?;
/// assert_eq!(count(loaded.runtime(), 3)?, 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn runtime(language: Language) -> Result<Loaded, Box<dyn std::error::Error>> {
    let bundle = Bundle::write(language)?;
    let builder = Runtime::builder();
    let builder = match language {
        Language::Lua => builder.loader(LuaLoader::new(LuaConfig::default())),
        Language::Js => builder.loader(JsLoader::new(JsConfig::default())),
        Language::Py => builder.loader(PythonLoader::new(PythonConfig::default())),
    };
    let runtime = builder.build()?;
    runtime.load_bundle(bundle.path())?;
    Ok(Loaded {
        runtime,
        _bundle: bundle,
    })
}

/// Counts to `n` with `x = inc(x)` through polyplug: one guard, `inc`
/// resolved once as `extern "C" fn(u32) -> u32`, called by value, as the
/// wasm bench's polyplug arm does.
///
/// # Errors
///
/// `bench.counter` or `inc` is missing, or a call failed.
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// use polyplug_benches::script::{Language, count, runtime};
///
/// let loaded = runtime(Language::Lua)?;
/// assert_eq!(count(loaded.runtime(), 100)?, 100);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn count(runtime: &Runtime, n: u32) -> Result<u32, Box<dyn std::error::Error>> {
    let reader = runtime.reader();
    let guard = reader.pin();
    let inc = guard
        .find(CONTRACT, Version::new(1, 0, 0))?
        .typed::<extern "C" fn(u32) -> u32>("inc")?;
    let mut x = 0;
    for _ in 0..n {
        x = inc.try_call(std::hint::black_box(x))?;
    }
    Ok(x)
}

/// The Lua script in a state made with mlua alone: the loader's libraries,
/// memory limit and instruction hook (every
/// [`polyplug_lua::FUEL_STEP`] instructions, counting fuel), `inc` taken
/// from the returned table. The baseline of the Lua arms.
///
/// ```
/// let direct = polyplug_benches::script::LuaDirect::new()?;
/// assert_eq!(direct.count(10)?, 10);
/// # Ok::<(), mlua::Error>(())
/// ```
pub struct LuaDirect {
    inc: mlua::Function,
    fuel: Rc<Cell<u64>>,
    _lua: Lua,
}

impl std::fmt::Debug for LuaDirect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LuaDirect").finish_non_exhaustive()
    }
}

impl LuaDirect {
    /// A state with the script run.
    ///
    /// # Errors
    ///
    /// mlua's.
    ///
    /// ```
    /// let direct = polyplug_benches::script::LuaDirect::new()?;
    /// # let _ = direct;
    /// # Ok::<(), mlua::Error>(())
    /// ```
    pub fn new() -> mlua::Result<LuaDirect> {
        let libs = StdLib::COROUTINE
            | StdLib::TABLE
            | StdLib::STRING
            | StdLib::UTF8
            | StdLib::MATH
            | StdLib::PACKAGE;
        let lua = Lua::new_with(libs, LuaOptions::default())?;
        let fuel = Rc::new(Cell::new(LUA_FUEL));
        let meter = Rc::clone(&fuel);
        let step = u64::from(polyplug_lua::FUEL_STEP);
        lua.set_hook(
            HookTriggers::new().every_nth_instruction(polyplug_lua::FUEL_STEP),
            move |_, _| {
                let left = meter.get();
                if left < step {
                    return Err(mlua::Error::runtime("instruction budget exhausted"));
                }
                meter.set(left - step);
                Ok(VmState::Continue)
            },
        )?;
        lua.set_memory_limit(MEMORY_BYTES)?;
        let returned: Table = lua.load(LUA_SOURCE).set_name("@counter.lua").eval()?;
        let inc = returned
            .get::<Table>("contracts")?
            .get::<Table>(1)?
            .get::<Table>("functions")?
            .get::<Table>("inc")?
            .get::<mlua::Function>("fn")?;
        Ok(LuaDirect {
            inc,
            fuel,
            _lua: lua,
        })
    }

    /// Counts to `n` with `x = inc(x)`, refuelled first.
    ///
    /// # Errors
    ///
    /// A Lua error, or the fuel running out.
    ///
    /// ```
    /// # let direct = polyplug_benches::script::LuaDirect::new()?;
    /// assert_eq!(direct.count(10)?, 10);
    /// # Ok::<(), mlua::Error>(())
    /// ```
    pub fn count(&self, n: u32) -> mlua::Result<u32> {
        self.fuel.set(LUA_FUEL);
        let mut x = 0;
        for _ in 0..n {
            x = self.inc.call::<u32>(std::hint::black_box(x))?;
        }
        Ok(x)
    }
}

/// The JavaScript module in a QuickJS runtime and context made with
/// rquickjs alone: the loader's memory and stack limits and a fuel-counting
/// interrupt handler, `inc` taken from the module's `contracts` export.
/// The baseline of the JavaScript arms.
///
/// ```
/// let direct = polyplug_benches::script::JsDirect::new()?;
/// assert_eq!(direct.count(10)?, 10);
/// # Ok::<(), rquickjs::Error>(())
/// ```
pub struct JsDirect {
    // Field order is drop order: the function before its context before
    // the runtime.
    inc: Persistent<Function<'static>>,
    context: Context,
    fuel: Rc<Cell<u64>>,
    _runtime: rquickjs::Runtime,
}

impl std::fmt::Debug for JsDirect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsDirect").finish_non_exhaustive()
    }
}

impl JsDirect {
    /// A runtime and context with the module evaluated.
    ///
    /// # Errors
    ///
    /// rquickjs's.
    ///
    /// ```
    /// let direct = polyplug_benches::script::JsDirect::new()?;
    /// # let _ = direct;
    /// # Ok::<(), rquickjs::Error>(())
    /// ```
    pub fn new() -> rquickjs::Result<JsDirect> {
        let runtime = rquickjs::Runtime::new()?;
        runtime.set_memory_limit(MEMORY_BYTES);
        let stack =
            polyplug_js::Budget::DEFAULT.recursion_depth * polyplug_js::STACK_BYTES_PER_FRAME;
        runtime.set_max_stack_size(usize::try_from(stack).unwrap_or(usize::MAX));
        let fuel = Rc::new(Cell::new(JS_CHECKS));
        let meter = Rc::clone(&fuel);
        runtime.set_interrupt_handler(Some(Box::new(move || {
            let left = meter.get();
            if left == 0 {
                return true;
            }
            meter.set(left - 1);
            false
        })));
        let context = Context::full(&runtime)?;
        let inc = context.with(|ctx| -> rquickjs::Result<_> {
            let (module, promise) =
                Module::declare(ctx.clone(), "counter.js", JS_SOURCE)?.eval()?;
            promise.finish::<()>()?;
            let namespace = module.namespace()?;
            let contracts: rquickjs::Array<'_> = namespace.get("contracts")?;
            let entry: Object<'_> = contracts.get(0)?;
            let functions: Object<'_> = entry.get("functions")?;
            let spec: Object<'_> = functions.get("inc")?;
            let inc: Function<'_> = spec.get("fn")?;
            Ok(Persistent::save(&ctx, inc))
        })?;
        Ok(JsDirect {
            inc,
            context,
            fuel,
            _runtime: runtime,
        })
    }

    /// Counts to `n` with `x = inc(x)` inside one `Context::with`,
    /// refuelled first.
    ///
    /// # Errors
    ///
    /// An exception, or the fuel running out.
    ///
    /// ```
    /// # let direct = polyplug_benches::script::JsDirect::new()?;
    /// assert_eq!(direct.count(10)?, 10);
    /// # Ok::<(), rquickjs::Error>(())
    /// ```
    pub fn count(&self, n: u32) -> rquickjs::Result<u32> {
        self.fuel.set(JS_CHECKS);
        self.context.with(|ctx| {
            let inc = self.inc.clone().restore(&ctx)?;
            let mut x = 0u32;
            for _ in 0..n {
                x = inc.call::<_, u32>((std::hint::black_box(x),))?;
            }
            Ok(x)
        })
    }
}

/// The Python script run with pyo3 alone into a module of its own, `inc`
/// taken from its `CONTRACTS`. The baseline of the Python arm: no time
/// limit (polyplug's watchdog has no counterpart here) and the GIL taken
/// once per count, where polyplug takes it for each call so that other
/// threads can call between.
///
/// ```
/// let direct = polyplug_benches::script::PyDirect::new()?;
/// assert_eq!(direct.count(10)?, 10);
/// # Ok::<(), pyo3::PyErr>(())
/// ```
#[derive(Debug)]
pub struct PyDirect {
    inc: Py<PyAny>,
}

impl PyDirect {
    /// The interpreter started as polyplug's own if it was not
    /// ([`polyplug_python::initialize`]), the script run.
    ///
    /// # Errors
    ///
    /// The script raised, or has no `inc`.
    ///
    /// ```
    /// let direct = polyplug_benches::script::PyDirect::new()?;
    /// # let _ = direct;
    /// # Ok::<(), pyo3::PyErr>(())
    /// ```
    pub fn new() -> PyResult<PyDirect> {
        // One interpreter for both arms, polyplug's own, so that the
        // polyplug arm's bundle loads in the same process.
        polyplug_python::initialize();
        Python::attach(|py| {
            let source = std::ffi::CString::new(PY_SOURCE)
                .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
            let module = PyModule::from_code(py, &source, c"counter.py", c"bench_counter")?;
            let inc = module
                .getattr("CONTRACTS")?
                .get_item(0)?
                .get_item("functions")?
                .get_item("inc")?
                .get_item("fn")?;
            Ok(PyDirect { inc: inc.unbind() })
        })
    }

    /// Counts to `n` with `x = inc(x)` inside one `Python::attach`.
    ///
    /// # Errors
    ///
    /// An exception, or a result that is not a `u32`.
    ///
    /// ```
    /// # let direct = polyplug_benches::script::PyDirect::new()?;
    /// assert_eq!(direct.count(10)?, 10);
    /// # Ok::<(), pyo3::PyErr>(())
    /// ```
    pub fn count(&self, n: u32) -> PyResult<u32> {
        Python::attach(|py| {
            let inc = self.inc.bind(py);
            let mut x = 0u32;
            for _ in 0..n {
                x = inc.call1((std::hint::black_box(x),))?.extract()?;
            }
            Ok(x)
        })
    }

    /// Counts to `n` with `x = inc(x)`, each call in its own
    /// `Python::attach`: the GIL taken and released per call, as polyplug
    /// does so that other threads can call between.
    ///
    /// # Errors
    ///
    /// An exception, or a result that is not a `u32`.
    ///
    /// ```
    /// # let direct = polyplug_benches::script::PyDirect::new()?;
    /// assert_eq!(direct.count_attached(10)?, 10);
    /// # Ok::<(), pyo3::PyErr>(())
    /// ```
    pub fn count_attached(&self, n: u32) -> PyResult<u32> {
        let mut x = 0u32;
        for _ in 0..n {
            x = Python::attach(|py| {
                self.inc
                    .bind(py)
                    .call1((std::hint::black_box(x),))?
                    .extract()
            })?;
        }
        Ok(x)
    }
}
