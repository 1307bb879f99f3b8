//! The host table: the services a plugin calls back into.
//!
//! One [`HostContext`] exists per loaded library. It holds the
//! [`HostApi`] given to the plugin (whose `ctx` points back at the context),
//! the contracts registered during the entry point, and the bundle's last
//! error. It is freed only after its library is closed, so the plugin may
//! keep the table's address for as long as it is loaded (\[R5\]). Every
//! function here catches panics and turns them into `ERR_INTERNAL`.
//!
//! A plugin may call these functions as often as it likes, so none of them
//! keeps anything per call: a refused registration is recorded only while
//! the entry point runs (the first one, for the load's error), the last
//! error is one code and one message of at most [`LAST_ERROR_MAX_BYTES`]
//! written into a buffer allocated once, and lookups pin with a
//! registration lent by the store instead of registering a reader per call.

use std::alloc::Layout;
use std::ffi::c_void;
use std::fmt::{self, Display, Write as _};
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
use crate::{Event, LogLevel, PluginMessage};

/// The longest message the bundle's last error keeps, in bytes, marker
/// included.
pub(crate) const LAST_ERROR_MAX_BYTES: usize = 1024;

/// What ends a last error that was cut to [`LAST_ERROR_MAX_BYTES`].
pub(crate) const TRUNCATED: &str = " [truncated]";

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
    /// Whether the entry point is running: `init.open`, readable without
    /// the lock by the lookups a plugin makes (\[R12\]).
    in_init: AtomicBool,
    init: Mutex<Init>,
    last_error: Mutex<LastError>,
}

/// What the entry point registers, kept until it returns.
struct Init {
    /// Whether the entry point is still running.
    open: bool,
    registered: Vec<Table>,
    /// The first refusal; later ones add nothing to the load's error.
    refused: Option<RegistrationError>,
}

/// The last error the host reported to the bundle: a code ([`OK`] for
/// none) and a message of at most [`LAST_ERROR_MAX_BYTES`], in one buffer
/// allocated on the first error and reused for every later one.
struct LastError {
    code: u32,
    message: String,
}

impl LastError {
    /// Replaces the error, cutting the message at a character boundary to
    /// [`LAST_ERROR_MAX_BYTES`] (ending with [`TRUNCATED`]) when longer.
    fn set(&mut self, code: u32, message: &dyn Display) {
        self.code = code;
        self.message.clear();
        // Empty now: allocates on the first error only.
        self.message.reserve_exact(LAST_ERROR_MAX_BYTES);
        let mut bounded = Bounded {
            text: &mut self.message,
            room: LAST_ERROR_MAX_BYTES,
            cut: false,
        };
        // An error only says the message did not fit; `cut` says so too.
        let _ = write!(bounded, "{message}");
        if bounded.cut {
            let end = floor_boundary(&self.message, LAST_ERROR_MAX_BYTES - TRUNCATED.len());
            self.message.truncate(end);
            self.message.push_str(TRUNCATED);
        }
    }
}

/// A writer that appends to `text` at most `room` more bytes, cut at a
/// character boundary, and then refuses.
struct Bounded<'a> {
    text: &'a mut String,
    room: usize,
    cut: bool,
}

impl fmt::Write for Bounded<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if s.len() <= self.room {
            self.text.push_str(s);
            self.room -= s.len();
            return Ok(());
        }
        let end = floor_boundary(s, self.room);
        self.text.push_str(&s[..end]);
        self.room = 0;
        self.cut = true;
        Err(fmt::Error)
    }
}

