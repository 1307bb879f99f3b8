//! The runtime and its write side: create, destroy, load, reload, unload,
//! drain, reclaim, and what a host asks about it.
//!
//! Every write is [`Runtime`]'s own: this file converts arguments and
//! errors, nothing more. Writes may be called from any thread, at the same
//! time as reads on other threads; they serialise on the runtime's writer
//! lock, and readers never wait for them.

use std::ffi::c_char;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use engine::{BundleId, Runtime};

use polyplug_js::{JsConfig, JsLoader};
use polyplug_lua::{LuaConfig, LuaLoader};
use polyplug_python::{PythonConfig, PythonLoader};
use polyplug_wasm::{WasmConfig, WasmLoader};

use crate::error::guarded;
use crate::object::{
    Tag, Tagged, c_path, c_str, check_list, hand_out, live, put, put_list, put_optional, take_back,
};
use crate::status::{
    Failure, POLYPLUG_ERR_BUSY, POLYPLUG_ERR_IO, POLYPLUG_ERR_UNKNOWN_BUNDLE,
    POLYPLUG_ERR_UNSUPPORTED_LOADER, polyplug_status,
};

/// A bundle id as the C API passes it: [`BundleId::to_raw`], the issuing
/// runtime's serial in the high 32 bits and the bundle's number in the low
/// 32 bits, so that another runtime refuses it
/// (`POLYPLUG_ERR_FOREIGN_BUNDLE`). 0, never an id, past 2³² runtimes in the
/// process or 2³² loads in one runtime.
pub(crate) fn bundle_raw(id: BundleId) -> u64 {
    id.to_raw().unwrap_or(0)
}

/// A polyplug runtime: its bundles, contracts and events. Opaque; made by
/// `polyplug_runtime_new`, destroyed by `polyplug_runtime_destroy`. Its
/// functions may be called from any thread, concurrently.
///
/// ```c
/// polyplug_runtime *runtime;
/// polyplug_runtime_new(&runtime);
/// // ...
/// polyplug_runtime_destroy(runtime);
/// ```
#[repr(C)]
#[derive(Debug)]
pub struct polyplug_runtime {
    tag: Tag,
    /// Live readers of this runtime: each borrows `runtime` (\[C2\]).
    pub(crate) readers: AtomicUsize,
    pub(crate) runtime: Runtime,
}

// SAFETY: [C1] `#[repr(C)]` with the tag first; the tag value is unique.
unsafe impl Tagged for polyplug_runtime {
    const TAG: u64 = 0x7070_5f72_756e_7469; // "pp_runti"
    const KIND: &'static str = "polyplug_runtime";
    fn tag(&self) -> &Tag {
        &self.tag
    }
}

/// Counts of libraries a runtime opened and closed.
///
/// ```c
/// polyplug_library_stats stats;
/// polyplug_library_stats_get(runtime, &stats);
/// assert(stats.unmapped + stats.still_mapped == stats.closed);
/// ```
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct polyplug_library_stats {
    /// Libraries opened (each load or reload opens one).
    pub opened: u64,
    /// Libraries closed with `dlclose`.
    pub closed: u64,
    /// Closed libraries whose image left the address space.
    pub unmapped: u64,
    /// Closed libraries the dynamic loader kept mapped.
    pub still_mapped: u64,
}

/// The runtime behind the argument `arg`.
///
/// # Safety
///
/// \[C1\] as for [`live`].
pub(crate) unsafe fn runtime<'a>(
    rt: *const polyplug_runtime,
    arg: &str,
) -> Result<&'a polyplug_runtime, Failure> {
    // SAFETY: [C1] forwarded.
    unsafe { live(rt, arg) }
}

/// Makes a runtime with no bundles and its own private directory for
/// library copies, and writes it to `*out`.
///
/// Ownership: the caller owns the runtime and destroys it with
/// `polyplug_runtime_destroy`. Two runtimes share nothing.
///
/// Errors: `POLYPLUG_ERR_NULL` (`out`), `POLYPLUG_ERR_IO` (the private
/// directory could not be made).
///
/// # Safety
///
/// `out` is NULL or writable for one pointer (\[C4\]).
///
/// ```c
/// polyplug_runtime *runtime;
/// if (polyplug_runtime_new(&runtime) != POLYPLUG_OK) return 1;
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_runtime_new(out: *mut *mut polyplug_runtime) -> polyplug_status {
    // SAFETY: [C4] NULL options are the defaults; `out` as documented.
    unsafe { polyplug_runtime_new_with(std::ptr::null(), out) }
}

