//! Bindings: a typed function resolved by name once, then fetched through
//! any guard at the cost of a handle check.
//!
//! # The problem
//!
//! [`ContractRef::typed`] looks a function up by name and compares its
//! signature spelling: right for setup, too slow for every call. A
//! [`Typed`] is as fast as raw FFI but borrows its guard, so a hot-reload-safe
//! caller, which pins per call or re-reads a handle under a long guard,
//! needs the lookup again after every pin.
//!
//! # The design (\[R10\])
//!
//! A [`Binding<F>`] keeps the contract's handle, the function's name, and a
//! cache: the serial of the entry it last checked and that entry's function
//! pointer. Every entry the store publishes has a serial that no other entry
//! of any runtime ever had, and an entry's table never changes. So when
//! [`Guard::bound`] meets an entry whose serial is the cached one, the
//! cached pointer is that live entry's function, whose signature was
//! already checked against `F`, and the guard keeps its library loaded;
//! otherwise (after a reload) it looks the name up again, checks the
//! signature, and refreshes the cache.
//!
//! # Anchored bindings (\[R17\])
//!
//! [`Reader::anchor`] turns a binding into an [`AnchoredBinding<'rt, F>`]
//! that also keeps the address of its contract's slot in the runtime's
//! store. A slot never moves while the store lives, and the `'rt` borrow
//! of the runtime keeps the store alive, so [`Guard::bound_at`] reads the
//! slot directly: no segment lookup and no generation check, only the
//! cached serial, which names one entry published once, under the
//! binding's handle. [`Guard::hold`] goes one step further for a batch
//! under one guard: it checks once that the anchored binding is of the
//! guard's runtime, and the [`Held`] it returns reads the slot on each
//! call with no check but the empty slot's and the serial's. An
//! anchored binding cannot outlive its runtime:
//!
//! ```compile_fail,E0505
//! # use polyplug::{HostContract, Runtime, Version};
//! # extern "C" fn inc(x: u32) -> u32 { x + 1 }
//! let runtime = Runtime::new().unwrap();
//! # runtime.register_host_contract(
//! #     HostContract::new("demo.inc", Version::new(1, 0, 0))
//! #         .typed("inc", inc as extern "C" fn(u32) -> u32),
//! # ).unwrap();
//! let reader = runtime.reader();
//! let binding = reader
//!     .pin()
//!     .find("demo.inc", Version::new(1, 0, 0))
//!     .unwrap()
//!     .bind::<extern "C" fn(u32) -> u32>("inc")
//!     .unwrap();
//! let anchored = reader.anchor(binding).unwrap();
//! drop(runtime); // the anchored binding still borrows the runtime
//! let _ = anchored;
//! ```

use std::cell::Cell;
use std::marker::PhantomData;
use std::ptr::NonNull;

use polyplug_abi::{ContractId, VoidFn};
use polyplug_store::{PinnedSlot, SlotRef};

use crate::entry::{ContractHandle, Entry};
use crate::error::FindError;
use crate::interface::Callee;
use crate::read::{ContractRef, Guard, Reader};
use crate::signature::{Signature, Target, Typed};

/// A typed function of a contract, bound by name, fetched per call through
/// [`Guard::bound`]. `Send`, not `Sync` (its cache is a `Cell`): keep one
/// per thread.
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// # use polyplug::{HostContract, Runtime, Version};
/// # extern "C" fn inc(x: u32) -> u32 { x + 1 }
/// # let runtime = Runtime::new().unwrap();
/// # runtime.register_host_contract(
/// #     HostContract::new("demo.inc", Version::new(1, 0, 0))
/// #         .typed("inc", inc as extern "C" fn(u32) -> u32),
/// # ).unwrap();
/// type Inc = extern "C" fn(u32) -> u32;
/// let reader = runtime.reader();
/// let session = reader.session();
/// let inc = session
///     .pin()
///     .find("demo.inc", Version::new(1, 0, 0))?
///     .bind::<Inc>("inc")?;
/// let mut counter = 0;
/// for _ in 0..1_000 {
///     // Pin, fetch and call: safe across reloads and unloads.
///     counter = session.pin().bound(&inc)?.call(counter);
/// }
/// assert_eq!(counter, 1_000);
/// # Ok::<(), polyplug::FindError>(())
/// ```
pub struct Binding<F> {
    handle: ContractHandle,
    name: Box<str>,
    /// The entry last checked and its function, checked against `F`. The
    /// function is only called, and its table only read, after the cache's
    /// key matched the entry serving under the caller's guard (\[R10\]).
    cache: Cell<Cache>,
    signature: PhantomData<F>,
}

