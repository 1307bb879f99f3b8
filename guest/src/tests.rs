//! The SDK end to end inside one process: a `plugin!` declaration, a fake
//! host table with a Rust allocator, and calls through the registered
//! tables the way a host makes them.
//!
//! The SDK keeps one host table per library (a global), so every test takes
//! `LOCK` and installs its own fake host by calling the entry point.

use core::ffi::c_void;
use std::alloc::{Layout, alloc, dealloc};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use polyplug_abi::*;

use crate::{Error, Host, TypedFnPtr};

static LOCK: Mutex<()> = Mutex::new(());

fn lock() -> MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

// ---------------------------------------------------------------- the plugin

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
struct AddArgs {
    a: u32,
    b: u32,
}

fn add(args: &AddArgs) -> Result<u32, Error> {
    Ok(args.a.wrapping_add(args.b))
}

fn boom(_args: &AddArgs) -> Result<u32, Error> {
    panic!("boom on purpose");
}

fn fail(args: &AddArgs) -> Result<u32, Error> {
    Err(Error::plugin(
        1,
        format!("failed on purpose with a={}", args.a),
    ))
}

fn unit(_args: &()) -> Result<(), Error> {
    Ok(())
}

fn add_typed(a: u32, b: u32) -> u32 {
    a.wrapping_add(b)
}

fn typed_boom(_x: u32) -> u32 {
    panic!("typed boom on purpose");
}

fn tick() {}

fn upper_text(text: &str) -> String {
    text.to_uppercase()
}

fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().map(|&b| u64::from(b)).sum()
}

fn repeat(bytes: &[u8], times: u32) -> Vec<u8> {
    bytes.repeat(times as usize)
}

fn text_boom(_text: &str) -> String {
    panic!("text boom on purpose");
}

struct Counter {
    calls: u32,
}

impl Counter {
    fn new(host: &Host) -> Result<Counter, Error> {
        host.log(LOG_INFO, "counter create");
        Ok(Counter { calls: 0 })
    }
}

impl Drop for Counter {
    fn drop(&mut self) {
        crate::log(LOG_INFO, "counter destroy");
    }
}

fn bump(counter: &mut Counter, _args: &AddArgs) -> Result<u32, Error> {
    counter.calls += 1;
    Ok(counter.calls)
}

fn version(_args: &AddArgs) -> Result<u32, Error> {
    Ok(7)
}

/// The state handover: `calls` as 4 little-endian bytes; 99 calls refuse
/// to save.
fn save_counter(counter: &Counter) -> Result<Vec<u8>, Error> {
    if counter.calls == 99 {
        return Err(Error::plugin(2, "refusing to save 99".to_owned()));
    }
    Ok(counter.calls.to_le_bytes().to_vec())
}

fn restore_counter(_host: &Host, bytes: &[u8]) -> Result<Counter, Error> {
    let calls: [u8; 4] = bytes
        .try_into()
        .map_err(|_| Error::new(ERR_INVALID, format!("{} bytes, not 4", bytes.len())))?;
    Ok(Counter {
        calls: u32::from_le_bytes(calls),
    })
}

#[expect(
    unreachable_pub,
    reason = "plugin! exports pub symbols; here they sit in a test module"
)]
mod plugin {
    use super::*;

    crate::plugin! {
        contract "guest.test" "1.2.3" {
            native add(AddArgs) -> u32 = add;
            native boom(AddArgs) -> u32 = boom;
            native fail(AddArgs) -> u32 = fail;
            native unit(()) -> () = unit;
            typed add(a: u32, b: u32) -> u32 = add_typed;
            typed inc(x: u32) -> u32 = |x: u32| x.wrapping_add(1);
            typed tick() = tick;
            typed boom(x: u32) -> u32 = typed_boom;
            typed upper(text: &str) -> String = upper_text;
            typed checksum(bytes: &[u8]) -> u64 = checksum;
            typed repeat(bytes: &[u8], times: u32) -> Vec<u8> = repeat;
            typed text_boom(text: &str) -> String = text_boom;
        }
        contract "guest.counter" "2.0.1" {
            state Counter = Counter::new;
            save = save_counter;
            restore = restore_counter;
            native bump(AddArgs) -> u32 = bump;
            stateless native version(AddArgs) -> u32 = version;
        }
    }
}

// ------------------------------------------------------------- the fake host

#[derive(Default)]
struct Fake {
    logs: Mutex<Vec<(u32, String)>>,
    registered: Mutex<Vec<ContractInterface>>,
    /// Live host allocations. SeqCst everywhere: a test-only counter, read
    /// after the calls that change it return, so any ordering would do.
    live: AtomicUsize,
}

fn fake(ctx: *mut c_void) -> &'static Fake {
    // SAFETY: [R5] every ctx in these tests is a leaked `Fake`.
    unsafe { &*ctx.cast::<Fake>() }
}

fn text(view: StrView) -> String {
    // SAFETY: [G4] views in these tests point at live strings.
    unsafe { crate::host::read_view(view) }
        .unwrap()
        .into_owned()
}