/// `polyplug_options.loaders`: add the WebAssembly loader (bundles with
/// `loader = "wasm"`, run by the wasmi interpreter with the default
/// budgets of polyplug-wasm and each bundle's `[limits]`).
///
/// ```c
/// polyplug_options options = {POLYPLUG_LOADER_WASM};
/// ```
pub const POLYPLUG_LOADER_WASM: u32 = 1;

/// `polyplug_options.loaders`: add the Lua loader (bundles with
/// `loader = "lua"`, run by Lua 5.4 with one state per calling thread,
/// the default budgets of polyplug-lua and each bundle's `[limits]`).
///
/// ```c
/// polyplug_options options = {POLYPLUG_LOADER_LUA | POLYPLUG_LOADER_JS};
/// ```
pub const POLYPLUG_LOADER_LUA: u32 = 2;

/// `polyplug_options.loaders`: add the JavaScript loader (bundles with
/// `loader = "javascript"`, one ES module run by QuickJS with one context
/// per calling thread, the default budgets of polyplug-js and each
/// bundle's `[limits]`).
///
/// ```c
/// polyplug_options options = {POLYPLUG_LOADER_JS};
/// ```
pub const POLYPLUG_LOADER_JS: u32 = 4;

/// `polyplug_options.loaders`: add the Python loader (bundles with
/// `loader = "python"`, run by the CPython 3.11 libpolyplug was built
/// against, one thread state per calling thread, calls serialised on the
/// GIL; Python plugins are trusted code, with no sandbox). libpolyplug
/// starts the interpreter on the first Python load. In a process that
/// already runs a Python interpreter (a Python host), a Python bundle's
/// load is refused with `POLYPLUG_ERR_CODE`, naming the loader:
/// Python owns that interpreter's thread states.
///
/// ```c
/// polyplug_options options = {POLYPLUG_LOADER_PYTHON};
/// ```
pub const POLYPLUG_LOADER_PYTHON: u32 = 8;

/// Every `POLYPLUG_LOADER_*` flag this library knows.
const KNOWN_LOADERS: u32 =
    POLYPLUG_LOADER_WASM | POLYPLUG_LOADER_LUA | POLYPLUG_LOADER_JS | POLYPLUG_LOADER_PYTHON;

/// How `polyplug_runtime_new_with` makes a runtime. All zero is what
/// `polyplug_runtime_new` makes: native bundles only.
///
/// ```c
/// polyplug_options options = {0};
/// options.loaders = POLYPLUG_LOADER_WASM; // native and WebAssembly bundles
/// ```
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct polyplug_options {
    /// The loaders added to the native one: `POLYPLUG_LOADER_*` flags.
    pub loaders: u32,
}

/// Makes a runtime as `options` say (NULL: the defaults, as
/// `polyplug_runtime_new`), and writes it to `*out`. With
/// `POLYPLUG_LOADER_WASM`, `POLYPLUG_LOADER_LUA`, `POLYPLUG_LOADER_JS` and
/// `POLYPLUG_LOADER_PYTHON` it loads WebAssembly, Lua, JavaScript and
/// Python bundles beside native ones;
/// their typed functions are called with `polyplug_fn_call`.
///
/// Ownership: as for `polyplug_runtime_new`.
///
/// Errors: `POLYPLUG_ERR_NULL` (`out`), `POLYPLUG_ERR_UNSUPPORTED_LOADER`
/// (a flag bit this library does not know), `POLYPLUG_ERR_IO`.
///
/// # Safety
///
/// `options` NULL or readable for one `polyplug_options`; `out` NULL or
/// writable for one pointer (\[C4\]).
///
/// ```c
/// polyplug_options options = {POLYPLUG_LOADER_WASM};
/// polyplug_runtime *runtime;
/// if (polyplug_runtime_new_with(&options, &runtime) != POLYPLUG_OK) return 1;
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_runtime_new_with(
    options: *const polyplug_options,
    out: *mut *mut polyplug_runtime,
) -> polyplug_status {
    guarded(|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let options = if options.is_null() {
            polyplug_options::default()
        } else {
            // SAFETY: [C4] non-NULL, readable for one polyplug_options by
            // the caller's promise; unaligned is allowed.
            unsafe { options.read_unaligned() }
        };
        let unknown = options.loaders & !KNOWN_LOADERS;
        if unknown != 0 {
            return Err(Failure::new(
                POLYPLUG_ERR_UNSUPPORTED_LOADER,
                format!("options.loaders: unknown loader flag bits {unknown:#x}"),
            ));
        }
        let mut builder = Runtime::builder();
        if options.loaders & POLYPLUG_LOADER_WASM != 0 {
            builder = builder.loader(WasmLoader::new(WasmConfig::default()));
        }
        if options.loaders & POLYPLUG_LOADER_LUA != 0 {
            builder = builder.loader(LuaLoader::new(LuaConfig::default()));
        }
        if options.loaders & POLYPLUG_LOADER_JS != 0 {
            builder = builder.loader(JsLoader::new(JsConfig::default()));
        }
        if options.loaders & POLYPLUG_LOADER_PYTHON != 0 {
            builder = builder.loader(PythonLoader::new(PythonConfig::default()));
        }
        let runtime = builder
            .build()
            .map_err(|e| Failure::new(POLYPLUG_ERR_IO, format!("cannot make a runtime: {e}")))?;
        let object = hand_out(polyplug_runtime {
            tag: Tag::new(polyplug_runtime::TAG),
            readers: AtomicUsize::new(0),
            runtime,
        });
        // SAFETY: [C4] checked non-NULL above.
        unsafe { put(out, "out", object) }
    })
}

