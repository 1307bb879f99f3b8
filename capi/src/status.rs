//! Status codes: what every exported function returns, one `uint32_t`
//! constant per kind of failure, and the conversion from the runtime's
//! typed errors.
//!
//! Codes are plain integers, never a Rust enum, so any value a C host holds
//! is a valid one. A code names the kind; the message of the last failure
//! (`polyplug_last_error_message`) names the thing.

use std::ffi::c_char;

use engine::{CallError, FindError, InstanceError, LoadError};

/// What a call of the C API did: `POLYPLUG_OK` or one `POLYPLUG_ERR_*`.
///
/// ```c
/// polyplug_status status = polyplug_unpin(guard);
/// if (status != POLYPLUG_OK) fprintf(stderr, "%s\n", polyplug_status_name(status));
/// ```
pub type polyplug_status = u32;

/// Success.
///
/// ```c
/// if (polyplug_load_bundle(runtime, "plugins/counter", &id) == POLYPLUG_OK) puts("loaded");
/// ```
pub const POLYPLUG_OK: polyplug_status = 0;

/// A required pointer argument is NULL; the message names the argument.
///
/// ```c
/// assert(polyplug_runtime_new(NULL) == POLYPLUG_ERR_NULL); // "out is NULL"
/// ```
pub const POLYPLUG_ERR_NULL: polyplug_status = 1;
/// A string argument is not UTF-8; the message names the argument.
///
/// ```c
/// assert(polyplug_bundle_id(runtime, "\xff", &id) == POLYPLUG_ERR_UTF8);
/// ```
pub const POLYPLUG_ERR_UTF8: polyplug_status = 2;
/// Not a live object of the kind the argument needs: another kind of
/// object, a destroyed one (while its memory is not reused), a misaligned
/// pointer, or an integer that cannot be a contract handle.
///
/// ```c
/// polyplug_fn_destroy(inc);
/// assert(polyplug_fn_destroy(inc) == POLYPLUG_ERR_INVALID_HANDLE); // "destroyed"
/// ```
pub const POLYPLUG_ERR_INVALID_HANDLE: polyplug_status = 3;
/// A reader, guard or function used on a thread other than the one that
/// made it.
///
/// ```c
/// // on a thread other than the reader's:
/// assert(polyplug_pin(reader, &guard) == POLYPLUG_ERR_WRONG_THREAD);
/// ```
pub const POLYPLUG_ERR_WRONG_THREAD: polyplug_status = 4;
/// A guard that was unpinned (or repinned into another slot generation).
///
/// ```c
/// polyplug_unpin(guard);
/// assert(polyplug_unpin(guard) == POLYPLUG_ERR_STALE_GUARD);
/// ```
pub const POLYPLUG_ERR_STALE_GUARD: polyplug_status = 5;
/// Refused because the object is in use: a runtime with live readers, a
/// reader with live guards, a guard in use by a call further up the stack,
/// an instance in a call on another thread, a listener destroyed from its
/// own callback.
///
/// ```c
/// assert(polyplug_runtime_destroy(runtime) == POLYPLUG_ERR_BUSY); // a reader lives
/// ```
pub const POLYPLUG_ERR_BUSY: polyplug_status = 6;
/// A reader already has `POLYPLUG_MAX_GUARDS` live guards.
///
/// ```c
/// polyplug_guard guards[POLYPLUG_MAX_GUARDS + 1];
/// for (int i = 0; i <= POLYPLUG_MAX_GUARDS; i++) status = polyplug_pin(reader, &guards[i]);
/// assert(status == POLYPLUG_ERR_GUARD_LIMIT);
/// ```
pub const POLYPLUG_ERR_GUARD_LIMIT: polyplug_status = 7;
/// polyplug panicked; the panic was caught at the boundary. A bug in
/// polyplug: please report it with the message.
///
/// ```c
/// if (status == POLYPLUG_ERR_PANIC) report_bug(polyplug_last_error_message(NULL));
/// ```
pub const POLYPLUG_ERR_PANIC: polyplug_status = 8;
/// A write (load, reload, unload, drain, reclaim, registering a host
/// contract) called from plugin code that a write of the same runtime is
/// running: an entry point, a thread it waits for, a library finaliser.
/// Nothing changed; the message names both operations.
///
/// ```c
/// // in a host function that a plugin's entry point calls during a load:
/// if (polyplug_unload_bundle(runtime, other) == POLYPLUG_ERR_REENTRANT) defer_until_after_load();
/// ```
pub const POLYPLUG_ERR_REENTRANT: polyplug_status = 9;

