//! The host table: checked and stored by the entry point, used through
//! [`Host`].
//!
//! One library has one host table. The entry point stores its pointer in a
//! plain `AtomicPtr` (no thread-local: a library that registers TLS
//! destructors cannot be unmapped), and every later call into the plugin
//! reads it back from there.

use core::ffi::c_void;
use core::fmt;
use core::marker::PhantomData;
use core::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};

use polyplug_abi::{
    ABI_VERSION, AbiError, ContractHandle, ContractId, ContractInterface, ERR_ABI_MISMATCH,
    ERR_BAD_ARGUMENT, ERR_UNSUPPORTED, ERROR_FLAG_HOST_ALLOCATED, HostApi, OK, OwnedBuf, StrView,
    Version,
};

use crate::error::Error;
use crate::resolved::ResolvedContract;

/// The host table given to `polyplug_entry`, or null before it ran.
///
/// Release in [`install`]: publishes a table the host built before it
/// called the entry point; pairs with the Acquire load in [`Host::current`].
static HOST: AtomicPtr<HostApi> = AtomicPtr::new(ptr::null_mut());

/// Checks the host table and stores it for every later call.
///
/// # Safety
///
/// \[G1\]: `api` is null or points to a `HostApi` that the host keeps valid
/// and unchanged until this library is closed.
pub(crate) unsafe fn install(api: *const HostApi) -> Result<(), Error> {
    if api.is_null() {
        return Err(Error::from_static(
            ERR_BAD_ARGUMENT,
            "polyplug_entry: the host table is null",
        ));
    }
    // SAFETY: [G1] `api` is non-null and points to a host table; every ABI
    // version of the table starts with `abi_version` and `size`.
    let version = unsafe { (*api).abi_version };
    if version != ABI_VERSION {
        return Err(Error::from_static(
            ERR_ABI_MISMATCH,
            "polyplug_entry: the host table has another ABI version than this plugin",
        ));
    }
    // SAFETY: [G1] as above; `size` is the table's second field.
    let size = unsafe { (*api).size };
    if (size as usize) < size_of::<HostApi>() {
        return Err(Error::from_static(
            ERR_ABI_MISMATCH,
            "polyplug_entry: the host table is smaller than this plugin's HostApi",
        ));
    }
    // Release: pairs with the Acquire load in `Host::current`.
    HOST.store(api.cast_mut(), Ordering::Release);
    Ok(())
}

/// The host's services, as safe methods: logging, finding and resolving
/// contracts, and the allocator behind error messages.
///
/// A `Host` is only ever lent: the entry point lends one to the init
/// function, and [`Host::with`] lends one to any plugin code the host
/// called. It is neither `Send` nor `Sync`, and a [`ResolvedContract`]
/// borrows it, so resolved function pointers cannot outlive the closure
/// that lent it (\[G5\]).
///
/// ```
/// use polyplug_guest::{Error, Host};
/// use polyplug_guest::abi::LOG_INFO;
///
/// fn my_init(host: &Host) -> Result<(), Error> {
///     host.log(LOG_INFO, "my plugin starts");
///     Ok(())
/// }
/// # let _ = my_init;
/// ```
pub struct Host {
    api: &'static HostApi,
    _not_send: PhantomData<*const ()>,
}

impl Host {
    /// The stored host table, if the entry point ran.
    pub(crate) fn current() -> Option<Host> {
        // Acquire: pairs with the Release store in `install`.
        let api = HOST.load(Ordering::Acquire);
        if api.is_null() {
            return None;
        }
        // SAFETY: [G1] a non-null `HOST` was checked by `install` (version, size)
        // and stays valid, unwritten, until the library is closed.
        let api = unsafe { &*api };
        Some(Host {
            api,
            _not_send: PhantomData,
        })
    }

    /// Lends the host to `f`. Fails with
    /// [`ERR_UNSUPPORTED`](polyplug_abi::ERR_UNSUPPORTED) when the entry
    /// point has not run in this library.
    ///
    /// Call it from plugin code that the host called (a native or typed
    /// function, the init function, an instance constructor or
    /// destructor), on that thread, during that call: the contracts it
    /// resolves are pinned only for the duration of such a call (\[G5\]).
    ///
    /// ```
    /// use polyplug_guest::{Error, Host};
    /// use polyplug_guest::abi::Version;
    ///
    /// fn twice(x: u32) -> Result<u32, Error> {
    ///     Host::with(|host| {
    ///         let handle = host.find("test.host", Version::new(1, 0, 0))?;
    ///         let contract = host.resolve(handle)?;
    ///         let double = contract.typed::<extern "C" fn(u32) -> u32>("double")?;
    ///         Ok(double.call(x))
    ///     })
    /// }
    /// // No host table in a doctest:
    /// assert!(twice(2).is_err());
    /// ```
    pub fn with<R>(f: impl FnOnce(&Host) -> Result<R, Error>) -> Result<R, Error> {
        match Host::current() {
            Some(host) => f(&host),
            None => Err(Error::from_static(
                ERR_UNSUPPORTED,
                "no host table: polyplug_entry has not run in this library",
            )),
        }
    }