/// Destroys a runtime: unloads everything and closes every library nothing
/// else keeps loaded (an instance keeps its library until it is destroyed).
///
/// Refused with `POLYPLUG_ERR_BUSY` while readers of it live: destroy each
/// reader, on its own thread, first. Subscriptions and listeners may
/// outlive it (they then see no more events); so may instances and
/// functions (a function then reports a stale contract).
///
/// Detected: NULL, a pointer to another kind of object, a runtime already
/// destroyed whose memory was not reused. Not detected: a call on this
/// runtime from another thread at the same time as its destruction (the
/// host must not do that).
///
/// # Safety
///
/// `runtime` is NULL or a runtime from `polyplug_runtime_new` (\[C1\]).
///
/// ```c
/// polyplug_reader_destroy(reader);   // each reader first, on its thread
/// polyplug_runtime_destroy(runtime);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_runtime_destroy(
    runtime: *mut polyplug_runtime,
) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C1] the host passes a handle from this library.
        let rt = unsafe { live::<polyplug_runtime>(runtime, "runtime") }?;
        // Acquire: pairs with the Release decrement in
        // `polyplug_reader_destroy`, so a reader's last use of the runtime
        // happens before the runtime is dropped ([C2]).
        let readers = rt.readers.load(Ordering::Acquire);
        if readers > 0 {
            return Err(Failure::new(
                POLYPLUG_ERR_BUSY,
                format!(
                    "runtime has {readers} live reader(s); destroy them (each on its own thread) first"
                ),
            ));
        }
        // SAFETY: [C1][C2] live (checked), no reader borrows it, not used
        // after this.
        drop(unsafe { take_back(runtime) });
        Ok(())
    })
}

/// Loads the bundle in directory `dir` (NUL-terminated; any bytes on
/// Unix): reads and checks its manifest, opens a private copy of its
/// library, checks the ABI, runs its entry point, checks what it registered,
/// and publishes all its contracts at once. On any error nothing changes.
/// Writes the new bundle's id to `*bundle` unless `bundle` is NULL.
///
/// Errors: `POLYPLUG_ERR_NULL`, `POLYPLUG_ERR_INVALID_HANDLE`, and the load
/// errors `POLYPLUG_ERR_BUNDLE` to `POLYPLUG_ERR_STORE_FULL`, each with a
/// message naming the bundle and what was wrong.
///
/// # Safety
///
/// `runtime` as for `polyplug_runtime_destroy`; `dir` NUL-terminated;
/// `bundle` NULL or writable (\[C1\], \[C4\]).
///
/// ```c
/// uint64_t id;
/// polyplug_load_bundle(runtime, "plugins/counter", &id);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_load_bundle(
    runtime: *const polyplug_runtime,
    dir: *const c_char,
    bundle: *mut u64,
) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C1] as documented.
        let rt = unsafe { self::runtime(runtime, "runtime") }?;
        // SAFETY: [C4] as documented.
        let dir = unsafe { c_path(dir, "dir") }?;
        let id = rt.runtime.load_bundle(dir)?;
        // SAFETY: [C4] as documented.
        unsafe { put_optional(bundle, bundle_raw(id)) };
        Ok(())
    })
}

