//! The host table: the services a plugin calls back into.
//!
//! One [`HostContext`] exists per loaded library. It holds the
//! [`HostApi`] given to the plugin (whose `ctx` points back at the context),
//! the contracts registered during the entry point, and the bundle's last
//! error. It is freed only after its library is closed, so the plugin may
//! keep the table's address for as long as it is loaded (\[R5\]). Every
//! function here catches panics and turns them into `ERR_INTERNAL`.

use std::alloc::Layout;
use std::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError, Weak};

use polyplug_abi::{
    AbiError, ContractHandle, ContractInterface, ERR_BAD_ARGUMENT, ERR_DUPLICATE, ERR_INTERNAL,
    ERR_INVALID, ERR_NOT_FOUND, ERR_NOT_IN_INIT, ERR_UNDECLARED, ERROR_FLAG_HOST_ALLOCATED,
    HostApi, OK, StrView, Version,
};

use crate::interface::{PlainInterface, Table};
use crate::runtime::Shared;
use crate::{Event, LogLevel};

/// Why a registration was refused, kept for the load's error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RegistrationError {
    Invalid(crate::interface::InvalidContract),
    Undeclared { contract: String, version: Version },
    Duplicate { contract: String },
    NotInInit,
}

/// A contract the manifest declares.
#[derive(Debug, Clone)]
pub(crate) struct Declared {
    pub(crate) name: String,
    pub(crate) version: Version,
}

/// The host side of one loaded library.
pub(crate) struct HostContext {
    api: HostApi,
    shared: Weak<Shared>,
    bundle: String,
    declared: Vec<Declared>,
    in_init: AtomicBool,
    registered: Mutex<Vec<Table>>,
    refused: Mutex<Vec<RegistrationError>>,
    last_error: Mutex<Option<(u32, String)>>,
}

// SAFETY: [R5] `api.ctx` points at this context itself and is only
// dereferenced as `&HostContext`; all mutable state is behind locks/atomics.
unsafe impl Send for HostContext {}
// SAFETY: [R5] as for Send.
unsafe impl Sync for HostContext {}

impl HostContext {
    pub(crate) fn new(
        shared: Weak<Shared>,
        bundle: &str,
        declared: Vec<Declared>,
    ) -> Box<HostContext> {
        let mut context = Box::new(HostContext {
            api: HostApi {
                abi_version: polyplug_abi::ABI_VERSION,
                size: u32::try_from(size_of::<HostApi>()).unwrap_or(u32::MAX),
                ctx: std::ptr::null_mut(),
                register_contract: Some(register_contract),
                find_contract: Some(find_contract),
                resolve_contract: Some(resolve_contract),
                log: Some(log),
                alloc: Some(alloc),
                free: Some(free),
                last_error: Some(last_error),
            },
            shared,
            bundle: bundle.to_owned(),
            declared,
            in_init: AtomicBool::new(true),
            registered: Mutex::new(Vec::new()),
            refused: Mutex::new(Vec::new()),
            last_error: Mutex::new(None),
        });
        let ctx: *const HostContext = &*context;
        context.api.ctx = ctx.cast_mut().cast();
        context
    }

    /// The table to hand the plugin; valid while this context lives.
    pub(crate) fn api(&self) -> *const HostApi {
        &self.api
    }

    /// Ends the init phase: later registrations are refused. Returns what
    /// was registered and what was refused.
    pub(crate) fn finish_init(&self) -> (Vec<Table>, Vec<RegistrationError>) {
        // Release: pairs with the Acquire load in `register`, so a plugin
        // thread that sees `false` registers nothing after this point.
        self.in_init.store(false, Ordering::Release);
        let tables = std::mem::take(&mut *lock(&self.registered));
        let refused = std::mem::take(&mut *lock(&self.refused));
        (tables, refused)
    }

    /// Marks a plugin thread that reaches the host during the entry point
    /// (\[R11\]): its writes are refused while the entry point runs.
    fn note_call(&self, shared: &Shared) {
        // Acquire: pairs with the Release store in `finish_init`; a stale
        // `true` only costs the check in `note_host_call`.
        if self.in_init.load(Ordering::Acquire) {
            shared.note_host_call(&self.bundle);
        }
    }

