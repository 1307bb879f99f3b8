//! What a plugin registers, copied and checked before anything uses it.
//!
//! A plugin hands `register_contract` a pointer to a
//! [`ContractInterface`]. [`PlainInterface::copy_from_abi`] takes a plain
//! copy of every byte it points to (bounded by [`MAX_FUNCTIONS`] and
//! [`MAX_NAME_BYTES`]); [`PlainInterface::validate`], a pure function,
//! turns the copy into a [`Table`] or an [`InvalidContract`] that names the
//! contract and the field. After registration the host reads no plugin data
//! memory again; it only calls plugin code (\[R4\]).
//!
//! ```
//! use polyplug::interface::PlainInterface;
//! use polyplug_abi::{ContractId, ContractInterface, StrView, Version};
//!
//! let raw = ContractInterface {
//!     id: ContractId::of("demo.empty", 1),
//!     name: StrView::from_static("demo.empty"),
//!     version: Version::new(1, 0, 0),
//!     native_count: 0, native: std::ptr::null(),
//!     typed_count: 0, typed: std::ptr::null(),
//!     create_instance: None, destroy_instance: None,
//!     context_count: 0, context: std::ptr::null(), instance_ctx: std::ptr::null_mut(),
//!     create_context_instance: None, destroy_context_instance: None,
//!     save_instance: None, restore_instance: None,
//!     save_context_instance: None, restore_context_instance: None,
//! };
//! // SAFETY: [P3] `raw` and the static name it points to are readable.
//! let plain = unsafe { PlainInterface::copy_from_abi(&raw) }?;
//! let table = plain.validate()?; // owns every byte: `raw` may go now
//! println!("{table:?}");
//! # Ok::<(), polyplug::interface::InvalidContract>(())
//! ```

use std::collections::HashSet;
use std::ffi::c_void;
use std::fmt;

use polyplug_abi::{
    ContextCreateFn, ContextDestroyFn, ContextEntry, ContextFn, ContextRestoreFn, ContextSaveFn,
    ContractId, ContractInterface, CreateInstanceFn, DestroyInstanceFn, NativeEntry, NativeFn,
    RestoreInstanceFn, SaveInstanceFn, StrView, TypedEntry, Version, VoidFn,
};

use polyplug_loader::Escaped;

use crate::signature;

/// Most native or typed functions one contract may have.
///
/// ```
/// # use polyplug::interface::PlainInterface;
/// # use polyplug::{ContractId, Version};
/// # fn plain(name: &str) -> PlainInterface {
/// #     PlainInterface {
/// #         id: ContractId::of(name, 1), name: name.into(), version: Version::new(1, 0, 0),
/// #         native: Vec::new(), typed: Vec::new(), typed_packed: Vec::new(), create_instance: None, destroy_instance: None,
/// #         context: Vec::new(), instance_ctx: std::ptr::null_mut(), create_context_instance: None, destroy_context_instance: None,
/// #         save_instance: None, restore_instance: None, save_context_instance: None, restore_context_instance: None,
/// #     }
/// # }
/// use polyplug::interface::MAX_FUNCTIONS;
///
/// extern "C" fn f() {}
/// let mut big = plain("demo.big");
/// for i in 0..=MAX_FUNCTIONS {
///     big.typed.push((format!("f{i}").into_bytes(), b"void()".to_vec(), Some(f as polyplug_abi::VoidFn)));
/// }
/// assert_eq!(big.validate().unwrap_err().field, "typed_count");
/// ```
pub const MAX_FUNCTIONS: u32 = 256;
/// Longest contract, function or signature name, in bytes.
///
/// ```
/// # use polyplug::interface::PlainInterface;
/// # use polyplug::{ContractId, Version};
/// # fn plain(name: &str) -> PlainInterface {
/// #     PlainInterface {
/// #         id: ContractId::of(name, 1), name: name.into(), version: Version::new(1, 0, 0),
/// #         native: Vec::new(), typed: Vec::new(), typed_packed: Vec::new(), create_instance: None, destroy_instance: None,
/// #         context: Vec::new(), instance_ctx: std::ptr::null_mut(), create_context_instance: None, destroy_context_instance: None,
/// #         save_instance: None, restore_instance: None, save_context_instance: None, restore_context_instance: None,
/// #     }
/// # }
/// use polyplug::interface::MAX_NAME_BYTES;
///
/// let long = "a".repeat(MAX_NAME_BYTES + 1);
/// assert_eq!(plain(&long).validate().unwrap_err().field, "name");
/// assert!(plain(&long[..MAX_NAME_BYTES]).validate().is_ok());
/// ```
pub const MAX_NAME_BYTES: usize = 128;

