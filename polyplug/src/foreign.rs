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

use polyplug_abi::VoidFn;

use crate::entry::{BundleId, ContractHandle, Entry};
use crate::error::FindError;
use crate::read::{ContractRef, Guard};
use crate::runtime::HostContract;

impl ContractHandle {
    /// The handle as a plain integer, for hosts that keep it outside Rust.
    ///
    /// ```
    /// use polyplug::{ContractHandle, Runtime, Version};
    ///
    /// let runtime = Runtime::new()?;
    /// runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// let reader = runtime.reader();
    /// let handle = reader.pin().find("test.add", Version::new(1, 0, 0))?.handle();
    /// assert_eq!(ContractHandle::from_raw(handle.to_raw()), Some(handle));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_raw(self) -> u64 {
        self.0.to_raw()
    }

    /// The handle that [`to_raw`](ContractHandle::to_raw) gave `raw`, or
    /// `None` when `raw` cannot be a handle (generation 0, index out of
    /// range). Any other integer is a handle: one that was never issued
    /// resolves as stale, or (like a forged handle in Rust, `SAFETY.md`
    /// \[S3\]) to whatever contract is in that slot at that generation.
    ///
    /// ```
    /// use polyplug::ContractHandle;
    ///
    /// assert_eq!(ContractHandle::from_raw(0), None); // generation 0 is never issued
    /// ```
    pub fn from_raw(raw: u64) -> Option<ContractHandle> {
        polyplug_store::Handle::from_raw(raw).map(ContractHandle)
    }
}

impl BundleId {
    /// The id as a plain integer.
    ///
    /// ```
    /// use polyplug::{BundleId, Runtime};
    ///
    /// let runtime = Runtime::new()?;
    /// let id = runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// assert_eq!(BundleId::from_raw(id.to_raw()), id);
    /// assert_eq!(id.to_string(), format!("#{}", id.to_raw()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_raw(self) -> u64 {
        self.0
    }

    /// The id whose [`to_raw`](BundleId::to_raw) is `raw`. Every integer is
    /// an id; one no bundle has is refused by the runtime as
    /// [`LoadError::UnknownBundle`](crate::LoadError::UnknownBundle).
    ///
    /// ```
    /// use polyplug::{BundleId, LoadError, Runtime};
    ///
    /// let runtime = Runtime::new()?;
    /// let err = runtime.unload_bundle(BundleId::from_raw(7)).unwrap_err();
    /// assert!(matches!(err, LoadError::UnknownBundle(_)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_raw(raw: u64) -> BundleId {
        BundleId(raw)
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
    /// The typed function `name` as an untyped pointer, if its registered
    /// signature is `signature` (whitespace ignored), for hosts that learn
    /// the signature at run time.
    ///
    /// Calling the pointer needs a cast to the function type `signature`
    /// spells, and is sound only while the guard `'g` this contract borrows
    /// is pinned: the guard keeps the library loaded (\[R1\], \[R3\]).
    ///
    /// # Errors
    ///
    /// [`FindError::NoFunction`] or [`FindError::SignatureMismatch`].
    ///
    /// ```
    /// use polyplug::{FindError, Runtime, Version};
    ///
    /// let runtime = Runtime::new()?;
    /// runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// let add = guard.find("test.add", Version::new(1, 0, 0))?;
    /// let inc = add.typed_erased("inc", "u32 (u32)")?;
    /// // SAFETY: [R6] the registered signature is u32(u32) (checked); the
    /// // guard is pinned across the call.
    /// let inc = unsafe { std::mem::transmute::<polyplug_abi::VoidFn, extern "C" fn(u32) -> u32>(inc) };
    /// assert_eq!(inc(41), 42);
    /// assert!(matches!(add.typed_erased("inc", "u64(u64)"), Err(FindError::SignatureMismatch { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn typed_erased(&self, name: &str, signature: &str) -> Result<VoidFn, FindError> {
        let entry = self.entry();
        let index = checked_index(entry, self.name(), name, signature)?;
        Ok(entry.typed[index])
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
            cached: Cell::new((entry.serial, entry.typed[index])),
        })
    }
}

/// A typed function bound by name and by a signature spelled at run time,
/// fetched per call through [`Guard::bound_erased`]: what a
/// [`Binding`](crate::Binding) is for a Rust type. `Send`, not `Sync`.
///
/// ```
/// use polyplug::{Runtime, Version};
///
/// let runtime = Runtime::new()?;
/// runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
/// let reader = runtime.reader();
/// let inc = reader.pin().find("test.add", Version::new(1, 0, 0))?.bind_erased("inc", "u32(u32)")?;
/// let mut x = 0;
/// for _ in 0..3 {
///     let guard = reader.pin();
///     let f = guard.bound_erased(&inc)?;
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
    /// `(entry serial, that entry's function)`, checked against
    /// `signature`; trusted only for that serial (\[R10\]).
    cached: Cell<(u64, VoidFn)>,
}

impl ErasedBinding {
    /// The handle of the contract this binding calls into.
    ///
    /// ```
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
    /// The bound function in the contract serving now, as an untyped
    /// pointer: after a reload, the new version's function of the same name
    /// and signature. The fast path is the handle check of [`Guard::get`]
    /// and one compare. The pointer may be called, cast to the bound
    /// signature, while this guard is pinned.
    ///
    /// # Errors
    ///
    /// [`FindError::Stale`] after an unload; [`FindError::NoFunction`] or
    /// [`FindError::SignatureMismatch`] if a reload dropped or changed the
    /// function.
    ///
    /// ```
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
    pub fn bound_erased(&self, binding: &ErasedBinding) -> Result<VoidFn, FindError> {
        if let Ok(entry) = self.inner.get(binding.handle.0) {
            let (serial, func) = binding.cached.get();
            if entry.serial == serial {
                // [R10] serials are never reused: `func` is this live
                // entry's function, checked against the bound signature.
                return Ok(func);
            }
        }
        self.bound_erased_slow(binding)
    }

    /// [`Guard::bound_erased`] when the cache does not name this entry.
    #[cold]
    #[inline(never)]
    fn bound_erased_slow(&self, binding: &ErasedBinding) -> Result<VoidFn, FindError> {
        let contract = self.get(binding.handle)?;
        let entry = contract.entry();
        let index = checked_index(entry, contract.name(), &binding.name, &binding.signature)?;
        let func = entry.typed[index];
        binding.cached.set((entry.serial, func));
        Ok(func)
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
