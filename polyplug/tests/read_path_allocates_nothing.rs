//! The read path allocates nothing: a counting global allocator watches
//! this thread while it finds, resolves, pins (outermost, nested and per
//! session), binds (a binding, an anchored one, and one held under a
//! guard) and calls, again and again, while another thread reloads the
//! plugin underneath; and while a plugin finds and resolves through the
//! host table, from inside a call made under the host's guard.
//! Setup (a reader, a session, a binding, the store's first lent
//! registration) may allocate; the loop may not.
#![cfg(not(any(loom, shuttle, miri)))]

#[expect(dead_code, reason = "this file needs only some of the shared helpers")]
mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};

use common::{V1, call};
use polyplug::Runtime;
use polyplug_fixtures::bundle;

/// The system allocator, counting the allocations of threads that ask.
struct Counting;

thread_local! {
    /// Whether this thread's allocations are being counted.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    /// This thread's allocations while counting.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn note_allocation() {
    // `try_with`: allocations during thread-local teardown are not counted.
    let _ = COUNTING.try_with(|counting| {
        if counting.get() {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        }
    });
}

// SAFETY: [R9] every method forwards to `System` with the caller's
// arguments unchanged; counting touches only const-initialized thread-locals,
// which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: [R9] forwarded: the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: [R9] forwarded: the caller upholds `alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        // SAFETY: [R9] forwarded: the caller upholds `realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: [R9] forwarded: the caller upholds `dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Allocations made by `f` on this thread.
fn allocations_in(f: impl FnOnce()) -> u64 {
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn the_counter_sees_an_allocation() {
    // The allocator is really in place: a Box on this thread is counted.
    let n = allocations_in(|| drop(std::hint::black_box(Box::new(7u64))));
    assert_eq!(n, 1);
}

#[test]
fn find_get_pin_and_call_allocate_nothing_during_reloads() {
    type Inc = extern "C" fn(u32) -> u32;
    let runtime = Runtime::new().unwrap();
    runtime.load_bundle(bundle("test-add")).unwrap();
    let id = runtime.load_bundle(bundle("reload-v1")).unwrap();
    let reader = runtime.reader();
    let session = reader.session();
    let (handle, inc) = {
        let guard = reader.pin();
        let contract = guard.find("test.add", V1).unwrap();
        (contract.handle(), contract.bind::<Inc>("inc").unwrap())
    };
    let anchored = {
        let guard = reader.pin();
        let contract = guard.find("test.add", V1).unwrap();
        reader.anchor(contract.bind::<Inc>("inc").unwrap()).unwrap()
    };
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            let (v1, v2) = (bundle("reload-v1"), bundle("reload-v2"));
            let mut n = 0u32;
            // Relaxed: the flag only ends the loop; it publishes nothing.
            while !stop.load(Ordering::Relaxed) {
                let from = if n.is_multiple_of(2) { &v2 } else { &v1 };
                runtime.reload_bundle(id, Some(from)).unwrap();
                runtime.reclaim().unwrap();
                n += 1;
            }
        });
        let mut counter = 0u32;
        let allocations = allocations_in(|| {
            for _ in 0..20_000 {
                // An outermost pin, find, native and typed calls.
                let guard = reader.pin();
                let contract = guard.find("test.add", V1).unwrap();
                counter = call(&contract, "add", counter, 0).unwrap();
                counter = contract.typed::<Inc>("inc").unwrap().call(counter);
                assert_eq!(contract.native_at(0).map(|f| f.name().len()), Some(3));
                // A handle resolved again, every match of a name, the revision.
                assert!(guard.get(handle).is_ok());
                assert_eq!(guard.find_all("test.add", V1).count(), 1);
                let _ = guard.revision();
                drop(guard);
                // A session pin and a bound call; a reload-test lookup that
                // meets whichever version is serving.
                let guard = session.pin();
                counter = guard.bound(&inc).unwrap().call(counter);
                counter = guard.bound_at(&anchored).unwrap().call(counter);
                // The same binding held under the guard for a batch.
                counter = guard.hold(&anchored).unwrap().get().unwrap().call(counter);
                assert!(guard.find("reload.test", V1).is_ok());
            }
        });
        // Relaxed: as above.
        stop.store(true, Ordering::Relaxed);
        assert_eq!(counter, 80_000);
        assert_eq!(allocations, 0, "the read path allocated");
    });
}

#[test]
fn a_plugins_find_and_resolve_through_the_host_table_allocate_nothing() {
    // The fixture's `hammer(mode, n)` makes one host-table call `n` times
    // and returns how many answered as expected; the modes are the MODE_*
    // constants of fixtures/c/host_hammer.c.
    type Hammer = extern "C" fn(u32, u64) -> u64;
    const FIND_FOUND: u32 = 3;
    const FIND_MISSING: u32 = 4;
    const RESOLVE_FOUND: u32 = 10;
    const CALLS: u64 = 20_000;
    let runtime = Runtime::new().unwrap();
    runtime.load_bundle(bundle("host-hammer")).unwrap();
    let id = runtime.load_bundle(bundle("reload-v1")).unwrap();
    let reader = runtime.reader();
    let guard = reader.pin();
    let hammer = guard
        .find("test.hammer", V1)
        .unwrap()
        .typed::<Hammer>("hammer")
        .unwrap();
    // The first lent read registers the pool's participant.
    for mode in [FIND_FOUND, FIND_MISSING, RESOLVE_FOUND] {
        assert_eq!(hammer.call(mode, 1), 1, "mode {mode}: warm-up");
    }
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            let (v1, v2) = (bundle("reload-v1"), bundle("reload-v2"));
            let mut n = 0u32;
            // Relaxed: the flag only ends the loop; it publishes nothing.
            while !stop.load(Ordering::Relaxed) {
                let from = if n.is_multiple_of(2) { &v2 } else { &v1 };
                runtime.reload_bundle(id, Some(from)).unwrap();
                runtime.reclaim().unwrap();
                n += 1;
            }
        });
        let mut answered = [0u64; 3];
        let allocations = allocations_in(|| {
            for (mode, n) in [FIND_FOUND, FIND_MISSING, RESOLVE_FOUND]
                .into_iter()
                .zip(&mut answered)
            {
                // Under the guard pinned above: each lent read runs while
                // the host's own pin is held, as a callback's does.
                *n = hammer.call(mode, CALLS);
            }
        });
        // Relaxed: as above.
        stop.store(true, Ordering::Relaxed);
        assert_eq!(answered, [CALLS; 3], "every host-table call answered");
        assert_eq!(allocations, 0, "a host-table find or resolve allocated");
    });
}
