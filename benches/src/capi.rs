//! The C API's arms: what a C host pays, measured against what it would
//! pay without polyplug, and against a Rust host.
//!
//! libpolyplug is opened with `dlopen` (through `libloading`), as a C host
//! links it, so no call into it is inlined; the C fixture `c-add` is loaded
//! through it, and opened again for the raw baseline.
//!
//! | arm | mechanism | baseline |
//! |---|---|---|
//! | `dlsym` | `polyplug_bench_inc` of the C plugin, from `dlsym`, by value | floor |
//! | `capi_typed` | the typed `inc` of the same plugin, from `polyplug_typed` under one guard held across the loop: the pointer a C host calls | `dlsym` |
//! | `capi_fn_get` | one guard held; `polyplug_fn_get` then call on every iteration | `dlsym` |
//! | `capi_pinned` | `polyplug_pin` + `polyplug_fn_get` + call + `polyplug_unpin` on every iteration: reload-safe per call | `dlsym` |
//! | `find_rust` | `Guard::find("test.add", 1.0.0)` in the Rust API, one guard held | floor of the find arms |
//! | `find_c` | `polyplug_find` through libpolyplug, one guard held | `find_rust` |
//!
//! `polyplug_bench_inc` and the typed `inc` are the same C function body
//! (`fixtures/c/add.c`: the exported wrapper inlines `inc`).
//!
//! # Example
//!
//! ```no_run
//! use polyplug_benches::capi::{CapiArm, CapiSetup};
//!
//! let setup = CapiSetup::new()?; // finds libpolyplug next to the executable
//! for arm in CapiArm::ALL {
//!     assert_eq!(setup.run(arm, 100)?, 100, "{arm:?}");
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::ffi::{CString, c_char};
use std::hint::black_box;
use std::path::PathBuf;

use capi::{
    polyplug_contract, polyplug_fn, polyplug_guard, polyplug_reader, polyplug_runtime,
    polyplug_status,
};
use polyplug::{Runtime, Version};
use polyplug_abi::VoidFn;

use crate::counter::Inc;

const V1: Version = Version::new(1, 0, 0);

/// Lookups per measured iteration of the find arms.
///
/// # Example
///
/// ```
/// assert_eq!(polyplug_benches::capi::FINDS, 1_000);
/// ```
pub const FINDS: u32 = 1_000;

/// One arm of the C API benchmark.
///
/// # Example
///
/// ```
/// use polyplug_benches::capi::CapiArm;
///
/// assert_eq!(CapiArm::ALL.len(), 6);
/// assert_eq!(CapiArm::Typed.id(), "capi_typed");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapiArm {
    /// The raw `dlsym` call.
    Dlsym,
    /// The function pointer `polyplug_typed` hands out.
    Typed,
    /// `polyplug_fn_get` per call under one guard.
    FnGet,
    /// Pin, fetch, call, unpin per call.
    Pinned,
    /// `Guard::find` from Rust.
    FindRust,
    /// `polyplug_find` from the C API.
    FindC,
}

impl CapiArm {
    /// Every arm, in report order.
    ///
    /// # Example
    ///
    /// ```
    /// use polyplug_benches::capi::CapiArm;
    ///
    /// assert_eq!(CapiArm::ALL[0], CapiArm::Dlsym);
    /// ```
    pub const ALL: [CapiArm; 6] = [
        CapiArm::Dlsym,
        CapiArm::Typed,
        CapiArm::FnGet,
        CapiArm::Pinned,
        CapiArm::FindRust,
        CapiArm::FindC,
    ];

    /// The arm's id in criterion's report.
    ///
    /// # Example
    ///
    /// ```
    /// use polyplug_benches::capi::CapiArm;
    ///
    /// assert_eq!(CapiArm::FindC.id(), "find_c");
    /// ```
    pub fn id(self) -> &'static str {
        match self {
            CapiArm::Dlsym => "dlsym",
            CapiArm::Typed => "capi_typed",
            CapiArm::FnGet => "capi_fn_get",
            CapiArm::Pinned => "capi_pinned",
            CapiArm::FindRust => "find_rust",
            CapiArm::FindC => "find_c",
        }
    }

    /// Whether the arm counts calls (else it counts lookups).
    ///
    /// # Example
    ///
    /// ```
    /// use polyplug_benches::capi::CapiArm;
    ///
    /// assert!(CapiArm::Typed.is_call() && !CapiArm::FindC.is_call());
    /// ```
    pub fn is_call(self) -> bool {
        !matches!(self, CapiArm::FindRust | CapiArm::FindC)
    }
}