/// No loaded contract of that name satisfies the minimum version.
///
/// ```c
/// assert(polyplug_find(guard, "no.such", (PpVersion){1, 0, 0}, &c) == POLYPLUG_ERR_NOT_FOUND);
/// ```
pub const POLYPLUG_ERR_NOT_FOUND: polyplug_status = 20;
/// The contract handle's contract was unloaded.
///
/// ```c
/// polyplug_unload_bundle(runtime, id);
/// assert(polyplug_fn_get(guard, inc, &f) == POLYPLUG_ERR_STALE_CONTRACT);
/// ```
pub const POLYPLUG_ERR_STALE_CONTRACT: polyplug_status = 21;
/// The contract has no function of that name and kind.
///
/// ```c
/// assert(polyplug_typed(guard, add, "nope", "u32()", &f) == POLYPLUG_ERR_NO_FUNCTION);
/// ```
pub const POLYPLUG_ERR_NO_FUNCTION: polyplug_status = 22;
/// The typed function's registered signature is not the one asked for.
///
/// ```c
/// assert(polyplug_typed(guard, add, "inc", "u64(u64)", &f) == POLYPLUG_ERR_SIGNATURE_MISMATCH);
/// ```
pub const POLYPLUG_ERR_SIGNATURE_MISMATCH: polyplug_status = 23;
/// The contract makes no instances.
///
/// ```c
/// assert(polyplug_instance_new(guard, add, &instance) == POLYPLUG_ERR_STATELESS);
/// ```
pub const POLYPLUG_ERR_STATELESS: polyplug_status = 24;
/// The typed function is run by an engine (a WebAssembly function), so it
/// has no plain C function pointer: `polyplug_typed` and `polyplug_fn_get`
/// refuse it; call it with `polyplug_fn_call`.
///
/// ```c
/// if (polyplug_fn_get(guard, fn, &f) == POLYPLUG_ERR_NOT_NATIVE) {
///     polyplug_fn_call(guard, fn, &args, &out);
/// }
/// ```
pub const POLYPLUG_ERR_NOT_NATIVE: polyplug_status = 25;

/// A plugin function returned an error code; `polyplug_last_error_code`
/// gives the plugin's code.
///
/// ```c
/// if (polyplug_call_native(guard, add, "fail", &args, &out) == POLYPLUG_ERR_CALL)
///     printf("plugin code %u\n", polyplug_last_error_code());
/// ```
pub const POLYPLUG_ERR_CALL: polyplug_status = 30;

