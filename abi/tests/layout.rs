//! The layout of every ABI type on 64-bit targets, pinned with literal
//! numbers: a reordered, added, removed or resized field fails here before
//! it breaks a plugin. Any change here needs an `ABI_VERSION` bump.
//!
//! `c_header.rs` checks that C agrees with Rust; this file checks that Rust
//! still agrees with what ABI version 4 promised. Version 2 kept every
//! layout of version 1 and appended the `context*` fields to
//! `ContractInterface`, and added `ContextEntry` and the context function
//! types. Version 3 appended `packed` to `TypedEntry` and added
//! `BytesView` and `OwnedBuf`. Version 4 appended the `save_*` and
//! `restore_*` fields to `ContractInterface` and added the handover
//! function types.
#![cfg(not(any(loom, shuttle)))]
#![cfg(target_pointer_width = "64")]

use std::mem::offset_of;

use polyplug_abi::{
    ABI_VERSION, AbiError, AllocFn, BundleContext, ContextCreateFn, ContextDestroyFn, ContextEntry,
    ContextFn, ContractHandle, ContractId, ContractInterface, CreateInstanceFn, DestroyInstanceFn,
    EntryFn, FindContractFn, FreeFn, HostApi, LastErrorFn, LogFn, NativeEntry, NativeFn,
    RegisterContractFn, ResolveContractFn, StrView, TypedEntry, Version, VoidFn,
};
use polyplug_abi::{
    BytesView, ContextRestoreFn, ContextSaveFn, OwnedBuf, RestoreInstanceFn, SaveInstanceFn,
};

/// The layouts below are those of ABI version 4.
#[test]
fn layouts_are_those_of_abi_version_4() {
    assert_eq!(ABI_VERSION, 4, "a new ABI version needs new layout tests");
}

#[test]
fn bytes_view() {
    assert_eq!(size_of::<BytesView>(), 16);
    assert_eq!(align_of::<BytesView>(), 8);
    assert_eq!(offset_of!(BytesView, ptr), 0);
    assert_eq!(offset_of!(BytesView, len), 8);
}

#[test]
fn owned_buf() {
    assert_eq!(size_of::<OwnedBuf>(), 16);
    assert_eq!(align_of::<OwnedBuf>(), 8);
    assert_eq!(offset_of!(OwnedBuf, ptr), 0);
    assert_eq!(offset_of!(OwnedBuf, len), 8);
}

#[test]
fn str_view() {
    assert_eq!(size_of::<StrView>(), 16);
    assert_eq!(align_of::<StrView>(), 8);
    assert_eq!(offset_of!(StrView, ptr), 0);
    assert_eq!(offset_of!(StrView, len), 8);
}

#[test]
fn version() {
    assert_eq!(size_of::<Version>(), 12);
    assert_eq!(align_of::<Version>(), 4);
    assert_eq!(offset_of!(Version, major), 0);
    assert_eq!(offset_of!(Version, minor), 4);
    assert_eq!(offset_of!(Version, patch), 8);
}

#[test]
fn contract_id() {
    assert_eq!(size_of::<ContractId>(), 8);
    assert_eq!(align_of::<ContractId>(), 8);
    assert_eq!(offset_of!(ContractId, 0), 0);
}

#[test]
fn contract_handle() {
    assert_eq!(size_of::<ContractHandle>(), 8);
    assert_eq!(align_of::<ContractHandle>(), 8);
    assert_eq!(offset_of!(ContractHandle, 0), 0);
}

#[test]
fn abi_error() {
    assert_eq!(size_of::<AbiError>(), 24);
    assert_eq!(align_of::<AbiError>(), 8);
    assert_eq!(offset_of!(AbiError, code), 0);
    assert_eq!(offset_of!(AbiError, flags), 4);
    assert_eq!(offset_of!(AbiError, message), 8);
}

#[test]
fn native_entry() {
    assert_eq!(size_of::<NativeEntry>(), 24);
    assert_eq!(align_of::<NativeEntry>(), 8);
    assert_eq!(offset_of!(NativeEntry, name), 0);
    assert_eq!(offset_of!(NativeEntry, func), 16);
}

#[test]
fn typed_entry() {
    assert_eq!(size_of::<TypedEntry>(), 48);
    assert_eq!(align_of::<TypedEntry>(), 8);
    assert_eq!(offset_of!(TypedEntry, name), 0);
    assert_eq!(offset_of!(TypedEntry, signature), 16);
    assert_eq!(offset_of!(TypedEntry, func), 32);
    assert_eq!(offset_of!(TypedEntry, packed), 40);
}

