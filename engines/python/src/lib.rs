//! polyplug-python: plugins written in Python, loaded by polyplug like
//! native ones, run by the machine's CPython 3.11 (through pyo3) under a
//! time limit per call.
//!
//! # The problem
//!
//! Some plugins are best written in Python: small, changed often, written
//! by people who do not ship native code, using Python's standard
//! library. The host still wants what polyplug gives native plugins:
//! versioned contracts, typed calls from any thread, hot reload while
//! threads call, unload with stale handles, and a plugin that loops must
//! not stall the host.
//!
//! # The concepts
//!
//! - [`PythonLoader`] is a [`polyplug::loader::Loader`] for bundles with
//!   `loader = "python"`; a host adds it with
//!   `Runtime::builder().loader(PythonLoader::new(PythonConfig::default()))`.
//!   The manifest's `[library]` entry names the script, which the runtime
//!   reads and checks against `library.sha256` as for any bundle.
//! - The script runs once per load, in a module of its own, and registers
//!   its contracts with a module-level `CONTRACTS` list (the shape of the
//!   Lua engine's table), with the `@polyplug.export` decorator, or both:
//!
//!   ```python
//!   import polyplug
//!
//!   @polyplug.export("demo.counter", "1.0.0", "u32(u32)")
//!   def inc(x):
//!       return x + 1
//!
//!   CONTRACTS = [
//!       {"name": "demo.counter", "version": "1.0.0",
//!        "functions": {"greet": {"sig": "string(str)", "fn": lambda name: "hello " + name}}},
//!   ]
//!   ```
//!
//!   `export(contract, version, sig, name=None)` registers the function
//!   under its own name unless `name` is given. Each contract must be
//!   declared in the manifest's `[[provides]]`; signatures use polyplug's
//!   typed grammar, and each function must accept the number of arguments
//!   its signature gives, else the load fails naming the function.
//! - **Values.** Integers arrive as `int`, floats as `float`, `str` as
//!   `str`, `bytes` as `bytes`; a `string` result is a `str`, a `buf`
//!   result `bytes` or `bytearray`. A result that does not fit its
//!   declared type (`-1` for `u32`, `1.5` for `i64`, a `str` for `u32`) is
//!   an `ERR_TRAP` naming the function, never wrapped.
//! - **Imports.** `import name` finds `name.py` in the bundle directory
//!   first (a fresh module per load, so a reload picks up edits), then
//!   the standard library and whatever the interpreter's `sys.path`
//!   holds. Files imported are not covered by `library.sha256`; in a
//!   signed bundle they are covered by its signature, and read from the
//!   bytes the check read, never from the directory again.
//! - **The `polyplug` module.** `polyplug.find(name, "1.0.0")` (or a
//!   major number) gives a handle to any loaded contract of any language,
//!   `polyplug.call(handle, "fn", "u32(u32)", ...)` calls one of its typed
//!   functions (releasing the GIL meanwhile), `polyplug.log(level,
//!   message)` logs for the bundle. A failed find or call raises
//!   `RuntimeError`.
//! - [`Budget`]: from the manifest's `[limits]`, with the loader's
//!   defaults and the host's ceilings ([`PythonConfig`]). `limits.fuel` is
//!   read as time, [`FUEL_PER_MS`] to the millisecond: a call, and the
//!   script's run at load, that runs longer gets `polyplug.BudgetExceeded`
//!   raised in it by a watchdog (`PyThreadState_SetAsyncExc`), raised
//!   again every few milliseconds if the script catches it. The recursion
//!   limit is the interpreter's (`sys.setrecursionlimit`, from
//!   [`PythonConfig::recursion_limit`]); a `RecursionError` is a budget
//!   fault.
//!
//! # What Python cannot enforce
//!
//! Python plugins are **trusted code**. There is no sandbox: a script can
//! import `os`, open files, start processes, and change the interpreter
//! every Python plugin shares. CPython 3.11 cannot bound one plugin's
//! memory, and its recursion limit is one for the whole interpreter. So
//! a manifest asking for `limits.memory_pages`, `limits.recursion_depth`
//! or `limits.table_elements` is refused (`ERR_UNSUPPORTED`, the error
//! names the field) rather than silently ignored. The time limit stops
//! Python code between bytecodes: a call blocked inside C code (a
//! `time.sleep`, a read) is stopped only when it returns to Python.
//!
//! # Threads and the GIL
//!
//! CPython 3.11 runs one thread's Python code at a time: calls into
//! Python plugins from many threads are **serialised on the GIL**, the
//! only lock on the call path. Each load is one module, shared by every
//! thread. Each calling thread keeps one CPython thread state for its
//! life (made on its first call, freed when it exits), so a call only
//! takes and releases the GIL. [`PythonStats`] counts loads, modules and
//! thread states.
//!
//! # Linking
//!
//! pyo3 builds against the interpreter `PYO3_PYTHON` names, else the
//! `python3` on `PATH`; the process must load that interpreter's
//! `libpython3.11.so`. This crate's build script adds an rpath to that
//! library's directory to its own tests, examples and benches, and
//! exports it to the build scripts of crates that declare this one as a
//! dependency (`DEP_POLYPLUG_PYTHON_LIB_DIR`), which add the same rpath
//! to their binaries (`cargo:rustc-link-arg=-Wl,-rpath,<dir>`). Without
//! it, a machine with two CPython 3.11 builds (pyenv's and the system's)
//! may load the other one. Check with `ldd` on the binary.
//!
//! # Guarantees
//!
//! - A script that raises, recurses too deep or runs past its time limit
//!   returns a [`CallError`](polyplug::CallError) (`ERR_TRAP`,
//!   `ERR_BUDGET`) naming bundle, contract, function, and the script's
//!   `file:line` and message; the host keeps serving.
//! - A script that does not parse, raises, or runs past its time while
//!   loading is a [`LoadError`](polyplug::LoadError) naming the file and
//!   line; a failed reload leaves the old version serving.
//! - A bundle load started from inside a call into Python, on the same
//!   thread, is refused with `ERR_UNSUPPORTED`.
//! - The interpreter is this crate's own: the first load starts it. In a
//!   process whose interpreter was already running (a Python program that
//!   uses polyplug through its C API, a host that embeds CPython itself),
//!   every Python load is refused with `ERR_UNSUPPORTED` naming the
//!   loader, since that interpreter frees its threads' states on its own
//!   schedule. A Rust host that embeds CPython too calls [`initialize`]
//!   before its own first use of Python.
//! - Everything the runtime guarantees for native bundles holds: the
//!   registration checks, publish, reload and unload are the runtime's own
//!   code, not this crate's.
//!
//! # Stateful contracts
//!
//! A contract whose `CONTRACTS` entry gives `new` is stateful:
//! [`create_instance`](polyplug::ContractRef::create_instance) calls
//! `new()` (a class, usually), whose result is the instance's object, and
//! each of the contract's functions is a *method* of that object. Its
//! function entries give only `sig`:
//!
//! ```python
//! class Counter:
//!     def __init__(self):
//!         self.n = 0
//!
//!     def bump(self):
//!         self.n += 1
//!         return self.n
//!
//! CONTRACTS = [{"name": "demo.counter", "version": "1.0.0", "new": Counter,
//!               "functions": {"bump": {"sig": "u32()"}}}]
//! ```
//!
//! At load, `new` runs once (under the time limit): a `new` that is not
//! callable or raises, an object lacking one of the methods or with one
//! that cannot take its signature's arguments, and an `fn` in a stateful
//! contract are a [`LoadError`](polyplug::LoadError) naming the file, the
//! contract and the function. A method called without an instance is an
//! `ERR_BAD_ARGUMENT` fault.
//!
//! - Each method call gets the time limit of a call; at most
//!   `limits.instances` instances of one load live at once
//!   ([`Budget::instances`]). A method that fails (raises, runs past its
//!   time) frees its object: the instance is unusable (`ERR_TRAP`) and a
//!   new one must be made.
//! - As for every engine, an instance keeps the version that made it:
//!   after a reload its calls still run the old script's object, and
//!   after an unload the load stays until its last instance is dropped.
//! - Unlike a Lua or JavaScript instance, which lives in its thread's
//!   state, a Python instance holds its object: the interpreter is one
//!   for the process, so the instance is called and dropped on any
//!   thread, and a drop frees the object at once (taking the GIL).
//!   [`PythonStats`] counts instances made and freed.
//! - An entry that gives `new` may also give `"save"` and `"restore"`
//!   (both or neither): then [`Instance::upgrade`](polyplug::Instance::upgrade)
//!   hands an instance's state over to the newest loaded version of the
//!   contract, of any language. `save(obj)` returns the state as `bytes`
//!   (a `bytearray` or `memoryview` is copied to `bytes`), in the
//!   contract's own format; `restore(state)` gets those `bytes` and
//!   returns a new object, as `new` does, counted against
//!   `limits.instances`. Both run under the time limit of a call; one that
//!   raises, runs past its time or returns the wrong thing fails the
//!   handover at its step, naming the contract, the step and the script's
//!   `file:line`, and the old instance keeps serving, its object kept.
//!
//! # Example
//!
//! ```
//! # if polyplug::MODEL_BUILD { return Ok(()); }
//! use polyplug::{Runtime, Version};
//! use polyplug_python::{PythonConfig, PythonLoader};
//!
//! let dir = std::env::temp_dir().join(format!("polyplug-python-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! std::fs::write(dir.join("answer.py"), r#"
//! import polyplug
//!
//! @polyplug.export("demo.answer", "1.0.0", "u32()")
//! def answer():
//!     return 42
//! "#)?;
//! std::fs::write(dir.join("manifest.toml"), format!(
//!     "[bundle]\nname = \"answer\"\nversion = \"1.0.0\"\nloader = \"python\"\n\
//!      [library]\n{} = \"answer.py\"\n[[provides]]\nname = \"demo.answer\"\nversion = \"1.0.0\"\n",
//!     std::env::consts::OS,
//! ))?;
//! let runtime = Runtime::builder().loader(PythonLoader::new(PythonConfig::default())).build()?;
//! runtime.load_bundle(&dir)?;
//! let reader = runtime.reader();
//! let guard = reader.pin();
//! let answer = guard.find("demo.answer", Version::new(1, 0, 0))?.typed::<extern "C" fn() -> u32>("answer")?;
//! assert_eq!(answer.try_call()?, 42);
//! # drop(guard);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod budget;
mod convert;
mod host;
mod instance;
mod loader;
mod threads;

pub use budget::{Budget, FUEL_PER_MS, PythonConfig};

/// Starts the interpreter as this crate's own, if no one has started it;
/// returns whether it is this crate's own (and Python bundles can load).
///
/// Python bundles load only in an interpreter this crate started (see the
/// guarantees above). A host that also embeds CPython itself, through pyo3
/// say, calls this before its own first use of Python; the interpreter is
/// then one, shared, and never finalized.
///
/// ```
/// # if polyplug::MODEL_BUILD { return; }
/// assert!(polyplug_python::initialize());
/// // From here on the host may use pyo3 (`Python::attach`) as well.
/// ```
pub fn initialize() -> bool {
    threads::interpreter_is_ours()
}
pub use loader::{PythonLoader, PythonStats, StatsHandle};