unsafe extern "C" fn register(
    ctx: *mut c_void,
    iface: *const ContractInterface,
    _err: *mut AbiError,
) -> u32 {
    // SAFETY: [P3] the SDK passes a valid interface.
    let iface = unsafe { *iface };
    fake(ctx).registered.lock().unwrap().push(iface);
    OK
}

unsafe extern "C" fn find(
    ctx: *mut c_void,
    name: StrView,
    min: Version,
    out: *mut ContractHandle,
    err: *mut AbiError,
) -> u32 {
    let name = text(name);
    let found = fake(ctx)
        .registered
        .lock()
        .unwrap()
        .iter()
        .position(|c| text(c.name) == name && c.version.satisfies(min));
    match found {
        Some(index) => {
            // SAFETY: [P4] the SDK passes a live out pointer.
            unsafe { out.write(ContractHandle(index as u64 + 1)) };
            OK
        }
        None => {
            let message = format!("no contract {name}");
            // SAFETY: [R9] the fake allocator below.
            let ptr = unsafe { fake_alloc(ctx, message.len(), 1) }.cast::<u8>();
            // SAFETY: [R9] fresh allocation of that length.
            unsafe { ptr.copy_from_nonoverlapping(message.as_ptr(), message.len()) };
            let e = AbiError {
                code: ERR_NOT_FOUND,
                flags: ERROR_FLAG_HOST_ALLOCATED,
                message: StrView {
                    ptr,
                    len: message.len(),
                },
            };
            // SAFETY: [P4] the SDK passes a live err pointer.
            unsafe { err.write(e) };
            ERR_NOT_FOUND
        }
    }
}

unsafe extern "C" fn resolve(
    ctx: *mut c_void,
    handle: ContractHandle,
    out: *mut ContractInterface,
    _err: *mut AbiError,
) -> u32 {
    let index = usize::try_from(handle.0 - 1).unwrap();
    let iface = fake(ctx).registered.lock().unwrap()[index];
    // SAFETY: [P4] the SDK passes a live out pointer.
    unsafe { out.write(iface) };
    OK
}

unsafe extern "C" fn log(ctx: *mut c_void, level: u32, message: StrView) {
    fake(ctx).logs.lock().unwrap().push((level, text(message)));
}

unsafe extern "C" fn fake_alloc(ctx: *mut c_void, size: usize, align: usize) -> *mut c_void {
    let Ok(layout) = Layout::from_size_align(size, align) else {
        return core::ptr::null_mut();
    };
    if size == 0 {
        return core::ptr::null_mut();
    }
    // SeqCst: see `Fake::live`.
    fake(ctx).live.fetch_add(1, Ordering::SeqCst);
    // SAFETY: [R9] non-zero size.
    unsafe { alloc(layout) }.cast()
}

unsafe extern "C" fn fake_free(ctx: *mut c_void, ptr: *mut c_void, size: usize, align: usize) {
    // SeqCst: see `Fake::live`.
    fake(ctx).live.fetch_sub(1, Ordering::SeqCst);
    // SAFETY: [R9] allocated by `fake_alloc` with this layout.
    unsafe { dealloc(ptr.cast(), Layout::from_size_align(size, align).unwrap()) };
}

fn table_size() -> u32 {
    u32::try_from(size_of::<HostApi>()).unwrap()
}

fn host_table(with_alloc: bool) -> (&'static HostApi, &'static Fake) {
    let fake: &'static Fake = Box::leak(Box::default());
    let api = Box::leak(Box::new(HostApi {
        abi_version: ABI_VERSION,
        size: table_size(),
        ctx: core::ptr::from_ref(fake).cast_mut().cast(),
        register_contract: Some(register),
        find_contract: Some(find),
        resolve_contract: Some(resolve),
        log: Some(log),
        alloc: with_alloc.then_some(fake_alloc as AllocFn),
        free: with_alloc.then_some(fake_free as FreeFn),
        last_error: None,
    }));
    (api, fake)
}

/// Installs a fresh fake host through the entry point and returns the
/// registered contracts.
fn load(with_alloc: bool) -> (&'static HostApi, &'static Fake) {
    let (api, fake) = host_table(with_alloc);
    let mut err = AbiError::NONE;
    // SAFETY: [G1] a valid host table and error slot.
    let code = unsafe { plugin::polyplug_entry(api, core::ptr::null(), &mut err) };
    assert_eq!(code, OK, "{}", text(err.message));
    assert_eq!(fake.registered.lock().unwrap().len(), 2);
    (api, fake)
}

fn contract(fake: &Fake, name: &str) -> ContractInterface {
    *fake
        .registered
        .lock()
        .unwrap()
        .iter()
        .find(|c| text(c.name) == name)
        .unwrap()
}

fn native(iface: &ContractInterface, name: &str) -> NativeFn {
    // SAFETY: [P3] the SDK's static table of `native_count` entries.
    let natives = unsafe { core::slice::from_raw_parts(iface.native, iface.native_count as usize) };
    natives
        .iter()
        .find(|e| text(e.name) == name)
        .unwrap()
        .func
        .unwrap()
}

