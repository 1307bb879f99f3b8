//! What hosts written in other languages need: ids as plain integers, and
//! typed functions found by a signature spelled at run time.
//!
//! # The problem
//!
//! A Rust host names a typed function's signature with a Rust type
//! (`extern "C" fn(u32) -> u32`) and keeps handles as Rust values. A C, C++
//! or Python host, through the C API (`polyplug-capi`), knows the signature
//! only as a string (`"u32(u32)"`) and keeps ids as integers. This module is
//! that view of the same checks: the signature a host spells must equal the
//! one the plugin registered (\[R6\]), a cached function is trusted only for
//! the entry it was checked against (\[R10\]), and a host function is
//! registered under the signature its host promises.

use std::cell::Cell;
use std::ffi::c_void;

use polyplug_abi::{AbiError, ContextFn, OK, VoidFn};

use crate::entry::{BundleId, ContractHandle, Entry};
use crate::error::{CallError, FindError};
use crate::interface::{Callee, Table};
use crate::read::{ContractRef, Guard};
use crate::runtime::HostContract;

impl BundleId {
    /// The id as one plain integer, for hosts that keep it outside Rust:
    /// the issuing runtime's serial in the high 32 bits, the bundle's number
    /// in that runtime in the low 32 bits, so that the integer still names
    /// its runtime and [`from_raw`](BundleId::from_raw) gives back an id that
    /// every other runtime refuses as
    /// [`LoadError::ForeignBundle`](crate::LoadError::ForeignBundle). Never 0
    /// (runtime serials start at 1). `None` past 2³² runtimes in the process
    /// or 2³² loads in the runtime, where the two parts no longer fit.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// use polyplug::{BundleId, Runtime};
    ///
    /// let runtime = Runtime::new()?;
    /// let id = runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// let raw = id.to_raw().ok_or("out of range")?;
    /// assert_eq!(BundleId::from_raw(raw), id);
    /// assert_ne!(raw, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_raw(self) -> Option<u64> {
        let runtime = u32::try_from(self.runtime).ok()?;
        let index = u32::try_from(self.index).ok()?;
        Some((u64::from(runtime) << 32) | u64::from(index))
    }

    /// The id whose [`to_raw`](BundleId::to_raw) is `raw`. Every integer is
    /// an id: one of another runtime is refused by this runtime as
    /// [`LoadError::ForeignBundle`](crate::LoadError::ForeignBundle), one no
    /// bundle of this runtime has as
    /// [`LoadError::UnknownBundle`](crate::LoadError::UnknownBundle).
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// use polyplug::{BundleId, LoadError, Runtime};
    ///
    /// let runtime = Runtime::new()?;
    /// let id = runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// let raw = id.to_raw().ok_or("out of range")?;
    /// let err = runtime.unload_bundle(BundleId::from_raw(raw + 1)).unwrap_err();
    /// assert!(matches!(err, LoadError::UnknownBundle(_))); // this runtime, no such bundle
    /// let err = runtime.unload_bundle(BundleId::from_raw(7)).unwrap_err();
    /// assert!(matches!(err, LoadError::ForeignBundle { .. })); // runtime serial 0: not this one
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_raw(raw: u64) -> BundleId {
        BundleId {
            runtime: raw >> 32,
            index: raw & u64::from(u32::MAX),
        }
    }
}

/// Whether `asked` (whitespace ignored) spells `registered`, a spelling the
/// registration checks already normalised.
fn spells(asked: &str, registered: &str) -> bool {
    let mut asked = asked.chars().filter(|c| !c.is_whitespace());
    let mut registered = registered.chars();
    loop {
        match (asked.next(), registered.next()) {
            (None, None) => return true,
            (Some(a), Some(r)) if a == r => {}
            _ => return false,
        }
    }
}