/// A registered interface failed its checks.
///
/// ```
/// use polyplug::interface::PlainInterface;
/// use polyplug::{ContractId, Version};
///
/// let wrong_id = PlainInterface {
///     id: ContractId::of("demo.x", 2), // not the id of demo.x@1
///     name: b"demo.x".to_vec(),
///     version: Version::new(1, 0, 0),
///     native: Vec::new(), typed: Vec::new(), typed_packed: Vec::new(), create_instance: None, destroy_instance: None,
///     context: Vec::new(), instance_ctx: std::ptr::null_mut(), create_context_instance: None, destroy_context_instance: None,
///     save_instance: None, restore_instance: None, save_context_instance: None, restore_context_instance: None,
/// };
/// let err = wrong_id.validate().unwrap_err();
/// assert_eq!((err.contract.as_str(), err.field.as_str()), ("demo.x", "id"));
/// println!("{err}"); // contract demo.x: id: 0x… does not match demo.x@1 (expected 0x…)
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "contract {}: {}: {}",
    Escaped(contract),
    Escaped(field),
    Escaped(problem)
)]
pub struct InvalidContract {
    /// The contract's name as far as it could be read, else its id; raw, as
    /// the plugin wrote it (`Display` escapes it).
    pub contract: String,
    /// The field, such as `native[2].func` or `id`.
    pub field: String,
    /// What was wrong, and what was expected.
    pub problem: String,
}

/// One context entry of a [`PlainInterface`]: `(name bytes, signature
/// bytes, ctx, function)`.
pub type ContextPlain = (Vec<u8>, Vec<u8>, *mut c_void, Option<ContextFn>);

/// A plain copy of a registered interface: owned bytes, no plugin pointers
/// except the function pointers themselves.
///
/// ```
/// use polyplug::interface::PlainInterface;
/// use polyplug::{ContractId, Version};
///
/// extern "C" fn inc(x: u32) -> u32 { x + 1 }
/// let plain = PlainInterface {
///     id: ContractId::of("demo.inc", 1),
///     name: b"demo.inc".to_vec(),
///     version: Version::new(1, 0, 0),
///     native: Vec::new(),
///     typed: vec![(b"inc".to_vec(), b"u32 (u32)".to_vec(), Some(polyplug::RawSignature::to_void(inc as extern "C" fn(u32) -> u32)))],
///     typed_packed: Vec::new(),
///     create_instance: None,
///     destroy_instance: None,
///     context: Vec::new(),
///     instance_ctx: std::ptr::null_mut(),
///     create_context_instance: None,
///     destroy_context_instance: None,
///     save_instance: None,
///     restore_instance: None,
///     save_context_instance: None,
///     restore_context_instance: None,
/// };
/// assert!(plain.validate().is_ok()); // the signature is normalised to `u32(u32)`
/// ```
#[derive(Debug, Clone)]
pub struct PlainInterface {
    /// The `id` field.
    pub id: ContractId,
    /// The bytes of `name`.
    pub name: Vec<u8>,
    /// The `version` field.
    pub version: Version,
    /// `(name bytes, function)` per native entry.
    pub native: Vec<(Vec<u8>, Option<NativeFn>)>,
    /// `(name bytes, signature bytes, function)` per typed entry.
    pub typed: Vec<(Vec<u8>, Vec<u8>, Option<VoidFn>)>,
    /// The packed form (`TypedEntry::packed`) of `typed[i]` at index `i`;
    /// an entry past the end has none.
    pub typed_packed: Vec<Option<ContextFn>>,
    /// The `create_instance` field.
    pub create_instance: Option<CreateInstanceFn>,
    /// The `destroy_instance` field.
    pub destroy_instance: Option<DestroyInstanceFn>,
    /// `(name bytes, signature bytes, ctx, function)` per context entry.
    pub context: Vec<ContextPlain>,
    /// The `instance_ctx` field.
    pub instance_ctx: *mut c_void,
    /// The `create_context_instance` field.
    pub create_context_instance: Option<ContextCreateFn>,
    /// The `destroy_context_instance` field.
    pub destroy_context_instance: Option<ContextDestroyFn>,
    /// The `save_instance` field (ABI 4).
    pub save_instance: Option<SaveInstanceFn>,
    /// The `restore_instance` field (ABI 4).
    pub restore_instance: Option<RestoreInstanceFn>,
    /// The `save_context_instance` field (ABI 4).
    pub save_context_instance: Option<ContextSaveFn>,
    /// The `restore_context_instance` field (ABI 4).
    pub restore_context_instance: Option<ContextRestoreFn>,
}

fn invalid(
    contract: &str,
    field: impl Into<String>,
    problem: impl Into<String>,
) -> InvalidContract {
    InvalidContract {
        contract: contract.to_owned(),
        field: field.into(),
        problem: problem.into(),
    }
}

/// Copies the bytes of a view, refusing null pointers and oversize views.
///
/// # Safety
///
/// \[P3\] a non-null `view.ptr` points to `view.len` readable bytes.
unsafe fn copy_view(
    view: StrView,
    contract: &str,
    field: &str,
) -> Result<Vec<u8>, InvalidContract> {
    if view.len == 0 {
        return Ok(Vec::new());
    }
    if view.ptr.is_null() {
        return Err(invalid(
            contract,
            field,
            format!("null pointer with length {}", view.len),
        ));
    }
    if view.len > MAX_NAME_BYTES {
        return Err(invalid(
            contract,
            field,
            format!(
                "{} bytes, more than the limit of {MAX_NAME_BYTES}",
                view.len
            ),
        ));
    }
    // SAFETY: [P3] the pointer is non-null (checked) and the plugin
    // promises `len` readable bytes; `len` is at most MAX_NAME_BYTES.
    let bytes = unsafe { std::slice::from_raw_parts(view.ptr, view.len) };
    Ok(bytes.to_vec())
}