fn typed(iface: &ContractInterface, name: &str) -> TypedEntry {
    // SAFETY: [P3] the SDK's static table of `typed_count` entries.
    let typed = unsafe { core::slice::from_raw_parts(iface.typed, iface.typed_count as usize) };
    *typed.iter().find(|e| text(e.name) == name).unwrap()
}

/// Calls a native function the way a host does.
fn call<A, O: Default>(f: NativeFn, instance: *mut c_void, args: &A) -> (u32, O, AbiError) {
    let mut out = O::default();
    let mut err = AbiError::NONE;
    // SAFETY: [P1] args and out have the types the function documents.
    let code = unsafe {
        f(
            instance,
            core::ptr::from_ref(args).cast(),
            core::ptr::from_mut(&mut out).cast(),
            &mut err,
        )
    };
    (code, out, err)
}

fn take_message(fake: &Fake, api: &HostApi, err: AbiError) -> String {
    let message = text(err.message);
    if err.flags & ERROR_FLAG_HOST_ALLOCATED != 0 {
        // SAFETY: [R9] host-allocated by the fake allocator.
        unsafe {
            fake_free(
                api.ctx,
                err.message.ptr.cast_mut().cast(),
                err.message.len,
                1,
            )
        };
    }
    let _ = fake;
    message
}

// --------------------------------------------------------------------- tests

#[test]
fn entry_registers_every_contract_with_id_version_and_counts() {
    let _lock = lock();
    let (_api, fake) = load(true);
    let test = contract(fake, "guest.test");
    assert_eq!(test.id, ContractId::of("guest.test", 1));
    assert_eq!(test.version, Version::new(1, 2, 3));
    assert_eq!((test.native_count, test.typed_count), (4, 8));
    assert!(test.create_instance.is_none() && test.destroy_instance.is_none());
    let counter = contract(fake, "guest.counter");
    assert_eq!(counter.id, ContractId::of("guest.counter", 2));
    assert_eq!((counter.native_count, counter.typed_count), (2, 0));
    assert!(counter.create_instance.is_some() && counter.destroy_instance.is_some());
    assert_eq!(plugin::polyplug_abi_version, ABI_VERSION);
}

#[test]
fn native_function_reads_args_and_writes_out() {
    let _lock = lock();
    let (_api, fake) = load(true);
    let add = native(&contract(fake, "guest.test"), "add");
    let (code, out, _) = call::<_, u32>(add, core::ptr::null_mut(), &AddArgs { a: 2, b: 40 });
    assert_eq!((code, out), (OK, 42));
    let (code, out, _) = call::<_, u32>(add, core::ptr::null_mut(), &AddArgs { a: u32::MAX, b: 2 });
    assert_eq!((code, out), (OK, 1));
}

#[test]
fn panic_becomes_err_panic_with_the_message_in_host_memory() {
    let _lock = lock();
    let (api, fake) = load(true);
    let boom = native(&contract(fake, "guest.test"), "boom");
    let (code, _, err) = call::<_, u32>(boom, core::ptr::null_mut(), &AddArgs { a: 1, b: 2 });
    assert_eq!(code, ERR_PANIC);
    assert_eq!(err.code, ERR_PANIC);
    assert_eq!(err.flags, ERROR_FLAG_HOST_ALLOCATED);
    assert_eq!(fake.live.load(Ordering::SeqCst), 1);
    let message = take_message(fake, api, err);
    assert!(
        message.starts_with("guest.test/boom panicked: "),
        "{message}"
    );
    assert!(message.contains("boom on purpose"), "{message}");
    assert_eq!(fake.live.load(Ordering::SeqCst), 0);
}

#[test]
fn error_fills_code_and_host_allocated_message() {
    let _lock = lock();
    let (api, fake) = load(true);
    let fail = native(&contract(fake, "guest.test"), "fail");
    let (code, _, err) = call::<_, u32>(fail, core::ptr::null_mut(), &AddArgs { a: 9, b: 0 });
    assert_eq!((code, err.code), (1001, 1001));
    assert_eq!(err.flags, ERROR_FLAG_HOST_ALLOCATED);
    assert_eq!(take_message(fake, api, err), "failed on purpose with a=9");
    assert_eq!(fake.live.load(Ordering::SeqCst), 0);
}

#[test]
fn without_host_allocator_an_owned_message_becomes_static_fallback() {
    let _lock = lock();
    let (api, fake) = load(false);
    let fail = native(&contract(fake, "guest.test"), "fail");
    let (code, _, err) = call::<_, u32>(fail, core::ptr::null_mut(), &AddArgs { a: 9, b: 0 });
    assert_eq!(code, 1001);
    assert_eq!(err.flags, 0);
    assert_eq!(take_message(fake, api, err), crate::error::LOST_MESSAGE);
}