#[test]
fn contract_interface() {
    assert_eq!(size_of::<ContractInterface>(), 152);
    assert_eq!(align_of::<ContractInterface>(), 8);
    assert_eq!(offset_of!(ContractInterface, id), 0);
    assert_eq!(offset_of!(ContractInterface, name), 8);
    assert_eq!(offset_of!(ContractInterface, version), 24);
    assert_eq!(offset_of!(ContractInterface, native_count), 36);
    assert_eq!(offset_of!(ContractInterface, native), 40);
    // 4 bytes of padding follow `typed_count`.
    assert_eq!(offset_of!(ContractInterface, typed_count), 48);
    assert_eq!(offset_of!(ContractInterface, typed), 56);
    assert_eq!(offset_of!(ContractInterface, create_instance), 64);
    assert_eq!(offset_of!(ContractInterface, destroy_instance), 72);
    // Version 2: 4 bytes of padding follow `context_count`.
    assert_eq!(offset_of!(ContractInterface, context_count), 80);
    assert_eq!(offset_of!(ContractInterface, context), 88);
    assert_eq!(offset_of!(ContractInterface, instance_ctx), 96);
    assert_eq!(offset_of!(ContractInterface, create_context_instance), 104);
    assert_eq!(offset_of!(ContractInterface, destroy_context_instance), 112);
    // Version 4.
    assert_eq!(offset_of!(ContractInterface, save_instance), 120);
    assert_eq!(offset_of!(ContractInterface, restore_instance), 128);
    assert_eq!(offset_of!(ContractInterface, save_context_instance), 136);
    assert_eq!(offset_of!(ContractInterface, restore_context_instance), 144);
}

#[test]
fn context_entry() {
    assert_eq!(size_of::<ContextEntry>(), 48);
    assert_eq!(align_of::<ContextEntry>(), 8);
    assert_eq!(offset_of!(ContextEntry, name), 0);
    assert_eq!(offset_of!(ContextEntry, signature), 16);
    assert_eq!(offset_of!(ContextEntry, ctx), 32);
    assert_eq!(offset_of!(ContextEntry, func), 40);
}

#[test]
fn host_api() {
    assert_eq!(size_of::<HostApi>(), 72);
    assert_eq!(align_of::<HostApi>(), 8);
    assert_eq!(offset_of!(HostApi, abi_version), 0);
    assert_eq!(offset_of!(HostApi, size), 4);
    assert_eq!(offset_of!(HostApi, ctx), 8);
    assert_eq!(offset_of!(HostApi, register_contract), 16);
    assert_eq!(offset_of!(HostApi, find_contract), 24);
    assert_eq!(offset_of!(HostApi, resolve_contract), 32);
    assert_eq!(offset_of!(HostApi, log), 40);
    assert_eq!(offset_of!(HostApi, alloc), 48);
    assert_eq!(offset_of!(HostApi, free), 56);
    assert_eq!(offset_of!(HostApi, last_error), 64);
}

#[test]
fn bundle_context() {
    assert_eq!(size_of::<BundleContext>(), 48);
    assert_eq!(align_of::<BundleContext>(), 8);
    assert_eq!(offset_of!(BundleContext, name), 0);
    assert_eq!(offset_of!(BundleContext, version), 16);
    // 4 bytes of padding follow `version`.
    assert_eq!(offset_of!(BundleContext, dir), 32);
}

/// Every function pointer field is an `Option<fn>`: a plain, nullable
/// pointer, with `None` as the null pointer.
#[test]
fn function_pointers_are_nullable_pointers() {
    macro_rules! nullable_pointer {
        ($($t:ty),* $(,)?) => {$(
            assert_eq!(size_of::<Option<$t>>(), 8, stringify!($t));
            assert_eq!(align_of::<Option<$t>>(), 8, stringify!($t));
            assert_eq!(size_of::<$t>(), 8, stringify!($t));
        )*};
    }
    nullable_pointer!(
        NativeFn,
        VoidFn,
        CreateInstanceFn,
        DestroyInstanceFn,
        EntryFn,
        RegisterContractFn,
        FindContractFn,
        ResolveContractFn,
        LogFn,
        AllocFn,
        FreeFn,
        LastErrorFn,
        ContextFn,
        ContextCreateFn,
        ContextDestroyFn,
        SaveInstanceFn,
        RestoreInstanceFn,
        ContextSaveFn,
        ContextRestoreFn,
    );
}