/// The largest character boundary of `s` at or below `at`.
fn floor_boundary(s: &str, at: usize) -> usize {
    (0..=at.min(s.len()))
        .rev()
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(0)
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
            init: Mutex::new(Init {
                open: true,
                registered: Vec::new(),
                refused: None,
            }),
            last_error: Mutex::new(LastError {
                code: OK,
                message: String::new(),
            }),
        });
        let ctx: *const HostContext = &*context;
        context.api.ctx = ctx.cast_mut().cast();
        context
    }

    /// The table to hand the plugin; valid while this context lives.
    pub(crate) fn api(&self) -> *const HostApi {
        &self.api
    }

    /// Ends the init phase: later registrations are refused, and nothing
    /// about them is kept. Returns what was registered and the first
    /// refusal.
    pub(crate) fn finish_init(&self) -> (Vec<Table>, Option<RegistrationError>) {
        let mut init = lock(&self.init);
        init.open = false;
        // Release: pairs with the Acquire load in `note_call`.
        self.in_init.store(false, Ordering::Release);
        (std::mem::take(&mut init.registered), init.refused.take())
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

    fn set_last_error(&self, code: u32, message: &dyn Display) {
        lock(&self.last_error).set(code, message);
    }

    /// Keeps `refusal` for the load's error if the entry point is running
    /// and nothing was refused before.
    fn note_refusal(&self, refusal: RegistrationError) {
        let mut init = lock(&self.init);
        if init.open && init.refused.is_none() {
            init.refused = Some(refusal);
        }
    }

    fn register(
        &self,
        interface: *const ContractInterface,
    ) -> Result<(), (u32, RegistrationError)> {
        let not_in_init = || (ERR_NOT_IN_INIT, RegistrationError::NotInInit);
        if !lock(&self.init).open {
            return Err(not_in_init());
        }
        // SAFETY: [P3] the plugin passes a readable interface; the copy
        // bounds every length before reading.
        let plain = unsafe { PlainInterface::copy_from_abi(interface) }
            .map_err(|e| (ERR_INVALID, RegistrationError::Invalid(e)))?;
        self.register_plain(plain, None)
    }

    /// Checks and records one registration, made by a native plugin
    /// (through `register_contract`) or by an engine's loader: validation,
    /// the manifest's declarations and duplicates are checked here for
    /// both. `owned` is what the table's context pointers point into.
    pub(crate) fn register_plain(
        &self,
        plain: PlainInterface,
        owned: Option<Box<dyn std::any::Any + Send + Sync>>,
    ) -> Result<(), (u32, RegistrationError)> {
        let not_in_init = || (ERR_NOT_IN_INIT, RegistrationError::NotInInit);
        if !lock(&self.init).open {
            return Err(not_in_init());
        }
        let mut table = plain
            .validate()
            .map_err(|e| (ERR_INVALID, RegistrationError::Invalid(e)))?;
        if let Some(owned) = owned {
            table.own(owned);
        }
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
        let mut init = lock(&self.init);
        if !init.open {
            return Err(not_in_init());
        }
        if init.registered.iter().any(|t| t.id == table.id) {
            return Err((
                ERR_DUPLICATE,
                RegistrationError::Duplicate {
                    contract: table.name.to_string(),
                },
            ));
        }
        init.registered.push(table);
        Ok(())
    }
}

impl HostContext {
    /// Records a refused registration for the load's error, as
    /// `register_contract` does for a native plugin.
    pub(crate) fn refuse(&self, refusal: RegistrationError) {
        self.note_refusal(refusal);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Why a host function failed, written into the last error without an
/// allocation of its own.
enum Failure<'a> {
    Static(&'static str),
    NotFound {
        name: &'a str,
        min: Version,
    },
    NotLoaded(ContractHandle),
    Refused {
        bundle: &'a str,
        refusal: RegistrationError,
    },
}

impl Display for Failure<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Static(text) => f.write_str(text),
            Failure::NotFound { name, min } => {
                write!(f, "no loaded contract {name} satisfies {min}")
            }
            Failure::NotLoaded(handle) => {
                write!(f, "contract handle {:#x} is not loaded", handle.0)
            }
            Failure::Refused { bundle, refusal } => refusal_message(f, bundle, refusal),
        }
    }
}

type HostResult<'a> = Result<(), (u32, Failure<'a>)>;