    /// Logs `message` at `level`, one of the `LOG_*` constants. Does
    /// nothing when the host has no `log` function.
    ///
    /// ```
    /// # use polyplug_guest::Host;
    /// # fn f(host: &Host) {
    /// host.log(polyplug_guest::abi::LOG_WARN, "disk almost full");
    /// # }
    /// ```
    pub fn log(&self, level: u32, message: &str) {
        if let Some(log) = self.api.log {
            // SAFETY: [G1] `log` comes from the checked host table and may be
            // called from any thread; the view borrows `message` for the call.
            unsafe { log(self.api.ctx, level, view(message)) };
        }
    }

    /// Finds the best loaded contract named `name` that satisfies
    /// `min_version` and returns its handle, which may be kept.
    ///
    /// ```
    /// # use polyplug_guest::{Error, Host};
    /// # fn f(host: &Host) -> Result<(), Error> {
    /// let handle = host.find("test.add", polyplug_guest::abi::Version::new(1, 0, 0))?;
    /// # let _ = handle; Ok(()) }
    /// ```
    pub fn find(&self, name: &str, min_version: Version) -> Result<ContractHandle, Error> {
        let Some(find) = self.api.find_contract else {
            return Err(unsupported("find_contract"));
        };
        let mut handle = ContractHandle(0);
        let mut err = AbiError::NONE;
        // SAFETY: [G1] `find` comes from the checked host table; `name` is
        // borrowed for the call; `handle` and `err` are live locals.
        let code = unsafe { find(self.api.ctx, view(name), min_version, &mut handle, &mut err) };
        if code == OK {
            return Ok(handle);
        }
        // SAFETY: [G4] `err` was written by the host function just called.
        Err(unsafe { self.take_error(code, err, "find_contract") })
    }