/// The bundle directory or its manifest is unusable.
///
/// ```c
/// assert(polyplug_load_bundle(runtime, "/no/such/bundle", NULL) == POLYPLUG_ERR_BUNDLE);
/// ```
pub const POLYPLUG_ERR_BUNDLE: polyplug_status = 40;
/// The library could not be opened or is not a polyplug plugin.
///
/// ```c
/// assert(polyplug_load_bundle(runtime, "bundles/bad-abi", NULL) == POLYPLUG_ERR_LIBRARY);
/// ```
pub const POLYPLUG_ERR_LIBRARY: polyplug_status = 41;
/// The manifest names a loader this runtime does not have.
///
/// ```c
/// assert(polyplug_load_bundle(runtime, "bundles/lua-script", NULL) == POLYPLUG_ERR_UNSUPPORTED_LOADER);
/// ```
pub const POLYPLUG_ERR_UNSUPPORTED_LOADER: polyplug_status = 42;
/// A bundle of that name is already loaded.
///
/// ```c
/// polyplug_load_bundle(runtime, "bundles/test-add", NULL);
/// assert(polyplug_load_bundle(runtime, "bundles/test-add", NULL) == POLYPLUG_ERR_ALREADY_LOADED);
/// ```
pub const POLYPLUG_ERR_ALREADY_LOADED: polyplug_status = 43;
/// A required contract is not provided by anything loaded.
///
/// ```c
/// assert(polyplug_load_bundle(runtime, "bundles/consumer", NULL) == POLYPLUG_ERR_MISSING_PROVIDER);
/// ```
pub const POLYPLUG_ERR_MISSING_PROVIDER: polyplug_status = 44;
/// The bundles of a directory require each other in a cycle.
///
/// ```c
/// assert(polyplug_load_dir(runtime, "cyclic", NULL, 0, NULL) == POLYPLUG_ERR_DEPENDENCY_CYCLE);
/// ```
pub const POLYPLUG_ERR_DEPENDENCY_CYCLE: polyplug_status = 45;
/// The plugin's entry point failed; `polyplug_last_error_code` gives its
/// code.
///
/// ```c
/// if (polyplug_load_bundle(runtime, dir, NULL) == POLYPLUG_ERR_INIT_FAILED)
///     printf("entry point returned %u\n", polyplug_last_error_code());
/// ```
pub const POLYPLUG_ERR_INIT_FAILED: polyplug_status = 46;
/// A registered contract failed validation.
///
/// ```c
/// assert(polyplug_load_bundle(runtime, "bundles/bad-null-fn", NULL) == POLYPLUG_ERR_INVALID_CONTRACT);
/// ```
pub const POLYPLUG_ERR_INVALID_CONTRACT: polyplug_status = 47;
/// The plugin registered a contract its manifest does not declare.
///
/// ```c
/// assert(polyplug_load_bundle(runtime, "bundles/bad-undeclared", NULL) == POLYPLUG_ERR_UNDECLARED);
/// ```
pub const POLYPLUG_ERR_UNDECLARED: polyplug_status = 48;
/// The plugin registered one contract twice.
///
/// ```c
/// assert(polyplug_load_bundle(runtime, "bundles/bad-duplicate", NULL) == POLYPLUG_ERR_DUPLICATE_CONTRACT);
/// ```
pub const POLYPLUG_ERR_DUPLICATE_CONTRACT: polyplug_status = 49;
/// The manifest declares a contract the plugin did not register.
///
/// ```c
/// assert(polyplug_load_bundle(runtime, "bundles/bad-unregistered", NULL) == POLYPLUG_ERR_NOT_REGISTERED);
/// ```
pub const POLYPLUG_ERR_NOT_REGISTERED: polyplug_status = 50;
/// A reload's new version lacks a contract the serving one provides.
///
/// ```c
/// assert(polyplug_reload_bundle(runtime, id, "bundles/bad-lacks-contract") == POLYPLUG_ERR_RELOAD_LACKS_CONTRACT);
/// ```
pub const POLYPLUG_ERR_RELOAD_LACKS_CONTRACT: polyplug_status = 51;
/// A reload's new version would break a bundle that depends on it.
///
/// ```c
/// assert(polyplug_reload_bundle(runtime, provider, "provider-v2") == POLYPLUG_ERR_BREAKS_DEPENDENT);
/// ```
pub const POLYPLUG_ERR_BREAKS_DEPENDENT: polyplug_status = 52;
/// A reload from a directory whose manifest names another bundle.
///
/// ```c
/// assert(polyplug_reload_bundle(runtime, id, "bundles/test-add") == POLYPLUG_ERR_NAME_MISMATCH);
/// ```
pub const POLYPLUG_ERR_NAME_MISMATCH: polyplug_status = 53;
/// No bundle with that id (or name) is loaded.
///
/// ```c
/// assert(polyplug_unload_bundle(runtime, 12345) == POLYPLUG_ERR_UNKNOWN_BUNDLE);
/// ```
pub const POLYPLUG_ERR_UNKNOWN_BUNDLE: polyplug_status = 54;
/// Unload refused: other bundles depend on this one.
///
/// ```c
/// assert(polyplug_unload_bundle(runtime, test_add) == POLYPLUG_ERR_HAS_DEPENDENTS); // consumer needs it
/// ```
pub const POLYPLUG_ERR_HAS_DEPENDENTS: polyplug_status = 55;
/// The contract store is full.
///
/// ```c
/// if (status == POLYPLUG_ERR_STORE_FULL) unload_unused_bundles(runtime);
/// ```
pub const POLYPLUG_ERR_STORE_FULL: polyplug_status = 56;
/// A directory of bundles could not be read.
///
/// ```c
/// assert(polyplug_load_dir(runtime, "/no/such/dir", NULL, 0, NULL) == POLYPLUG_ERR_READ_DIR);
/// ```
pub const POLYPLUG_ERR_READ_DIR: polyplug_status = 57;
/// A host contract was refused (a bad name or signature, a duplicate
/// function).
///
/// ```c
/// polyplug_host_contract_typed(math, "f", "string(u32)", (PpVoidFn)f);
/// assert(polyplug_register_host_contract(runtime, math, NULL) == POLYPLUG_ERR_HOST_CONTRACT);
/// ```
pub const POLYPLUG_ERR_HOST_CONTRACT: polyplug_status = 58;
/// A loader (the WebAssembly engine, for one) refused a bundle's code; the
/// message names the bundle, the file, contract and field at fault.
///
/// ```c
/// if (polyplug_load_bundle(runtime, "plugins/broken-wasm", NULL) == POLYPLUG_ERR_CODE) report(polyplug_last_error_message(NULL));
/// ```
pub const POLYPLUG_ERR_CODE: polyplug_status = 59;
/// `polyplug_drain` timed out: readers still hold retired tables.
///
/// ```c
/// polyplug_pin(reader, &guard); // this thread still pins the old tables
/// assert(polyplug_drain(runtime, 10) == POLYPLUG_ERR_DRAIN_TIMEOUT);
/// ```
pub const POLYPLUG_ERR_DRAIN_TIMEOUT: polyplug_status = 60;
/// An operating system error (creating the runtime's private directory,
/// starting a thread).
///
/// ```c
/// if (polyplug_runtime_new(&runtime) == POLYPLUG_ERR_IO) perror_like(polyplug_last_error_message(NULL));
/// ```
pub const POLYPLUG_ERR_IO: polyplug_status = 61;
/// A bundle id issued by another runtime (its high 32 bits name that
/// runtime): ids are passed to the runtime that issued them.
///
/// ```c
/// assert(polyplug_unload_bundle(runtime_b, id_from_runtime_a) == POLYPLUG_ERR_FOREIGN_BUNDLE);
/// ```
pub const POLYPLUG_ERR_FOREIGN_BUNDLE: polyplug_status = 62;