impl<F: Signature> Binding<F> {
    /// The handle of the contract this binding calls into.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{HostContract, Runtime, Version};
    /// # extern "C" fn inc(x: u32) -> u32 { x + 1 }
    /// # let runtime = Runtime::new().unwrap();
    /// # runtime.register_host_contract(
    /// #     HostContract::new("demo.inc", Version::new(1, 0, 0))
    /// #         .typed("inc", inc as extern "C" fn(u32) -> u32),
    /// # ).unwrap();
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// let contract = guard.find("demo.inc", Version::new(1, 0, 0))?;
    /// let inc = contract.bind::<extern "C" fn(u32) -> u32>("inc")?;
    /// assert_eq!(inc.handle(), contract.handle());
    /// # Ok::<(), polyplug::FindError>(())
    /// ```
    pub fn handle(&self) -> ContractHandle {
        self.handle
    }

    /// The bound function's name.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{HostContract, Runtime, Version};
    /// # extern "C" fn inc(x: u32) -> u32 { x + 1 }
    /// # let runtime = Runtime::new().unwrap();
    /// # runtime.register_host_contract(
    /// #     HostContract::new("demo.inc", Version::new(1, 0, 0))
    /// #         .typed("inc", inc as extern "C" fn(u32) -> u32),
    /// # ).unwrap();
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// let contract = guard.find("demo.inc", Version::new(1, 0, 0))?;
    /// assert_eq!(contract.bind::<extern "C" fn(u32) -> u32>("inc")?.name(), "inc");
    /// # Ok::<(), polyplug::FindError>(())
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl<F> std::fmt::Debug for Binding<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Binding")
            .field("handle", &self.handle)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// What a binding caches for function `index` of `entry`: its plain
/// pointer, or its context entry in the entry's table (\[R11\]). The
/// table is the one `entry` holds for its whole life (\[R10\]).
fn cached(entry: &Entry, index: usize) -> Target {
    match entry.typed.get(index) {
        Some(Callee::Raw(func)) => Target::Raw(*func),
        _ => Target::Context(NonNull::from(&*entry.table), index),
    }
}

/// What a binding remembers of the entry it last checked: which entry it
/// was, and how to call its function.
///
/// The key says both at once. It is the entry's serial when the function
/// is a raw function pointer, and the serial's complement when the
/// function runs through its table's context entry. Serials count up from
/// 1 and stay below 2^63 (`next_serial` sees to it), so no complement is
/// ever a serial. One comparison with the serving entry's serial therefore
/// tells the fast path that the entry is the one checked and that its
/// function is raw: it calls `raw` with no other check.
#[derive(Clone, Copy)]
struct Cache {
    key: u64,
    /// The raw function when `key` is a serial; otherwise [`not_raw`].
    raw: VoidFn,
    /// The function, whichever its kind.
    target: Target,
}

impl Cache {
    fn new(entry: &Entry, index: usize) -> Cache {
        match cached(entry, index) {
            Target::Raw(func) => Cache {
                key: entry.serial,
                raw: func,
                target: Target::Raw(func),
            },
            target @ Target::Context(..) => Cache {
                key: !entry.serial,
                raw: not_raw,
                target,
            },
        }
    }