/// The index of `name` in `entry`'s typed table, if its registered
/// signature is `signature`.
fn checked_index(
    entry: &Entry,
    contract: &str,
    name: &str,
    signature: &str,
) -> Result<usize, FindError> {
    let table = &entry.table;
    let index = table
        .typed
        .iter()
        .position(|t| &*t.name == name)
        .ok_or_else(|| FindError::NoFunction {
            contract: contract.to_owned(),
            kind: "typed",
            function: name.to_owned(),
        })?;
    let registered = &table.typed[index].signature;
    if !spells(signature, registered) {
        return Err(FindError::SignatureMismatch {
            contract: contract.to_owned(),
            function: name.to_owned(),
            found: registered.to_string(),
            expected: signature.chars().filter(|c| !c.is_whitespace()).collect(),
        });
    }
    Ok(index)
}

impl<'g> ContractRef<'g> {
    /// The typed function `name`, if its registered signature is
    /// `signature` (whitespace ignored), for hosts that learn the signature
    /// at run time: its plain pointer when it is a native typed entry
    /// ([`ErasedFn::raw`]), and its packed call whatever runs it
    /// ([`ErasedFn::call_packed`]).
    ///
    /// Both are sound to call only while the guard `'g` this contract
    /// borrows is pinned: the guard keeps the library loaded (\[R1\],
    /// \[R3\]).
    ///
    /// # Errors
    ///
    /// [`FindError::NoFunction`] or [`FindError::SignatureMismatch`].
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// use polyplug::{FindError, Runtime, Version};
    ///
    /// let runtime = Runtime::new()?;
    /// runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// let add = guard.find("test.add", Version::new(1, 0, 0))?;
    /// let inc = add.typed_erased("inc", "u32 (u32)")?.raw().ok_or("engine-run")?;
    /// // SAFETY: [R6] the registered signature is u32(u32) (checked); the
    /// // guard is pinned across the call.
    /// let inc = unsafe { std::mem::transmute::<polyplug_abi::VoidFn, extern "C" fn(u32) -> u32>(inc) };
    /// assert_eq!(inc(41), 42);
    /// assert!(matches!(add.typed_erased("inc", "u64(u64)"), Err(FindError::SignatureMismatch { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn typed_erased(&self, name: &str, signature: &str) -> Result<ErasedFn<'g>, FindError> {
        let entry = self.entry();
        let index = checked_index(entry, self.name(), name, signature)?;
        Ok(ErasedFn::new(&entry.table, index, raw_of(entry, index)))
    }

    /// Binds the typed function `name` under the run-time spelling
    /// `signature`, for [`Guard::bound_erased`]: the untyped twin of
    /// [`ContractRef::bind`].
    ///
    /// # Errors
    ///
    /// [`FindError::NoFunction`] or [`FindError::SignatureMismatch`].
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// use polyplug::{Runtime, Version};
    ///
    /// let runtime = Runtime::new()?;
    /// runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// let inc = guard.find("test.add", Version::new(1, 0, 0))?.bind_erased("inc", "u32(u32)")?;
    /// assert_eq!(inc.signature(), "u32(u32)");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn bind_erased(&self, name: &str, signature: &str) -> Result<ErasedBinding, FindError> {
        let entry = self.entry();
        let index = checked_index(entry, self.name(), name, signature)?;
        Ok(ErasedBinding {
            handle: self.handle(),
            name: name.into(),
            signature: entry.table.typed[index].signature.clone(),
            cached: Cell::new((entry.serial, index, raw_of(entry, index))),
        })
    }
}

