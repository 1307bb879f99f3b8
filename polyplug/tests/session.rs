//! Sessions and bindings under real hot reloads: dispatchers pin per call
//! through a session and fetch a bound typed function each time, while the
//! host reloads; retired libraries close while the sessions stay open.
#![cfg(not(any(loom, shuttle, miri)))]

#[expect(dead_code, reason = "this file needs only some of the shared helpers")]
mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use common::{V1, handle_of};
use polyplug::{FindError, Runtime};
use polyplug_fixtures::bundle;

type Version = extern "C" fn() -> u32;

#[test]
fn session_dispatchers_during_forty_reloads_with_bindings() {
    let runtime = Runtime::new().unwrap();
    let id = runtime.load_bundle(bundle("reload-v1")).unwrap();
    let handle = handle_of(&runtime);
    let (v1, v2) = (bundle("reload-v1"), bundle("reload-v2"));
    // Relaxed everywhere: plain counters and a stop flag, read after the
    // scope joined the threads (which orders their writes before the reads).
    let stop = AtomicBool::new(false);
    let (calls, torn, closed_while_open) =
        (AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0));
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let reader = runtime.reader();
                let session = reader.session();
                let version = session
                    .pin()
                    .get(handle)
                    .unwrap()
                    .bind::<Version>("version")
                    .unwrap();
                while !stop.load(Ordering::Relaxed) {
                    let answer = session.pin().bound(&version).unwrap().call();
                    if answer != 100 && answer != 200 {
                        torn.fetch_add(1, Ordering::Relaxed);
                    }
                    calls.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        while calls.load(Ordering::Relaxed) < 1000 {
            std::thread::yield_now();
        }
        for i in 0..40 {
            let from = if i % 2 == 0 { &v2 } else { &v1 };
            runtime.reload_bundle(id, Some(from)).unwrap();
            // The dispatchers' sessions stay open and busy: their quiescent
            // points let each retired library close.
            runtime.drain(Duration::from_secs(30)).unwrap();
        }
        closed_while_open.store(runtime.library_stats().closed, Ordering::Relaxed);
        stop.store(true, Ordering::Relaxed);
    });
    assert_eq!(
        torn.load(Ordering::Relaxed),
        0,
        "every answer was 100 or 200"
    );
    assert_eq!(
        closed_while_open.load(Ordering::Relaxed),
        40,
        "all 40 retired libraries closed while the sessions were open"
    );
    assert_eq!(runtime.library_stats().opened, 41);
}

#[test]
fn a_binding_follows_reloads_and_goes_stale_on_unload() {
    let runtime = Runtime::new().unwrap();
    let id = runtime.load_bundle(bundle("reload-v1")).unwrap();
    let reader = runtime.reader();
    let session = reader.session();
    let version = session
        .pin()
        .find("reload.test", V1)
        .unwrap()
        .bind::<Version>("version")
        .unwrap();
    assert_eq!(session.pin().bound(&version).unwrap().call(), 100);
    runtime
        .reload_bundle(id, Some(&bundle("reload-v2")))
        .unwrap();
    assert_eq!(
        session.pin().bound(&version).unwrap().call(),
        200,
        "the binding follows the reload"
    );
    runtime.unload_bundle(id).unwrap();
    match session.pin().bound(&version) {
        Err(FindError::Stale { handle }) => assert_eq!(handle, version.handle()),
        other => panic!("expected Stale, got {other:?}"),
    }
}

#[test]
fn a_binding_checks_the_signature_again_after_a_reload() {
    let runtime = Runtime::new().unwrap();
    let id = runtime.load_bundle(bundle("reload-v1")).unwrap();
    let reader = runtime.reader();
    let guard = reader.pin();
    let contract = guard.find("reload.test", V1).unwrap();
    let wrong = contract.bind::<extern "C" fn(u32) -> u32>("version");
    assert!(
        matches!(wrong, Err(FindError::SignatureMismatch { .. })),
        "{wrong:?}"
    );
    let missing = contract.bind::<Version>("no_such_function");
    assert!(
        matches!(missing, Err(FindError::NoFunction { .. })),
        "{missing:?}"
    );
    drop(guard);
    // v2 keeps `version() -> u32`; the rebind after the reload checks it.
    let version = reader
        .pin()
        .get(handle_of(&runtime))
        .unwrap()
        .bind::<Version>("version")
        .unwrap();
    runtime
        .reload_bundle(id, Some(&bundle("reload-v2")))
        .unwrap();
    assert_eq!(reader.pin().bound(&version).unwrap().call(), 200);
}

#[test]
fn an_anchored_binding_follows_reloads_and_goes_stale_when_its_slot_is_reused() {
    let runtime = Runtime::new().unwrap();
    let id = runtime.load_bundle(bundle("reload-v1")).unwrap();
    let first = handle_of(&runtime);
    let reader = runtime.reader();
    let version = reader
        .pin()
        .get(first)
        .unwrap()
        .bind::<Version>("version")
        .unwrap();
    let version = reader.anchor(version).unwrap();
    let session = reader.session();
    assert_eq!(session.pin().bound_at(&version).unwrap().call(), 100);
    runtime
        .reload_bundle(id, Some(&bundle("reload-v2")))
        .unwrap();
    assert_eq!(
        session.pin().bound_at(&version).unwrap().call(),
        200,
        "the anchored binding follows the reload"
    );
    runtime.unload_bundle(id).unwrap();
    // The same contract again, in the same slot under a new generation: the
    // old handle is stale, even though the slot holds a contract with a
    // `version` of the same signature.
    runtime.load_bundle(bundle("reload-v1")).unwrap();
    let second = handle_of(&runtime);
    let index = |h: polyplug::ContractHandle| h.to_raw() & u64::from(u32::MAX);
    assert_eq!(
        (index(second), second == first),
        (index(first), false),
        "the slot is reused under a new generation"
    );
    for guard in [reader.pin(), session.pin()] {
        match guard.bound_at(&version) {
            Err(FindError::Stale { handle }) => assert_eq!(handle, first),
            other => panic!("expected Stale, got {other:?}"),
        }
    }
    // Anchored on the new handle, it calls the new library.
    let again = reader
        .pin()
        .get(second)
        .unwrap()
        .bind::<Version>("version")
        .unwrap();
    let again = reader.anchor(again).unwrap();
    assert_eq!(reader.pin().bound_at(&again).unwrap().call(), 100);
}

#[test]
fn an_anchored_binding_read_under_another_runtime_takes_the_checked_path() {
    let ours = Runtime::new().unwrap();
    ours.load_bundle(bundle("reload-v1")).unwrap();
    let theirs = Runtime::new().unwrap();
    theirs.load_bundle(bundle("reload-v2")).unwrap();
    let reader = ours.reader();
    let version = reader
        .pin()
        .get(handle_of(&ours))
        .unwrap()
        .bind::<Version>("version")
        .unwrap();
    let version = reader.anchor(version).unwrap();
    // The same handle names reload.test in the other runtime too: the
    // other guard reads its own store, never our slot.
    let other = theirs.reader();
    assert_eq!(other.pin().bound_at(&version).unwrap().call(), 200);
    assert_eq!(reader.pin().bound_at(&version).unwrap().call(), 100);
}