/// Where libpolyplug is: `$POLYPLUG_LIB`, or cargo's build of it,
/// `libpolyplug_capi.so`, next to the running executable (cargo builds it
/// into `target/<profile>/deps` for this crate, which depends on
/// polyplug-capi: the benches run from there), in its `deps` directory (the
/// report runs from `target/<profile>`), or one up.
///
/// # Example
///
/// ```
/// let path = polyplug_benches::capi::library_path();
/// assert!(path.ends_with("libpolyplug_capi.so") || std::env::var_os("POLYPLUG_LIB").is_some());
/// ```
pub fn library_path() -> PathBuf {
    if let Some(path) = std::env::var_os("POLYPLUG_LIB") {
        return PathBuf::from(path);
    }
    let file = format!(
        "{}polyplug_capi{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    let exe = std::env::current_exe().unwrap_or_default();
    let dir = exe.parent().map(PathBuf::from).unwrap_or_default();
    [
        dir.join(&file),
        dir.join("deps").join(&file),
        dir.join("..").join(&file),
    ]
    .into_iter()
    .find(|p| p.is_file())
    .unwrap_or_else(|| dir.join(file))
}

type Pin = unsafe extern "C" fn(*mut polyplug_reader, *mut polyplug_guard) -> polyplug_status;
type Unpin = unsafe extern "C" fn(polyplug_guard) -> polyplug_status;
type FnGet = unsafe extern "C" fn(
    polyplug_guard,
    *const polyplug_fn,
    *mut Option<VoidFn>,
) -> polyplug_status;
type Find = unsafe extern "C" fn(
    polyplug_guard,
    *const c_char,
    Version,
    *mut polyplug_contract,
) -> polyplug_status;

/// The C API functions the arms call, from the opened library.
#[derive(Debug, Clone, Copy)]
struct Api {
    pin: Pin,
    unpin: Unpin,
    fn_get: FnGet,
    find: Find,
    reader_destroy: unsafe extern "C" fn(*mut polyplug_reader) -> polyplug_status,
    runtime_destroy: unsafe extern "C" fn(*mut polyplug_runtime) -> polyplug_status,
    fn_destroy: unsafe extern "C" fn(*mut polyplug_fn) -> polyplug_status,
}

/// A C API failure during setup, with its status.
#[derive(Debug, thiserror::Error)]
#[error("{call} failed with status {status}")]
pub struct CapiError {
    call: &'static str,
    status: polyplug_status,
}

fn ok(call: &'static str, status: polyplug_status) -> Result<(), CapiError> {
    if status == capi::POLYPLUG_OK {
        Ok(())
    } else {
        Err(CapiError { call, status })
    }
}

/// libpolyplug opened, c-add loaded through it on this thread's reader,
/// and the baselines. Used on the thread that made it.
///
/// # Example
///
/// ```no_run
/// use polyplug_benches::capi::{CapiArm, CapiSetup};
///
/// let setup = CapiSetup::new()?;
/// assert_eq!(setup.run(CapiArm::Typed, 1_000)?, 1_000);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct CapiSetup {
    api: Api,
    runtime: *mut polyplug_runtime,
    reader: *mut polyplug_reader,
    contract: polyplug_contract,
    function: *mut polyplug_fn,
    dlsym: Inc,
    rust: Runtime,
    name: CString,
    /// libpolyplug, then the raw c-add library: keep every pointer above
    /// callable.
    _libraries: [libloading::Library; 2],
}