/// A typed function bound by name and by a signature spelled at run time,
/// fetched per call through [`Guard::bound_erased`]: what a
/// [`Binding`](crate::Binding) is for a Rust type. `Send`, not `Sync`.
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// use polyplug::{Runtime, Version};
///
/// let runtime = Runtime::new()?;
/// runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
/// let reader = runtime.reader();
/// let inc = reader.pin().find("test.add", Version::new(1, 0, 0))?.bind_erased("inc", "u32(u32)")?;
/// let mut x = 0;
/// for _ in 0..3 {
///     let guard = reader.pin();
///     let f = guard.bound_erased(&inc)?.raw().ok_or("engine-run")?;
///     // SAFETY: [R10][R6] checked as u32(u32); the guard is pinned across the call.
///     x = unsafe { std::mem::transmute::<polyplug_abi::VoidFn, extern "C" fn(u32) -> u32>(f) }(x);
/// }
/// assert_eq!(x, 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ErasedBinding {
    handle: ContractHandle,
    name: Box<str>,
    /// The normalised spelling, as registered.
    signature: Box<str>,
    /// `(entry serial, the function's index in that entry, its plain
    /// pointer if it has one)`, checked against `signature`; trusted only
    /// for that serial (\[R10\]).
    cached: Cell<(u64, usize, Option<VoidFn>)>,
}

impl ErasedBinding {
    /// The handle of the contract this binding calls into.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{Runtime, Version};
    /// # let runtime = Runtime::new()?;
    /// # runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// let add = guard.find("test.add", Version::new(1, 0, 0))?;
    /// assert_eq!(add.bind_erased("inc", "u32(u32)")?.handle(), add.handle());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn handle(&self) -> ContractHandle {
        self.handle
    }

    /// The bound function's name.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{Runtime, Version};
    /// # let runtime = Runtime::new()?;
    /// # runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// let add = guard.find("test.add", Version::new(1, 0, 0))?;
    /// assert_eq!(add.bind_erased("add", "u32(u32,u32)")?.name(), "add");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The signature it was checked against, normalised.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{Runtime, Version};
    /// # let runtime = Runtime::new()?;
    /// # runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// let add = guard.find("test.add", Version::new(1, 0, 0))?;
    /// assert_eq!(add.bind_erased("add", " u32 ( u32, u32 ) ")?.signature(), "u32(u32,u32)");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn signature(&self) -> &str {
        &self.signature
    }
}

impl std::fmt::Debug for ErasedBinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ErasedBinding")
            .field("handle", &self.handle)
            .field("name", &self.name)
            .field("signature", &self.signature)
            .finish_non_exhaustive()
    }
}

impl Guard<'_> {
    /// The bound function in the contract serving now: after a reload, the
    /// new version's function of the same name and signature. The fast path
    /// is the handle check of [`Guard::get`] and one compare. It may be
    /// called (its plain pointer cast to the bound signature, or packed)
    /// while this guard is pinned.
    ///
    /// # Errors
    ///
    /// [`FindError::Stale`] after an unload; [`FindError::NoFunction`] or
    /// [`FindError::SignatureMismatch`] if a reload dropped or changed the
    /// function.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// use polyplug::{FindError, Runtime, Version};
    ///
    /// let runtime = Runtime::new()?;
    /// let id = runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// let reader = runtime.reader();
    /// let inc = reader.pin().find("test.add", Version::new(1, 0, 0))?.bind_erased("inc", "u32(u32)")?;
    /// assert!(reader.pin().bound_erased(&inc).is_ok());
    /// runtime.unload_bundle(id)?;
    /// assert!(matches!(reader.pin().bound_erased(&inc), Err(FindError::Stale { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn bound_erased(&self, binding: &ErasedBinding) -> Result<ErasedFn<'_>, FindError> {
        if let Ok(entry) = self.inner.get(binding.handle.0) {
            let (serial, index, raw) = binding.cached.get();
            if entry.serial == serial {
                // [R10] serials are never reused: `index` and `raw` are this
                // live entry's function, checked against the bound signature.
                return Ok(ErasedFn::new(&entry.table, index, raw));
            }
        }
        self.bound_erased_slow(binding)
    }

    /// [`Guard::bound_erased`] when the cache does not name this entry.
    #[cold]
    #[inline(never)]
    fn bound_erased_slow(&self, binding: &ErasedBinding) -> Result<ErasedFn<'_>, FindError> {
        let contract = self.get(binding.handle)?;
        let entry = contract.entry();
        let index = checked_index(entry, contract.name(), &binding.name, &binding.signature)?;
        let raw = raw_of(entry, index);
        binding.cached.set((entry.serial, index, raw));
        Ok(ErasedFn::new(&entry.table, index, raw))
    }
}