/// Every status and its name, for `polyplug_status_name`.
const NAMES: [(polyplug_status, &str); 41] = [
    (POLYPLUG_OK, "POLYPLUG_OK\0"),
    (POLYPLUG_ERR_NULL, "POLYPLUG_ERR_NULL\0"),
    (POLYPLUG_ERR_UTF8, "POLYPLUG_ERR_UTF8\0"),
    (POLYPLUG_ERR_INVALID_HANDLE, "POLYPLUG_ERR_INVALID_HANDLE\0"),
    (POLYPLUG_ERR_WRONG_THREAD, "POLYPLUG_ERR_WRONG_THREAD\0"),
    (POLYPLUG_ERR_STALE_GUARD, "POLYPLUG_ERR_STALE_GUARD\0"),
    (POLYPLUG_ERR_BUSY, "POLYPLUG_ERR_BUSY\0"),
    (POLYPLUG_ERR_GUARD_LIMIT, "POLYPLUG_ERR_GUARD_LIMIT\0"),
    (POLYPLUG_ERR_PANIC, "POLYPLUG_ERR_PANIC\0"),
    (POLYPLUG_ERR_REENTRANT, "POLYPLUG_ERR_REENTRANT\0"),
    (POLYPLUG_ERR_NOT_FOUND, "POLYPLUG_ERR_NOT_FOUND\0"),
    (POLYPLUG_ERR_STALE_CONTRACT, "POLYPLUG_ERR_STALE_CONTRACT\0"),
    (POLYPLUG_ERR_NO_FUNCTION, "POLYPLUG_ERR_NO_FUNCTION\0"),
    (
        POLYPLUG_ERR_SIGNATURE_MISMATCH,
        "POLYPLUG_ERR_SIGNATURE_MISMATCH\0",
    ),
    (POLYPLUG_ERR_STATELESS, "POLYPLUG_ERR_STATELESS\0"),
    (POLYPLUG_ERR_NOT_NATIVE, "POLYPLUG_ERR_NOT_NATIVE\0"),
    (POLYPLUG_ERR_CALL, "POLYPLUG_ERR_CALL\0"),
    (POLYPLUG_ERR_BUNDLE, "POLYPLUG_ERR_BUNDLE\0"),
    (POLYPLUG_ERR_LIBRARY, "POLYPLUG_ERR_LIBRARY\0"),
    (
        POLYPLUG_ERR_UNSUPPORTED_LOADER,
        "POLYPLUG_ERR_UNSUPPORTED_LOADER\0",
    ),
    (POLYPLUG_ERR_ALREADY_LOADED, "POLYPLUG_ERR_ALREADY_LOADED\0"),
    (
        POLYPLUG_ERR_MISSING_PROVIDER,
        "POLYPLUG_ERR_MISSING_PROVIDER\0",
    ),
    (
        POLYPLUG_ERR_DEPENDENCY_CYCLE,
        "POLYPLUG_ERR_DEPENDENCY_CYCLE\0",
    ),
    (POLYPLUG_ERR_INIT_FAILED, "POLYPLUG_ERR_INIT_FAILED\0"),
    (
        POLYPLUG_ERR_INVALID_CONTRACT,
        "POLYPLUG_ERR_INVALID_CONTRACT\0",
    ),
    (POLYPLUG_ERR_UNDECLARED, "POLYPLUG_ERR_UNDECLARED\0"),
    (
        POLYPLUG_ERR_DUPLICATE_CONTRACT,
        "POLYPLUG_ERR_DUPLICATE_CONTRACT\0",
    ),
    (POLYPLUG_ERR_NOT_REGISTERED, "POLYPLUG_ERR_NOT_REGISTERED\0"),
    (
        POLYPLUG_ERR_RELOAD_LACKS_CONTRACT,
        "POLYPLUG_ERR_RELOAD_LACKS_CONTRACT\0",
    ),
    (
        POLYPLUG_ERR_BREAKS_DEPENDENT,
        "POLYPLUG_ERR_BREAKS_DEPENDENT\0",
    ),
    (POLYPLUG_ERR_NAME_MISMATCH, "POLYPLUG_ERR_NAME_MISMATCH\0"),
    (POLYPLUG_ERR_UNKNOWN_BUNDLE, "POLYPLUG_ERR_UNKNOWN_BUNDLE\0"),
    (POLYPLUG_ERR_HAS_DEPENDENTS, "POLYPLUG_ERR_HAS_DEPENDENTS\0"),
    (POLYPLUG_ERR_STORE_FULL, "POLYPLUG_ERR_STORE_FULL\0"),
    (POLYPLUG_ERR_READ_DIR, "POLYPLUG_ERR_READ_DIR\0"),
    (POLYPLUG_ERR_HOST_CONTRACT, "POLYPLUG_ERR_HOST_CONTRACT\0"),
    (POLYPLUG_ERR_CODE, "POLYPLUG_ERR_CODE\0"),
    (POLYPLUG_ERR_DRAIN_TIMEOUT, "POLYPLUG_ERR_DRAIN_TIMEOUT\0"),
    (POLYPLUG_ERR_IO, "POLYPLUG_ERR_IO\0"),
    (POLYPLUG_ERR_FOREIGN_BUNDLE, "POLYPLUG_ERR_FOREIGN_BUNDLE\0"),
    (u32::MAX, "unknown polyplug_status\0"),
];

