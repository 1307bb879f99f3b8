//! The "count to a million" arms: the same loop, `counter = inc(counter)`,
//! reaching `inc` through a different mechanism in each arm, so the
//! difference between two arms is the cost of the mechanism alone.
//!
//! | arm | mechanism | baseline |
//! |---|---|---|
//! | `native` | a Rust call the optimizer may not inline | floor |
//! | `abi_static` | the native ABI convention (`fn(instance, args, out, err) -> u32`), statically linked | floor of the dispatch arms |
//! | `ffi_by_value` | `polyplug_bench_inc(u32) -> u32` from `dlsym`, by value | baseline of the typed arms |
//! | `abi_dlsym` | the C plugin's own `add`, reached through `dlsym` and called raw | `abi_static` |
//! | `dispatch_rust`, `dispatch_cpp`, `dispatch_c` | a native function of `test.add` resolved once, called under one guard | `abi_static`; `dispatch_c` also against `abi_dlsym` |
//! | `typed` | the typed `inc` of `test.add` resolved once, called by value | `ffi_by_value` |
//! | `guarded` | one guard held across the loop, an anchored binding held under it (`Guard::hold`); `Held::get` then call on every iteration | `ffi_by_value` |
//! | `pinned_session` | `Session::pin` + `Guard::bound` + call on every iteration | `ffi_by_value` |
//! | `pinned_reader` | `Reader::pin` (an outermost pin, with its fence) + `Guard::bound` + call | `ffi_by_value` |
//!
//! All polyplug arms load the fixture bundles through a real runtime; the
//! raw FFI arm opens the same Rust library with `libloading`.
//!
//! `black_box` hides the counter from the optimizer in every arm. In the
//! arms that fetch a function per iteration it is applied before the
//! fetch, never between the fetch and the call: a caller writes nothing
//! between them, and an optimization barrier there would keep the
//! compiler from using what the fetch established (that the function is
//! a plain function pointer) in the call that follows.
//!
//! # Example
//!
//! An arm and its baseline, as `report` pairs them:
//!
//! ```
//! # if polyplug::MODEL_BUILD { return Ok(()); }
//! use polyplug_benches::counter::{Arm, Setup};
//!
//! let setup = Setup::new()?;
//! let (arm, baseline) = (Arm::from_id("typed"), Arm::from_id("ffi_by_value"));
//! for arm in [arm, baseline].into_iter().flatten() {
//!     assert_eq!(setup.run(arm, 100)?, 100);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::ffi::c_void;
use std::hint::black_box;

use polyplug::{Binding, CallError, FindError, Runtime, Version};
use polyplug_abi::{AbiError, NativeFn, OK};

/// Increments per measured iteration: count to a million.
///
/// # Example
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// use polyplug_benches::counter::{Arm, COUNT, Setup};
///
/// // One measured iteration of the floor arm (fast enough for a doctest).
/// assert_eq!(Setup::new()?.run(Arm::Native, COUNT)?, 1_000_000);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub const COUNT: u32 = 1_000_000;

/// The typed `inc`: `u32(u32)`.
///
/// # Example
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// use polyplug::{Runtime, Version};
/// use polyplug_benches::counter::Inc;
///
/// let runtime = Runtime::new()?;
/// runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
/// let reader = runtime.reader();
/// let guard = reader.pin();
/// let inc = guard.find("test.add", Version::new(1, 0, 0))?.typed::<Inc>("inc")?;
/// assert_eq!(inc.call(41), 42);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type Inc = extern "C" fn(u32) -> u32;

const V1: Version = Version::new(1, 0, 0);

/// The arguments of `test.add`'s native `add`: C's
/// `struct { uint32_t a, b; }`.
///
/// # Example
///
/// ```
/// use polyplug_benches::counter::AddArgs;
///
/// let args = AddArgs { a: 40, b: 2 };
/// assert_eq!(size_of_val(&args), 8);
/// assert_eq!(std::mem::offset_of!(AddArgs, b), 4);
/// ```
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct AddArgs {
    /// First addend.
    pub a: u32,
    /// Second addend.
    pub b: u32,
}