    /// The function to call when the serving entry, whose serial is
    /// `serial`, is the one this cache checked; `None` when it is another.
    /// For the paths past the fast one. The raw case still comes up there:
    /// a `Held` compares its own copy of the cache, and the binding's may
    /// be newer.
    fn target(self, serial: u64) -> Option<Target> {
        if serial == self.key {
            Some(Target::Raw(self.raw))
        } else if serial == !self.key {
            Some(self.target)
        } else {
            None
        }
    }
}

/// The `raw` of a cache whose function runs through a context entry. The
/// fast path calls `raw` only when the key is a serial, which only the
/// cache of a raw function holds, so this is never called.
unsafe extern "C" fn not_raw() {
    std::process::abort()
}

/// The index of `name` in `entry`'s typed table, if its signature is `F`'s.
fn checked_index<F: Signature>(
    entry: &Entry,
    contract: &str,
    name: &str,
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
    let signature = &table.typed[index].signature;
    if !F::matches(signature) {
        return Err(FindError::SignatureMismatch {
            contract: contract.to_owned(),
            function: name.to_owned(),
            found: signature.to_string(),
            expected: F::spelling(),
        });
    }
    Ok(index)
}

impl<'g> ContractRef<'g> {
    /// Binds the typed function `name` as `F` for [`Guard::bound`], if its
    /// registered signature is exactly `F`'s.
    ///
    /// # Errors
    ///
    /// [`FindError::NoFunction`] or [`FindError::SignatureMismatch`].
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{FindError, HostContract, Runtime, Version};
    /// # extern "C" fn inc(x: u32) -> u32 { x + 1 }
    /// # let runtime = Runtime::new().unwrap();
    /// # runtime.register_host_contract(
    /// #     HostContract::new("demo.inc", Version::new(1, 0, 0))
    /// #         .typed("inc", inc as extern "C" fn(u32) -> u32),
    /// # ).unwrap();
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// let contract = guard.find("demo.inc", Version::new(1, 0, 0))?;
    /// let wrong = contract.bind::<extern "C" fn(u64) -> u64>("inc");
    /// assert!(matches!(wrong, Err(FindError::SignatureMismatch { .. })));
    /// # Ok::<(), FindError>(())
    /// ```
    pub fn bind<F: Signature>(&self, name: &str) -> Result<Binding<F>, FindError> {
        let entry = self.entry();
        let index = checked_index::<F>(entry, self.name(), name)?;
        Ok(Binding {
            handle: self.handle(),
            name: name.into(),
            cache: Cell::new(Cache::new(entry, index)),
            signature: PhantomData,
        })
    }
}

impl Guard<'_> {
    /// The bound function in the contract serving now: after a reload, the
    /// new version's function of the same name and signature.
    ///
    /// The fast path is the handle check of [`Guard::get`] and one compare.
    ///
    /// # Errors
    ///
    /// [`FindError::Stale`] after an unload; [`FindError::NoFunction`] or
    /// [`FindError::SignatureMismatch`] if a reload dropped or changed the
    /// function.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{HostContract, Runtime, Version};
    /// # extern "C" fn inc(x: u32) -> u32 { x + 1 }
    /// # let runtime = Runtime::new().unwrap();
    /// # runtime.register_host_contract(
    /// #     HostContract::new("demo.inc", Version::new(1, 0, 0))
    /// #         .typed("inc", inc as extern "C" fn(u32) -> u32),
    /// # ).unwrap();
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// let inc = guard
    ///     .find("demo.inc", Version::new(1, 0, 0))?
    ///     .bind::<extern "C" fn(u32) -> u32>("inc")?;
    /// assert_eq!(guard.bound(&inc)?.call(41), 42);
    /// # Ok::<(), polyplug::FindError>(())
    /// ```
    #[inline(always)]
    pub fn bound<F: Signature>(&self, binding: &Binding<F>) -> Result<Typed<'_, F>, FindError> {
        let cache = binding.cache.get();
        let target = match self.inner.get(binding.handle.0) {
            // Serials are never reused: a key equal to this live entry's
            // serial means its function is raw and is `cache.raw`, checked
            // against `F` in `bind` or `rebind`.
            Ok(entry) if entry.serial == cache.key => Target::Raw(cache.raw),
            Ok(entry) => self.bound_other(binding, entry)?,
            Err(_) => self.bound_slow(binding)?,
        };
        // Either way `target` is a function of the entry serving under
        // this guard, checked against `F`; the entry, and so its table and
        // library, lives while this guard is pinned, and `Typed` borrows
        // the guard.
        // SAFETY: [R10][R6][R1][R3] as just said.
        Ok(unsafe { Typed::target(target) })
    }

    /// Past the fast path, with the entry serving under the binding's
    /// handle: a context function of the entry the cache checked comes
    /// from the cache, with no lookup; anything else takes the slow path.
    /// Out of line, so that the fast path loads only the key and `raw`.
    #[inline(never)]
    fn bound_other<F: Signature>(
        &self,
        binding: &Binding<F>,
        entry: &Entry,
    ) -> Result<Target, FindError> {
        match binding.cache.get().target(entry.serial) {
            Some(target) => Ok(target),
            None => self.bound_slow(binding),
        }
    }

    /// The target of [`Guard::bound`] when the cache does not name this
    /// entry: after a reload, or with a stale handle. It is a function of
    /// the entry serving now, checked against `F`, and now the cache.
    #[cold]
    #[inline(never)]
    fn bound_slow<F: Signature>(&self, binding: &Binding<F>) -> Result<Target, FindError> {
        let contract = self.get(binding.handle)?;
        let entry = contract.entry();
        let index = rebind(binding, &contract)?;
        if entry.typed.get(index).is_none() {
            return Err(FindError::NoFunction {
                contract: contract.name().to_owned(),
                kind: "typed",
                function: binding.name.to_string(),
            });
        }
        Ok(cached(entry, index))
    }
}

