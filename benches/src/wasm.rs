//! WebAssembly: polyplug's wasm loader against wasmi used directly, on the
//! same module (the Rust→wasm32 fixture `wasm-add`).
//!
//! | arm | what | baseline |
//! |---|---|---|
//! | `wasm_call/polyplug` | `inc` counted 10,000 times through a resolved `Typed` | `wasm_call/wasmi` |
//! | `wasm_call/wasmi` | the same export through wasmi's `TypedFunc::call`, fuel metering on as in the loader | floor |
//! | `wasm_lifecycle/load`, `reload` | `load_bundle` (unload not timed), `reload_bundle` + drain | `wasm_lifecycle/wasmi` |
//! | `wasm_lifecycle/load_cached`, `reload_cached` | the same with the loader's module cache: the module is not compiled again | `wasm_lifecycle/wasmi` |
//! | `wasm_lifecycle/wasmi` | wasmi `Module::new` + instantiate + `polyplug_init` of the same bytes | floor |
//! | `wasm_scaling/polyplug/N` | N threads each calling `inc` through polyplug | `wasm_scaling/polyplug/1` |
//! | `wasm_scaling/wasmi/N` | N threads each calling `inc` through `TypedFunc` in its own store, one engine | `wasm_scaling/wasmi/1` |
//!
//! # Example
//!
//! ```
//! use polyplug_benches::wasm::{Direct, INC_EXPORT, module_bytes};
//!
//! let direct = Direct::new(&module_bytes()?)?;
//! assert_eq!(direct.count(100)?, 100);
//! assert!(INC_EXPORT.starts_with("test.add@1.0.0/inc"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::cell::RefCell;
use std::path::PathBuf;

use polyplug::{Runtime, Version};
use polyplug_wasm::{WasmConfig, WasmLoader};
use wasmi::{Config, Engine, Linker, Module, Store, TypedFunc};

/// Calls per measured iteration of the call arms.
///
/// ```
/// assert_eq!(polyplug_benches::wasm::CALLS, 10_000);
/// ```
pub const CALLS: u32 = 10_000;

/// The export of `inc` in the module, as the loader reads it.
///
/// ```
/// assert!(polyplug_benches::wasm::INC_EXPORT.ends_with(":u32(u32)"));
/// ```
pub const INC_EXPORT: &str = "test.add@1.0.0/inc:u32(u32)";

/// The fixture bundle every arm uses.
///
/// ```
/// assert!(polyplug_benches::wasm::bundle().join("manifest.toml").is_file());
/// ```
pub fn bundle() -> PathBuf {
    polyplug_fixtures::bundle("wasm-add")
}

/// The module's bytes.
///
/// # Errors
///
/// The fixture cannot be read.
///
/// ```
/// assert!(polyplug_benches::wasm::module_bytes()?.starts_with(b"\0asm"));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn module_bytes() -> std::io::Result<Vec<u8>> {
    std::fs::read(polyplug_fixtures::library("wasm-add"))
}

/// Fuel a wasmi store is given: what the loader's default budget gives
/// each call, for each call of a count, given before the count.
const FUEL: u64 = 10_000_000;

/// A wasmi engine configured as the loader configures its own: fuel
/// metering on.
fn engine() -> Engine {
    let mut config = Config::default();
    config.consume_fuel(true);
    Engine::new(&config)
}

/// What a host writing wasmi by hand does to get the module ready:
/// compile, link the one import, instantiate (start function), run
/// `polyplug_init`. Returns the store and instance.
fn ready(engine: &Engine, bytes: &[u8]) -> Result<(Store<()>, wasmi::Instance), wasmi::Error> {
    instantiate(engine, &Module::new(engine, bytes)?)
}

/// Instantiates a compiled `module` and runs `polyplug_init`.
fn instantiate(
    engine: &Engine,
    module: &Module,
) -> Result<(Store<()>, wasmi::Instance), wasmi::Error> {
    let mut store = Store::new(engine, ());
    store.set_fuel(FUEL)?;
    let mut linker = Linker::<()>::new(engine);
    linker.func_wrap("polyplug", "log", |_: i32, _: i32, _: i32| {})?;
    let instance = linker.instantiate_and_start(&mut store, module)?;
    let init = instance.get_typed_func::<(), i32>(&store, "polyplug_init")?;
    init.call(&mut store, ())?;
    Ok((store, instance))
}

/// The baseline of the lifecycle arms: wasmi compile + instantiate +
/// `polyplug_init` of `bytes`, from scratch.
///
/// # Errors
///
/// wasmi's.
///
/// ```
/// let bytes = polyplug_benches::wasm::module_bytes()?;
/// polyplug_benches::wasm::compile_and_instantiate(&bytes)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn compile_and_instantiate(bytes: &[u8]) -> Result<(), wasmi::Error> {
    ready(&engine(), bytes).map(drop)
}

/// The module instantiated by wasmi alone, with `inc` as a `TypedFunc`:
/// the baseline of the call arms.
///
/// ```
/// let direct = polyplug_benches::wasm::Direct::new(&polyplug_benches::wasm::module_bytes()?)?;
/// # let _ = direct;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Direct {
    store: RefCell<Store<()>>,
    inc: TypedFunc<u32, u32>,
}