#[test]
fn null_pointers_are_bad_arguments_except_for_zero_sized_types() {
    let _lock = lock();
    let (api, fake) = load(true);
    let iface = contract(fake, "guest.test");
    let add = native(&iface, "add");
    let mut out = 0u32;
    let mut err = AbiError::NONE;
    // SAFETY: [G2] null args is what is under test; out and err are live.
    let code = unsafe {
        add(
            core::ptr::null_mut(),
            core::ptr::null(),
            core::ptr::from_mut(&mut out).cast(),
            &mut err,
        )
    };
    assert_eq!(code, ERR_BAD_ARGUMENT);
    assert_eq!(
        take_message(fake, api, err),
        "guest.test/add: `args` is null"
    );

    let args = AddArgs { a: 1, b: 1 };
    let mut err = AbiError::NONE;
    // SAFETY: [G2] null out is what is under test.
    let code = unsafe {
        add(
            core::ptr::null_mut(),
            core::ptr::from_ref(&args).cast(),
            core::ptr::null_mut(),
            &mut err,
        )
    };
    assert_eq!(code, ERR_BAD_ARGUMENT);
    assert_eq!(
        take_message(fake, api, err),
        "guest.test/add: `out` is null"
    );

    // A null error slot is allowed: the code alone comes back.
    // SAFETY: [G2] null args and err.
    let code = unsafe {
        add(
            core::ptr::null_mut(),
            core::ptr::null(),
            core::ptr::null_mut(),
            core::ptr::null_mut(),
        )
    };
    assert_eq!(code, ERR_BAD_ARGUMENT);
    assert_eq!(fake.live.load(Ordering::SeqCst), 0);

    let unit = native(&iface, "unit");
    // SAFETY: [G2] zero-sized args and out may be null.
    let code = unsafe {
        unit(
            core::ptr::null_mut(),
            core::ptr::null(),
            core::ptr::null_mut(),
            core::ptr::null_mut(),
        )
    };
    assert_eq!(code, OK);
}

#[test]
fn typed_entries_have_derived_signatures_and_work() {
    let _lock = lock();
    let (_api, fake) = load(true);
    let iface = contract(fake, "guest.test");
    let entry = typed(&iface, "add");
    assert_eq!(text(entry.signature), "u32(u32,u32)");
    assert_eq!(text(typed(&iface, "inc").signature), "u32(u32)");
    assert_eq!(text(typed(&iface, "tick").signature), "void()");
    type Inc = extern "C" fn(u32) -> u32;
    assert!(Inc::matches(&text(typed(&iface, "inc").signature)));
    // SAFETY: [G7] the signature says `u32(u32)`.
    let inc = unsafe { crate::signature::restore::<Inc>(typed(&iface, "inc").func.unwrap()) };
    assert_eq!(inc(41), 42);
}

#[test]
fn typed_panic_returns_default_and_logs() {
    let _lock = lock();
    let (_api, fake) = load(true);
    let entry = typed(&contract(fake, "guest.test"), "boom");
    // SAFETY: [G7] the signature says `u32(u32)`.
    let boom =
        unsafe { crate::signature::restore::<extern "C" fn(u32) -> u32>(entry.func.unwrap()) };
    assert_eq!(boom(5), 0);
    let logs = fake.logs.lock().unwrap();
    let (level, message) = logs.last().unwrap();
    assert_eq!(*level, LOG_ERROR);
    assert!(message.contains("typed boom on purpose"), "{message}");
    assert!(message.contains("guest.test/boom"), "{message}");
}

#[test]
fn stateful_contract_creates_uses_and_destroys_instances() {
    let _lock = lock();
    let (api, fake) = load(true);
    let iface = contract(fake, "guest.counter");
    let create = iface.create_instance.unwrap();
    let destroy = iface.destroy_instance.unwrap();
    let mut instance = core::ptr::null_mut();
    let mut err = AbiError::NONE;
    // SAFETY: [G1] valid host table and out pointers.
    assert_eq!(unsafe { create(api, &mut instance, &mut err) }, OK);
    assert!(!instance.is_null());

    let bump = native(&iface, "bump");
    let args = AddArgs { a: 0, b: 0 };
    assert_eq!(call::<_, u32>(bump, instance, &args).1, 1);
    assert_eq!(call::<_, u32>(bump, instance, &args).1, 2);

    let (code, _, err) = call::<_, u32>(bump, core::ptr::null_mut(), &args);
    assert_eq!(code, ERR_BAD_ARGUMENT);
    assert!(take_message(fake, api, err).contains("instance is null"));

    let version = native(&iface, "version");
    assert_eq!(call::<_, u32>(version, core::ptr::null_mut(), &args).1, 7);
    assert_eq!(call::<_, u32>(version, instance, &args).1, 7);

    // SAFETY: [G3] made by `create`, destroyed once.
    unsafe { destroy(instance) };
    // SAFETY: [G2] null is a no-op.
    unsafe { destroy(core::ptr::null_mut()) };
    let logs: Vec<String> = fake
        .logs
        .lock()
        .unwrap()
        .iter()
        .map(|(_, m)| m.clone())
        .collect();
    assert_eq!(logs, ["counter create", "counter destroy"]);
    assert_eq!(fake.live.load(Ordering::SeqCst), 0);
}