/// The plain pointer of typed function `index` of `entry`, if it is a
/// native typed entry.
fn raw_of(entry: &Entry, index: usize) -> Option<VoidFn> {
    match entry.typed.get(index) {
        Some(Callee::Raw(func)) => Some(*func),
        Some(Callee::Context { .. }) | None => None,
    }
}

/// A typed function found by a signature spelled at run time
/// ([`ContractRef::typed_erased`], [`Guard::bound_erased`]), borrowing the
/// guard `'g` that keeps its code loaded. A native typed entry is a plain
/// C function ([`raw`](ErasedFn::raw)); every typed function, native or run
/// by an engine (WebAssembly), can be called packed
/// ([`call_packed`](ErasedFn::call_packed)), the convention of
/// `pp_typed_call` in `polyplug.h`.
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// use polyplug::{Runtime, Version};
///
/// let runtime = Runtime::new()?;
/// runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
/// let reader = runtime.reader();
/// let guard = reader.pin();
/// let add = guard.find("test.add", Version::new(1, 0, 0))?.typed_erased("add", "u32(u32,u32)")?;
/// assert_eq!((add.name(), add.signature()), ("add", "u32(u32,u32)"));
/// assert!(add.raw().is_some()); // a native typed entry
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy)]
pub struct ErasedFn<'g> {
    table: &'g Table,
    index: usize,
    raw: Option<VoidFn>,
}

impl<'g> ErasedFn<'g> {
    fn new(table: &'g Table, index: usize, raw: Option<VoidFn>) -> ErasedFn<'g> {
        ErasedFn { table, index, raw }
    }

    /// The plain C function of a native typed entry, to be cast to the
    /// C type its signature spells; `None` for a function an engine runs,
    /// which only [`call_packed`](ErasedFn::call_packed) can call.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{Runtime, Version};
    /// # let runtime = Runtime::new()?;
    /// # runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// let inc = guard.find("test.add", Version::new(1, 0, 0))?.typed_erased("inc", "u32(u32)")?;
    /// assert!(inc.raw().is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn raw(&self) -> Option<VoidFn> {
        self.raw
    }