impl CapiSetup {
    /// Opens libpolyplug ([`library_path`]), loads c-add through it, makes
    /// a reader and a function handle for `inc`; opens c-add again for
    /// `dlsym`; loads c-add into a Rust runtime for `find_rust`.
    ///
    /// # Errors
    ///
    /// The library is missing, or a load or lookup fails.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let setup = polyplug_benches::capi::CapiSetup::new()?;
    /// # let _ = setup;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new() -> Result<CapiSetup, Box<dyn std::error::Error>> {
        // SAFETY: [L1] libpolyplug is this workspace's own library, with
        // Rust's initializers only; it is opened as a C host would open it.
        let lib = unsafe { libloading::Library::new(library_path()) }?;
        macro_rules! sym {
            ($name:literal: $t:ty) => {{
                // SAFETY: [C4] the symbol has the type of its declaration in
                // polyplug_host.h, which `$t` spells.
                let symbol = unsafe { lib.get::<$t>(concat!($name, "\0").as_bytes()) }?;
                *symbol
            }};
        }
        let api = Api {
            pin: sym!("polyplug_pin": Pin),
            unpin: sym!("polyplug_unpin": Unpin),
            fn_get: sym!("polyplug_fn_get": FnGet),
            find: sym!("polyplug_find": Find),
            reader_destroy: sym!("polyplug_reader_destroy": unsafe extern "C" fn(*mut polyplug_reader) -> polyplug_status),
            runtime_destroy: sym!("polyplug_runtime_destroy": unsafe extern "C" fn(*mut polyplug_runtime) -> polyplug_status),
            fn_destroy: sym!("polyplug_fn_destroy": unsafe extern "C" fn(*mut polyplug_fn) -> polyplug_status),
        };
        let runtime_new = sym!("polyplug_runtime_new": unsafe extern "C" fn(*mut *mut polyplug_runtime) -> polyplug_status);
        let load = sym!("polyplug_load_bundle": unsafe extern "C" fn(*const polyplug_runtime, *const c_char, *mut u64) -> polyplug_status);
        let reader_new = sym!("polyplug_reader_new": unsafe extern "C" fn(*const polyplug_runtime, *mut *mut polyplug_reader) -> polyplug_status);
        let fn_new = sym!("polyplug_fn_new": unsafe extern "C" fn(polyplug_guard, polyplug_contract, *const c_char, *const c_char, *mut *mut polyplug_fn) -> polyplug_status);

        let dir = CString::new(
            polyplug_fixtures::bundle("c-add")
                .to_string_lossy()
                .into_owned(),
        )?;
        let name = CString::new("test.add")?;
        let mut runtime = std::ptr::null_mut();
        let mut reader = std::ptr::null_mut();
        let mut guard = polyplug_guard::NONE;
        let mut contract = 0;
        let mut function = std::ptr::null_mut();
        // SAFETY: [C1][C4] every pointer is a live local or a handle the
        // library just returned (so for each call below).
        ok("polyplug_runtime_new", unsafe { runtime_new(&mut runtime) })?;
        // SAFETY: as above.
        ok("polyplug_load_bundle", unsafe {
            load(runtime, dir.as_ptr(), std::ptr::null_mut())
        })?;
        // SAFETY: as above.
        ok("polyplug_reader_new", unsafe {
            reader_new(runtime, &mut reader)
        })?;
        // SAFETY: as above.
        ok("polyplug_pin", unsafe { (api.pin)(reader, &mut guard) })?;
        // SAFETY: as above.
        ok("polyplug_find", unsafe {
            (api.find)(guard, name.as_ptr(), V1, &mut contract)
        })?;
        // SAFETY: as above.
        ok("polyplug_fn_new", unsafe {
            fn_new(
                guard,
                contract,
                c"inc".as_ptr(),
                c"u32(u32)".as_ptr(),
                &mut function,
            )
        })?;
        // SAFETY: as above.
        ok("polyplug_unpin", unsafe { (api.unpin)(guard) })?;