#[test]
fn a_state_handover_saves_into_host_memory_and_restores_from_a_view() {
    let _lock = lock();
    let (api, fake) = load(true);
    let iface = contract(fake, "guest.counter");
    let (create, destroy) = (
        iface.create_instance.unwrap(),
        iface.destroy_instance.unwrap(),
    );
    let (save, restore) = (
        iface.save_instance.unwrap(),
        iface.restore_instance.unwrap(),
    );
    assert!(contract(fake, "guest.test").save_instance.is_none());
    let mut old = core::ptr::null_mut();
    let mut err = AbiError::NONE;
    // SAFETY: [G1] valid host table and out pointers.
    assert_eq!(unsafe { create(api, &mut old, &mut err) }, OK);
    let bump = native(&iface, "bump");
    let args = AddArgs { a: 0, b: 0 };
    call::<_, u32>(bump, old, &args);
    call::<_, u32>(bump, old, &args);

    let mut buf = OwnedBuf::EMPTY;
    // SAFETY: [G3] `old` is a live instance; the out pointers are live.
    assert_eq!(unsafe { save(old, &mut buf, &mut err) }, OK);
    assert_eq!(buf.len, 4);
    assert_eq!(fake.live.load(Ordering::SeqCst), 1); // the bytes, in host memory
    // SAFETY: [R9] `buf` was allocated by the fake host's alloc, 4 bytes.
    let saved = unsafe { core::slice::from_raw_parts(buf.ptr, buf.len) }.to_vec();
    assert_eq!(saved, 2u32.to_le_bytes());

    let mut new = core::ptr::null_mut();
    let view = BytesView {
        ptr: buf.ptr,
        len: buf.len,
    };
    // SAFETY: [P3] `buf` is readable for the call; live out pointers.
    assert_eq!(unsafe { restore(api, view, &mut new, &mut err) }, OK);
    // SAFETY: [R9] freed once, with the layout it was allocated with.
    unsafe { fake_free(api.ctx, buf.ptr.cast(), buf.len, 1) };
    assert_eq!(call::<_, u32>(bump, new, &args).1, 3); // the old count, on
    assert_eq!(call::<_, u32>(bump, old, &args).1, 3); // the old one is untouched

    // A refused restore makes no instance and says why.
    let mut none = core::ptr::null_mut();
    let short = BytesView::of(&[1, 2, 3]);
    // SAFETY: [P3] a live view and live out pointers.
    let code = unsafe { restore(api, short, &mut none, &mut err) };
    assert_eq!(code, ERR_INVALID);
    assert!(none.is_null());
    assert!(take_message(fake, api, err).contains("3 bytes, not 4"));

    // A refused save hands over nothing; null pointers are bad arguments.
    let mut err = AbiError::NONE;
    for _ in 3..99 {
        call::<_, u32>(bump, new, &args);
    }
    let mut refused = OwnedBuf::EMPTY;
    // SAFETY: [G3] a live instance; live out pointers.
    assert_eq!(unsafe { save(new, &mut refused, &mut err) }, ERR_PLUGIN + 2);
    assert!(refused.ptr.is_null());
    assert!(take_message(fake, api, err).contains("refusing to save 99"));
    let mut err = AbiError::NONE;
    assert_eq!(
        // SAFETY: [G2] null `out` is checked before anything is read.
        unsafe { save(new, core::ptr::null_mut(), &mut err) },
        ERR_BAD_ARGUMENT
    );
    let _ = take_message(fake, api, err);

    // SAFETY: [G3] each made once above, destroyed once.
    unsafe { destroy(old) };
    // SAFETY: as above.
    unsafe { destroy(new) };
    assert_eq!(fake.live.load(Ordering::SeqCst), 0);
}

#[test]
fn host_finds_resolves_and_calls_through_checked_signatures() {
    let _lock = lock();
    let (api, fake) = load(true);
    let result = Host::with(|host| {
        let handle = host.find("guest.test", Version::new(1, 0, 0))?;
        let contract = host.resolve(handle)?;
        assert_eq!(contract.name(), Some("guest.test"));
        assert_eq!(contract.version(), Version::new(1, 2, 3));
        let add = contract.typed::<extern "C" fn(u32, u32) -> u32>("add")?;
        assert_eq!(add.call(20, 22), 42);
        let wrong = contract
            .typed::<extern "C" fn(u32) -> u32>("add")
            .unwrap_err();
        assert_eq!(wrong.code(), ERR_BAD_ARGUMENT);
        assert!(
            wrong.message().contains("u32(u32,u32), not u32(u32)"),
            "{wrong}"
        );
        let missing = contract.typed::<extern "C" fn()>("nope").unwrap_err();
        assert_eq!(missing.code(), ERR_NOT_FOUND);
        contract.typed::<extern "C" fn()>("tick")?.call();

        // SAFETY: [G8] "add" takes AddArgs and writes u32.
        let sum: u32 = unsafe { contract.call_native("add", &AddArgs { a: 1, b: 2 }) }?;
        assert_eq!(sum, 3);
        // SAFETY: [G8] as above.
        let failed =
            unsafe { contract.call_native::<AddArgs, u32>("fail", &AddArgs { a: 4, b: 0 }) };
        assert_eq!(failed, Err(Error::new(1001, "failed on purpose with a=4")));
        // SAFETY: [G8] as above.
        let missing =
            unsafe { contract.call_native::<AddArgs, u32>("nope", &AddArgs { a: 4, b: 0 }) };
        assert_eq!(missing.unwrap_err().code(), ERR_NOT_FOUND);

        let not_found = host.find("guest.none", Version::new(1, 0, 0)).unwrap_err();
        assert_eq!(
            not_found,
            Error::new(ERR_NOT_FOUND, "no contract guest.none")
        );
        let too_new = host.find("guest.test", Version::new(1, 3, 0)).unwrap_err();
        assert_eq!(too_new.code(), ERR_NOT_FOUND);
        Ok(())
    });
    assert_eq!(result, Ok(()));
    // Every host-allocated message was freed, by the SDK or by us.
    assert_eq!(fake.live.load(Ordering::SeqCst), 0);
    let _ = api;
}

