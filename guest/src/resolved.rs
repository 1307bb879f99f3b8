//! Contracts resolved through the host: call another plugin's (or the
//! host's) functions from plugin code.

use core::fmt;
use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::ptr;

use polyplug_abi::{
    AbiError, ContractId, ContractInterface, ERR_BAD_ARGUMENT, ERR_INVALID, ERR_NOT_FOUND,
    NativeEntry, OK, StrView, TypedEntry, Version,
};

use crate::error::Error;
use crate::host::Host;
use crate::signature::{AbiArg, AbiType, TypedFnPtr, restore};

/// A contract's interface as [`Host::resolve`] returned it, borrowed for
/// the current call.
///
/// Its function pointers are valid until the plugin code that resolved it
/// returns to the host; the borrow of the [`Host`] that [`Host::with`] lent
/// keeps it from living longer (\[G5\]). Keep the
/// [`ContractHandle`](polyplug_abi::ContractHandle) and resolve again on
/// the next call.
///
/// ```
/// use polyplug_guest::{Error, Host};
/// use polyplug_guest::abi::Version;
///
/// fn call_inc(x: u32) -> Result<u32, Error> {
///     Host::with(|host| {
///         let add = host.resolve(host.find("test.add", Version::new(1, 0, 0))?)?;
///         Ok(add.typed::<extern "C" fn(u32) -> u32>("inc")?.call(x))
///     })
/// }
/// # let _ = call_inc;
/// ```
pub struct ResolvedContract<'h> {
    host: &'h Host,
    interface: ContractInterface,
}

impl<'h> ResolvedContract<'h> {
    pub(crate) fn new(host: &'h Host, interface: ContractInterface) -> ResolvedContract<'h> {
        ResolvedContract { host, interface }
    }

    /// The contract's id.
    ///
    /// ```
    /// # fn f(c: &polyplug_guest::ResolvedContract<'_>) {
    /// println!("{}", c.id());
    /// # }
    /// ```
    pub fn id(&self) -> ContractId {
        self.interface.id
    }

    /// The contract's version.
    ///
    /// ```
    /// # fn f(c: &polyplug_guest::ResolvedContract<'_>) {
    /// assert!(c.version().satisfies(polyplug_guest::abi::Version::new(1, 0, 0)));
    /// # }
    /// ```
    pub fn version(&self) -> Version {
        self.interface.version
    }

    /// The contract's name, when the host's view of it is UTF-8.
    ///
    /// ```
    /// # fn f(c: &polyplug_guest::ResolvedContract<'_>) {
    /// println!("{:?}", c.name());
    /// # }
    /// ```
    pub fn name(&self) -> Option<&'h str> {
        // SAFETY: [G4] the interface's name view is readable for the call
        // that `'h` spans.
        let bytes = unsafe { bytes(self.interface.name) }?;
        core::str::from_utf8(bytes).ok()
    }

    fn natives(&self) -> &'h [NativeEntry] {
        // SAFETY: [G4] `native` holds `native_count` entries, readable for
        // the call that `'h` spans (the host checked them at registration).
        unsafe { table(self.interface.native, self.interface.native_count) }
    }

    fn typeds(&self) -> &'h [TypedEntry] {
        // SAFETY: [G4] `typed` holds `typed_count` entries, readable for the
        // call that `'h` spans.
        unsafe { table(self.interface.typed, self.interface.typed_count) }
    }

    fn named<E>(
        &self,
        entries: &'h [E],
        name: &str,
        entry_name: impl Fn(&E) -> StrView,
    ) -> Option<&'h E> {
        entries.iter().find(|entry| {
            // SAFETY: [G4] entry names are readable for the call `'h` spans.
            let found = unsafe { bytes(entry_name(entry)) };
            found == Some(name.as_bytes())
        })
    }

    /// Calls the native function `name` with `args`, without an instance,
    /// and returns what it wrote to `out`, or the error it returned.
    ///
    /// # Safety
    ///
    /// \[G8\]: native functions carry no type information, so the caller
    /// promises that the contract documents `name` as taking an `A` and
    /// writing an `O` (same size, layout and meaning; `#[repr(C)]` plain
    /// data) and as working without an instance.
    ///
    /// ```
    /// use polyplug_guest::{Error, Host};
    /// use polyplug_guest::abi::Version;
    ///
    /// #[repr(C)]
    /// #[derive(Clone, Copy)]
    /// struct AddArgs { a: u32, b: u32 }
    ///
    /// fn add_via(args: &AddArgs) -> Result<u32, Error> {
    ///     Host::with(|host| {
    ///         let add = host.resolve(host.find("test.add", Version::new(1, 0, 0))?)?;
    ///         // SAFETY: \[G8\] test.add 1.x documents native "add" as AddArgs -> u32.
    ///         let sum: u32 = unsafe { add.call_native("add", args) }?;
    ///         Ok(sum)
    ///     })
    /// }
    /// # let _ = add_via;
    /// ```
    pub unsafe fn call_native<A: Copy, O: Copy>(&self, name: &str, args: &A) -> Result<O, Error> {
        let Some(entry) = self.named(self.natives(), name, |entry| entry.name) else {
            return Err(Error::new(
                ERR_NOT_FOUND,
                format!("contract {} has no native function {name:?}", self.id()),
            ));
        };
        let Some(func) = entry.func else {
            return Err(Error::new(
                ERR_INVALID,
                format!("contract {}: native function {name:?} is null", self.id()),
            ));
        };
        let mut out = MaybeUninit::<O>::uninit();
        let mut err = AbiError::NONE;
        // SAFETY: [G5] `func` is callable during the call `'h` spans; [G8] it
        // takes an `A` and writes an `O`; `args`, `out`, `err` live for the call.
        let code = unsafe {
            func(
                ptr::null_mut(),
                ptr::from_ref(args).cast(),
                out.as_mut_ptr().cast(),
                &mut err,
            )
        };
        if code != OK {
            // SAFETY: [G4] `err` was written by the callee, and host-allocated
            // messages come from the host's allocator, ours to free.
            return Err(unsafe { self.host.take_error(code, err, name) });
        }
        // SAFETY: [G8] the callee returned OK, so it wrote a whole `O`.
        Ok(unsafe { out.assume_init() })
    }

    /// The typed function `name`, after checking that its signature string
    /// spells exactly `F`. Fails with `ERR_NOT_FOUND` when there is no such
    /// entry and `ERR_BAD_ARGUMENT` when the signature differs.
    ///
    /// ```
    /// # use polyplug_guest::Error;
    /// # fn f(contract: &polyplug_guest::ResolvedContract<'_>) -> Result<(), Error> {
    /// let add = contract.typed::<extern "C" fn(u32, u32) -> u32>("add")?;
    /// assert_eq!(add.call(2, 3), 5);
    /// # Ok(()) }
    /// ```
    pub fn typed<F: TypedFnPtr>(&self, name: &str) -> Result<Typed<'h, F>, Error> {
        let Some(entry) = self.named(self.typeds(), name, |entry| entry.name) else {
            return Err(Error::new(
                ERR_NOT_FOUND,
                format!("contract {} has no typed function {name:?}", self.id()),
            ));
        };
        // SAFETY: [G4] the signature view is readable for the call `'h` spans.
        let signature =
            unsafe { bytes(entry.signature) }.and_then(|b| core::str::from_utf8(b).ok());
        let signature = signature.unwrap_or("<not UTF-8>");
        if !F::matches(signature) {
            return Err(Error::new(
                ERR_BAD_ARGUMENT,
                format!(
                    "contract {}: typed function {name:?} is {signature}, not {}",
                    self.id(),
                    F::signature()
                ),
            ));
        }
        let Some(func) = entry.func else {
            return Err(Error::new(
                ERR_INVALID,
                format!("contract {}: typed function {name:?} is null", self.id()),
            ));
        };
        // SAFETY: [G7] the entry's signature spells exactly `F` (checked
        // above), and the signature says what the pointer is.
        let func = unsafe { restore::<F>(func) };
        Ok(Typed {
            func,
            _call: PhantomData,
        })
    }
}