    /// The function's name.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{Runtime, Version};
    /// # let runtime = Runtime::new()?;
    /// # runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// let inc = guard.find("test.add", Version::new(1, 0, 0))?.typed_erased("inc", "u32(u32)")?;
    /// assert_eq!(inc.name(), "inc");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn name(&self) -> &'g str {
        self.table.typed.get(self.index).map_or("", |t| &*t.name)
    }

    /// Its registered signature, normalised.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{Runtime, Version};
    /// # let runtime = Runtime::new()?;
    /// # runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// let inc = guard.find("test.add", Version::new(1, 0, 0))?.typed_erased("inc", " u32 ( u32 ) ")?;
    /// assert_eq!(inc.signature(), "u32(u32)");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn signature(&self) -> &'g str {
        self.table
            .typed
            .get(self.index)
            .map_or("", |t| &*t.signature)
    }

    /// Calls the function packed: `args` points to its arguments laid out
    /// as a C struct in signature order (`NULL` for none), `out` to room
    /// for its result (ignored for `void`; a `string` or `buf` result is an
    /// [`OwnedBuf`](polyplug_abi::OwnedBuf) that the caller then owns),
    /// `instance` is null (a stateless call). A native typed entry is
    /// called through the packed thunk its plugin registered; an
    /// engine-run function through its engine.
    ///
    /// # Errors
    ///
    /// [`CallError`] with the function's code and message (a trap in a
    /// WebAssembly function, an error a plugin returned), or code
    /// `ERR_UNSUPPORTED` for a native entry that registered no packed form.
    ///
    /// # Safety
    ///
    /// \[R6\] `args` and `out` are laid out as the function's signature
    /// says; the guard `'g` stays pinned across the call.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{Runtime, Version};
    /// # let runtime = Runtime::new()?;
    /// # runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// let add = guard.find("test.add", Version::new(1, 0, 0))?.typed_erased("add", "u32(u32,u32)")?;
    /// #[repr(C)]
    /// struct Args { a: u32, b: u32 }
    /// let args = Args { a: 2, b: 3 };
    /// let mut sum = 0u32;
    /// // SAFETY: [R6] u32(u32,u32): two u32 in, one u32 out; the guard is pinned.
    /// unsafe { add.call_packed(std::ptr::null_mut(), (&raw const args).cast(), (&raw mut sum).cast()) }?;
    /// assert_eq!(sum, 5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub unsafe fn call_packed(
        &self,
        instance: *mut c_void,
        args: *const c_void,
        out: *mut c_void,
    ) -> Result<(), CallError> {
        let Some((func, ctx)) = self.table.packed_call(self.index) else {
            return Err(CallError {
                contract: self.table.name.to_string(),
                function: self.name().to_owned(),
                code: polyplug_abi::ERR_UNSUPPORTED,
                message: "this typed function offers no packed form".into(),
            });
        };
        let mut err = AbiError::NONE;
        // SAFETY: [R13][R11][P1] the function's own packed form and its
        // context, with arguments and result as the caller promises.
        let code = unsafe { func(ctx, instance, args, out, &mut err) };
        if code != OK {
            return Err(crate::read::call_error(self.table, self.name(), code, &err));
        }
        Ok(())
    }
}

impl std::fmt::Debug for ErasedFn<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ErasedFn")
            .field("name", &self.name())
            .field("signature", &self.signature())
            .field("native", &self.raw.is_some())
            .finish()
    }
}