/// The slow path of [`Guard::bound`]: the entry changed since the cache was
/// filled; look the name up and check the signature again.
#[cold]
fn rebind<F: Signature>(
    binding: &Binding<F>,
    contract: &ContractRef<'_>,
) -> Result<usize, FindError> {
    let entry = contract.entry();
    let index = checked_index::<F>(entry, contract.name(), &binding.name)?;
    binding.cache.set(Cache::new(entry, index));
    Ok(index)
}

/// A [`Binding`] that also keeps the address of its contract's slot in the
/// runtime's store, from [`Reader::anchor`]; called through
/// [`Guard::bound_at`]. It borrows the runtime (`'rt`), so it cannot
/// outlive it. `Send`, not `Sync`, like a binding.
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// # use polyplug::{HostContract, Runtime, Version};
/// # extern "C" fn inc(x: u32) -> u32 { x + 1 }
/// # let runtime = Runtime::new().unwrap();
/// # runtime.register_host_contract(
/// #     HostContract::new("demo.inc", Version::new(1, 0, 0))
/// #         .typed("inc", inc as extern "C" fn(u32) -> u32),
/// # ).unwrap();
/// type Inc = extern "C" fn(u32) -> u32;
/// let reader = runtime.reader();
/// let inc = reader
///     .pin()
///     .find("demo.inc", Version::new(1, 0, 0))?
///     .bind::<Inc>("inc")?;
/// let inc = reader.anchor(inc)?;
/// let guard = reader.pin();
/// let mut counter = 0;
/// for _ in 0..1_000 {
///     counter = guard.bound_at(&inc)?.call(counter);
/// }
/// assert_eq!(counter, 1_000);
/// assert_eq!(inc.binding().name(), "inc");
/// # Ok::<(), polyplug::FindError>(())
/// ```
// `repr(C)`, binding first: the binding's address is the anchored
// binding's, so the fast path of `bound_at` computes no address for its
// slow paths.
#[repr(C)]
pub struct AnchoredBinding<'rt, F> {
    binding: Binding<F>,
    slot: SlotRef<'rt, Entry, ContractId>,
}