/// Copies `count` entries of a plugin array.
///
/// # Safety
///
/// \[P3\] a non-null `ptr` points to `count` readable `T`s.
unsafe fn copy_array<T: Copy>(
    ptr: *const T,
    count: u32,
    contract: &str,
    field: &str,
) -> Result<Vec<T>, InvalidContract> {
    if count == 0 {
        return Ok(Vec::new());
    }
    if count > MAX_FUNCTIONS {
        return Err(invalid(
            contract,
            format!("{field}_count"),
            format!("{count} entries, more than the limit of {MAX_FUNCTIONS}"),
        ));
    }
    if ptr.is_null() {
        return Err(invalid(
            contract,
            field,
            format!("null array with {count} entries"),
        ));
    }
    let len = usize::try_from(count).map_err(|_| invalid(contract, field, "count overflows"))?;
    // SAFETY: [P3] non-null (checked), and the plugin promises `count`
    // entries; count is at most MAX_FUNCTIONS.
    let entries = unsafe { std::slice::from_raw_parts(ptr, len) };
    Ok(entries.to_vec())
}

impl PlainInterface {
    /// Takes a plain copy of everything `interface` points to.
    ///
    /// # Safety
    ///
    /// \[P3\] `interface` is null or points to a readable
    /// [`ContractInterface`] whose views and arrays are readable for their
    /// stated lengths (each bounded here before it is read).
    ///
    /// # Example
    ///
    /// ```
    /// use polyplug::interface::PlainInterface;
    ///
    /// // SAFETY: [P3] a null pointer is allowed: it is refused, not read.
    /// let err = unsafe { PlainInterface::copy_from_abi(std::ptr::null()) }.unwrap_err();
    /// assert_eq!(err.field, "interface");
    /// ```
    pub unsafe fn copy_from_abi(
        interface: *const ContractInterface,
    ) -> Result<PlainInterface, InvalidContract> {
        if interface.is_null() {
            return Err(invalid("<null>", "interface", "null pointer"));
        }
        // SAFETY: [P3] non-null (checked); a plain copy of a Copy struct.
        let raw: ContractInterface = unsafe { interface.read_unaligned() };
        let id_text = raw.id.to_string();
        // SAFETY: [P3] the view comes from the plugin's interface.
        let name = unsafe { copy_view(raw.name, &id_text, "name") }?;
        let label = String::from_utf8_lossy(&name).into_owned();
        // SAFETY: [P3] the array comes from the plugin's interface.
        let native_raw: Vec<NativeEntry> =
            unsafe { copy_array(raw.native, raw.native_count, &label, "native") }?;
        // SAFETY: [P3] the array comes from the plugin's interface.
        let typed_raw: Vec<TypedEntry> =
            unsafe { copy_array(raw.typed, raw.typed_count, &label, "typed") }?;
        // SAFETY: [P3] the array comes from the plugin's interface.
        let context_raw: Vec<ContextEntry> =
            unsafe { copy_array(raw.context, raw.context_count, &label, "context") }?;
        let mut native = Vec::with_capacity(native_raw.len());
        for (i, entry) in native_raw.iter().enumerate() {
            // SAFETY: [P3] the view comes from the plugin's native entry.
            let fname = unsafe { copy_view(entry.name, &label, &format!("native[{i}].name")) }?;
            native.push((fname, entry.func));
        }
        let mut typed = Vec::with_capacity(typed_raw.len());
        let mut typed_packed = Vec::with_capacity(typed_raw.len());
        for (i, entry) in typed_raw.iter().enumerate() {
            // SAFETY: [P3] the view comes from the plugin's typed entry.
            let fname = unsafe { copy_view(entry.name, &label, &format!("typed[{i}].name")) }?;
            // SAFETY: [P3] the view comes from the plugin's typed entry.
            let sig =
                unsafe { copy_view(entry.signature, &label, &format!("typed[{i}].signature")) }?;
            typed.push((fname, sig, entry.func));
            typed_packed.push(entry.packed);
        }
        let mut context = Vec::with_capacity(context_raw.len());
        for (i, entry) in context_raw.iter().enumerate() {
            // SAFETY: [P3] the view comes from the plugin's context entry.
            let fname = unsafe { copy_view(entry.name, &label, &format!("context[{i}].name")) }?;
            // SAFETY: [P3] the view comes from the plugin's context entry.
            let sig =
                unsafe { copy_view(entry.signature, &label, &format!("context[{i}].signature")) }?;
            context.push((fname, sig, entry.ctx, entry.func));
        }
        Ok(PlainInterface {
            id: raw.id,
            name,
            version: raw.version,
            native,
            typed,
            typed_packed,
            create_instance: raw.create_instance,
            destroy_instance: raw.destroy_instance,
            context,
            instance_ctx: raw.instance_ctx,
            create_context_instance: raw.create_context_instance,
            destroy_context_instance: raw.destroy_context_instance,
            save_instance: raw.save_instance,
            restore_instance: raw.restore_instance,
            save_context_instance: raw.save_context_instance,
            restore_context_instance: raw.restore_context_instance,
        })
    }