fn refuse(_host: &Host) -> Result<(), Error> {
    Err(Error::from_static(1007, "refused on purpose"))
}

fn init_boom(_host: &Host) -> Result<(), Error> {
    panic!("init boom on purpose");
}

#[test]
fn init_errors_and_panics_fail_the_entry_before_registering() {
    let _lock = lock();
    for (init, code, text_part) in [
        (refuse as crate::InitFn, 1007, "refused on purpose"),
        (
            init_boom as crate::InitFn,
            ERR_PANIC,
            "init boom on purpose",
        ),
    ] {
        let (api, fake) = host_table(true);
        let mut err = AbiError::NONE;
        // SAFETY: [G1] a valid host table and error slot; no contracts.
        let got =
            unsafe { crate::__private::entry(api, core::ptr::null(), &mut err, Some(init), &[]) };
        assert_eq!((got, err.code), (code, code));
        assert_eq!(err.flags, ERROR_FLAG_HOST_ALLOCATED);
        let message = take_message(fake, api, err);
        assert!(message.contains(text_part), "{message}");
        assert!(fake.registered.lock().unwrap().is_empty());
        assert_eq!(fake.live.load(Ordering::SeqCst), 0);
    }
}

#[test]
fn entry_refuses_null_and_mismatched_host_tables() {
    let _lock = lock();
    let mut err = AbiError::NONE;
    // SAFETY: [G1] a null host is what is under test.
    let code = unsafe { plugin::polyplug_entry(core::ptr::null(), core::ptr::null(), &mut err) };
    assert_eq!(
        (code, err.code, err.flags),
        (ERR_BAD_ARGUMENT, ERR_BAD_ARGUMENT, 0)
    );

    for (version, size) in [
        (ABI_VERSION + 1, table_size()),
        (ABI_VERSION, table_size() - 8),
    ] {
        let (api, fake) = host_table(true);
        let api = Box::leak(Box::new(HostApi {
            abi_version: version,
            size,
            ..*api
        }));
        let mut err = AbiError::NONE;
        // SAFETY: [G1] a readable table with wrong version or size.
        let code = unsafe { plugin::polyplug_entry(api, core::ptr::null(), &mut err) };
        assert_eq!((code, err.flags), (ERR_ABI_MISMATCH, 0));
        assert!(fake.registered.lock().unwrap().is_empty());
    }
}

// ------------------------------------------------------- views and owned results

type Upper = extern "C" fn(StrView) -> OwnedBuf;
type Checksum = extern "C" fn(BytesView) -> u64;
type Repeat = extern "C" fn(BytesView, u32) -> OwnedBuf;

/// The function of typed entry `name`, as `F`, after its signature string
/// was compared with `signature`.
fn typed_fn<F: Copy>(iface: &ContractInterface, name: &str, signature: &str) -> F {
    let entry = typed(iface, name);
    assert_eq!(text(entry.signature), signature);
    assert_eq!(size_of::<F>(), size_of::<VoidFn>());
    // SAFETY: [G7] the signature string spells `F` (checked above), the
    // entry's function was erased from exactly that type.
    unsafe { core::mem::transmute_copy::<VoidFn, F>(&entry.func.unwrap()) }
}

/// Takes over an owned result the way a host does: copies it out and frees
/// it with the fake allocator.
fn take_owned(api: &HostApi, buf: OwnedBuf) -> Vec<u8> {
    if buf.len == 0 {
        assert!(buf.ptr.is_null(), "an empty owned result owns nothing");
        return Vec::new();
    }
    // SAFETY: [R12] the plugin allocated `len` bytes with the fake `alloc`.
    let bytes = unsafe { core::slice::from_raw_parts(buf.ptr, buf.len) }.to_vec();
    // SAFETY: [R9] allocated by `fake_alloc` with this layout, freed once.
    unsafe { fake_free(api.ctx, buf.ptr.cast(), buf.len, 1) };
    bytes
}