/// Runs a host function body at the FFI boundary: catches panics, and on
/// error writes a static message to `err` (when non-null) and records the
/// detailed one as the bundle's last error.
fn boundary<'a>(
    ctx: *mut c_void,
    err: *mut AbiError,
    body: impl FnOnce(&'a HostContext) -> HostResult<'a>,
) -> u32 {
    if ctx.is_null() {
        write_err(err, ERR_BAD_ARGUMENT);
        return ERR_BAD_ARGUMENT;
    }
    // SAFETY: [R5] a non-null ctx is the one the host put in the table,
    // and its context lives until the library is closed.
    let context: &'a HostContext = unsafe { &*ctx.cast::<HostContext>() };
    let result = catch_unwind(AssertUnwindSafe(|| body(context))).unwrap_or(Err((
        ERR_INTERNAL,
        Failure::Static("the host panicked; this is a polyplug bug"),
    )));
    match result {
        Ok(()) => OK,
        Err((code, failure)) => {
            write_err(err, code);
            // Formatting only writes into the kept buffer; a panic in a
            // `Display` here must not cross the boundary either.
            let _ = catch_unwind(AssertUnwindSafe(|| context.set_last_error(code, &failure)));
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
unsafe fn view_str<'a>(view: StrView) -> Result<&'a str, (u32, Failure<'a>)> {
    if view.len == 0 {
        return Ok("");
    }
    if view.ptr.is_null() {
        return Err((
            ERR_BAD_ARGUMENT,
            Failure::Static("null string with a non-zero length"),
        ));
    }
    // SAFETY: [P3] non-null (checked) and readable for `len` bytes.
    let bytes = unsafe { std::slice::from_raw_parts(view.ptr, view.len) };
    std::str::from_utf8(bytes)
        .map_err(|_| (ERR_BAD_ARGUMENT, Failure::Static("string is not UTF-8")))
}

unsafe extern "C" fn register_contract(
    ctx: *mut c_void,
    interface: *const ContractInterface,
    err: *mut AbiError,
) -> u32 {
    boundary(ctx, err, |context| match context.register(interface) {
        Ok(()) => Ok(()),
        Err((code, refusal)) => {
            if refusal != RegistrationError::NotInInit {
                context.note_refusal(refusal.clone());
            }
            Err((
                code,
                Failure::Refused {
                    bundle: &context.bundle,
                    refusal,
                },
            ))
        }
    })
}

/// The message of a refused registration, for an engine's loader to pass
/// on as its own error.
pub(crate) fn refusal_text(bundle: &str, refusal: &RegistrationError) -> String {
    Failure::Refused {
        bundle,
        refusal: refusal.clone(),
    }
    .to_string()
}

fn refusal_message(
    f: &mut fmt::Formatter<'_>,
    bundle: &str,
    refusal: &RegistrationError,
) -> fmt::Result {
    match refusal {
        RegistrationError::Invalid(e) => write!(f, "bundle {bundle}: {e}"),
        RegistrationError::Undeclared { contract, version } => {
            write!(
                f,
                "bundle {bundle}: contract {contract} {version} is not declared in the manifest"
            )
        }
        RegistrationError::Duplicate { contract } => {
            write!(f, "bundle {bundle}: contract {contract} registered twice")
        }
        RegistrationError::NotInInit => write!(
            f,
            "bundle {bundle}: register_contract called after the entry point returned"
        ),
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
            return Err((
                ERR_BAD_ARGUMENT,
                Failure::Static("find_contract: null `out`"),
            ));
        }
        // SAFETY: [P3] the plugin passes a readable view.
        let name = unsafe { view_str(name) }?;
        let shared = context.shared.upgrade().ok_or_else(gone)?;
        context.note_call(&shared);
        let found = shared.store.with_lent_guard(|guard| {
            crate::read::best(guard, name, min_version).map(|(handle, _)| handle.to_raw())
        });
        let found = found.ok_or((
            ERR_NOT_FOUND,
            Failure::NotFound {
                name,
                min: min_version,
            },
        ))?;
        // SAFETY: [P4] `out` is non-null (checked) and writable.
        unsafe { out.write_unaligned(ContractHandle(found)) };
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
            return Err((
                ERR_BAD_ARGUMENT,
                Failure::Static("resolve_contract: null `out`"),
            ));
        }
        let shared = context.shared.upgrade().ok_or_else(gone)?;
        context.note_call(&shared);
        let stale = (ERR_NOT_FOUND, Failure::NotLoaded(handle));
        let Some(raw) = polyplug_store::Handle::from_raw(handle.0) else {
            return Err(stale);
        };
        let view = shared
            .store
            .with_lent_guard(|guard| guard.get(raw).map(|entry| entry.table.abi_view()));
        let view = view.map_err(|_| stale)?;
        // SAFETY: [P4] `out` is non-null (checked) and writable. [R7] the
        // view stays valid while the caller's outer guard is pinned.
        unsafe { out.write_unaligned(view) };
        Ok(())
    })
}