impl std::fmt::Debug for Direct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Direct").finish_non_exhaustive()
    }
}

impl Direct {
    /// Compiles and instantiates `bytes`.
    ///
    /// # Errors
    ///
    /// wasmi's.
    ///
    /// ```
    /// # let bytes = polyplug_benches::wasm::module_bytes()?;
    /// let direct = polyplug_benches::wasm::Direct::new(&bytes)?;
    /// # let _ = direct;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(bytes: &[u8]) -> Result<Direct, wasmi::Error> {
        Direct::with(ready(&engine(), bytes)?)
    }

    fn with((store, instance): (Store<()>, wasmi::Instance)) -> Result<Direct, wasmi::Error> {
        let inc = instance.get_typed_func::<u32, u32>(&store, INC_EXPORT)?;
        Ok(Direct {
            store: RefCell::new(store),
            inc,
        })
    }

    /// Counts to `n` with `x = inc(x)`.
    ///
    /// # Errors
    ///
    /// A trap, or fuel running out (the store is given `n` calls' budget
    /// first).
    ///
    /// ```
    /// # let direct = polyplug_benches::wasm::Direct::new(&polyplug_benches::wasm::module_bytes()?)?;
    /// assert_eq!(direct.count(10)?, 10);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn count(&self, n: u32) -> Result<u32, wasmi::Error> {
        let mut store = self.store.borrow_mut();
        // One call's budget per call, set once: a long count (criterion
        // runs millions of calls in one batch) never runs dry, and the
        // loop pays no more than one top-up, as before.
        store.set_fuel(FUEL.saturating_mul(u64::from(n.max(1))))?;
        let mut x = 0;
        for _ in 0..n {
            x = self.inc.call(&mut *store, std::hint::black_box(x))?;
        }
        Ok(x)
    }
}

/// One compiled module whose instances share its engine, as the loader's
/// per-thread instances of one load do: the reference for
/// `wasm_scaling/wasmi/N`.
///
/// ```
/// let shared = polyplug_benches::wasm::Shared::new(&polyplug_benches::wasm::module_bytes()?)?;
/// assert_eq!(shared.instance()?.count(5)?, 5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Shared {
    engine: Engine,
    module: Module,
}

impl Shared {
    /// Compiles `bytes` once.
    ///
    /// # Errors
    ///
    /// wasmi's.
    ///
    /// ```
    /// # let bytes = polyplug_benches::wasm::module_bytes()?;
    /// let shared = polyplug_benches::wasm::Shared::new(&bytes)?;
    /// # let _ = shared;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(bytes: &[u8]) -> Result<Shared, wasmi::Error> {
        let engine = engine();
        let module = Module::new(&engine, bytes)?;
        Ok(Shared { engine, module })
    }

    /// A new instance with its own store, on the shared engine.
    ///
    /// # Errors
    ///
    /// wasmi's.
    ///
    /// ```
    /// # let shared = polyplug_benches::wasm::Shared::new(&polyplug_benches::wasm::module_bytes()?)?;
    /// let direct = shared.instance()?;
    /// # let _ = direct;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn instance(&self) -> Result<Direct, wasmi::Error> {
        Direct::with(instantiate(&self.engine, &self.module)?)
    }
}

/// A runtime with the wasm loader and the module loaded as bundle
/// `wasm-add`.
///
/// # Errors
///
/// The runtime or the load failed.
///
/// ```
/// let runtime = polyplug_benches::wasm::runtime()?;
/// assert_eq!(runtime.bundles().len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn runtime() -> Result<Runtime, Box<dyn std::error::Error>> {
    let runtime = Runtime::builder()
        .loader(WasmLoader::new(WasmConfig::default()))
        .build()?;
    runtime.load_bundle(bundle())?;
    Ok(runtime)
}

/// [`runtime`] with the loader's module cache (`WasmLoader::module_cache`).
///
/// # Errors
///
/// The runtime or the load failed.
///
/// ```
/// let runtime = polyplug_benches::wasm::cached_runtime()?;
/// assert_eq!(runtime.bundles().len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn cached_runtime() -> Result<Runtime, Box<dyn std::error::Error>> {
    let runtime = Runtime::builder()
        .loader(WasmLoader::new(WasmConfig::default()).module_cache(4))
        .build()?;
    runtime.load_bundle(bundle())?;
    Ok(runtime)
}

/// Counts to `n` with `x = inc(x)` through polyplug: one guard, `inc`
/// resolved once, called by value.
///
/// # Errors
///
/// `test.add` or `inc` is missing, or a call failed.
///
/// ```
/// let runtime = polyplug_benches::wasm::runtime()?;
/// assert_eq!(polyplug_benches::wasm::count(&runtime, 100)?, 100);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn count(runtime: &Runtime, n: u32) -> Result<u32, Box<dyn std::error::Error>> {
    let reader = runtime.reader();
    let guard = reader.pin();
    let inc = guard
        .find("test.add", Version::new(1, 0, 0))?
        .typed::<extern "C" fn(u32) -> u32>("inc")?;
    let mut x = 0;
    for _ in 0..n {
        x = inc.try_call(std::hint::black_box(x))?;
    }
    Ok(x)
}