impl<F> AnchoredBinding<'_, F> {
    /// The binding inside, with its handle and name.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{HostContract, Runtime, Version};
    /// # extern "C" fn inc(x: u32) -> u32 { x + 1 }
    /// # let runtime = Runtime::new().unwrap();
    /// # runtime.register_host_contract(
    /// #     HostContract::new("demo.inc", Version::new(1, 0, 0))
    /// #         .typed("inc", inc as extern "C" fn(u32) -> u32),
    /// # ).unwrap();
    /// let reader = runtime.reader();
    /// let contract = reader.pin().find("demo.inc", Version::new(1, 0, 0))?.handle();
    /// let inc = reader.pin().get(contract)?.bind::<extern "C" fn(u32) -> u32>("inc")?;
    /// let inc = reader.anchor(inc)?;
    /// assert_eq!(inc.binding().handle(), contract);
    /// # Ok::<(), polyplug::FindError>(())
    /// ```
    pub fn binding(&self) -> &Binding<F> {
        &self.binding
    }

    /// The binding inside, without the slot's address.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{HostContract, Runtime, Version};
    /// # extern "C" fn inc(x: u32) -> u32 { x + 1 }
    /// # let runtime = Runtime::new().unwrap();
    /// # runtime.register_host_contract(
    /// #     HostContract::new("demo.inc", Version::new(1, 0, 0))
    /// #         .typed("inc", inc as extern "C" fn(u32) -> u32),
    /// # ).unwrap();
    /// let reader = runtime.reader();
    /// let inc = reader.pin().find("demo.inc", Version::new(1, 0, 0))?.bind("inc")?;
    /// let inc = reader.anchor::<extern "C" fn(u32) -> u32>(inc)?;
    /// let inc = inc.into_binding(); // no longer borrows the runtime
    /// assert_eq!(reader.pin().bound(&inc)?.call(1), 2);
    /// # Ok::<(), polyplug::FindError>(())
    /// ```
    pub fn into_binding(self) -> Binding<F> {
        self.binding
    }
}

impl<F> std::fmt::Debug for AnchoredBinding<'_, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnchoredBinding")
            .field("binding", &self.binding)
            .finish_non_exhaustive()
    }
}

impl<'rt> Reader<'rt> {
    /// `binding`, anchored to its contract's slot in this runtime's store,
    /// for [`Guard::bound_at`].
    ///
    /// # Errors
    ///
    /// [`FindError::Stale`] if the binding's contract is not live in this
    /// runtime now (unloaded, or a handle of another runtime's that names
    /// nothing here).
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{FindError, Runtime, Version};
    /// let runtime = Runtime::new()?;
    /// let id = runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// let reader = runtime.reader();
    /// let inc = reader.pin().find("test.add", Version::new(1, 0, 0))?.bind("inc")?;
    /// let inc: polyplug::Binding<extern "C" fn(u32) -> u32> = inc;
    /// runtime.unload_bundle(id)?;
    /// assert!(matches!(reader.anchor(inc), Err(FindError::Stale { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn anchor<F: Signature>(
        &self,
        binding: Binding<F>,
    ) -> Result<AnchoredBinding<'rt, F>, FindError> {
        let handle = binding.handle;
        self.pin().get(handle)?;
        match self.inner.slot_ref(handle.0) {
            Some(slot) => Ok(AnchoredBinding { slot, binding }),
            None => Err(FindError::Stale { handle }),
        }
    }
}