/// Loads every bundle in the subdirectories of `dir`, providers first. A
/// cycle or a missing provider is reported before anything loads; if one
/// bundle fails, those this call loaded are unloaded again. Writes the
/// first `cap` ids to `ids` (in load order) and their number to `*count`
/// (unless `count` is NULL); `ids` may be NULL when `cap` is 0.
///
/// # Safety
///
/// `ids` writable for `cap` values; `count` NULL or writable; the rest as
/// for `polyplug_load_bundle` (\[C1\], \[C4\]).
///
/// ```c
/// uint64_t ids[16];
/// size_t count;
/// polyplug_load_dir(runtime, "plugins", ids, 16, &count);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_load_dir(
    runtime: *const polyplug_runtime,
    dir: *const c_char,
    ids: *mut u64,
    cap: usize,
    count: *mut usize,
) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C1] as documented.
        let rt = unsafe { self::runtime(runtime, "runtime") }?;
        // SAFETY: [C4] as documented.
        let dir = unsafe { c_path(dir, "dir") }?;
        check_list(ids, cap)?;
        let loaded: Vec<u64> = rt
            .runtime
            .load_dir(dir)?
            .into_iter()
            .map(bundle_raw)
            .collect();
        // SAFETY: [C4] as documented.
        unsafe { put_list(&loaded, ids, cap, count) }
    })
}

/// Reloads bundle `bundle`: from its own directory when `from` is NULL (a
/// library rebuilt in place), else from `from`, whose manifest must name
/// the same bundle. Its tables are swapped in one step: kept contract
/// handles reach the new version, readers never wait. On any error the old
/// version keeps serving, untouched.
///
/// # Safety
///
/// `from` NULL or NUL-terminated; the rest as for `polyplug_load_bundle`.
///
/// ```c
/// polyplug_reload_bundle(runtime, id, "plugins/counter-v2");
/// polyplug_reload_bundle(runtime, id, NULL); // rebuilt in place
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_reload_bundle(
    runtime: *const polyplug_runtime,
    bundle: u64,
    from: *const c_char,
) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C1] as documented.
        let rt = unsafe { self::runtime(runtime, "runtime") }?;
        let from = if from.is_null() {
            None
        } else {
            // SAFETY: [C4] non-NULL, NUL-terminated as documented.
            Some(unsafe { c_path(from, "from") }?)
        };
        rt.runtime
            .reload_bundle(BundleId::from_raw(bundle), from.as_deref())?;
        Ok(())
    })
}

/// Unloads bundle `bundle`. Refused (`POLYPLUG_ERR_HAS_DEPENDENTS`, naming
/// them) when loaded bundles require its contracts and nothing else
/// provides them. Its contract handles go stale; its library is closed once
/// no guard can reach it.
///
/// # Safety
///
/// As for `polyplug_load_bundle`.
///
/// ```c
/// polyplug_unload_bundle(runtime, id);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_unload_bundle(
    runtime: *const polyplug_runtime,
    bundle: u64,
) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C1] as documented.
        let rt = unsafe { self::runtime(runtime, "runtime") }?;
        rt.runtime.unload_bundle(BundleId::from_raw(bundle))?;
        Ok(())
    })
}

/// Unloads bundle `bundle` and, first, every bundle that depends on it.
/// Writes the first `cap` unloaded ids, in unload order, to `ids` and their
/// number to `*count` (unless NULL).
///
/// # Safety
///
/// As for `polyplug_load_dir`.
///
/// ```c
/// uint64_t gone[16];
/// size_t count;
/// polyplug_unload_cascade(runtime, id, gone, 16, &count);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_unload_cascade(
    runtime: *const polyplug_runtime,
    bundle: u64,
    ids: *mut u64,
    cap: usize,
    count: *mut usize,
) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C1] as documented.
        let rt = unsafe { self::runtime(runtime, "runtime") }?;
        check_list(ids, cap)?;
        let gone: Vec<u64> = rt
            .runtime
            .unload_cascade(BundleId::from_raw(bundle))?
            .into_iter()
            .map(bundle_raw)
            .collect();
        // SAFETY: [C4] as documented.
        unsafe { put_list(&gone, ids, cap, count) }
    })
}