    /// Checks the copy and builds the host's table from it. Pure: no IO,
    /// no plugin memory, never panics.
    ///
    /// ```
    /// # use polyplug::interface::PlainInterface;
    /// # use polyplug::{ContractId, Version};
    /// # fn plain(name: &str) -> PlainInterface {
    /// #     PlainInterface {
    /// #         id: ContractId::of(name, 1), name: name.into(), version: Version::new(1, 0, 0),
    /// #         native: Vec::new(), typed: Vec::new(), typed_packed: Vec::new(), create_instance: None, destroy_instance: None,
    /// #         context: Vec::new(), instance_ctx: std::ptr::null_mut(), create_context_instance: None, destroy_context_instance: None,
    /// #         save_instance: None, restore_instance: None, save_context_instance: None, restore_context_instance: None,
    /// #     }
    /// # }
    /// let mut null_fn = plain("demo.null");
    /// null_fn.native.push((b"call".to_vec(), None));
    /// let err = null_fn.validate().unwrap_err();
    /// assert_eq!(err.field, "native[0].func");
    /// assert_eq!(err.problem, "null function pointer");
    /// ```
    pub fn validate(self) -> Result<Table, InvalidContract> {
        let name = String::from_utf8(self.name)
            .map_err(|_| invalid(&self.id.to_string(), "name", "not UTF-8"))?;
        check_contract_name(&name).map_err(|problem| invalid(&name, "name", problem))?;
        let expected = ContractId::of(&name, self.version.major);
        if self.id != expected {
            return Err(invalid(
                &name,
                "id",
                format!(
                    "{} does not match {name}@{} (expected {expected})",
                    self.id, self.version.major
                ),
            ));
        }
        for (field, len) in [
            ("native_count", self.native.len()),
            ("typed_count", self.typed.len()),
            ("context_count", self.context.len()),
        ] {
            if u32::try_from(len).map_or(true, |n| n > MAX_FUNCTIONS) {
                return Err(invalid(
                    &name,
                    field,
                    format!("{len} entries, more than the limit of {MAX_FUNCTIONS}"),
                ));
            }
        }
        let mut seen = HashSet::new();
        let mut native_names = Vec::with_capacity(self.native.len());
        let mut native = Vec::with_capacity(self.native.len());
        for (i, (fname, func)) in self.native.into_iter().enumerate() {
            let fname = function_name(fname, &name, &format!("native[{i}].name"))?;
            if !seen.insert(fname.clone()) {
                return Err(invalid(
                    &name,
                    format!("native[{i}].name"),
                    format!("duplicate function name {fname:?}"),
                ));
            }
            let func = func.ok_or_else(|| {
                invalid(&name, format!("native[{i}].func"), "null function pointer")
            })?;
            native_names.push(fname.into_boxed_str());
            native.push(func);
        }
        let mut seen = HashSet::new();
        let mut typed = Vec::with_capacity(self.typed.len());
        let mut packed = self.typed_packed.into_iter();
        for (i, (fname, sig, func)) in self.typed.into_iter().enumerate() {
            let packed = packed.next().flatten();
            let fname = function_name(fname, &name, &format!("typed[{i}].name"))?;
            if !seen.insert(fname.clone()) {
                return Err(invalid(
                    &name,
                    format!("typed[{i}].name"),
                    format!("duplicate function name {fname:?}"),
                ));
            }
            within_name_limit(&sig, &name, &format!("typed[{i}].signature"))?;
            let sig = String::from_utf8(sig)
                .map_err(|_| invalid(&name, format!("typed[{i}].signature"), "not UTF-8"))?;
            let sig = signature::normalize(&sig)
                .map_err(|problem| invalid(&name, format!("typed[{i}].signature"), problem))?;
            let func = func.ok_or_else(|| {
                invalid(&name, format!("typed[{i}].func"), "null function pointer")
            })?;
            typed.push(TypedSlot {
                name: fname.into_boxed_str(),
                signature: sig.into_boxed_str(),
                callee: Callee::Raw(func),
                packed,
            });
        }
        // Context entries share the typed functions' namespace: a typed
        // call finds either kind by name.
        for (i, (fname, sig, ctx, func)) in self.context.into_iter().enumerate() {
            let fname = function_name(fname, &name, &format!("context[{i}].name"))?;
            if !seen.insert(fname.clone()) {
                return Err(invalid(
                    &name,
                    format!("context[{i}].name"),
                    format!("duplicate function name {fname:?}"),
                ));
            }
            within_name_limit(&sig, &name, &format!("context[{i}].signature"))?;
            let sig = String::from_utf8(sig)
                .map_err(|_| invalid(&name, format!("context[{i}].signature"), "not UTF-8"))?;
            let sig = signature::normalize(&sig)
                .map_err(|problem| invalid(&name, format!("context[{i}].signature"), problem))?;
            let func = func.ok_or_else(|| {
                invalid(&name, format!("context[{i}].func"), "null function pointer")
            })?;
            typed.push(TypedSlot {
                name: fname.into_boxed_str(),
                signature: sig.into_boxed_str(),
                callee: Callee::Context {
                    ctx: Ctx(ctx),
                    func,
                },
                packed: None,
            });
        }
        let context_instances = match (self.create_context_instance, self.destroy_context_instance)
        {
            (Some(create), Some(destroy)) => Some(Instances::Context {
                ctx: Ctx(self.instance_ctx),
                create,
                destroy,
            }),
            (None, None) => None,
            (Some(_), None) => {
                return Err(invalid(
                    &name,
                    "destroy_context_instance",
                    "null while create_context_instance is set",
                ));
            }
            (None, Some(_)) => {
                return Err(invalid(
                    &name,
                    "create_context_instance",
                    "null while destroy_context_instance is set",
                ));
            }
        };
        let native_instances = match (self.create_instance, self.destroy_instance) {
            (Some(create), Some(destroy)) => Some(Instances::Native(create, destroy)),
            (None, None) => None,
            (Some(_), None) => {
                return Err(invalid(
                    &name,
                    "destroy_instance",
                    "null while create_instance is set",
                ));
            }
            (None, Some(_)) => {
                return Err(invalid(
                    &name,
                    "create_instance",
                    "null while destroy_instance is set",
                ));
            }
        };
        let instances = match (native_instances, context_instances) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    &name,
                    "create_context_instance",
                    "set together with create_instance: a contract has one kind of instance",
                ));
            }
            (native, context) => native.or(context),
        };
        let handover = handover_of(
            &name,
            instances,
            (self.save_instance, self.restore_instance),
            (self.save_context_instance, self.restore_context_instance),
        )?;
        let mut table = Table::new(name, self.version, native_names, native, typed, instances);
        table.handover = handover;
        Ok(table)
    }
}

