//! The SDK in a WebAssembly build (`target_family = "wasm"`): the host is
//! the wasm loader, reached through its one import, and
//! [`plugin!`](crate::plugin) declares contracts by export names
//! (`docs/wasm-plugins.md`).
//!
//! What differs from a native build, and why:
//!
//! - There is no host table: [`Host`] logs through the import
//!   `polyplug.log`, and that is all it can do. Finding and resolving other
//!   contracts is native-only.
//! - A contract's state lives in the module's own memory: the loader gives
//!   each `polyplug::Instance` its own wasm instance, and the
//!   `+instance` export makes the state there. `instance typed` functions
//!   borrow it. The state is dropped with the wasm instance's memory: its
//!   `Drop` does not run.
//! - `save = ..; restore = ..;` export `+save` and `+restore`: the saved
//!   bytes are handed to the host as `ptr | (len << 32)` and given back
//!   through `polyplug_free`; a failed save is logged and traps (the
//!   export has no status to return). `plugin!` always exports
//!   `polyplug_alloc` and `polyplug_free` on the global allocator.
//! - A typed function's `&str`/`&[u8]` argument is a view of the bytes the
//!   host copied in through `polyplug_alloc`; its `String`/`Vec<u8>` result
//!   is handed out as `+save`'s bytes are. A `str` argument that is not
//!   UTF-8 cannot be refused with a default as natively (the native SDK
//!   logs and returns `0` or the empty string): here it is logged naming
//!   the argument, then the module traps (`ERR_TRAP`), and the function is
//!   not called.
//! - A panic cannot unwind out of a wasm32 module (it is built with
//!   `panic = "abort"`): the panic hook that `polyplug_init` installs logs
//!   `panic at file:line:col: message` at `LOG_ERROR`, then the module
//!   traps, and the host's call fails with `ERR_TRAP`. The loader drops
//!   the trapped wasm instance.

use core::marker::PhantomData;
use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};

use polyplug_abi::{LOG_ERROR, OK};

use crate::error::Error;
use crate::signature::AbiType;

#[link(wasm_import_module = "polyplug")]
unsafe extern "C" {
    /// The loader's log import: `len` bytes of this module's memory at
    /// `ptr`, at `level`. The types are wasm's `(i32, i32, i32) -> ()`.
    #[link_name = "log"]
    fn polyplug_log(level: u32, ptr: *const u8, len: usize);
}

/// The optional init function of [`plugin!`](crate::plugin): runs in the
/// export `polyplug_init` of every new wasm instance; an error fails the
/// load (or the call that needed the instance).
pub type InitFn = fn(&Host) -> Result<(), Error>;

/// The host's services in a WebAssembly build: logging.
///
/// A `Host` is only ever lent ([`Host::with`], and to the init function
/// and state constructors), as in a native build. It is not `Send`.
#[derive(Debug)]
pub struct Host {
    _not_send: PhantomData<*const ()>,
}

impl Host {
    /// Lends the host to `f`. In a WebAssembly build the host is always
    /// there: the import is linked before any code of the module runs.
    pub fn with<R>(f: impl FnOnce(&Host) -> Result<R, Error>) -> Result<R, Error> {
        f(&Host {
            _not_send: PhantomData,
        })
    }

    /// Logs `message` at `level`, one of the `LOG_*` constants; the host
    /// keeps at most its first 4 KiB.
    pub fn log(&self, level: u32, message: &str) {
        log(level, message);
    }
}

/// Logs through the loader's `polyplug.log` import.
pub fn log(level: u32, message: &str) {
    // SAFETY: [G10] the import reads `len` bytes at `ptr` of this module's
    // memory, bounds-checked by the engine; `message` is live for the call.
    unsafe { polyplug_log(level, message.as_ptr(), message.len()) };
}

/// The panic hook: `panic at file:line:col: message` at `LOG_ERROR`,
/// before the module traps.
fn log_panic(info: &std::panic::PanicHookInfo<'_>) {
    let message = info
        .payload_as_str()
        .unwrap_or("a panic payload that is not a string");
    let text = match info.location() {
        Some(at) => format!(
            "panic at {}:{}:{}: {message}",
            at.file(),
            at.line(),
            at.column()
        ),
        None => format!("panic: {message}"),
    };
    log(LOG_ERROR, &text);
}