/// Waits up to `timeout_ms` milliseconds until every table retired so far
/// has no readers left and is destroyed, then closes the libraries nothing
/// uses any more. `POLYPLUG_ERR_DRAIN_TIMEOUT` (with the number still held)
/// when guards still pin them; a guard held by the calling thread always
/// makes it time out. `POLYPLUG_ERR_REENTRANT` when called from plugin
/// code that a write of this runtime is running.
///
/// # Safety
///
/// As for `polyplug_unload_bundle`.
///
/// ```c
/// polyplug_unload_bundle(runtime, id);
/// polyplug_drain(runtime, 5000);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_drain(
    runtime: *const polyplug_runtime,
    timeout_ms: u64,
) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C1] as documented.
        let rt = unsafe { self::runtime(runtime, "runtime") }?;
        Ok(rt.runtime.drain(Duration::from_millis(timeout_ms))?)
    })
}

/// Reclaims retired tables and closes the libraries nothing uses any more;
/// every write does this too. Writes the number closed to `*closed` unless
/// it is NULL. `POLYPLUG_ERR_REENTRANT` when called from plugin code that a
/// write of this runtime is running.
///
/// # Safety
///
/// `closed` NULL or writable; `runtime` as above.
///
/// ```c
/// size_t closed;
/// polyplug_reclaim(runtime, &closed);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_reclaim(
    runtime: *const polyplug_runtime,
    closed: *mut usize,
) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C1] as documented.
        let rt = unsafe { self::runtime(runtime, "runtime") }?;
        let count = rt.runtime.reclaim()?;
        // SAFETY: [C4] as documented.
        unsafe { put_optional(closed, count) };
        Ok(())
    })
}

/// Writes the id of the loaded bundle named `name` (its manifest's name) to
/// `*bundle`; `POLYPLUG_ERR_UNKNOWN_BUNDLE` when none is.
///
/// # Safety
///
/// `name` NUL-terminated; `bundle` writable; `runtime` as above.
///
/// ```c
/// uint64_t id;
/// polyplug_bundle_id(runtime, "reload-test", &id);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_bundle_id(
    runtime: *const polyplug_runtime,
    name: *const c_char,
    bundle: *mut u64,
) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C1] as documented.
        let rt = unsafe { self::runtime(runtime, "runtime") }?;
        // SAFETY: [C4] as documented.
        let name = unsafe { c_str(name, "name") }?;
        let id = rt.runtime.bundle_id(name).ok_or_else(|| {
            Failure::new(
                POLYPLUG_ERR_UNKNOWN_BUNDLE,
                format!("no bundle named {name} is loaded"),
            )
        })?;
        // SAFETY: [C4] as documented.
        unsafe { put(bundle, "bundle", bundle_raw(id)) }
    })
}

/// Writes the runtime's revision to `*revision`: it changes after every
/// load, reload and unload, so a host caching lookups checks one number.
///
/// # Safety
///
/// `revision` writable; `runtime` as above.
///
/// ```c
/// uint64_t seen;
/// polyplug_revision(runtime, &seen);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_revision(
    runtime: *const polyplug_runtime,
    revision: *mut u64,
) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C1] as documented.
        let rt = unsafe { self::runtime(runtime, "runtime") }?;
        // SAFETY: [C4] as documented.
        unsafe { put(revision, "revision", rt.runtime.revision().0) }
    })
}

/// Writes the counts of libraries opened, closed and unmapped so far.
///
/// # Safety
///
/// `stats` writable; `runtime` as above.
///
/// ```c
/// polyplug_library_stats stats;
/// polyplug_library_stats_get(runtime, &stats);
/// printf("%llu open\n", (unsigned long long)(stats.opened - stats.closed));
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_library_stats_get(
    runtime: *const polyplug_runtime,
    stats: *mut polyplug_library_stats,
) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C1] as documented.
        let rt = unsafe { self::runtime(runtime, "runtime") }?;
        let s = rt.runtime.library_stats();
        let value = polyplug_library_stats {
            opened: s.opened,
            closed: s.closed,
            unmapped: s.unmapped,
            still_mapped: s.still_mapped,
        };
        // SAFETY: [C4] as documented.
        unsafe { put(stats, "stats", value) }
    })
}