/// The state handover of a contract whose instances are `instances`: the
/// `save_*`/`restore_*` pair of the same kind, both set or both null, and
/// none on a contract without instances of that kind.
fn handover_of(
    contract: &str,
    instances: Option<Instances>,
    native: (Option<SaveInstanceFn>, Option<RestoreInstanceFn>),
    context: (Option<ContextSaveFn>, Option<ContextRestoreFn>),
) -> Result<Option<Handover>, InvalidContract> {
    let pair = |save: bool, restore: bool, names: (&str, &str)| match (save, restore) {
        (true, false) => Err(invalid(
            contract,
            names.1,
            format!("null while {} is set", names.0),
        )),
        (false, true) => Err(invalid(
            contract,
            names.0,
            format!("null while {} is set", names.1),
        )),
        _ => Ok(()),
    };
    pair(
        native.0.is_some(),
        native.1.is_some(),
        ("save_instance", "restore_instance"),
    )?;
    pair(
        context.0.is_some(),
        context.1.is_some(),
        ("save_context_instance", "restore_context_instance"),
    )?;
    match (instances, native, context) {
        (_, (None, None), (None, None)) => Ok(None),
        (Some(Instances::Native(..)), (Some(save), Some(restore)), (None, None)) => {
            Ok(Some(Handover::Native { save, restore }))
        }
        (Some(Instances::Context { ctx, .. }), (None, None), (Some(save), Some(restore))) => {
            Ok(Some(Handover::Context { ctx, save, restore }))
        }
        (_, (Some(_), _), _) => Err(invalid(
            contract,
            "save_instance",
            "set on a contract whose instances are not made by create_instance",
        )),
        _ => Err(invalid(
            contract,
            "save_context_instance",
            "set on a contract whose instances are not made by create_context_instance",
        )),
    }
}

fn function_name(bytes: Vec<u8>, contract: &str, field: &str) -> Result<String, InvalidContract> {
    within_name_limit(&bytes, contract, field)?;
    let text = String::from_utf8(bytes).map_err(|_| invalid(contract, field, "not UTF-8"))?;
    if text.is_empty() {
        return Err(invalid(contract, field, "empty function name"));
    }
    Ok(text)
}

/// Refuses a function name or signature longer than [`MAX_NAME_BYTES`]:
/// `copy_from_abi` bounds what a plugin hands over, and this bounds what
/// reaches `validate` any other way (host contracts).
fn within_name_limit(bytes: &[u8], contract: &str, field: &str) -> Result<(), InvalidContract> {
    if bytes.len() > MAX_NAME_BYTES {
        return Err(invalid(
            contract,
            field,
            format!(
                "{} bytes, more than the limit of {MAX_NAME_BYTES}",
                bytes.len()
            ),
        ));
    }
    Ok(())
}

/// Contract names: 1 to [`MAX_NAME_BYTES`] bytes of `[a-z0-9_.-]`, starting
/// with a letter (the manifest's rule).
fn check_contract_name(name: &str) -> Result<(), String> {
    let valid_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c);
    match name.chars().next() {
        None => Err("empty name".to_owned()),
        Some(first) if !first.is_ascii_lowercase() => {
            Err(format!("{name:?} must start with a lowercase letter"))
        }
        Some(_) if name.len() > MAX_NAME_BYTES => {
            Err(format!("{name:?} is longer than {MAX_NAME_BYTES} bytes"))
        }
        Some(_) if !name.chars().all(valid_char) => {
            Err(format!("{name:?} may hold only a-z, 0-9, '_', '.' and '-'"))
        }
        Some(_) => Ok(()),
    }
}

/// A context pointer of an engine-run function or instance maker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ctx(pub(crate) *mut c_void);

// SAFETY: [R11] a context pointer is only passed back to the function it
// was registered with, which may be called from any thread ([P2]).
unsafe impl Send for Ctx {}
// SAFETY: [R11] as for Send: the host never dereferences it.
unsafe impl Sync for Ctx {}

