//! The bare cycle a host would write without polyplug: `dlopen` the
//! plugin, `dlsym` its entry point, run it against a minimal host table
//! that accepts every registration, and `dlclose`. The lifecycle bench
//! puts the runtime's load, reload and unload beside it.
//!
//! # Example
//!
//! The baseline registers the same contracts the runtime would load:
//!
//! ```
//! # if polyplug::MODEL_BUILD { return Ok(()); }
//! use polyplug_benches::bare::BareCycle;
//!
//! let registered = BareCycle::new("c-add").run()?; // opened and closed again
//! let runtime = polyplug::Runtime::new()?;
//! let id = runtime.load_bundle(polyplug_fixtures::bundle("c-add"))?;
//! let info = runtime.bundles().into_iter().find(|b| b.id == id).ok_or("not loaded")?;
//! assert_eq!(usize::try_from(registered)?, info.contracts.len());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::ffi::c_void;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use polyplug_abi::{
    ABI_VERSION, AbiError, BundleContext, ContractInterface, ENTRY_SYMBOL, EntryFn, HostApi, OK,
    StrView, Version,
};

/// A plugin library and the bare cycle over it.
///
/// ```
/// let bare = polyplug_benches::bare::BareCycle::new("test-add");
/// assert_eq!(bare.run().unwrap(), 1, "test-add registers one contract");
/// ```
#[derive(Debug)]
pub struct BareCycle {
    path: PathBuf,
}

/// The host table's only function: counts the registration, accepts it.
/// It cannot panic (one atomic add), so nothing can unwind out of it.
///
/// # Safety
///
/// `ctx` is the `AtomicU32` that [`BareCycle::run`] passes.
unsafe extern "C" fn register(
    ctx: *mut c_void,
    _contract: *const ContractInterface,
    _err: *mut AbiError,
) -> u32 {
    // SAFETY: [R5] `run` passes a live `&AtomicU32` as ctx for the call.
    let registered = unsafe { &*ctx.cast::<AtomicU32>() };
    // Relaxed: a plain count, read by the same thread after the entry returns.
    registered.fetch_add(1, Ordering::Relaxed);
    OK
}

impl BareCycle {
    /// The cycle over fixture bundle `bundle`'s library. Opens nothing
    /// yet; each [`run`](BareCycle::run) is one whole cycle.
    ///
    /// # Panics
    ///
    /// When `bundle` is not a fixture bundle (see
    /// [`polyplug_fixtures::bundle`]).
    ///
    /// # Example
    ///
    /// ```
    /// use polyplug_benches::bare::BareCycle;
    ///
    /// let bare = BareCycle::new("test-add-cpp");
    /// assert_eq!(bare.run()?, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(bundle: &str) -> BareCycle {
        BareCycle {
            path: polyplug_fixtures::library(bundle),
        }
    }

    /// One `dlopen` + `dlsym` + init + `dlclose`; returns how many
    /// contracts the plugin registered.
    ///
    /// # Errors
    ///
    /// A failed `dlopen`/`dlsym`/`dlclose`, or an entry point that failed.
    ///
    /// # Example
    ///
    /// ```
    /// use polyplug_benches::bare::BareCycle;
    ///
    /// let bare = BareCycle::new("test-add");
    /// for _ in 0..3 {
    ///     assert_eq!(bare.run()?, 1); // each run opens and closes the library
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn run(&self) -> Result<u32, Box<dyn std::error::Error>> {
        // SAFETY: [L1] a fixture library, opened as a host without polyplug
        // would open it.
        let library = unsafe { libloading::Library::new(&self.path) }?;
        // SAFETY: [L3] `polyplug_entry` has type `EntryFn` by the ABI.
        let entry = *unsafe { library.get::<EntryFn>(ENTRY_SYMBOL) }?;
        let registered = AtomicU32::new(0);
        let host = HostApi {
            abi_version: ABI_VERSION,
            size: u32::try_from(size_of::<HostApi>())?,
            ctx: std::ptr::from_ref(&registered).cast_mut().cast(),
            register_contract: Some(register),
            find_contract: None,
            resolve_contract: None,
            log: None,
            alloc: None,
            free: None,
            last_error: None,
        };
        let bundle = BundleContext {
            name: StrView::from_static("bare"),
            version: Version::new(1, 0, 0),
            dir: StrView::EMPTY,
        };
        let mut err = AbiError::NONE;
        // SAFETY: [L3][P1] the entry point with a live host table, bundle
        // context and error slot, all outliving the call.
        let code = unsafe { entry(&host, &bundle, &mut err) };
        library.close()?;
        if code != OK {
            return Err(format!("the entry point returned {code}").into());
        }
        // Relaxed: written on this thread, by the entry point above.
        Ok(registered.load(Ordering::Relaxed))
    }
}