/// The name of `status` (`"POLYPLUG_ERR_STALE_GUARD"`), or `"unknown
/// polyplug_status"`. A static, NUL-terminated string: never free it. Any
/// thread.
///
/// ```c
/// printf("%s\n", polyplug_status_name(POLYPLUG_ERR_NULL)); // POLYPLUG_ERR_NULL
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn polyplug_status_name(status: polyplug_status) -> *const c_char {
    let name = NAMES
        .iter()
        .find(|(s, _)| *s == status)
        .or(NAMES.last())
        .map_or("\0", |(_, name)| name);
    name.as_ptr().cast()
}

/// A failure on its way to the caller: its status, the plugin's code where
/// there is one, and the message. Boxed, so that a `Result<_, Failure>` on
/// the hot paths is a word or two; built only on error paths, which are
/// cold.
#[derive(Debug)]
pub(crate) struct Failure(Box<Failed>);

#[derive(Debug)]
pub(crate) struct Failed {
    pub(crate) status: polyplug_status,
    pub(crate) code: u32,
    pub(crate) message: String,
}

impl Failure {
    #[cold]
    #[inline(never)]
    pub(crate) fn with_code(
        status: polyplug_status,
        code: u32,
        message: impl Into<String>,
    ) -> Failure {
        Failure(Box::new(Failed {
            status,
            code,
            message: message.into(),
        }))
    }