/// One way of reaching `inc`.
///
/// # Example
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// use polyplug_benches::counter::{Arm, Setup};
///
/// let setup = Setup::new()?;
/// assert_eq!(setup.run(Arm::DispatchC, 10)?, 10); // through the C plugin
/// assert_eq!(setup.run(Arm::PinnedSession, 10)?, 10);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arm {
    /// A plain Rust call, `#[inline(never)]`.
    Native,
    /// The native ABI convention, statically linked.
    AbiStatic,
    /// `dlsym` and a call by value.
    FfiByValue,
    /// The C plugin's native `add` through `dlsym`, called raw.
    AbiDlsym,
    /// polyplug native dispatch into the Rust plugin.
    DispatchRust,
    /// polyplug native dispatch into the C++ plugin.
    DispatchCpp,
    /// polyplug native dispatch into the C plugin.
    DispatchC,
    /// A typed function resolved once.
    Typed,
    /// One guard across the loop, bound function fetched per call through
    /// an anchored binding.
    Guarded,
    /// A session pin per call.
    PinnedSession,
    /// An outermost reader pin per call.
    PinnedReader,
}

impl Arm {
    /// Every arm, in report order.
    ///
    /// # Example
    ///
    /// ```
    /// use polyplug_benches::counter::Arm;
    ///
    /// assert_eq!(Arm::ALL[0], Arm::Native); // the floor comes first
    /// assert!(Arm::ALL.contains(&Arm::PinnedReader));
    /// ```
    pub const ALL: [Arm; 11] = [
        Arm::Native,
        Arm::AbiStatic,
        Arm::FfiByValue,
        Arm::AbiDlsym,
        Arm::DispatchRust,
        Arm::DispatchCpp,
        Arm::DispatchC,
        Arm::Typed,
        Arm::Guarded,
        Arm::PinnedSession,
        Arm::PinnedReader,
    ];

    /// The arm's benchmark id: the criterion bench's function name and the
    /// `report` row.
    ///
    /// # Example
    ///
    /// ```
    /// use polyplug_benches::counter::Arm;
    ///
    /// assert_eq!(Arm::FfiByValue.id(), "ffi_by_value");
    /// let ids: Vec<&str> = Arm::ALL.iter().map(|a| a.id()).collect();
    /// assert_eq!(ids.len(), 11);
    /// ```
    pub fn id(self) -> &'static str {
        match self {
            Arm::Native => "native",
            Arm::AbiStatic => "abi_static",
            Arm::FfiByValue => "ffi_by_value",
            Arm::AbiDlsym => "abi_dlsym",
            Arm::DispatchRust => "dispatch_rust",
            Arm::DispatchCpp => "dispatch_cpp",
            Arm::DispatchC => "dispatch_c",
            Arm::Typed => "typed",
            Arm::Guarded => "guarded",
            Arm::PinnedSession => "pinned_session",
            Arm::PinnedReader => "pinned_reader",
        }
    }

    /// The arm with benchmark id `id`, or `None` for an unknown id.
    ///
    /// # Example
    ///
    /// ```
    /// use polyplug_benches::counter::Arm;
    ///
    /// assert_eq!(Arm::from_id("pinned_reader"), Some(Arm::PinnedReader));
    /// assert_eq!(Arm::from_id("dlopen"), None);
    /// for arm in Arm::ALL {
    ///     assert_eq!(Arm::from_id(arm.id()), Some(arm));
    /// }
    /// ```
    pub fn from_id(id: &str) -> Option<Arm> {
        Arm::ALL.into_iter().find(|a| a.id() == id)
    }
}