        // SAFETY: [P1] a C fixture with no initializers, opened as any host
        // would open it.
        let c_add = unsafe { libloading::Library::new(polyplug_fixtures::library("c-add")) }?;
        // SAFETY: [P1] `polyplug_bench_inc` is `uint32_t(uint32_t)`
        // (fixtures/c/add.c).
        let dlsym = *unsafe { c_add.get::<Inc>(b"polyplug_bench_inc\0") }?;
        let rust = Runtime::new()?;
        rust.load_bundle(polyplug_fixtures::bundle("c-add"))?;
        Ok(CapiSetup {
            api,
            runtime,
            reader,
            contract,
            function,
            dlsym,
            rust,
            name,
            _libraries: [lib, c_add],
        })
    }

    /// Runs `arm` `n` times: counts to `n` for a call arm, finds `n` times
    /// for a find arm; returns the count.
    ///
    /// # Errors
    ///
    /// A C API call failed.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use polyplug_benches::capi::{CapiArm, CapiSetup};
    ///
    /// assert_eq!(CapiSetup::new()?.run(CapiArm::Pinned, 10)?, 10);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn run(&self, arm: CapiArm, n: u32) -> Result<u32, Box<dyn std::error::Error>> {
        match arm {
            CapiArm::Dlsym => Ok(count(self.dlsym, n)),
            CapiArm::Typed => self.pinned(|guard| {
                let mut f = None;
                // SAFETY: [C1][C4] live handles and a live out-pointer.
                ok("polyplug_fn_get", unsafe {
                    (self.api.fn_get)(guard, self.function, &mut f)
                })?;
                let f = f.ok_or("no function")?;
                // SAFETY: [C5][R6] checked as u32(u32); called while `guard`
                // is pinned.
                let inc = unsafe { std::mem::transmute::<VoidFn, Inc>(f) };
                Ok(count(inc, n))
            }),
            CapiArm::FnGet => self.pinned(|guard| {
                let mut counter = 0u32;
                for _ in 0..n {
                    counter = self.fetch_and_call(guard, counter)?;
                }
                Ok(counter)
            }),
            CapiArm::Pinned => {
                let mut counter = 0u32;
                for _ in 0..n {
                    counter = self.pinned(|guard| self.fetch_and_call(guard, counter))?;
                }
                Ok(counter)
            }
            CapiArm::FindRust => {
                let reader = self.rust.reader();
                let guard = reader.pin();
                let mut found = 0;
                for _ in 0..n {
                    let contract = guard.find(black_box("test.add"), V1)?;
                    black_box(contract.handle());
                    found += 1;
                }
                Ok(found)
            }
            CapiArm::FindC => self.pinned(|guard| {
                let mut found = 0;
                let mut contract = 0;
                for _ in 0..n {
                    let name = black_box(self.name.as_ptr());
                    // SAFETY: [C1][C4] live handles, a NUL-terminated name,
                    // a live out-pointer.
                    ok("polyplug_find", unsafe {
                        (self.api.find)(guard, name, V1, &mut contract)
                    })?;
                    black_box(contract);
                    found += 1;
                }
                Ok(found)
            }),
        }
    }

    /// Runs `body` under a guard of this setup's reader.
    fn pinned(
        &self,
        body: impl FnOnce(polyplug_guard) -> Result<u32, Box<dyn std::error::Error>>,
    ) -> Result<u32, Box<dyn std::error::Error>> {
        let mut guard = polyplug_guard::NONE;
        // SAFETY: [C1][C3] this thread's reader; a live out-pointer.
        ok("polyplug_pin", unsafe {
            (self.api.pin)(self.reader, &mut guard)
        })?;
        let result = body(guard);
        // SAFETY: [C3] the guard pinned above, unpinned once.
        ok("polyplug_unpin", unsafe { (self.api.unpin)(guard) })?;
        result
    }

    /// `polyplug_fn_get` under `guard`, then one call of `inc`.
    #[inline(always)]
    fn fetch_and_call(
        &self,
        guard: polyplug_guard,
        counter: u32,
    ) -> Result<u32, Box<dyn std::error::Error>> {
        let mut f = None;
        // SAFETY: [C1][C4] live handles and a live out-pointer.
        ok("polyplug_fn_get", unsafe {
            (self.api.fn_get)(guard, self.function, &mut f)
        })?;
        let f = f.ok_or("no function")?;
        // SAFETY: [C5][R6] checked as u32(u32); called while `guard` is pinned.
        let inc = unsafe { std::mem::transmute::<VoidFn, Inc>(f) };
        Ok(inc(black_box(counter)))
    }

    /// The contract handle of `test.add` in the C API's runtime.
    ///
    /// # Example
    ///
    /// ```no_run
    /// assert_ne!(polyplug_benches::capi::CapiSetup::new()?.contract(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn contract(&self) -> polyplug_contract {
        self.contract
    }
}

impl Drop for CapiSetup {
    fn drop(&mut self) {
        // SAFETY: [C1][C2] the handles this setup made, destroyed once, in
        // order, on the thread that made them.
        let _ = unsafe { (self.api.fn_destroy)(self.function) };
        // SAFETY: as above.
        let _ = unsafe { (self.api.reader_destroy)(self.reader) };
        // SAFETY: as above.
        let _ = unsafe { (self.api.runtime_destroy)(self.runtime) };
    }
}

fn count(inc: Inc, n: u32) -> u32 {
    let mut counter = 0u32;
    for _ in 0..n {
        counter = inc(black_box(counter));
    }
    counter
}