    #[cold]
    pub(crate) fn new(status: polyplug_status, message: impl Into<String>) -> Failure {
        Failure::with_code(status, 0, message)
    }

    /// A NULL where the argument `name` is required.
    #[cold]
    pub(crate) fn null(name: &str) -> Failure {
        Failure::new(POLYPLUG_ERR_NULL, format!("{name} is NULL"))
    }

    /// Its parts.
    pub(crate) fn into_parts(self) -> Failed {
        *self.0
    }

    /// Its status.
    pub(crate) fn status(&self) -> polyplug_status {
        self.0.status
    }
}

impl From<FindError> for Failure {
    #[cold]
    fn from(error: FindError) -> Failure {
        let status = match &error {
            FindError::NotFound { .. } => POLYPLUG_ERR_NOT_FOUND,
            FindError::Stale { .. } => POLYPLUG_ERR_STALE_CONTRACT,
            FindError::NoFunction { .. } => POLYPLUG_ERR_NO_FUNCTION,
            FindError::SignatureMismatch { .. } => POLYPLUG_ERR_SIGNATURE_MISMATCH,
            FindError::Stateless { .. } => POLYPLUG_ERR_STATELESS,
        };
        Failure::new(status, error.to_string())
    }
}

impl From<CallError> for Failure {
    #[cold]
    fn from(error: CallError) -> Failure {
        Failure::with_code(POLYPLUG_ERR_CALL, error.code, error.to_string())
    }
}

impl From<InstanceError> for Failure {
    fn from(error: InstanceError) -> Failure {
        match error {
            InstanceError::Find(e) => e.into(),
            InstanceError::Call(e) => e.into(),
        }
    }
}