    fn set_last_error(&self, code: u32, message: String) {
        *lock(&self.last_error) = Some((code, message));
    }

    fn register(
        &self,
        interface: *const ContractInterface,
    ) -> Result<(), (u32, RegistrationError)> {
        // Acquire: pairs with the Release store in `finish_init`.
        if !self.in_init.load(Ordering::Acquire) {
            return Err((ERR_NOT_IN_INIT, RegistrationError::NotInInit));
        }
        // SAFETY: [P3] the plugin passes a readable interface; the copy
        // bounds every length before reading.
        let plain = unsafe { PlainInterface::copy_from_abi(interface) }
            .map_err(|e| (ERR_INVALID, RegistrationError::Invalid(e)))?;
        let table = plain
            .validate()
            .map_err(|e| (ERR_INVALID, RegistrationError::Invalid(e)))?;
        let declared = self
            .declared
            .iter()
            .any(|d| *d.name == *table.name && table.version.satisfies(d.version));
        if !declared {
            return Err((
                ERR_UNDECLARED,
                RegistrationError::Undeclared {
                    contract: table.name.to_string(),
                    version: table.version,
                },
            ));
        }
        let mut registered = lock(&self.registered);
        if registered.iter().any(|t| t.id == table.id) {
            return Err((
                ERR_DUPLICATE,
                RegistrationError::Duplicate {
                    contract: table.name.to_string(),
                },
            ));
        }
        registered.push(table);
        Ok(())
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs a host function body at the FFI boundary: catches panics, and on
/// error writes a static message to `err` (when non-null) and records the
/// detailed one as the bundle's last error.
fn boundary(
    ctx: *mut c_void,
    err: *mut AbiError,
    body: impl FnOnce(&HostContext) -> Result<(), (u32, String)>,
) -> u32 {
    if ctx.is_null() {
        write_err(err, ERR_BAD_ARGUMENT);
        return ERR_BAD_ARGUMENT;
    }
    // SAFETY: [R5] a non-null ctx is the one the host put in the table,
    // and its context lives until the library is closed.
    let context: &HostContext = unsafe { &*ctx.cast::<HostContext>() };
    let result = catch_unwind(AssertUnwindSafe(|| body(context))).unwrap_or_else(|_| {
        Err((
            ERR_INTERNAL,
            "the host panicked; this is a polyplug bug".to_owned(),
        ))
    });
    match result {
        Ok(()) => OK,
        Err((code, message)) => {
            write_err(err, code);
            context.set_last_error(code, message);
            code
        }
    }
}

fn static_message(code: u32) -> &'static str {
    match code {
        ERR_BAD_ARGUMENT => "bad argument (see last_error for details)",
        ERR_NOT_FOUND => "not found (see last_error for details)",
        ERR_NOT_IN_INIT => "register_contract is valid only during the entry point",
        ERR_DUPLICATE => "contract registered twice",
        ERR_UNDECLARED => "contract not declared in the bundle's manifest",
        ERR_INVALID => "invalid contract interface (see last_error for details)",
        _ => "host error (see last_error for details)",
    }
}

fn write_err(err: *mut AbiError, code: u32) {
    if !err.is_null() {
        // SAFETY: [P4] a non-null `err` is writable for one AbiError.
        unsafe { err.write_unaligned(AbiError::new(code, static_message(code))) };
    }
}

/// Reads a plugin's string view as UTF-8.
///
/// # Safety
///
/// \[P3\] a non-null `view.ptr` points to `view.len` readable bytes.
unsafe fn view_str<'a>(view: StrView) -> Result<&'a str, (u32, String)> {
    if view.len == 0 {
        return Ok("");
    }
    if view.ptr.is_null() {
        return Err((
            ERR_BAD_ARGUMENT,
            "null string with a non-zero length".to_owned(),
        ));
    }
    // SAFETY: [P3] non-null (checked) and readable for `len` bytes.
    let bytes = unsafe { std::slice::from_raw_parts(view.ptr, view.len) };
    std::str::from_utf8(bytes).map_err(|_| (ERR_BAD_ARGUMENT, "string is not UTF-8".to_owned()))
}

unsafe extern "C" fn register_contract(
    ctx: *mut c_void,
    interface: *const ContractInterface,
    err: *mut AbiError,
) -> u32 {
    boundary(ctx, err, |context| match context.register(interface) {
        Ok(()) => Ok(()),
        Err((code, refusal)) => {
            let message = refusal_message(&context.bundle, &refusal);
            lock(&context.refused).push(refusal);
            Err((code, message))
        }
    })
}

fn refusal_message(bundle: &str, refusal: &RegistrationError) -> String {
    match refusal {
        RegistrationError::Invalid(e) => format!("bundle {bundle}: {e}"),
        RegistrationError::Undeclared { contract, version } => {
            format!(
                "bundle {bundle}: contract {contract} {version} is not declared in the manifest"
            )
        }
        RegistrationError::Duplicate { contract } => {
            format!("bundle {bundle}: contract {contract} registered twice")
        }
        RegistrationError::NotInInit => {
            format!("bundle {bundle}: register_contract called after the entry point returned")
        }
    }
}

unsafe extern "C" fn find_contract(
    ctx: *mut c_void,
    name: StrView,
    min_version: Version,
    out: *mut ContractHandle,
    err: *mut AbiError,
) -> u32 {
    boundary(ctx, err, |context| {
        if out.is_null() {
            return Err((ERR_BAD_ARGUMENT, "find_contract: null `out`".to_owned()));
        }
        // SAFETY: [P3] the plugin passes a readable view.
        let name = unsafe { view_str(name) }?;
        let shared = context.shared.upgrade().ok_or_else(gone)?;
        context.note_call(&shared);
        let reader = shared.store.reader();
        let guard = reader.pin();
        let found = crate::read::best(&guard, name, min_version).ok_or_else(|| {
            (
                ERR_NOT_FOUND,
                format!("no loaded contract {name} satisfies {min_version}"),
            )
        })?;
        // SAFETY: [P4] `out` is non-null (checked) and writable.
        unsafe { out.write_unaligned(ContractHandle(found.0.to_raw())) };
        Ok(())
    })
}

unsafe extern "C" fn resolve_contract(
    ctx: *mut c_void,
    handle: ContractHandle,
    out: *mut ContractInterface,
    err: *mut AbiError,
) -> u32 {
    boundary(ctx, err, |context| {
        if out.is_null() {
            return Err((ERR_BAD_ARGUMENT, "resolve_contract: null `out`".to_owned()));
        }
        let shared = context.shared.upgrade().ok_or_else(gone)?;
        context.note_call(&shared);
        let stale = || {
            (
                ERR_NOT_FOUND,
                format!("contract handle {:#x} is not loaded", handle.0),
            )
        };
        let handle = polyplug_store::Handle::from_raw(handle.0).ok_or_else(stale)?;
        let reader = shared.store.reader();
        let guard = reader.pin();
        let entry = guard.get(handle).map_err(|_| stale())?;
        // SAFETY: [P4] `out` is non-null (checked) and writable. [R7] the
        // view stays valid while the caller's outer guard is pinned.
        unsafe { out.write_unaligned(entry.table.abi_view()) };
        Ok(())
    })
}

fn gone() -> (u32, String) {
    (ERR_NOT_FOUND, "the runtime has been dropped".to_owned())
}

unsafe extern "C" fn log(ctx: *mut c_void, level: u32, message: StrView) {
    boundary(ctx, std::ptr::null_mut(), |context| {
        // SAFETY: [P3] the plugin passes a readable view.
        let text = unsafe { view_str(message) }
            .map(str::to_owned)
            .unwrap_or_else(|_| "<not UTF-8>".to_owned());
        if let Some(shared) = context.shared.upgrade() {
            shared.events.emit(Event::Log {
                bundle: context.bundle.clone(),
                level: LogLevel::from_code(level),
                message: text,
            });
        }
        Ok(())
    });
}

unsafe extern "C" fn alloc(_ctx: *mut c_void, size: usize, align: usize) -> *mut c_void {
    catch_unwind(|| {
        match Layout::from_size_align(size, align) {
            Ok(layout) if size > 0 => {
                // SAFETY: [R9] the layout has a non-zero size (checked).
                unsafe { std::alloc::alloc(layout) }.cast::<c_void>()
            }
            _ => std::ptr::null_mut(),
        }
    })
    .unwrap_or(std::ptr::null_mut())
}

unsafe extern "C" fn free(_ctx: *mut c_void, ptr: *mut c_void, size: usize, align: usize) {
    let _ = catch_unwind(|| {
        if let (false, Ok(layout)) = (ptr.is_null(), Layout::from_size_align(size, align)) {
            // SAFETY: [P5] the plugin frees memory from `alloc` with the same
            // size and alignment.
            unsafe { std::alloc::dealloc(ptr.cast::<u8>(), layout) };
        }
    });
}

unsafe extern "C" fn last_error(ctx: *mut c_void, out: *mut AbiError) -> u32 {
    if ctx.is_null() || out.is_null() {
        return ERR_BAD_ARGUMENT;
    }
    // SAFETY: [R5] a non-null ctx is the one the host put in the table.
    let context: &HostContext = unsafe { &*ctx.cast::<HostContext>() };
    catch_unwind(AssertUnwindSafe(|| {
        let Some((code, message)) = lock(&context.last_error).clone() else {
            // SAFETY: [P4] `out` is non-null (checked) and writable.
            unsafe { out.write_unaligned(AbiError::NONE) };
            return OK;
        };
        let copy = host_string(&message);
        // SAFETY: [P4] `out` is non-null (checked) and writable.
        unsafe {
            out.write_unaligned(AbiError {
                code,
                flags: ERROR_FLAG_HOST_ALLOCATED,
                message: copy,
            })
        };
        code
    }))
    .unwrap_or(ERR_INTERNAL)
}

/// Copies `text` into memory from the host allocator (alignment 1), for a
/// message whose ownership passes to the plugin.
fn host_string(text: &str) -> StrView {
    let Ok(layout) = Layout::from_size_align(text.len(), 1) else {
        return StrView::EMPTY;
    };
    if text.is_empty() {
        return StrView::EMPTY;
    }
    // SAFETY: [R9] the layout has a non-zero size (checked).
    let ptr = unsafe { std::alloc::alloc(layout) };
    if ptr.is_null() {
        return StrView::EMPTY;
    }
    // SAFETY: [R9] `ptr` is a fresh allocation of `text.len()` bytes.
    unsafe { std::ptr::copy_nonoverlapping(text.as_ptr(), ptr, text.len()) };
    StrView {
        ptr,
        len: text.len(),
    }
}

/// Frees a host-allocated message from a plugin's [`AbiError`] and returns
/// its text.
///
/// # Safety
///
/// \[P6\] with [`ERROR_FLAG_HOST_ALLOCATED`] set, `message` came from the
/// host's `alloc` with alignment 1; otherwise it is readable for the life of
/// the plugin's library.
pub(crate) unsafe fn take_message(err: &AbiError) -> String {
    if err.message.len == 0 || err.message.ptr.is_null() {
        return String::new();
    }
    let len = err.message.len.min(64 * 1024);
    // SAFETY: [P6] readable for `len` bytes (at most what the plugin wrote).
    let bytes = unsafe { std::slice::from_raw_parts(err.message.ptr, len) };
    let text = String::from_utf8_lossy(bytes).into_owned();
    if err.flags & ERROR_FLAG_HOST_ALLOCATED != 0
        && let Ok(layout) = Layout::from_size_align(err.message.len, 1)
    {
        // SAFETY: [P6] host-allocated with this size and alignment 1.
        unsafe { std::alloc::dealloc(err.message.ptr.cast_mut(), layout) };
    }
    text
}
