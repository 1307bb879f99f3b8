//! What a plugin can make the host keep: every function of the host table,
//! called a million times after init in each of its failing and succeeding
//! forms, leaves the host's live heap where it was.
//!
//! The C fixture `host-hammer` keeps the host table from its entry point;
//! its typed `hammer(mode, n)` makes one kind of host-table call `n` times
//! and counts the calls that answered as expected. A counting global
//! allocator gives the live bytes of the host (the plugin allocates nothing
//! of its own): after a warm-up of 1,000 calls, 1,000,000 more may add less
//! than 64 KiB. On Linux the resident set is checked too, generously.
#![cfg(not(any(loom, shuttle, miri)))]

#[expect(dead_code, reason = "this file needs only some of the shared helpers")]
mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::{Mutex, PoisonError};

use common::{V1, call};
use polyplug::Runtime;
use polyplug_fixtures::bundle;

/// The system allocator, keeping the number of live bytes.
struct Counting;

/// Bytes allocated and not yet freed, by any thread.
static LIVE: AtomicIsize = AtomicIsize::new(0);

fn grew(bytes: usize) {
    // Relaxed: a plain counter; the test reads it on the thread that made
    // the calls, after they returned.
    LIVE.fetch_add(
        isize::try_from(bytes).unwrap_or(isize::MAX),
        Ordering::Relaxed,
    );
}

fn shrank(bytes: usize) {
    // Relaxed: as in `grew`.
    LIVE.fetch_sub(
        isize::try_from(bytes).unwrap_or(isize::MAX),
        Ordering::Relaxed,
    );
}

// SAFETY: [R9] every method forwards to `System` with the caller's
// arguments unchanged; counting touches only an atomic, which never
// allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: [R9] forwarded: the caller upholds `alloc`'s contract.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: [R9] forwarded: the caller upholds `alloc_zeroed`'s contract.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: [R9] forwarded: the caller upholds `realloc`'s contract.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            shrank(layout.size());
            grew(new_size);
        }
        new
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        shrank(layout.size());
        // SAFETY: [R9] forwarded: the caller upholds `dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The modes of the fixture's `hammer`, in the order of its `MODE_*`
/// constants (fixtures/c/host_hammer.c), each named by the call it makes.
const MODES: [&str; 24] = [
    "register_contract after init",
    "register_contract after init, null contract and err",
    "register_contract, null ctx",
    "find_contract of a loaded contract",
    "find_contract of a missing contract",
    "find_contract of a missing 8 KiB name",
    "find_contract, null out",
    "find_contract, null name of length 5",
    "find_contract, name not UTF-8",
    "find_contract, null ctx",
    "resolve_contract of a loaded contract",
    "resolve_contract of handle 0",
    "resolve_contract of a forged handle",
    "resolve_contract, null out",
    "resolve_contract, null ctx",
    "log",
    "log, unknown level and null message of length 5",
    "log, null ctx",
    "alloc then free",
    "alloc of size 0 and of alignment 3",
    "free of null",
    "last_error, then free of its message",
    "last_error, null out",
    "last_error, null ctx",
];

/// Calls after which the live bytes are first read.
const WARM_UP: u64 = 1_000;
/// Calls whose cost is measured.
const CALLS: u64 = 1_000_000;
/// What `CALLS` calls may add to the live heap.
const LIVE_BOUND: isize = 64 * 1024;
/// What they may add to the resident set (Linux only): generous, since
/// the allocator may keep freed pages.
const RSS_BOUND: u64 = 32 * 1024 * 1024;

/// The tests share one process-wide counter: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// What ends a last error cut at 1 KiB (polyplug_abi::LastErrorFn says so).
const TRUNCATED: &str = " [truncated]";

type Hammer = extern "C" fn(u32, u64) -> u64;