fn str_view(bytes: &[u8]) -> StrView {
    StrView {
        ptr: bytes.as_ptr(),
        len: bytes.len(),
    }
}

fn bytes_view(bytes: &[u8]) -> BytesView {
    BytesView {
        ptr: bytes.as_ptr(),
        len: bytes.len(),
    }
}

fn last_log(fake: &Fake) -> (u32, String) {
    fake.logs.lock().unwrap().last().cloned().unwrap()
}

#[test]
fn typed_views_and_owned_results_have_derived_signatures() {
    let _lock = lock();
    let (_api, fake) = load(true);
    let iface = contract(fake, "guest.test");
    assert_eq!(text(typed(&iface, "upper").signature), "string(str)");
    assert_eq!(text(typed(&iface, "checksum").signature), "u64(bytes)");
    assert_eq!(text(typed(&iface, "repeat").signature), "buf(bytes,u32)");
    assert_eq!(text(typed(&iface, "text_boom").signature), "string(str)");
}

#[test]
fn a_str_view_becomes_a_str_and_the_string_is_handed_over_in_host_memory() {
    let _lock = lock();
    let (api, fake) = load(true);
    let iface = contract(fake, "guest.test");
    let upper: Upper = typed_fn(&iface, "upper", "string(str)");
    let out = upper(str_view("straße é".as_bytes()));
    assert_eq!(fake.live.load(Ordering::SeqCst), 1, "one host allocation");
    assert_eq!(take_owned(api, out), "STRASSE É".as_bytes());
    assert_eq!(fake.live.load(Ordering::SeqCst), 0);
    let checksum: Checksum = typed_fn(&iface, "checksum", "u64(bytes)");
    assert_eq!(checksum(bytes_view(&[1, 2, 250])), 253);
}

#[test]
fn a_str_view_that_is_not_utf8_is_refused_without_calling_the_function() {
    let _lock = lock();
    let (api, fake) = load(true);
    let iface = contract(fake, "guest.test");
    let upper: Upper = typed_fn(&iface, "upper", "string(str)");
    // What a C host may pass: a lone continuation byte and an overlong form.
    for bad in [&b"ab\x80cd"[..], &b"\xc0\xaf"[..], &b"\xff"[..]] {
        let out = upper(str_view(bad));
        assert!(out.ptr.is_null() && out.len == 0, "{bad:?}");
        let (level, message) = last_log(fake);
        assert_eq!(level, LOG_ERROR);
        assert!(message.contains("guest.test/upper"), "{message}");
        assert!(message.contains("argument `text`"), "{message}");
        assert!(message.contains("not UTF-8"), "{message}");
    }
    // A null pointer with a length is refused too, never read.
    let out = upper(StrView {
        ptr: core::ptr::null(),
        len: 3,
    });
    assert!(out.ptr.is_null() && out.len == 0);
    assert!(
        last_log(fake).1.contains("null view"),
        "{:?}",
        last_log(fake)
    );
    let checksum: Checksum = typed_fn(&iface, "checksum", "u64(bytes)");
    let sum = checksum(BytesView {
        ptr: core::ptr::null(),
        len: 3,
    });
    assert_eq!(sum, 0);
    assert!(last_log(fake).1.contains("guest.test/checksum"));
    // Bytes are bytes: not UTF-8 is fine for `bytes`.
    assert_eq!(checksum(bytes_view(b"\xff\x80")), 0xff + 0x80);
    assert_eq!(fake.live.load(Ordering::SeqCst), 0, "nothing allocated");
    let _ = api;
}

#[test]
fn empty_views_are_empty_and_an_empty_result_owns_nothing() {
    let _lock = lock();
    let (api, fake) = load(true);
    let iface = contract(fake, "guest.test");
    let upper: Upper = typed_fn(&iface, "upper", "string(str)");
    let checksum: Checksum = typed_fn(&iface, "checksum", "u64(bytes)");
    let logs_before = fake.logs.lock().unwrap().len();
    // Null and dangling pointers are both fine with length 0.
    for ptr in [
        core::ptr::null(),
        core::ptr::NonNull::<u8>::dangling().as_ptr().cast_const(),
    ] {
        let out = upper(StrView { ptr, len: 0 });
        assert!(out.ptr.is_null() && out.len == 0);
        assert_eq!(checksum(BytesView { ptr, len: 0 }), 0);
    }
    assert_eq!(fake.live.load(Ordering::SeqCst), 0, "nothing allocated");
    assert_eq!(
        fake.logs.lock().unwrap().len(),
        logs_before,
        "nothing refused"
    );
    let _ = api;
}

#[test]
fn a_large_buf_result_arrives_whole() {
    let _lock = lock();
    let (api, fake) = load(true);
    let iface = contract(fake, "guest.test");
    let repeat: Repeat = typed_fn(&iface, "repeat", "buf(bytes,u32)");
    let pattern = [0u8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 255];
    let out = repeat(bytes_view(&pattern), 1 << 18);
    assert_eq!(out.len, 4 << 20);
    let bytes = take_owned(api, out);
    assert!(bytes.chunks(16).all(|chunk| chunk == pattern));
    assert_eq!(fake.live.load(Ordering::SeqCst), 0);
}