impl Guard<'_> {
    /// [`Guard::bound`] through an anchored binding: the bound function in
    /// the contract serving now.
    ///
    /// The fast path reads the binding's slot and compares one serial:
    /// no segment lookup, no generation check.
    ///
    /// # Errors
    ///
    /// As [`Guard::bound`]: [`FindError::Stale`] after an unload;
    /// [`FindError::NoFunction`] or [`FindError::SignatureMismatch`] if a
    /// reload dropped or changed the function.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{FindError, Runtime, Version};
    /// let runtime = Runtime::new()?;
    /// let id = runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// let reader = runtime.reader();
    /// let inc = reader.pin().find("test.add", Version::new(1, 0, 0))?.bind("inc")?;
    /// let inc = reader.anchor::<extern "C" fn(u32) -> u32>(inc)?;
    /// assert_eq!(reader.pin().bound_at(&inc)?.call(41), 42);
    /// runtime.unload_bundle(id)?;
    /// assert!(matches!(reader.pin().bound_at(&inc), Err(FindError::Stale { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline(always)]
    pub fn bound_at<F: Signature>(
        &self,
        anchored: &AnchoredBinding<'_, F>,
    ) -> Result<Typed<'_, F>, FindError> {
        let cache = anchored.binding.cache.get();
        let target = match self.inner.current(&anchored.slot) {
            // The cache's key names an entry that was published under the
            // binding's handle, once; the slot holds it now, so the handle
            // is live and names it. A key equal to its serial means its
            // function is raw and is `cache.raw`, checked against `F`
            // [R17][R10].
            Some((_, entry)) if entry.serial == cache.key => Target::Raw(cache.raw),
            Some((_, entry)) => self.bound_other(&anchored.binding, entry)?,
            None => self.bound_slow(&anchored.binding)?,
        };
        // As in `bound`: a function of the entry serving under this
        // guard, checked against `F`, kept alive with its table and
        // library by this guard, which `Typed` borrows.
        // SAFETY: [R17][R10][R6][R1][R3] as just said.
        Ok(unsafe { Typed::target(target) })
    }
}

/// An anchored binding held under one guard, from [`Guard::hold`]: the
/// batch path. Holding checks once that the binding is of the guard's
/// runtime; each [`get`](Held::get) then checks only that its contract
/// still serves the entry it was bound to (the slot's node and one serial
/// compare), and follows a reload or reports an unload as
/// [`Guard::bound_at`] does. It borrows the guard, so it cannot outlive
/// the pin.
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// # use polyplug::{FindError, Runtime, Version};
/// let runtime = Runtime::new()?;
/// let (v1, v2) = (polyplug_fixtures::bundle("reload-v1"), polyplug_fixtures::bundle("reload-v2"));
/// let id = runtime.load_bundle(&v1)?;
/// let reader = runtime.reader();
/// let version = reader.pin().find("reload.test", Version::new(1, 0, 0))?.bind("version")?;
/// let version = reader.anchor::<extern "C" fn() -> u32>(version)?;
/// let guard = reader.pin();
/// let held = guard.hold(&version)?;
/// assert_eq!(held.get()?.call(), 100);
/// runtime.reload_bundle(id, Some(&v2))?; // under the held guard
/// assert_eq!(held.get()?.call(), 200); // the next call follows it
/// runtime.unload_bundle(id)?;
/// assert!(matches!(held.get(), Err(FindError::Stale { .. })));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Held<'g, 'r, F> {
    guard: &'g Guard<'r>,
    slot: PinnedSlot<'g, Entry, ContractId>,
    anchored: &'g AnchoredBinding<'g, F>,
    /// The anchored binding's cache, copied when held and after every
    /// refresh, so a call reads it without going through the binding.
    cache: Cell<Cache>,
}

