//! The `rust-guest` bindings that `polyplug gen` writes for
//! `examples/contracts/text.toml` (`demo_text_guest.rs`, checked fresh by
//! `cli/tests/gen.rs`): the trait is implemented, its macro registers
//! `demo.text` through `plugin!`, and the registered functions, called as
//! a host calls them, answer with views in and an owned string out.
#![expect(
    clippy::unwrap_used,
    reason = "test support: a failed step fails the test"
)]

use core::ffi::c_void;
use std::alloc::{Layout, alloc, dealloc};
use std::sync::Mutex;

use polyplug_guest::abi::{
    ABI_VERSION, AbiError, BytesView, ContractInterface, HostApi, OK, OwnedBuf, StrView, VoidFn,
};

#[path = "../../examples/contracts/demo_text_guest.rs"]
pub mod text_guest;

use text_guest::DemoText;

struct Text;

impl DemoText for Text {
    fn upper(text: &str) -> String {
        text.to_uppercase()
    }
    fn checksum(bytes: &[u8]) -> u64 {
        bytes.iter().map(|&b| u64::from(b)).sum()
    }
}

mod registered {
    use super::Text;
    use super::text_guest::DemoText;
    crate::demo_text_plugin!(Text);
}

/// What `register_contract` saw: each typed entry's name, signature and
/// function (as an address: the statics it points to live as long as the
/// test binary).
static REGISTERED: Mutex<Vec<(String, String, usize)>> = Mutex::new(Vec::new());

fn text(view: StrView) -> String {
    // SAFETY: [P3] the SDK's static names and signatures.
    let bytes = unsafe { core::slice::from_raw_parts(view.ptr, view.len) };
    String::from_utf8(bytes.to_vec()).unwrap()
}

unsafe extern "C" fn register(
    _ctx: *mut c_void,
    iface: *const ContractInterface,
    _err: *mut AbiError,
) -> u32 {
    // SAFETY: [P3] the SDK passes its static interface.
    let iface = unsafe { &*iface };
    assert_eq!(text(iface.name), "demo.text");
    // SAFETY: [P3] `typed_count` entries at `typed`.
    let typed = unsafe { core::slice::from_raw_parts(iface.typed, iface.typed_count as usize) };
    let mut registered = REGISTERED.lock().unwrap();
    for entry in typed {
        let func = entry.func.unwrap() as usize;
        registered.push((text(entry.name), text(entry.signature), func));
    }
    OK
}

unsafe extern "C" fn host_alloc(_ctx: *mut c_void, size: usize, align: usize) -> *mut c_void {
    // SAFETY: [R9] the SDK asks for a non-zero size with alignment 1.
    unsafe { alloc(Layout::from_size_align(size, align).unwrap()) }.cast()
}

unsafe extern "C" fn host_free(_ctx: *mut c_void, ptr: *mut c_void, size: usize, align: usize) {
    // SAFETY: [R9] allocated by `host_alloc` with this layout.
    unsafe { dealloc(ptr.cast(), Layout::from_size_align(size, align).unwrap()) };
}

/// The function registered as `name`, after its signature was compared
/// with `signature`.
fn function<F: Copy>(name: &str, signature: &str) -> F {
    let registered = REGISTERED.lock().unwrap();
    let (_, sig, func) = registered.iter().find(|(n, _, _)| n == name).unwrap();
    assert_eq!(sig, signature);
    assert_eq!(size_of::<F>(), size_of::<VoidFn>());
    // SAFETY: [G7] the registered signature spells `F` (checked above).
    unsafe { core::mem::transmute_copy::<usize, F>(func) }
}

#[test]
fn the_generated_text_glue_registers_views_in_and_an_owned_string_out() {
    assert_eq!(registered::polyplug_abi_version, ABI_VERSION);
    let api: &'static HostApi = Box::leak(Box::new(HostApi {
        abi_version: ABI_VERSION,
        size: u32::try_from(size_of::<HostApi>()).unwrap(),
        ctx: core::ptr::null_mut(),
        register_contract: Some(register),
        find_contract: None,
        resolve_contract: None,
        log: None,
        alloc: Some(host_alloc),
        free: Some(host_free),
        last_error: None,
    }));
    let mut err = AbiError::NONE;
    // SAFETY: [G1][G2] a valid host table and error slot.
    let code = unsafe { registered::polyplug_entry(api, core::ptr::null(), &mut err) };
    assert_eq!(code, OK);

    let upper: extern "C" fn(StrView) -> OwnedBuf = function("upper", "string(str)");
    let input = "straße";
    let out = upper(StrView {
        ptr: input.as_ptr(),
        len: input.len(),
    });
    // SAFETY: [R12] `len` bytes from `host_alloc`, taken over here once.
    let bytes = unsafe { core::slice::from_raw_parts(out.ptr, out.len) }.to_vec();
    // SAFETY: [R9] allocated by `host_alloc` with layout (len, 1).
    unsafe { host_free(core::ptr::null_mut(), out.ptr.cast(), out.len, 1) };
    assert_eq!(bytes, "STRASSE".as_bytes());

    let checksum: extern "C" fn(BytesView) -> u64 = function("checksum", "u64(bytes)");
    let input = [1u8, 2, 255];
    let sum = checksum(BytesView {
        ptr: input.as_ptr(),
        len: input.len(),
    });
    assert_eq!(sum, 258);
}