#[test]
fn a_packed_call_converts_views_and_hands_the_result_over() {
    let _lock = lock();
    let (api, fake) = load(true);
    let iface = contract(fake, "guest.test");
    let mut entry = typed(&iface, "repeat");
    #[repr(C)]
    struct Args(BytesView, u32);
    let args = Args(bytes_view(b"ab"), 3);
    let mut out = OwnedBuf::EMPTY;
    let mut err = AbiError::NONE;
    // SAFETY: [G9] the entry's own packed thunk, with its entry, the
    // packed arguments of `buf(bytes,u32)` and one writable result.
    let code = unsafe {
        entry.packed.unwrap()(
            core::ptr::from_mut(&mut entry).cast(),
            core::ptr::null_mut(),
            core::ptr::from_ref(&args).cast(),
            core::ptr::from_mut(&mut out).cast(),
            &mut err,
        )
    };
    assert_eq!(code, OK);
    assert_eq!(take_owned(api, out), b"ababab");
}

#[test]
fn a_panicking_string_function_logs_and_returns_the_empty_string() {
    let _lock = lock();
    let (_api, fake) = load(true);
    let iface = contract(fake, "guest.test");
    let boom: Upper = typed_fn(&iface, "text_boom", "string(str)");
    let out = boom(str_view(b"abc"));
    assert!(out.ptr.is_null() && out.len == 0);
    let (level, message) = last_log(fake);
    assert_eq!(level, LOG_ERROR);
    assert!(message.contains("text boom on purpose"), "{message}");
    assert!(message.contains("guest.test/text_boom"), "{message}");
    assert!(
        message.contains("empty string") || message.contains("default string"),
        "{message}"
    );
    assert_eq!(fake.live.load(Ordering::SeqCst), 0);
}

#[test]
fn without_a_host_allocator_a_string_result_is_empty_and_logged() {
    let _lock = lock();
    let (_api, fake) = load(false);
    let iface = contract(fake, "guest.test");
    let upper: Upper = typed_fn(&iface, "upper", "string(str)");
    let out = upper(str_view(b"abc"));
    assert!(out.ptr.is_null() && out.len == 0);
    let (level, message) = last_log(fake);
    assert_eq!(level, LOG_ERROR);
    assert!(message.contains("could not allocate"), "{message}");
    assert!(message.contains("guest.test/upper"), "{message}");
}

/// Calls typed entry `name` packed, the way `Contracts::call` does.
fn call_packed<A, O>(entry: &mut TypedEntry, args: &A, out: &mut O) -> (u32, AbiError) {
    let mut err = AbiError::NONE;
    // SAFETY: [G9] the entry's own packed thunk, with its entry, the packed
    // arguments of its signature and one writable result.
    let code = unsafe {
        entry.packed.unwrap()(
            core::ptr::from_mut(entry).cast(),
            core::ptr::null_mut(),
            core::ptr::from_ref(args).cast(),
            core::ptr::from_mut(out).cast(),
            &mut err,
        )
    };
    (code, err)
}

#[test]
fn a_packed_call_reports_a_panic_and_a_refused_view_as_typed_errors() {
    let _lock = lock();
    let (api, fake) = load(true);
    let iface = contract(fake, "guest.test");
    let logs_before = fake.logs.lock().unwrap().len();

    let mut boom = typed(&iface, "text_boom");
    let mut out = OwnedBuf::EMPTY;
    let (code, err) = call_packed(&mut boom, &str_view(b"abc"), &mut out);
    assert_eq!((code, err.code), (ERR_PANIC, ERR_PANIC));
    assert!(out.ptr.is_null() && out.len == 0, "no result written");
    let message = take_message(fake, api, err);
    assert!(message.contains("text boom on purpose"), "{message}");
    assert!(message.contains("guest.test/text_boom"), "{message}");

    let mut upper = typed(&iface, "upper");
    let (code, err) = call_packed(&mut upper, &str_view(b"\xff"), &mut out);
    assert_eq!(code, ERR_BAD_ARGUMENT);
    let message = take_message(fake, api, err);
    assert!(message.contains("argument `text`"), "{message}");
    assert!(message.contains("not UTF-8"), "{message}");

    let mut number_boom = typed(&iface, "boom");
    let mut number = 7u32;
    let (code, err) = call_packed(&mut number_boom, &5u32, &mut number);
    assert_eq!(code, ERR_PANIC);
    assert_eq!(number, 7, "no result written");
    assert!(take_message(fake, api, err).contains("typed boom on purpose"));

    // The error went to the caller, not to the log as a default.
    let logs = fake.logs.lock().unwrap();
    assert!(
        logs[logs_before..]
            .iter()
            .all(|(_, m)| !m.contains("returning the default")),
        "{logs:?}"
    );
    drop(logs);
    assert_eq!(fake.live.load(Ordering::SeqCst), 0, "messages freed");
}