    /// Resolves `handle` to the contract's current interface. The result
    /// borrows this `Host`, so it lives only as long as the call that lent
    /// it (\[G5\]); keep the handle, not the result.
    ///
    /// ```
    /// # use polyplug_guest::{Error, Host};
    /// # fn f(host: &Host, handle: polyplug_guest::abi::ContractHandle) -> Result<(), Error> {
    /// let contract = host.resolve(handle)?;
    /// println!("{} {}", contract.id(), contract.version());
    /// # Ok(()) }
    /// ```
    pub fn resolve(&self, handle: ContractHandle) -> Result<ResolvedContract<'_>, Error> {
        let Some(resolve) = self.api.resolve_contract else {
            return Err(unsupported("resolve_contract"));
        };
        let mut interface = ContractInterface {
            id: ContractId(0),
            name: StrView::EMPTY,
            version: Version::new(0, 0, 0),
            native_count: 0,
            native: ptr::null(),
            typed_count: 0,
            typed: ptr::null(),
            create_instance: None,
            destroy_instance: None,
            context_count: 0,
            context: ptr::null(),
            instance_ctx: ptr::null_mut(),
            create_context_instance: None,
            destroy_context_instance: None,
            save_instance: None,
            restore_instance: None,
            save_context_instance: None,
            restore_context_instance: None,
        };
        let mut err = AbiError::NONE;
        // SAFETY: [G1] `resolve` comes from the checked host table;
        // `interface` and `err` are live locals.
        let code = unsafe { resolve(self.api.ctx, handle, &mut interface, &mut err) };
        if code == OK {
            return Ok(ResolvedContract::new(self, interface));
        }
        // SAFETY: [G4] `err` was written by the host function just called.
        Err(unsafe { self.take_error(code, err, "resolve_contract") })
    }

    /// Registers `interface` with the host, writing any error to `*err`.
    ///
    /// # Safety
    ///
    /// \[G2\]: `err` is null or the entry point's writable `err`.
    pub(crate) unsafe fn register(&self, interface: &ContractInterface, err: *mut AbiError) -> u32 {
        let Some(register) = self.api.register_contract else {
            // SAFETY: [G2] forwarded: `err` is null or writable.
            return unsafe { unsupported("register_contract").write_with(Some(self), err) };
        };
        // SAFETY: [G1] `register` is from the checked host table; the interface
        // is a static table of this library ([G6]); `err` is null or writable.
        unsafe { register(self.api.ctx, interface, err) }
    }

    /// Copies `bytes` into memory from the host's `alloc` (alignment 1),
    /// handed over as an [`OwnedBuf`] that the receiver frees. `None` when
    /// the host cannot allocate; no bytes are [`OwnedBuf::EMPTY`].
    pub(crate) fn alloc_bytes(&self, bytes: &[u8]) -> Option<OwnedBuf> {
        if bytes.is_empty() {
            return Some(OwnedBuf::EMPTY);
        }
        let alloc = self.api.alloc?;
        // SAFETY: [G1] `alloc` comes from the checked host table; the size is
        // non-zero and the alignment 1 is a power of two.
        let ptr = unsafe { alloc(self.api.ctx, bytes.len(), 1) }.cast::<u8>();
        if ptr.is_null() {
            return None;
        }
        // SAFETY: [G1] `alloc` returned `bytes.len()` fresh writable bytes,
        // so they cannot overlap `bytes`.
        unsafe { ptr.copy_from_nonoverlapping(bytes.as_ptr(), bytes.len()) };
        Some(OwnedBuf {
            ptr,
            len: bytes.len(),
        })
    }

    /// Copies `text` into memory from the host's `alloc` (alignment 1), for
    /// a message the receiver frees. `None` when the text is empty or the
    /// host cannot allocate.
    pub(crate) fn alloc_text(&self, text: &str) -> Option<StrView> {
        let alloc = self.api.alloc?;
        if text.is_empty() {
            return None;
        }
        // SAFETY: [G1] `alloc` comes from the checked host table; the size is
        // non-zero and the alignment 1 is a power of two.
        let ptr = unsafe { alloc(self.api.ctx, text.len(), 1) }.cast::<u8>();
        if ptr.is_null() {
            return None;
        }
        // SAFETY: [G1] `alloc` returned `text.len()` fresh writable bytes, so
        // they cannot overlap `text`.
        unsafe { ptr.copy_from_nonoverlapping(text.as_ptr(), text.len()) };
        Some(StrView {
            ptr,
            len: text.len(),
        })
    }

    /// Frees a message allocated by [`Host::alloc_text`] or by the host.
    ///
    /// # Safety
    ///
    /// \[G4\]: `text` was allocated with this table's `alloc` (size
    /// `text.len`, alignment 1) and is not used or freed again.
    pub(crate) unsafe fn free_text(&self, text: StrView) {
        if let Some(free) = self.api.free {
            // SAFETY: [G4] the caller hands over an allocation of this host
            // with exactly this size and alignment.
            unsafe {
                free(
                    self.api.ctx,
                    text.ptr.cast_mut().cast::<c_void>(),
                    text.len,
                    1,
                )
            };
        }
    }

    /// Turns an error written by a host function into an [`Error`],
    /// freeing a host-allocated message.
    ///
    /// # Safety
    ///
    /// \[G4\]: `err` was written by a function of this host table during the
    /// current call, so its message view is readable and, when flagged
    /// host-allocated, owned by us.
    pub(crate) unsafe fn take_error(&self, code: u32, err: AbiError, what: &str) -> Error {
        let code = if code == OK { err.code } else { code };
        // SAFETY: [G4] the host's message view is readable for this call.
        let text = unsafe { read_view(err.message) };
        let message = match text {
            Some(text) if !text.is_empty() => text.into_owned(),
            _ => format!("{what} failed with code {code}"),
        };
        if err.flags & ERROR_FLAG_HOST_ALLOCATED != 0 && !err.message.ptr.is_null() {
            // SAFETY: [G4] flagged host-allocated: ours to free, once.
            unsafe { self.free_text(err.message) };
        }
        Error::new(code, message)
    }
}

impl fmt::Debug for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Host")
            .field("abi_version", &self.api.abi_version)
            .field("ctx", &self.api.ctx)
            .finish_non_exhaustive()
    }
}

/// Logs through the host table, if the entry point has run; otherwise does
/// nothing. Safe from any thread while the library is loaded.
///
/// ```
/// polyplug_guest::log(polyplug_guest::abi::LOG_INFO, "reload.test create v1");
/// ```
pub fn log(level: u32, message: &str) {
    if let Some(host) = Host::current() {
        host.log(level, message);
    }
}

fn unsupported(function: &'static str) -> Error {
    Error::new(
        ERR_UNSUPPORTED,
        format!("the host table has no {function} function"),
    )
}

/// A view of `text` for the duration of a call.
fn view(text: &str) -> StrView {
    StrView {
        ptr: text.as_ptr(),
        len: text.len(),
    }
}

/// The text of a view the host handed over: `None` when it is null with a
/// length, lossy when it is not UTF-8.
///
/// # Safety
///
/// \[G4\]: a non-null `view` points to `view.len` readable bytes for the
/// current call.
pub(crate) unsafe fn read_view<'a>(view: StrView) -> Option<std::borrow::Cow<'a, str>> {
    if view.len == 0 {
        return Some(std::borrow::Cow::Borrowed(""));
    }
    if view.ptr.is_null() {
        return None;
    }
    // SAFETY: [G4] non-null, `len` readable bytes, not written during the
    // call.
    let bytes = unsafe { core::slice::from_raw_parts(view.ptr, view.len) };
    Some(String::from_utf8_lossy(bytes))
}