fn gone() -> (u32, Failure<'static>) {
    (
        ERR_NOT_FOUND,
        Failure::Static("the runtime has been dropped"),
    )
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
        let last = lock(&context.last_error);
        let code = last.code;
        if code == OK {
            // SAFETY: [P4] `out` is non-null (checked) and writable.
            unsafe { out.write_unaligned(AbiError::NONE) };
            return OK;
        }
        let copy = host_string(&last.message);
        drop(last);
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
pub(crate) unsafe fn take_message(err: &AbiError) -> PluginMessage {
    if err.message.len == 0 || err.message.ptr.is_null() {
        return PluginMessage::default();
    }
    let len = err.message.len.min(PluginMessage::MAX_BYTES);
    // SAFETY: [P6] readable for `len` bytes (at most what the plugin wrote).
    let bytes = unsafe { std::slice::from_raw_parts(err.message.ptr, len) };
    let text = PluginMessage::from_prefix(bytes, err.message.len);
    if err.flags & ERROR_FLAG_HOST_ALLOCATED != 0
        && let Ok(layout) = Layout::from_size_align(err.message.len, 1)
    {
        // SAFETY: [P6] host-allocated with this size and alignment 1.
        unsafe { std::alloc::dealloc(err.message.ptr.cast_mut(), layout) };
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_error_is_cut_at_a_character_boundary_in_one_buffer() {
        let mut last = LastError {
            code: OK,
            message: String::new(),
        };
        last.set(ERR_NOT_FOUND, &"short");
        assert_eq!((last.code, last.message.as_str()), (ERR_NOT_FOUND, "short"));
        let buffer = last.message.as_ptr();
        // Two-byte characters, so that the cut falls inside one.
        let long = format!("a{}", "é".repeat(LAST_ERROR_MAX_BYTES));
        for _ in 0..3 {
            last.set(ERR_INVALID, &long);
            assert!(last.message.len() <= LAST_ERROR_MAX_BYTES);
            assert!(last.message.ends_with(TRUNCATED));
            let kept = &last.message[..last.message.len() - TRUNCATED.len()];
            assert!(
                long.starts_with(kept) && kept.len() + 2 > LAST_ERROR_MAX_BYTES - TRUNCATED.len()
            );
            assert_eq!(last.message.as_ptr(), buffer, "the buffer is reused");
        }
        let exact = "x".repeat(LAST_ERROR_MAX_BYTES);
        last.set(ERR_INVALID, &exact);
        assert_eq!(last.message, exact, "a message that fits is not cut");
    }

    #[test]
    fn only_the_first_refusal_during_init_is_kept() {
        let context = HostContext::new(Weak::new(), "b", Vec::new());
        // SAFETY: [R5] the table of a live context.
        let api = unsafe { &*context.api() };
        let register = api.register_contract.unwrap_or_else(|| unreachable!());
        for _ in 0..1_000 {
            // SAFETY: [P3] a null contract is refused before it is read;
            // `err` may be null.
            let code = unsafe { register(api.ctx, std::ptr::null(), std::ptr::null_mut()) };
            assert_eq!(code, ERR_INVALID);
        }
        let (tables, refused) = context.finish_init();
        assert!(tables.is_empty());
        assert!(matches!(refused, Some(RegistrationError::Invalid(_))));
        for _ in 0..1_000 {
            // SAFETY: as above.
            let code = unsafe { register(api.ctx, std::ptr::null(), std::ptr::null_mut()) };
            assert_eq!(code, ERR_NOT_IN_INIT);
        }
        let init = lock(&context.init);
        assert!(init.refused.is_none() && init.registered.is_empty());
        let last = lock(&context.last_error);
        assert_eq!(last.code, ERR_NOT_IN_INIT);
        assert_eq!(
            last.message,
            "bundle b: register_contract called after the entry point returned"
        );
    }
}