/// An error as the wasm guest ABI returns it: logged at `LOG_ERROR` with
/// `what`, then its code as an `i32` (never 0).
fn status(what: &str, result: Result<(), Error>) -> i32 {
    match result {
        Ok(()) => OK.cast_signed(),
        Err(error) => {
            log(
                LOG_ERROR,
                &format!("{what}: {} (code {})", error.message(), error.abi_code()),
            );
            error.abi_code().cast_signed()
        }
    }
}

/// The body of the export `polyplug_init`: installs the panic hook, then
/// runs `init`.
pub fn init(init: Option<InitFn>) -> i32 {
    std::panic::set_hook(Box::new(log_panic));
    match init {
        Some(init) => status("init", Host::with(init)),
        None => OK.cast_signed(),
    }
}

/// A typed function's body. A panic that unwinds (a module built with
/// `panic = "unwind"`) is logged and gives the result type's default (`0`,
/// or the empty `string`/`buf`), as in a native build; with
/// `panic = "abort"` the hook has logged it and the module traps.
pub fn typed_call<R: WasmRet>(contract: &str, name: &str, f: impl FnOnce() -> R) -> R::Abi {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(value) => value.into_wasm(),
        Err(payload) => {
            let text = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("a panic payload that is not a string");
            log(
                LOG_ERROR,
                &format!(
                    "typed {contract}/{name} panicked: {text}; returning the default {}",
                    R::C_NAME
                ),
            );
            R::fallback()
        }
    }
}

/// Logs why argument `arg` of `contract/name` is refused, then traps: the
/// function is not called and the host's call fails with `ERR_TRAP`.
fn refuse(contract: &str, name: &str, arg: &str, why: &str) -> ! {
    log(
        LOG_ERROR,
        &format!(
            "typed {contract}/{name}: argument `{arg}` refused, {why}; the function was not called"
        ),
    );
    // A trap: a typed function has no status to return.
    std::process::abort()
}

/// A `bytes` argument of `contract/name`: the `len` bytes at `ptr` the
/// host copied in. A null pointer with a length is refused (logged, then
/// a trap).
///
/// # Safety
///
/// \[G12\] `ptr` is null, or `len` bytes at `ptr` are this module's memory
/// from `polyplug_alloc`, which the host wrote before the call and frees
/// only after it returns: live and unwritten for `'a`.
pub unsafe fn bytes_arg<'a>(
    contract: &str,
    name: &str,
    arg: &str,
    ptr: *const u8,
    len: usize,
) -> &'a [u8] {
    if len == 0 {
        return &[];
    }
    if ptr.is_null() {
        refuse(contract, name, arg, "a null view with a non-zero length");
    }
    // SAFETY: [G12] `ptr` is non-null (checked) and the host copied `len`
    // bytes there from `polyplug_alloc`; it frees them only after the call,
    // which `'a` does not outlive.
    unsafe { core::slice::from_raw_parts(ptr, len) }
}

/// A `str` argument of `contract/name`: [`bytes_arg`], then UTF-8. Bytes
/// that are not UTF-8 (a host may write any) are refused: logged with the
/// argument's name, then a trap; no `&str` is made of them.
///
/// # Safety
///
/// As [`bytes_arg`].
pub unsafe fn str_arg<'a>(
    contract: &str,
    name: &str,
    arg: &str,
    ptr: *const u8,
    len: usize,
) -> &'a str {
    // SAFETY: [G12] forwarded from the caller.
    let bytes = unsafe { bytes_arg(contract, name, arg, ptr, len) };
    match core::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(_) => refuse(contract, name, arg, "a str view that is not UTF-8"),
    }
}

/// Hands `bytes` to the host as `ptr | (len << 32)`: a leaked boxed byte
/// slice, which the host gives back to `polyplug_free(ptr, len, 1)` (the
/// layout of a boxed byte slice) once it copied it out.
fn hand_out(bytes: Vec<u8>) -> i64 {
    let bytes = bytes.into_boxed_slice();
    let len = bytes.len();
    let ptr = Box::into_raw(bytes).cast::<u8>();
    let ptr = u64::try_from(ptr.addr()).unwrap_or_default();
    let len = u64::try_from(len).unwrap_or_default();
    (ptr | (len << 32)).cast_signed()
}