/// Why a counting loop stopped.
///
/// # Example
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// use polyplug::{Runtime, Version};
/// use polyplug_benches::counter::CountError;
///
/// let runtime = Runtime::new()?; // nothing loaded
/// let reader = runtime.reader();
/// let missing = reader.pin().find("test.add", Version::new(1, 0, 0)).map(|_| ());
/// let err = CountError::from(missing.unwrap_err());
/// assert_eq!(err.to_string(), "no loaded contract test.add satisfies 1.0.0");
/// assert_eq!(CountError::Code(7).to_string(), "the native call returned 7");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, thiserror::Error)]
pub enum CountError {
    /// A lookup failed.
    #[error(transparent)]
    Find(#[from] FindError),
    /// A call returned an error.
    #[error(transparent)]
    Call(#[from] CallError),
    /// The native ABI convention returned a code other than `OK`.
    #[error("the native call returned {0}")]
    Code(u32),
}

/// The floor: a direct call the optimizer may not inline.
///
/// # Example
///
/// ```
/// use polyplug_benches::counter::inc_native;
///
/// assert_eq!(inc_native(41), 42);
/// assert_eq!(inc_native(u32::MAX), 0); // wraps, like the plugins' `inc`
/// ```
#[inline(never)]
pub fn inc_native(x: u32) -> u32 {
    x.wrapping_add(1)
}

/// The native ABI convention, statically linked: the body of the C
/// plugin's `add` (fixtures/c/add.c) in Rust. It refuses null pointers, reads
/// `AddArgs`, writes the sum and returns `OK`.
///
/// # Safety
///
/// `args` is null or points to an `AddArgs`; `out` is null or points to a
/// writable `u32`.
///
/// # Example
///
/// It has the native ABI type, and [`Arm::AbiStatic`] counts through it:
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// use polyplug_abi::NativeFn;
/// use polyplug_benches::counter::{Arm, Setup, inc_abi};
///
/// let _: NativeFn = inc_abi;
/// assert_eq!(Setup::new()?.run(Arm::AbiStatic, 10)?, 10);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[inline(never)]
pub unsafe extern "C" fn inc_abi(
    _instance: *mut c_void,
    args: *const c_void,
    out: *mut c_void,
    _err: *mut AbiError,
) -> u32 {
    if args.is_null() || out.is_null() {
        return polyplug_abi::ERR_BAD_ARGUMENT;
    }
    // SAFETY: [P1] by this function's contract.
    let args = unsafe { &*args.cast::<AddArgs>() };
    // SAFETY: [P1] by this function's contract.
    unsafe { out.cast::<u32>().write(args.a.wrapping_add(args.b)) };
    OK
}

/// Everything the arms need, loaded once: a runtime per plugin language
/// and the raw library for `dlsym`.
///
/// # Example
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// use polyplug_benches::counter::{Arm, Setup};
///
/// let setup = Setup::new()?; // load once, run every arm against it
/// for arm in Arm::ALL {
///     assert_eq!(setup.run(arm, 3)?, 3, "{arm:?}");
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Setup {
    rust: Runtime,
    cpp: Runtime,
    c: Runtime,
    ffi: Inc,
    c_add: NativeFn,
    /// Keep `ffi` and `c_add` callable.
    _libraries: [libloading::Library; 2],
}

/// Loads `bundle` into a fresh runtime.
fn runtime_with(bundle: &str) -> Result<Runtime, Box<dyn std::error::Error>> {
    let runtime = Runtime::new()?;
    runtime.load_bundle(polyplug_fixtures::bundle(bundle))?;
    Ok(runtime)
}

impl Setup {
    /// Loads test-add (Rust), test-add-cpp and c-add into three runtimes,
    /// and opens the test-add and c-add libraries again for `dlsym`.
    ///
    /// # Errors
    ///
    /// Any load or lookup failure.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// use polyplug_benches::counter::Setup;
    ///
    /// let setup = Setup::new()?;
    /// assert_eq!(setup.runtime().bundles().len(), 1); // test-add
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new() -> Result<Setup, Box<dyn std::error::Error>> {
        let path = polyplug_fixtures::library("test-add");
        // SAFETY: [P1] the fixture library's initializers are plain Rust
        // statics; the raw-FFI baseline opens it as any host would.
        let library = unsafe { libloading::Library::new(&path) }?;
        // SAFETY: [P1] `polyplug_bench_inc` is `extern "C" fn(u32) -> u32`
        // (fixtures/plugins/test-add/src/lib.rs).
        let symbol = unsafe { library.get::<Inc>(b"polyplug_bench_inc\0") }?;
        let ffi = *symbol;
        let c_path = polyplug_fixtures::library("c-add");
        // SAFETY: [P1] a C fixture with no initializers, opened as any host
        // would open it.
        let c_library = unsafe { libloading::Library::new(&c_path) }?;
        // SAFETY: [P1] `polyplug_bench_add` is the C plugin's native `add`,
        // a `NativeFn` (fixtures/c/add.c).
        let symbol = unsafe { c_library.get::<NativeFn>(b"polyplug_bench_add\0") }?;
        let c_add = *symbol;
        Ok(Setup {
            rust: runtime_with("test-add")?,
            cpp: runtime_with("test-add-cpp")?,
            c: runtime_with("c-add")?,
            ffi,
            c_add,
            _libraries: [library, c_library],
        })
    }

    /// Counts to `n` through `arm`.
    ///
    /// # Errors
    ///
    /// A failed lookup or call.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// use polyplug_benches::counter::{Arm, Setup};
    ///
    /// let setup = Setup::new()?;
    /// assert_eq!(setup.run(Arm::Guarded, 1_000)?, 1_000);
    /// assert_eq!(setup.run(Arm::DispatchCpp, 0)?, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn run(&self, arm: Arm, n: u32) -> Result<u32, CountError> {
        match arm {
            Arm::Native => Ok(count_plain(n)),
            Arm::AbiStatic => count_abi(inc_abi, n),
            Arm::FfiByValue => Ok(count_ffi(self.ffi, n)),
            Arm::AbiDlsym => count_abi(self.c_add, n),
            Arm::DispatchRust => count_dispatch(&self.rust, n),
            Arm::DispatchCpp => count_dispatch(&self.cpp, n),
            Arm::DispatchC => count_dispatch(&self.c, n),
            Arm::Typed => count_typed(&self.rust, n),
            Arm::Guarded => count_guarded(&self.rust, n),
            Arm::PinnedSession => count_pinned_session(&self.rust, n),
            Arm::PinnedReader => count_pinned_reader(&self.rust, n),
        }
    }

    /// The runtime holding the Rust plugin, for benches that need more
    /// than a counting loop.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// use polyplug::Version;
    /// use polyplug_benches::counter::Setup;
    ///
    /// let setup = Setup::new()?;
    /// let reader = setup.runtime().reader();
    /// let guard = reader.pin();
    /// assert!(guard.find("test.add", Version::new(1, 0, 0)).is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn runtime(&self) -> &Runtime {
        &self.rust
    }
}