/// How a typed function is called.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Callee {
    /// A plain `extern "C" fn` of the registered signature.
    Raw(VoidFn),
    /// An engine-run function: `func(ctx, instance, args, out, err)`.
    Context { ctx: Ctx, func: ContextFn },
}

/// How a stateful contract makes and destroys its instances.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Instances {
    /// `create_instance` and `destroy_instance`.
    Native(CreateInstanceFn, DestroyInstanceFn),
    /// `create_context_instance` and `destroy_context_instance`.
    Context {
        ctx: Ctx,
        create: ContextCreateFn,
        destroy: ContextDestroyFn,
    },
}

/// How a stateful contract saves an instance's state and makes an
/// instance from saved state: its state handover (ABI 4), of the same
/// kind as its [`Instances`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum Handover {
    /// `save_instance` and `restore_instance`.
    Native {
        save: SaveInstanceFn,
        restore: RestoreInstanceFn,
    },
    /// `save_context_instance` and `restore_context_instance`, with the
    /// contract's instance context.
    Context {
        ctx: Ctx,
        save: ContextSaveFn,
        restore: ContextRestoreFn,
    },
}

/// One typed function of a [`Table`]: a typed entry or a context entry.
#[derive(Debug)]
pub(crate) struct TypedSlot {
    pub(crate) name: Box<str>,
    pub(crate) signature: Box<str>,
    pub(crate) callee: Callee,
    /// The packed form of a raw typed entry, if the plugin offers one.
    pub(crate) packed: Option<ContextFn>,
}

/// The host's own copy of a contract: checked, owned, immutable.
///
/// It also keeps the ABI view of itself that `resolve_contract` hands to
/// plugins; every pointer in that view points into this table's own boxes.
///
/// ```
/// # use polyplug::interface::PlainInterface;
/// # use polyplug::{ContractId, Version};
/// # fn plain(name: &str) -> PlainInterface {
/// #     PlainInterface {
/// #         id: ContractId::of(name, 1), name: name.into(), version: Version::new(1, 0, 0),
/// #         native: Vec::new(), typed: Vec::new(), typed_packed: Vec::new(), create_instance: None, destroy_instance: None,
/// #         context: Vec::new(), instance_ctx: std::ptr::null_mut(), create_context_instance: None, destroy_context_instance: None,
/// #         save_instance: None, restore_instance: None, save_context_instance: None, restore_context_instance: None,
/// #     }
/// # }
/// let table = plain("demo.table").validate()?;
/// assert!(format!("{table:?}").contains("demo.table"));
/// # Ok::<(), polyplug::interface::InvalidContract>(())
/// ```
pub struct Table {
    pub(crate) name: Box<str>,
    pub(crate) id: ContractId,
    pub(crate) version: Version,
    pub(crate) native_names: Box<[Box<str>]>,
    pub(crate) native: Box<[NativeFn]>,
    pub(crate) typed: Box<[TypedSlot]>,
    pub(crate) instances: Option<Instances>,
    /// The state handover, when the contract offers one.
    pub(crate) handover: Option<Handover>,
    abi_native: Box<[NativeEntry]>,
    abi_typed: Box<[TypedEntry]>,
    abi_context: Box<[ContextEntry]>,
    /// What the context pointers of this table point into, when the host
    /// made them (an engine's functions, [`crate::loader`]): it lives as
    /// long as the table (\[R11\]).
    owned: Option<Box<dyn std::any::Any + Send + Sync>>,
}

// SAFETY: [R4] the raw pointers in `abi_native`/`abi_typed`/`abi_context`
// point into this table's own immutable boxes; the function pointers are
// callable from any thread by [P2]; context pointers by [R11].
unsafe impl Send for Table {}
// SAFETY: [R4] as for Send: nothing is mutated after construction.
unsafe impl Sync for Table {}

impl Table {
    pub(crate) fn new(
        name: String,
        version: Version,
        native_names: Vec<Box<str>>,
        native: Vec<NativeFn>,
        typed: Vec<TypedSlot>,
        instances: Option<Instances>,
    ) -> Table {
        let name = name.into_boxed_str();
        let native_names = native_names.into_boxed_slice();
        let native = native.into_boxed_slice();
        let typed = typed.into_boxed_slice();
        let abi_native = native_names
            .iter()
            .zip(native.iter())
            .map(|(n, f)| NativeEntry {
                name: view(n),
                func: Some(*f),
            })
            .collect();
        let abi_typed = typed
            .iter()
            .filter_map(|t| match t.callee {
                Callee::Raw(func) => Some(TypedEntry {
                    name: view(&t.name),
                    signature: view(&t.signature),
                    func: Some(func),
                    packed: t.packed,
                }),
                Callee::Context { .. } => None,
            })
            .collect();
        let abi_context = typed
            .iter()
            .filter_map(|t| match t.callee {
                Callee::Context { ctx, func } => Some(ContextEntry {
                    name: view(&t.name),
                    signature: view(&t.signature),
                    ctx: ctx.0,
                    func: Some(func),
                }),
                Callee::Raw(_) => None,
            })
            .collect();
        Table {
            id: ContractId::of(&name, version.major),
            name,
            version,
            native_names,
            native,
            typed,
            instances,
            handover: None,
            abi_native,
            abi_typed,
            abi_context,
            owned: None,
        }
    }