/// The state of one stateful contract in this wasm instance: `None` until
/// its `+instance` export ran. The loader runs `+instance` only in the
/// wasm instance of a `polyplug::Instance`, so a stateless call's
/// instance never has one.
pub type StateCell<S> = RefCell<Option<S>>;

/// The body of a contract's `+instance` export: makes the state with
/// `create` and keeps it in `cell`.
pub fn create_instance<S>(
    cell: &'static std::thread::LocalKey<StateCell<S>>,
    contract: &str,
    create: fn(&Host) -> Result<S, Error>,
) -> i32 {
    let made = Host::with(create);
    status(
        &format!("{contract}/+instance"),
        made.map(|state| cell.with(|cell| *cell.borrow_mut() = Some(state))),
    )
}

/// The constructor of `state T;`: `T::default()`.
pub fn default_state<T: Default>(_host: &Host) -> Result<T, Error> {
    Ok(T::default())
}

/// The body of a contract's `+save` export: `save` of this wasm
/// instance's state, returned as `ptr | (len << 32)` of memory the host
/// gives back to `polyplug_free(ptr, len, 1)` once it copied it out. A
/// failed save (or no state) is logged with its code, then traps: the
/// export returns no status, and the host's handover fails at its save
/// step with `ERR_TRAP`, leaving the instance serving.
pub fn save_instance<S>(
    cell: &'static std::thread::LocalKey<StateCell<S>>,
    contract: &str,
    save: fn(&S) -> Result<Vec<u8>, Error>,
) -> i64 {
    let saved = cell.with(|cell| match cell.try_borrow().ok().as_deref() {
        Some(Some(state)) => save(state),
        _ => Err(Error::new(
            polyplug_abi::ERR_INVALID,
            "no instance state to save",
        )),
    });
    match saved {
        Ok(bytes) => hand_out(bytes),
        Err(error) => {
            let _ = status(&format!("{contract}/+save"), Err(error));
            // A trap: the handover fails at its save step with ERR_TRAP.
            std::process::abort()
        }
    }
}

/// The body of a contract's `+restore` export: makes this wasm instance's
/// state with `restore` from the `len` bytes at `ptr` the host copied in.
///
/// # Safety
///
/// \[G11\] `ptr` is null with `len` 0, or `len` bytes at `ptr` are this
/// module's memory from `polyplug_alloc`, live for the call.
pub unsafe fn restore_instance<S>(
    cell: &'static std::thread::LocalKey<StateCell<S>>,
    contract: &str,
    restore: fn(&Host, &[u8]) -> Result<S, Error>,
    ptr: *const u8,
    len: usize,
) -> i32 {
    let bytes: &[u8] = if len == 0 || ptr.is_null() {
        &[]
    } else {
        // SAFETY: [G12] the host copied `len` bytes to `ptr`, memory from
        // `polyplug_alloc`, and releases it only after this returns.
        unsafe { core::slice::from_raw_parts(ptr, len) }
    };
    let made = Host::with(|host| restore(host, bytes));
    status(
        &format!("{contract}/+restore"),
        made.map(|state| cell.with(|cell| *cell.borrow_mut() = Some(state))),
    )
}

/// The body of the export `polyplug_alloc(size, align) -> ptr`: memory for
/// bytes the host copies in; null when it cannot be had.
pub fn alloc(size: usize, align: usize) -> *mut u8 {
    let Ok(layout) = std::alloc::Layout::from_size_align(size, align) else {
        return core::ptr::null_mut();
    };
    if size == 0 {
        return core::ptr::null_mut();
    }
    // SAFETY: [G12] `layout` has a non-zero size.
    unsafe { std::alloc::alloc(layout) }
}

/// The body of the export `polyplug_free(ptr, size, align)`: gives back
/// what [`alloc`] returned for the host, or what a `+save` or a `string`/
/// `buf` result handed out.
///
/// # Safety
///
/// \[G11\] `ptr` came from [`alloc`] with this `size` and `align`, or is a
/// boxed byte slice of `size` bytes that this SDK handed to the host (align
/// 1), given back once.
pub unsafe fn free(ptr: *mut u8, size: usize, align: usize) {
    let Ok(layout) = std::alloc::Layout::from_size_align(size, align) else {
        return;
    };
    if size == 0 || ptr.is_null() {
        return;
    }
    // SAFETY: [G12] allocated with this layout, given back once.
    unsafe { std::alloc::dealloc(ptr, layout) }
}