impl HostContract {
    /// Adds a typed function whose signature is spelled at run time, for
    /// hosts that are not written in Rust. The spelling is checked and
    /// normalised when the contract is registered.
    ///
    /// # Safety
    ///
    /// `func` must be an `extern "C"` function of exactly the signature
    /// `signature` spells (\[R6\]): callers will call it as that type.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// use polyplug::{HostContract, Runtime, Version};
    ///
    /// extern "C" fn twice(x: u32) -> u32 { x.wrapping_mul(2) }
    /// let func: polyplug_abi::VoidFn = {
    ///     let f: extern "C" fn(u32) -> u32 = twice;
    ///     // SAFETY: a function pointer cast; it is only called back as u32(u32).
    ///     unsafe { std::mem::transmute(f) }
    /// };
    /// // SAFETY: [R6] `func` is `twice`, a u32(u32).
    /// let contract = unsafe { HostContract::new("demo.twice", Version::new(1, 0, 0)).typed_erased("twice", "u32(u32)", func) };
    /// let runtime = Runtime::new()?;
    /// runtime.register_host_contract(contract)?;
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// let found = guard.find("demo.twice", Version::new(1, 0, 0))?;
    /// assert_eq!(found.typed::<extern "C" fn(u32) -> u32>("twice")?.call(21), 42);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub unsafe fn typed_erased(
        mut self,
        name: &str,
        signature: &str,
        func: VoidFn,
    ) -> HostContract {
        self.plain.typed.push((
            name.as_bytes().to_vec(),
            signature.as_bytes().to_vec(),
            Some(func),
        ));
        self
    }

    /// [`HostContract::typed_erased`] with the function's packed form,
    /// so that callers that hold no C type for it (a script, a WebAssembly
    /// guest, `ErasedFn::call_packed`) can call it too: what
    /// `TypedEntry::packed` is for a plugin's function (\[R13\]).
    ///
    /// # Safety
    ///
    /// As for [`HostContract::typed_erased`], and `packed` is a packed form
    /// of `func`, as a plugin's `TypedEntry::packed` is: called as
    /// `packed(ctx, instance, args, out, err)` with `ctx` the address of a
    /// `TypedEntry` whose `func` is `func`, a null `instance`, `args`
    /// pointing to the arguments laid out as the C struct of the
    /// signature's argument types (null when there are none), and `out`
    /// writable for one value of its return type (null for `void`); it
    /// returns `OK` or an error code, with `err` filled as a plugin fills
    /// it (\[P1\]–\[P8\]).
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// use std::ffi::c_void;
    /// use polyplug::{HostContract, Runtime, Version};
    /// use polyplug_abi::{AbiError, OK, TypedEntry, VoidFn};
    ///
    /// extern "C" fn twice(x: u32) -> u32 { x.wrapping_mul(2) }
    /// /// The packed form of a u32(u32): `ctx` is its typed entry.
    /// unsafe extern "C" fn packed(
    ///     ctx: *mut c_void, _: *mut c_void, args: *const c_void, out: *mut c_void, _: *mut AbiError,
    /// ) -> u32 {
    ///     // SAFETY: the host passes the entry, whose `func` is a u32(u32),
    ///     // one u32 argument and room for one u32 result.
    ///     unsafe {
    ///         let entry = &*ctx.cast::<TypedEntry>();
    ///         let f: extern "C" fn(u32) -> u32 = std::mem::transmute(entry.func);
    ///         out.cast::<u32>().write_unaligned(f(args.cast::<u32>().read_unaligned()));
    ///     }
    ///     OK
    /// }
    /// let func: VoidFn = {
    ///     let f: extern "C" fn(u32) -> u32 = twice;
    ///     // SAFETY: a function pointer cast; it is only called back as u32(u32).
    ///     unsafe { std::mem::transmute(f) }
    /// };
    /// // SAFETY: [R6] `func` is `twice`, a u32(u32); [R13] `packed` calls
    /// // its entry's `func` as that type, with its one argument.
    /// let contract = unsafe {
    ///     HostContract::new("demo.twice", Version::new(1, 0, 0))
    ///         .typed_erased_packed("twice", "u32(u32)", func, packed)
    /// };
    /// let runtime = Runtime::new()?;
    /// runtime.register_host_contract(contract)?;
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// let twice = guard.find("demo.twice", Version::new(1, 0, 0))?.typed_erased("twice", "u32(u32)")?;
    /// let (x, mut y) = (21u32, 0u32);
    /// // SAFETY: [R6] one u32 in, one u32 out; the guard is pinned.
    /// unsafe { twice.call_packed(std::ptr::null_mut(), (&raw const x).cast(), (&raw mut y).cast()) }?;
    /// assert_eq!(y, 42);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub unsafe fn typed_erased_packed(
        mut self,
        name: &str,
        signature: &str,
        func: VoidFn,
        packed: ContextFn,
    ) -> HostContract {
        // SAFETY: as this function's own contract says.
        self = unsafe { self.typed_erased(name, signature, func) };
        self.plain
            .typed_packed
            .resize(self.plain.typed.len() - 1, None);
        self.plain.typed_packed.push(Some(packed));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::spells;

    #[test]
    fn spellings_ignore_whitespace_only() {
        assert!(spells(" u32 ( u32 , u32 ) ", "u32(u32,u32)"));
        assert!(spells("void()", "void()"));
        assert!(!spells("u32(u32)", "u32(u32,u32)"));
        assert!(!spells("u32(u32,u32)x", "u32(u32,u32)"));
        assert!(!spells("u64(u32)", "u32(u32)"));
        assert!(!spells("", "void()"));
    }
}