    /// Keeps `owned` alive as long as this table: what its context
    /// pointers point into.
    pub(crate) fn own(&mut self, owned: Box<dyn std::any::Any + Send + Sync>) {
        self.owned = Some(owned);
    }

    /// The contract as a plugin sees it through `resolve_contract`. The
    /// pointers stay valid while this table lives.
    pub(crate) fn abi_view(&self) -> ContractInterface {
        ContractInterface {
            id: self.id,
            name: view(&self.name),
            version: self.version,
            native_count: u32::try_from(self.abi_native.len()).unwrap_or(0),
            native: self.abi_native.as_ptr(),
            typed_count: u32::try_from(self.abi_typed.len()).unwrap_or(0),
            typed: self.abi_typed.as_ptr(),
            create_instance: match self.instances {
                Some(Instances::Native(create, _)) => Some(create),
                _ => None,
            },
            destroy_instance: match self.instances {
                Some(Instances::Native(_, destroy)) => Some(destroy),
                _ => None,
            },
            context_count: u32::try_from(self.abi_context.len()).unwrap_or(0),
            context: self.abi_context.as_ptr(),
            instance_ctx: match self.instances {
                Some(Instances::Context { ctx, .. }) => ctx.0,
                _ => std::ptr::null_mut(),
            },
            create_context_instance: match self.instances {
                Some(Instances::Context { create, .. }) => Some(create),
                _ => None,
            },
            destroy_context_instance: match self.instances {
                Some(Instances::Context { destroy, .. }) => Some(destroy),
                _ => None,
            },
            save_instance: match self.handover {
                Some(Handover::Native { save, .. }) => Some(save),
                _ => None,
            },
            restore_instance: match self.handover {
                Some(Handover::Native { restore, .. }) => Some(restore),
                _ => None,
            },
            save_context_instance: match self.handover {
                Some(Handover::Context { save, .. }) => Some(save),
                _ => None,
            },
            restore_context_instance: match self.handover {
                Some(Handover::Context { restore, .. }) => Some(restore),
                _ => None,
            },
        }
    }

    /// The packed call of typed function `index`: `(func, ctx)` to call as
    /// `func(ctx, instance, args, out, err)`. For a context entry, its own
    /// function and context; for a raw typed entry, its `packed` thunk and
    /// the address of this table's ABI copy of the entry (\[R13\]);
    /// `None` when a raw entry offers no packed form.
    pub(crate) fn packed_call(&self, index: usize) -> Option<(ContextFn, *mut c_void)> {
        let slot = self.typed.get(index)?;
        match slot.callee {
            Callee::Context { ctx, func } => Some((func, ctx.0)),
            Callee::Raw(_) => {
                let packed = slot.packed?;
                // The ABI copy lists the raw entries in table order.
                let raw_index = self.typed[..index]
                    .iter()
                    .filter(|t| matches!(t.callee, Callee::Raw(_)))
                    .count();
                let entry: *const TypedEntry = self.abi_typed.get(raw_index)?;
                Some((packed, entry.cast_mut().cast::<c_void>()))
            }
        }
    }

    pub(crate) fn native_index(&self, name: &str) -> Option<usize> {
        self.native_names.iter().position(|n| &**n == name)
    }

    #[cfg(test)]
    pub(crate) fn typed_slot(&self, name: &str) -> Option<&TypedSlot> {
        self.typed.iter().find(|t| &*t.name == name)
    }
}

fn view(text: &str) -> StrView {
    StrView {
        ptr: text.as_ptr(),
        len: text.len(),
    }
}