fn count_plain(n: u32) -> u32 {
    let mut counter = 0u32;
    for _ in 0..n {
        counter = inc_native(black_box(counter));
    }
    counter
}

/// The loop of every native-convention arm: `call` adds `args.b` to
/// `args.a` into `out`. The ABI arm and the dispatch arms share it, so
/// they differ only in how the function is reached.
#[inline(always)]
fn count_convention(
    n: u32,
    mut call: impl FnMut(&AddArgs, &mut u32) -> Result<(), CountError>,
) -> Result<u32, CountError> {
    let mut counter = 0u32;
    for _ in 0..n {
        let args = AddArgs { a: counter, b: 1 };
        let mut out = 0u32;
        call(black_box(&args), black_box(&mut out))?;
        counter = out;
    }
    Ok(counter)
}

fn count_abi(func: NativeFn, n: u32) -> Result<u32, CountError> {
    let func = black_box(func);
    count_convention(n, |args, out| {
        let mut err = AbiError::NONE;
        let args: *const AddArgs = args;
        let out: *mut u32 = out;
        // SAFETY: [P1] `inc_abi` takes `AddArgs` and writes a `u32`.
        let code = unsafe { func(std::ptr::null_mut(), args.cast(), out.cast(), &mut err) };
        if code == OK {
            Ok(())
        } else {
            Err(CountError::Code(code))
        }
    })
}

fn count_ffi(inc: Inc, n: u32) -> u32 {
    let mut counter = 0u32;
    for _ in 0..n {
        counter = black_box(inc)(black_box(counter));
    }
    counter
}

fn count_dispatch(runtime: &Runtime, n: u32) -> Result<u32, CountError> {
    let reader = runtime.reader();
    let guard = reader.pin();
    let add = guard.find("test.add", V1)?.native("add")?;
    count_convention(n, |args, out| {
        // SAFETY: [P1] `test.add`'s native `add` takes `AddArgs` and writes
        // a `u32` in all three plugins.
        unsafe { add.call(args, out) }.map_err(CountError::from)
    })
}

fn count_typed(runtime: &Runtime, n: u32) -> Result<u32, CountError> {
    let reader = runtime.reader();
    let guard = reader.pin();
    let inc = guard.find("test.add", V1)?.typed::<Inc>("inc")?;
    let mut counter = 0u32;
    for _ in 0..n {
        counter = inc.call(black_box(counter));
    }
    Ok(counter)
}

fn binding(runtime: &Runtime) -> Result<Binding<Inc>, FindError> {
    runtime
        .reader()
        .pin()
        .find("test.add", V1)?
        .bind::<Inc>("inc")
}

fn count_guarded(runtime: &Runtime, n: u32) -> Result<u32, CountError> {
    let reader = runtime.reader();
    let inc = reader.anchor(binding(runtime)?)?;
    let guard = reader.pin();
    let inc = guard.hold(&inc)?;
    let mut counter = 0u32;
    for _ in 0..n {
        let x = black_box(counter);
        counter = black_box(&inc).get()?.call(x);
    }
    Ok(counter)
}

fn count_pinned_session(runtime: &Runtime, n: u32) -> Result<u32, CountError> {
    let inc = binding(runtime)?;
    let reader = runtime.reader();
    let session = reader.session();
    let mut counter = 0u32;
    for _ in 0..n {
        let x = black_box(counter);
        counter = session.pin().bound(black_box(&inc))?.call(x);
    }
    Ok(counter)
}

fn count_pinned_reader(runtime: &Runtime, n: u32) -> Result<u32, CountError> {
    let inc = binding(runtime)?;
    let reader = runtime.reader();
    let mut counter = 0u32;
    for _ in 0..n {
        let x = black_box(counter);
        counter = reader.pin().bound(black_box(&inc))?.call(x);
    }
    Ok(counter)
}