/// The body of an `instance typed` function: `f` with this wasm
/// instance's state. Without one (the function was called without an
/// instance) it logs why and traps, the only failure a typed function can
/// report.
pub fn instance_call<S, R: WasmRet>(
    cell: &'static std::thread::LocalKey<StateCell<S>>,
    contract: &str,
    name: &str,
    f: impl FnOnce(&mut S) -> R,
) -> R::Abi {
    let result = cell.with(|cell| {
        let mut state = cell.try_borrow_mut().ok()?;
        let state = state.as_mut()?;
        Some(typed_call(contract, name, || f(state)))
    });
    match result {
        Some(value) => value,
        None => {
            log(
                LOG_ERROR,
                &format!("{contract}/{name} needs an instance: call it through Instance::typed"),
            );
            // A trap: the call fails with ERR_TRAP.
            std::process::abort()
        }
    }
}

/// The number types a wasm typed function takes and returns: those with a
/// wasm value type. `&str` and `&[u8]` arguments are recognised by
/// [`plugin!`](crate::plugin) by their spelling and cross as a
/// `(ptr, len)` pair.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot cross into WebAssembly",
    label = "a wasm typed function takes &str, &[u8], u32, i32, u64, i64, f32 or f64",
    note = "the wasm loader carries u32 and i32 as wasm i32, u64 and i64 as i64, f32 and f64, &str and &[u8] as an (i32 ptr, i32 len) pair"
)]
pub trait WasmArg: AbiType {}

/// The types a wasm typed function returns: [`WasmArg`], `()`, and
/// `String` and `Vec<u8>` as one `i64` `ptr | (len << 32)`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot cross out of WebAssembly",
    label = "a wasm typed function returns String, Vec<u8>, u32, i32, u64, i64, f32, f64 or nothing"
)]
pub trait WasmRet {
    /// The wasm value the export returns.
    type Abi;
    /// The type's name in a signature string.
    const C_NAME: &'static str;
    /// The value handed to the host.
    fn into_wasm(self) -> Self::Abi;
    /// What the host gets when the function panicked and unwound: `0`, or
    /// the empty result, which owns nothing.
    fn fallback() -> Self::Abi;
}

macro_rules! wasm_types {
    ($($ty:ty),*) => {
        $(
            impl WasmArg for $ty {}
            impl WasmRet for $ty {
                type Abi = $ty;
                const C_NAME: &'static str = <$ty as AbiType>::C_NAME;
                fn into_wasm(self) -> $ty {
                    self
                }
                fn fallback() -> $ty {
                    <$ty>::default()
                }
            }
        )*
    };
}

wasm_types!(u32, i32, u64, i64, f32, f64);

impl WasmRet for () {
    type Abi = ();
    const C_NAME: &'static str = "void";
    fn into_wasm(self) {}
    fn fallback() {}
}

impl WasmRet for String {
    type Abi = i64;
    const C_NAME: &'static str = "string";
    fn into_wasm(self) -> i64 {
        hand_out(self.into_bytes())
    }
    fn fallback() -> i64 {
        0
    }
}

impl WasmRet for Vec<u8> {
    type Abi = i64;
    const C_NAME: &'static str = "buf";
    fn into_wasm(self) -> i64 {
        hand_out(self)
    }
    fn fallback() -> i64 {
        0
    }
}

/// Compile-time check of a number type and its spelling (which becomes
/// part of the export name): `spelled` is the type's own signature name.
pub const fn number<T: WasmArg>(spelled: &str) {
    check_signature(spelled, T::C_NAME);
}

/// Compile-time check of a return type.
pub const fn ret<T: WasmRet>() {}

/// Whether two strings are equal, in a constant.
const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Checks at compile time that the signature spelled from the written type
/// names (which becomes the export name) is the one derived from the
/// types themselves.
#[expect(
    clippy::panic,
    reason = "evaluated in a constant: a panic is a compile error"
)]
const fn check_signature(spelled: &str, derived: &str) {
    if !same(spelled, derived) {
        panic!(
            "plugin!: in a WebAssembly build, write a typed function's types as plain &str, &[u8], String, Vec<u8>, u32, i32, u64, i64, f32 or f64 (no alias, no path): they are spelled into its export name"
        );
    }
}