impl<'g, F: Signature> Held<'g, '_, F> {
    /// The bound function in the contract serving now, as
    /// [`Guard::bound_at`] gives it.
    ///
    /// # Errors
    ///
    /// As [`Guard::bound_at`]: [`FindError::Stale`] after an unload;
    /// [`FindError::NoFunction`] or [`FindError::SignatureMismatch`] if a
    /// reload dropped or changed the function.
    #[inline(always)]
    pub fn get(&self) -> Result<Typed<'g, F>, FindError> {
        let cache = self.cache.get();
        let target = match self.slot.current() {
            // As in `bound_at`: the slot is the binding's, read under the
            // guard this borrows (checked in `hold`); a key equal to the
            // serving entry's serial means that entry is the one the cache
            // checked against `F`, and its function is raw [R17][R10].
            Some((_, entry)) if entry.serial == cache.key => Target::Raw(cache.raw),
            current => self.refresh(current.map(|(_, entry)| entry))?,
        };
        // A function of the entry serving under the guard, checked against
        // `F`, kept alive with its table and library by the guard, which
        // `Typed` borrows for 'g.
        // SAFETY: [R17][R10][R6][R1][R3] as just said.
        Ok(unsafe { Typed::target(target) })
    }

    /// Past the fast path: `bound_at`'s other paths, through the anchored
    /// binding's cache, then copied here.
    #[inline(never)]
    fn refresh(&self, entry: Option<&Entry>) -> Result<Target, FindError> {
        let binding = &self.anchored.binding;
        let target = match entry {
            Some(entry) => self.guard.bound_other(binding, entry),
            None => self.guard.bound_slow(binding),
        };
        self.cache.set(binding.cache.get());
        target
    }

    /// The anchored binding held.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{HostContract, Runtime, Version};
    /// # extern "C" fn inc(x: u32) -> u32 { x + 1 }
    /// # let runtime = Runtime::new()?;
    /// # runtime.register_host_contract(
    /// #     HostContract::new("demo.inc", Version::new(1, 0, 0))
    /// #         .typed("inc", inc as extern "C" fn(u32) -> u32),
    /// # )?;
    /// let reader = runtime.reader();
    /// let inc = reader.pin().find("demo.inc", Version::new(1, 0, 0))?.bind("inc")?;
    /// let inc = reader.anchor::<extern "C" fn(u32) -> u32>(inc)?;
    /// let guard = reader.pin();
    /// assert_eq!(guard.hold(&inc)?.anchored().binding().name(), "inc");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn anchored(&self) -> &'g AnchoredBinding<'g, F> {
        self.anchored
    }
}

impl<F> std::fmt::Debug for Held<'_, '_, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Held")
            .field("binding", &self.anchored.binding)
            .finish_non_exhaustive()
    }
}

impl<'r> Guard<'r> {
    /// `anchored`, held under this guard for many calls: see [`Held`].
    ///
    /// # Errors
    ///
    /// [`FindError::Stale`] if the binding is of another runtime (its slot
    /// is not in this guard's store).
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{FindError, HostContract, Runtime, Version};
    /// # extern "C" fn inc(x: u32) -> u32 { x + 1 }
    /// let (one, two) = (Runtime::new()?, Runtime::new()?);
    /// for runtime in [&one, &two] {
    ///     runtime.register_host_contract(
    ///         HostContract::new("demo.inc", Version::new(1, 0, 0))
    ///             .typed("inc", inc as extern "C" fn(u32) -> u32),
    ///     )?;
    /// }
    /// let reader = one.reader();
    /// let inc = reader.pin().find("demo.inc", Version::new(1, 0, 0))?.bind("inc")?;
    /// let inc = reader.anchor::<extern "C" fn(u32) -> u32>(inc)?;
    /// let guard = reader.pin();
    /// let held = guard.hold(&inc)?;
    /// let mut counter = 0;
    /// for _ in 0..1_000 {
    ///     counter = held.get()?.call(counter);
    /// }
    /// assert_eq!(counter, 1_000);
    /// // A guard of another runtime cannot hold it.
    /// let other = two.reader();
    /// assert!(matches!(other.pin().hold(&inc), Err(FindError::Stale { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn hold<'g, F: Signature>(
        &'g self,
        anchored: &'g AnchoredBinding<'_, F>,
    ) -> Result<Held<'g, 'r, F>, FindError> {
        match self.inner.pinned(&anchored.slot) {
            Some(slot) => Ok(Held {
                guard: self,
                slot,
                anchored,
                cache: Cell::new(anchored.binding.cache.get()),
            }),
            None => Err(FindError::Stale {
                handle: anchored.binding.handle,
            }),
        }
    }
}