/// The resident set of this process in bytes, where `/proc` tells it.
fn resident() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Each mode, `WARM_UP` then `CALLS` times inside one call into the plugin
/// (under the caller's pinned guard, as every call into a plugin is); fails
/// naming every mode whose calls grew the host's memory.
#[test]
fn no_host_table_call_keeps_anything() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let runtime = Runtime::new().unwrap();
    runtime.load_bundle(bundle("host-hammer")).unwrap();
    let reader = runtime.reader();
    let mut failures = Vec::new();
    for (mode, name) in MODES.iter().enumerate() {
        let code = u32::try_from(mode).unwrap();
        let guard = reader.pin();
        let contract = guard.find("test.hammer", V1).unwrap();
        let hammer = contract.typed::<Hammer>("hammer").unwrap();
        assert_eq!(hammer.call(code, WARM_UP), WARM_UP, "{name}: warm-up");
        let (live, rss) = (LIVE.load(Ordering::Relaxed), resident());
        assert_eq!(
            hammer.call(code, CALLS),
            CALLS,
            "{name}: an unexpected answer"
        );
        let grown = LIVE.load(Ordering::Relaxed) - live;
        let rss_grown = rss.zip(resident()).map(|(a, b)| b.saturating_sub(a));
        eprintln!("{name}: live heap {grown:+} bytes, resident {rss_grown:?} bytes");
        if grown >= LIVE_BOUND {
            failures.push(format!("{name}: the live heap grew by {grown} bytes"));
        }
        if let Some(rss_grown) = rss_grown.filter(|&g| g >= RSS_BOUND) {
            failures.push(format!(
                "{name}: the resident set grew by {rss_grown} bytes"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{CALLS} calls after a warm-up of {WARM_UP}:\n{}",
        failures.join("\n")
    );
}

#[test]
fn the_fixture_has_every_mode_and_the_allocator_counts() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let runtime = Runtime::new().unwrap();
    runtime.load_bundle(bundle("host-hammer")).unwrap();
    let reader = runtime.reader();
    let guard = reader.pin();
    let contract = guard.find("test.hammer", V1).unwrap();
    let modes = contract.typed::<extern "C" fn() -> u32>("modes").unwrap();
    assert_eq!(usize::try_from(modes.call()).unwrap(), MODES.len());
    // Every function of the host table has a mode.
    for function in [
        "register_contract",
        "find_contract",
        "resolve_contract",
        "log",
        "alloc",
        "free",
        "last_error",
    ] {
        assert!(MODES.iter().any(|m| m.starts_with(function)), "{function}");
    }
    // The counter is process-wide: other threads (the harness finishing
    // another test, a runtime's teardown) may free while this one reads
    // it. What they free is far below `PROBE`, so a probe this large is
    // counted whatever else happens.
    const PROBE: usize = 64 * 1024 * 1024;
    let before = LIVE.load(Ordering::Relaxed);
    let kept = std::hint::black_box(vec![0u8; PROBE]);
    let grown = LIVE.load(Ordering::Relaxed) - before;
    assert!(
        grown >= isize::try_from(PROBE / 2).unwrap(),
        "a {PROBE}-byte allocation moved the counter by {grown}"
    );
    drop(kept);
}

#[test]
fn the_last_error_is_bounded_and_marked_when_cut() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let runtime = Runtime::new().unwrap();
    runtime.load_bundle(bundle("host-hammer")).unwrap();
    let reader = runtime.reader();
    let guard = reader.pin();
    let contract = guard.find("test.hammer", V1).unwrap();
    let hammer = contract.typed::<Hammer>("hammer").unwrap();
    let long = MODES.iter().position(|m| m.contains("8 KiB name")).unwrap();
    assert_eq!(hammer.call(u32::try_from(long).unwrap(), 1), 1);
    let err = call(&contract, "last_error", 0, 0).unwrap_err();
    assert_eq!(err.code, polyplug_abi::ERR_NOT_FOUND);
    let message = err.message.as_str();
    assert!(
        message.starts_with("no loaded contract xxxx"),
        "{message:.100}"
    );
    assert!(message.ends_with(TRUNCATED), "{message:.100}");
    assert!(message.len() <= 1024 + TRUNCATED.len(), "{}", message.len());
}
