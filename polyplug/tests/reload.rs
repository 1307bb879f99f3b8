//! Hot reload and unload while dispatcher threads keep calling: seed
//! scenario 3, reload in place, unload under load, and a soak.
#![cfg(not(any(loom, shuttle, miri)))]
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test support: a failed step fails the test"
)]

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use common::{TempDir, V1, call, drain, drain_events, handle_of, version_of};
use polyplug::{ContractHandle, FindError, Runtime};
use polyplug_fixtures::{bundle, copy_bundle, library};

/// Counts from the dispatcher threads. Every access is Relaxed: each is a
/// plain counter, and the totals are read after `thread::scope` joined the
/// dispatchers, which orders everything they did before the reads.
#[derive(Default)]
struct Tally {
    v1: AtomicU64,
    v2: AtomicU64,
    torn: AtomicU64,
    stale: AtomicU64,
}

/// Calls `reload.test` through a kept handle, natively and typed, until
/// `stop`; every answer must be 100 or 200.
fn dispatch(runtime: &Runtime, handle: ContractHandle, stop: &AtomicBool, tally: &Tally) {
    let reader = runtime.reader();
    // Relaxed: `stop` only ends the loop; it publishes no data.
    while !stop.load(Ordering::Relaxed) {
        let guard = reader.pin();
        let contract = match guard.get(handle) {
            Ok(c) => c,
            Err(FindError::Stale { .. }) => {
                tally.stale.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            Err(e) => panic!("unexpected error: {e}"),
        };
        let native = call(&contract, "version", 0, 0).unwrap();
        let typed = contract
            .typed::<extern "C" fn() -> u32>("version")
            .unwrap()
            .call();
        for answer in [native, typed] {
            match answer {
                100 => tally.v1.fetch_add(1, Ordering::Relaxed),
                200 => tally.v2.fetch_add(1, Ordering::Relaxed),
                _ => tally.torn.fetch_add(1, Ordering::Relaxed),
            };
        }
    }
}

/// Runs `dispatchers` threads while `reloads` runs on this thread.
fn under_load(runtime: &Runtime, dispatchers: usize, reloads: impl FnOnce(&Tally)) -> Tally {
    let handle = handle_of(runtime);
    let stop = AtomicBool::new(false);
    let tally = Tally::default();
    std::thread::scope(|s| {
        for _ in 0..dispatchers {
            s.spawn(|| dispatch(runtime, handle, &stop, &tally));
        }
        // Let every dispatcher make calls before the first reload.
        while tally.v1.load(Ordering::Relaxed) < 1000 {
            std::thread::yield_now();
        }
        reloads(&tally);
        // Relaxed: pairs with nothing; see the load in `dispatch`.
        stop.store(true, Ordering::Relaxed);
    });
    tally
}

#[test]
fn six_dispatchers_during_eighty_real_reloads() {
    let runtime = Runtime::new().unwrap();
    let id = runtime.load_bundle(bundle("reload-v1")).unwrap();
    let events = runtime.subscribe();
    let (v1, v2) = (bundle("reload-v1"), bundle("reload-v2"));
    let tally = under_load(&runtime, 6, |_| {
        for i in 0..80 {
            let from = if i % 2 == 0 { &v2 } else { &v1 };
            runtime.reload_bundle(id, Some(from)).unwrap();
        }
    });
    assert_eq!(tally.torn.load(Ordering::Relaxed), 0);
    assert_eq!(tally.stale.load(Ordering::Relaxed), 0);
    assert!(tally.v1.load(Ordering::Relaxed) > 0 && tally.v2.load(Ordering::Relaxed) > 0);
    // 80 reloads alternate and end on v1.
    assert_eq!(version_of(&runtime, handle_of(&runtime)), 100);
    drain(&runtime);
    let stats = runtime.library_stats();
    assert_eq!(stats.opened, 81);
    assert_eq!(stats.closed, 80, "every retired library is closed");
    let events = drain_events(&events);
    let reloaded = events
        .iter()
        .filter(|e| matches!(e, polyplug::Event::Reloaded { .. }))
        .count();
    let drained = events
        .iter()
        .filter(|e| matches!(e, polyplug::Event::Drained { .. }))
        .count();
    assert_eq!(
        (reloaded, drained),
        (80, 80),
        "each reload was reported, and each old version drained"
    );
}

#[test]
fn a_library_rebuilt_in_place_really_reloads() {
    let dir = TempDir::new("in-place");
    let path = copy_bundle("reload-v1", dir.path()).unwrap();
    let manifest = std::fs::read_to_string(path.join("manifest.toml")).unwrap();
    let file = manifest
        .lines()
        .find_map(|l| {
            l.strip_prefix("linux = \"")
                .and_then(|r| r.strip_suffix('"'))
        })
        .unwrap()
        .to_owned();
    let target = path.join(&file);
    let runtime = Runtime::new().unwrap();
    let id = runtime.load_bundle(&path).unwrap();
    let (v1, v2) = (library("reload-v1"), library("reload-v2"));
    let tally = under_load(&runtime, 6, |_| {
        for i in 0..80 {
            // Rebuild in place: the same path, new bytes.
            std::fs::copy(if i % 2 == 0 { &v2 } else { &v1 }, &target).unwrap();
            runtime.reload_bundle(id, None).unwrap();
            let expected = if i % 2 == 0 { 200 } else { 100 };
            assert_eq!(
                version_of(&runtime, handle_of(&runtime)),
                expected,
                "reload {i} took effect"
            );
        }
    });
    assert_eq!(tally.torn.load(Ordering::Relaxed), 0);
    assert!(tally.v2.load(Ordering::Relaxed) > 0);
}

/// Points `link` at `target` in one step, as a deployment flips `current`:
/// a new link beside it, renamed over it.
#[cfg(unix)]
fn flip(link: &std::path::Path, target: &std::path::Path) {
    let next = link.with_extension("next");
    let _ = std::fs::remove_file(&next);
    std::os::unix::fs::symlink(target, &next).unwrap();
    std::fs::rename(&next, link).unwrap();
}

#[cfg(unix)]
#[test]
fn a_reload_from_its_own_path_follows_a_flipped_symlink() {
    let dir = TempDir::new("flip");
    let v1 = copy_bundle("reload-v1", dir.path()).unwrap();
    let v2 = copy_bundle("reload-v2", dir.path()).unwrap();
    let current = dir.path().join("current");
    flip(&current, &v1);
    let runtime = Runtime::new().unwrap();
    let id = runtime.load_bundle(&current).unwrap();
    let handle = handle_of(&runtime);
    assert_eq!(version_of(&runtime, handle), 100);

    flip(&current, &v2);
    runtime.reload_bundle(id, None).unwrap();
    assert_eq!(version_of(&runtime, handle), 200, "current -> v2 serves v2");
    let info = runtime.bundles().pop().unwrap();
    assert_eq!(info.dir, std::fs::canonicalize(&v2).unwrap());

    flip(&current, &v1);
    runtime.reload_bundle(id, None).unwrap();
    assert_eq!(version_of(&runtime, handle), 100, "current -> v1 again");

    // A reload from another path makes that path the one to re-read.
    runtime.reload_bundle(id, Some(&v2)).unwrap();
    flip(&current, &v1);
    runtime.reload_bundle(id, None).unwrap();
    assert_eq!(
        version_of(&runtime, handle),
        200,
        "v2's own path, not current"
    );
}

#[test]
fn unload_under_load_gives_stale_handles_not_crashes() {
    let runtime = Runtime::new().unwrap();
    let id = runtime.load_bundle(bundle("reload-v1")).unwrap();
    let handle = handle_of(&runtime);
    let tally = under_load(&runtime, 4, |tally| {
        runtime
            .reload_bundle(id, Some(&bundle("reload-v2")))
            .unwrap();
        runtime.unload_bundle(id).unwrap();
        // Wait until the dispatchers have met the unload.
        while tally.stale.load(Ordering::Relaxed) == 0 {
            std::thread::yield_now();
        }
    });
    assert_eq!(tally.torn.load(Ordering::Relaxed), 0);
    assert!(
        tally.stale.load(Ordering::Relaxed) > 0,
        "dispatchers saw the unload as stale handles"
    );
    let reader = runtime.reader();
    let guard = reader.pin();
    assert!(matches!(guard.get(handle), Err(FindError::Stale { .. })));
    assert!(matches!(
        guard.find("reload.test", V1),
        Err(FindError::NotFound { .. })
    ));
    drop(guard);
    drain(&runtime);
    let stats = runtime.library_stats();
    assert_eq!((stats.opened, stats.closed), (2, 2));
}

/// The resident set size of this process, in KiB, from `/proc/self/status`
/// (`None` where there is no procfs).
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// RSS growth over the measured reloads that fails the soak. Generous, so
/// that allocator noise never trips it: a retired image left mapped
/// (~300 KiB resident each) crosses it within about 220 reloads, and any
/// leak of about 7 KiB or more per reload crosses it in `ci/soak.sh`'s
/// 10,000 (about 36 KiB per reload in the default 2,000).
const RSS_GROWTH_LIMIT_KIB: u64 = 64 * 1024;

/// Reloads before the first RSS reading: allocator pools, the store's
/// segments and the epoch collector's bags reach their steady size.
const WARM_UP_RELOADS: u64 = 200;

/// `POLYPLUG_SOAK_RELOADS` reloads (2,000 by default; `ci/soak.sh` runs
/// 10,000 in release) under four dispatchers: no call is torn, every
/// retired library is reclaimed, closed and unmapped, and the resident set
/// does not grow by more than [`RSS_GROWTH_LIMIT_KIB`] between the end of
/// the warm-up and the end.
#[test]
fn soak_two_thousand_reloads_under_four_dispatchers() {
    let reloads: u64 = std::env::var("POLYPLUG_SOAK_RELOADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let warm_up = WARM_UP_RELOADS.min(reloads);
    let runtime = Runtime::new().unwrap();
    let id = runtime.load_bundle(bundle("reload-v1")).unwrap();
    let (v1, v2) = (bundle("reload-v1"), bundle("reload-v2"));
    let mut rss = (None, None);
    let mut wall = std::time::Duration::ZERO;
    let tally = under_load(&runtime, 4, |_| {
        let start = std::time::Instant::now();
        for i in 0..reloads {
            if i == warm_up {
                drain(&runtime);
                rss.0 = rss_kib();
            }
            runtime
                .reload_bundle(id, Some(if i % 2 == 0 { &v2 } else { &v1 }))
                .unwrap();
        }
        drain(&runtime);
        wall = start.elapsed();
        if warm_up == reloads {
            rss.0 = rss_kib();
        }
        rss.1 = rss_kib();
    });
    drain(&runtime);
    let stats = runtime.library_stats();
    let calls = tally.v1.load(Ordering::Relaxed) + tally.v2.load(Ordering::Relaxed);
    let torn = tally.torn.load(Ordering::Relaxed);
    let show = |kib: Option<u64>| kib.map_or_else(|| "unknown".to_owned(), |k| format!("{k} KiB"));
    println!(
        "soak: {reloads} reloads in {:.1} s ({:.0} reloads/s), {calls} calls, {torn} torn; \
         libraries opened {} closed {} unmapped {} still mapped {}; \
         RSS after {warm_up} reloads {}, at the end {}",
        wall.as_secs_f64(),
        reloads as f64 / wall.as_secs_f64().max(f64::MIN_POSITIVE),
        stats.opened,
        stats.closed,
        stats.unmapped,
        stats.still_mapped,
        show(rss.0),
        show(rss.1),
    );
    assert_eq!(torn, 0, "no call saw anything but 100 or 200");
    assert!(calls > 0);
    assert_eq!(stats.opened, reloads + 1);
    assert_eq!(
        stats.closed, reloads,
        "every retired library was reclaimed and closed; only the serving one is open"
    );
    assert_eq!(
        (stats.unmapped, stats.still_mapped),
        (reloads, 0),
        "every closed image left the address space"
    );
    if let (Some(before), Some(after)) = rss {
        assert!(
            after.saturating_sub(before) < RSS_GROWTH_LIMIT_KIB,
            "RSS grew from {before} KiB to {after} KiB over {} reloads",
            reloads - warm_up
        );
    }
}