impl fmt::Debug for ResolvedContract<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResolvedContract")
            .field("id", &self.interface.id)
            .field("name", &self.name())
            .field("version", &self.interface.version)
            .field("native_count", &self.interface.native_count)
            .field("typed_count", &self.interface.typed_count)
            .finish()
    }
}

/// A typed function of a resolved contract, checked against its signature
/// string; call it with `call`. Borrowed for the current call, like the
/// [`ResolvedContract`] it came from.
///
/// ```
/// # use polyplug_guest::Error;
/// # fn f(contract: &polyplug_guest::ResolvedContract<'_>) -> Result<(), Error> {
/// let inc = contract.typed::<extern "C" fn(u32) -> u32>("inc")?;
/// assert_eq!(inc.call(41), 42);
/// # Ok(()) }
/// ```
pub struct Typed<'h, F> {
    func: F,
    _call: PhantomData<&'h Host>,
}

impl<F: TypedFnPtr> fmt::Debug for Typed<'_, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Typed")
            .field("signature", &F::signature())
            .finish_non_exhaustive()
    }
}

macro_rules! typed_calls {
    ($(($($arg:ident: $ty:ident),*)),* $(,)?) => {
        $(
            impl<R: AbiType, $($ty: AbiArg),*> Typed<'_, extern "C" fn($($ty),*) -> R> {
                /// Calls the function. It is a plain C call; the signature
                /// was checked when this value was made.
                ///
                /// ```
                /// # use polyplug_guest::{Error, ResolvedContract};
                /// # fn f(contract: &ResolvedContract<'_>) -> Result<(), Error> {
                /// let add = contract.typed::<extern "C" fn(u32, u32) -> u32>("add")?;
                /// assert_eq!(add.call(2, 3), 5);
                /// # Ok(()) }
                /// ```
                pub fn call(&self, $($arg: $ty),*) -> R {
                    (self.func)($($arg),*)
                }
            }
        )*
    };
}

typed_calls!(
    (),
    (a: A),
    (a: A, b: B),
    (a: A, b: B, c: C),
    (a: A, b: B, c: C, d: D),
    (a: A, b: B, c: C, d: D, e: E),
    (a: A, b: B, c: C, d: D, e: E, f: F),
);

/// The bytes of a view; `None` when it is null with a length.
///
/// # Safety
///
/// \[G4\]: a non-null view points to `len` bytes readable for `'a`.
unsafe fn bytes<'a>(view: StrView) -> Option<&'a [u8]> {
    if view.len == 0 {
        return Some(&[]);
    }
    if view.ptr.is_null() {
        return None;
    }
    // SAFETY: [G4] non-null, `len` readable bytes for `'a`.
    Some(unsafe { core::slice::from_raw_parts(view.ptr, view.len) })
}

/// An interface array as a slice; empty when null or empty.
///
/// # Safety
///
/// \[G4\]: a non-null `entries` points to `count` entries readable for `'a`.
unsafe fn table<'a, E>(entries: *const E, count: u32) -> &'a [E] {
    if entries.is_null() || count == 0 {
        return &[];
    }
    // SAFETY: [G4] non-null, `count` readable entries for `'a`.
    unsafe { core::slice::from_raw_parts(entries, count as usize) }
}
