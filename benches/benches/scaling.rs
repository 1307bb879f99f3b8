//! Aggregate resolve-and-call throughput with 1 and 2 reader threads while
//! a writer hot-reloads, beside a `RwLock<HashMap>` registry under the same
//! writer cadence. Each reader pins per call through a session and calls
//! `reload.test`'s typed `version` through a binding; the writer alternates
//! real reloads of v1 and v2, pausing `WRITER_PAUSE` between them. The
//! criterion time of one iteration is the wall time of one call on every
//! reader, so throughput (elements = readers) is the aggregate call rate.
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a benchmark whose setup fails must stop"
)]

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Barrier, RwLock};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use polyplug::{BundleId, Runtime, Version};

/// The writer's pause between two writes.
const WRITER_PAUSE: Duration = Duration::from_millis(5);
const V1: Version = Version::new(1, 0, 0);
type VersionFn = extern "C" fn() -> u32;

/// Reloads done by the polyplug writer in the whole run (printed at the end).
static RELOADS: AtomicU64 = AtomicU64::new(0);

/// Runs `readers` threads of `iters` calls each (`call` makes one), with a
/// writer running `write` every `WRITER_PAUSE` until they finish; returns
/// the slowest reader's time.
fn measure<S: Sync>(
    shared: &S,
    readers: usize,
    iters: u64,
    reader: impl Fn(&S, u64, &Barrier) -> Duration + Sync,
    write: impl Fn(&S, u64) + Sync,
) -> Duration {
    let start = Barrier::new(readers + 1);
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        let writer = s.spawn(|| {
            start.wait();
            let mut n = 0;
            // Relaxed: the flag only ends the loop; it publishes nothing.
            while !stop.load(Ordering::Relaxed) {
                write(shared, n);
                n += 1;
                std::thread::sleep(WRITER_PAUSE);
            }
        });
        let threads: Vec<_> = (0..readers)
            .map(|_| s.spawn(|| reader(shared, iters, &start)))
            .collect();
        let slowest = threads
            .into_iter()
            .map(|t| t.join().unwrap())
            .max()
            .unwrap();
        // Relaxed: see the load above.
        stop.store(true, Ordering::Relaxed);
        writer.join().unwrap();
        slowest
    })
}

struct Polyplug {
    runtime: Runtime,
    id: BundleId,
}

fn polyplug_reader(p: &Polyplug, iters: u64, start: &Barrier) -> Duration {
    let reader = p.runtime.reader();
    let session = reader.session();
    let version = session
        .pin()
        .find("reload.test", V1)
        .unwrap()
        .bind::<VersionFn>("version")
        .unwrap();
    start.wait();
    let began = Instant::now();
    for _ in 0..iters {
        let answer = session.pin().bound(black_box(&version)).unwrap().call();
        if answer != 100 && answer != 200 {
            panic!("torn answer {answer}");
        }
    }
    began.elapsed()
}

fn polyplug_write(p: &Polyplug, n: u64) {
    let from = polyplug_fixtures::bundle(if n.is_multiple_of(2) {
        "reload-v2"
    } else {
        "reload-v1"
    });
    p.runtime.reload_bundle(p.id, Some(&from)).unwrap();
    p.runtime.reclaim().unwrap();
    // Relaxed: a plain count, printed after the run.
    RELOADS.fetch_add(1, Ordering::Relaxed);
}

extern "C" fn version_v1() -> u32 {
    100
}

extern "C" fn version_v2() -> u32 {
    200
}

/// The baseline: a registry behind one `RwLock`; readers call under the
/// read lock (so a writer can never pull a function out from under a call).
type Locked = RwLock<HashMap<u64, VersionFn>>;

const KEY: u64 = 7;

fn rwlock_reader(map: &Locked, iters: u64, start: &Barrier) -> Duration {
    start.wait();
    let began = Instant::now();
    for _ in 0..iters {
        let registry = map.read().unwrap();
        let answer = registry[black_box(&KEY)]();
        drop(registry);
        if answer != 100 && answer != 200 {
            panic!("torn answer {answer}");
        }
    }
    began.elapsed()
}

fn rwlock_write(map: &Locked, n: u64) {
    let f: VersionFn = if n.is_multiple_of(2) {
        version_v2
    } else {
        version_v1
    };
    map.write().unwrap().insert(KEY, f);
}

fn scaling(c: &mut Criterion) {
    let runtime = Runtime::new().unwrap();
    let id = runtime
        .load_bundle(polyplug_fixtures::bundle("reload-v1"))
        .unwrap();
    let polyplug = Polyplug { runtime, id };
    let locked: Locked = RwLock::new(HashMap::from([(KEY, version_v1 as VersionFn)]));
    let mut group = c.benchmark_group("scaling");
    for readers in [1usize, 2] {
        group.throughput(Throughput::Elements(readers as u64));
        group.bench_function(BenchmarkId::new("polyplug", readers), |b| {
            b.iter_custom(|iters| {
                measure(&polyplug, readers, iters, polyplug_reader, polyplug_write)
            });
        });
        group.bench_function(BenchmarkId::new("rwlock", readers), |b| {
            b.iter_custom(|iters| measure(&locked, readers, iters, rwlock_reader, rwlock_write));
        });
    }
    group.finish();
    // Relaxed: read after every writer thread was joined.
    println!(
        "scaling: the polyplug writer made {} real reloads",
        RELOADS.load(Ordering::Relaxed)
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = scaling
}
criterion_main!(benches);