impl fmt::Debug for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Table")
            .field("name", &self.name)
            .field("version", &self.version)
            .field("native", &self.native_names)
            .field(
                "typed",
                &self.typed.iter().map(|t| &t.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    unsafe extern "C" fn native(
        _: *mut std::ffi::c_void,
        _: *const std::ffi::c_void,
        _: *mut std::ffi::c_void,
        _: *mut polyplug_abi::AbiError,
    ) -> u32 {
        0
    }

    unsafe extern "C" fn typed() {}

    fn good() -> PlainInterface {
        PlainInterface {
            id: ContractId::of("test.add", 1),
            name: b"test.add".to_vec(),
            version: Version::new(1, 2, 3),
            native: vec![(b"add".to_vec(), Some(native as NativeFn))],
            typed: vec![(
                b"inc".to_vec(),
                b"u32 (u32)".to_vec(),
                Some(typed as VoidFn),
            )],
            typed_packed: Vec::new(),
            create_instance: None,
            destroy_instance: None,
            context: Vec::new(),
            instance_ctx: std::ptr::null_mut(),
            create_context_instance: None,
            destroy_context_instance: None,
            save_instance: None,
            restore_instance: None,
            save_context_instance: None,
            restore_context_instance: None,
        }
    }

    fn field_of(plain: PlainInterface) -> String {
        plain.validate().map(|_| ()).unwrap_err().field
    }

    #[test]
    fn a_good_interface_becomes_a_table() {
        let table = good().validate().unwrap();
        assert_eq!(&*table.name, "test.add");
        assert_eq!(table.native_index("add"), Some(0));
        assert_eq!(&*table.typed_slot("inc").unwrap().signature, "u32(u32)");
        let view = table.abi_view();
        assert_eq!(
            (view.native_count, view.typed_count, view.id),
            (1, 1, table.id)
        );
    }

    #[test]
    fn each_defect_is_named_by_its_field() {
        let mut p = good();
        p.id = ContractId::of("test.add", 2);
        assert_eq!(field_of(p), "id");
        let mut p = good();
        p.name = vec![0xff, 0xfe];
        assert_eq!(field_of(p), "name");
        let mut p = good();
        p.name = b"Test.Add".to_vec();
        p.id = ContractId::of("Test.Add", 1);
        assert_eq!(field_of(p), "name");
        let mut p = good();
        p.native[0].1 = None;
        assert_eq!(field_of(p), "native[0].func");
        let mut p = good();
        p.native.push((b"add".to_vec(), Some(native as NativeFn)));
        assert_eq!(field_of(p), "native[1].name");
        let mut p = good();
        p.typed[0].1 = b"text(u32)".to_vec();
        assert_eq!(field_of(p), "typed[0].signature");
        let mut p = good();
        p.typed[0].0 = Vec::new();
        assert_eq!(field_of(p), "typed[0].name");
        let mut p = good();
        p.native = vec![(b"f".to_vec(), Some(native as NativeFn)); 300];
        assert_eq!(field_of(p), "native_count");
        let mut p = good();
        p.destroy_instance = Some(destroy);
        assert_eq!(field_of(p), "create_instance");
    }

    #[test]
    fn function_names_and_signatures_longer_than_the_limit_are_refused() {
        let longest = vec![b'f'; MAX_NAME_BYTES];
        let mut p = good();
        p.native[0].0 = longest.clone();
        p.typed[0].0 = longest;
        // Whitespace counts: the limit is on the bytes the plugin hands over.
        p.typed[0].1 = format!("{:<MAX_NAME_BYTES$}", "u32(u32)").into_bytes();
        assert!(p.validate().is_ok());
        let mut p = good();
        p.native[0].0 = vec![b'f'; MAX_NAME_BYTES + 1];
        assert_eq!(field_of(p), "native[0].name");
        let mut p = good();
        p.typed[0].0 = vec![b'f'; MAX_NAME_BYTES + 1];
        assert_eq!(field_of(p), "typed[0].name");
        let mut p = good();
        p.typed[0].1 = format!("{:<width$}", "u32(u32)", width = MAX_NAME_BYTES + 1).into_bytes();
        assert_eq!(field_of(p), "typed[0].signature");
    }

    unsafe extern "C" fn destroy(_: *mut std::ffi::c_void) {}

    unsafe extern "C" fn create(
        _: *const polyplug_abi::HostApi,
        _: *mut *mut c_void,
        _: *mut polyplug_abi::AbiError,
    ) -> u32 {
        0
    }

    unsafe extern "C" fn save(
        _: *mut c_void,
        _: *mut polyplug_abi::OwnedBuf,
        _: *mut polyplug_abi::AbiError,
    ) -> u32 {
        0
    }

    unsafe extern "C" fn restore(
        _: *const polyplug_abi::HostApi,
        _: polyplug_abi::BytesView,
        _: *mut *mut c_void,
        _: *mut polyplug_abi::AbiError,
    ) -> u32 {
        0
    }

    unsafe extern "C" fn context_save(
        _: *mut c_void,
        _: *mut c_void,
        _: *mut polyplug_abi::OwnedBuf,
        _: *mut polyplug_abi::AbiError,
    ) -> u32 {
        0
    }

    unsafe extern "C" fn context_restore(
        _: *mut c_void,
        _: polyplug_abi::BytesView,
        _: *mut *mut c_void,
        _: *mut polyplug_abi::AbiError,
    ) -> u32 {
        0
    }

    fn stateful() -> PlainInterface {
        let mut p = good();
        p.create_instance = Some(create);
        p.destroy_instance = Some(destroy);
        p
    }

    #[test]
    fn a_state_handover_is_a_pair_of_the_instances_kind() {
        let mut p = stateful();
        p.save_instance = Some(save);
        p.restore_instance = Some(restore);
        let table = p.validate().unwrap();
        assert!(matches!(table.handover, Some(Handover::Native { .. })));
        assert!(table.abi_view().save_instance.is_some());
        assert!(table.abi_view().restore_instance.is_some());
        assert!(table.abi_view().save_context_instance.is_none());
        assert!(stateful().validate().unwrap().handover.is_none());

        let mut p = stateful();
        p.save_instance = Some(save);
        assert_eq!(field_of(p), "restore_instance");
        let mut p = stateful();
        p.restore_instance = Some(restore);
        assert_eq!(field_of(p), "save_instance");
        // A handover needs instances of its own kind.
        let mut p = good();
        p.save_instance = Some(save);
        p.restore_instance = Some(restore);
        assert_eq!(field_of(p), "save_instance");
        let mut p = stateful();
        p.save_context_instance = Some(context_save);
        p.restore_context_instance = Some(context_restore);
        assert_eq!(field_of(p), "save_context_instance");
        let mut p = stateful();
        p.save_context_instance = Some(context_save);
        assert_eq!(field_of(p), "restore_context_instance");
    }
}