impl From<LoadError> for Failure {
    #[cold]
    fn from(error: LoadError) -> Failure {
        let (status, code) = match &error {
            LoadError::Bundle(_) => (POLYPLUG_ERR_BUNDLE, 0),
            LoadError::Native(_) => (POLYPLUG_ERR_LIBRARY, 0),
            LoadError::UnsupportedLoader { .. } => (POLYPLUG_ERR_UNSUPPORTED_LOADER, 0),
            LoadError::AlreadyLoaded { .. } => (POLYPLUG_ERR_ALREADY_LOADED, 0),
            LoadError::MissingProvider { .. } => (POLYPLUG_ERR_MISSING_PROVIDER, 0),
            LoadError::DependencyCycle { .. } => (POLYPLUG_ERR_DEPENDENCY_CYCLE, 0),
            LoadError::InitFailed { code, .. } => (POLYPLUG_ERR_INIT_FAILED, *code),
            LoadError::InvalidContract { .. } => (POLYPLUG_ERR_INVALID_CONTRACT, 0),
            LoadError::Undeclared { .. } => (POLYPLUG_ERR_UNDECLARED, 0),
            LoadError::DuplicateContract { .. } => (POLYPLUG_ERR_DUPLICATE_CONTRACT, 0),
            LoadError::NotRegistered { .. } => (POLYPLUG_ERR_NOT_REGISTERED, 0),
            // A definition file the bundle ships is part of the bundle; a
            // registration that differs from its definition is an invalid
            // contract. The message names file, contract and function.
            LoadError::Definition { .. } => (POLYPLUG_ERR_BUNDLE, 0),
            LoadError::ContractMismatch(_) => (POLYPLUG_ERR_INVALID_CONTRACT, 0),
            LoadError::ReloadLacksContract { .. } => (POLYPLUG_ERR_RELOAD_LACKS_CONTRACT, 0),
            LoadError::BreaksDependent { .. } => (POLYPLUG_ERR_BREAKS_DEPENDENT, 0),
            LoadError::NameMismatch { .. } => (POLYPLUG_ERR_NAME_MISMATCH, 0),
            LoadError::UnknownBundle(_) => (POLYPLUG_ERR_UNKNOWN_BUNDLE, 0),
            LoadError::HasDependents { .. } => (POLYPLUG_ERR_HAS_DEPENDENTS, 0),
            LoadError::StoreFull { .. } => (POLYPLUG_ERR_STORE_FULL, 0),
            LoadError::ReadDir { .. } => (POLYPLUG_ERR_READ_DIR, 0),
            LoadError::HostContract(_) => (POLYPLUG_ERR_HOST_CONTRACT, 0),
            LoadError::Code { .. } => (POLYPLUG_ERR_CODE, 0),
            LoadError::ForeignBundle { .. } => (POLYPLUG_ERR_FOREIGN_BUNDLE, 0),
            LoadError::Reentrant { .. } => (POLYPLUG_ERR_REENTRANT, 0),
            LoadError::DrainTimeout(_) => (POLYPLUG_ERR_DRAIN_TIMEOUT, 0),
        };
        Failure::with_code(status, code, error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_its_own_name() {
        let mut seen = std::collections::HashSet::new();
        for (status, name) in NAMES {
            assert!(seen.insert(status), "status {status} listed twice");
            assert!(name.ends_with('\0'));
        }
        // SAFETY: names are static and NUL-terminated (checked above).
        let name = unsafe { std::ffi::CStr::from_ptr(polyplug_status_name(POLYPLUG_ERR_BUSY)) };
        assert_eq!(name.to_str(), Ok("POLYPLUG_ERR_BUSY"));
        // SAFETY: as above.
        let unknown = unsafe { std::ffi::CStr::from_ptr(polyplug_status_name(12345)) };
        assert_eq!(unknown.to_str(), Ok("unknown polyplug_status"));
    }
}
