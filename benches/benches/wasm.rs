//! WebAssembly through polyplug against wasmi used directly on the same
//! module, in one run: a typed call, load and reload, and two calling
//! threads against one. See `polyplug_benches::wasm` for the arms.
#![expect(
    clippy::unwrap_used,
    reason = "a benchmark whose setup fails must stop"
)]

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use polyplug_benches::wasm::{
    CALLS, Direct, Shared, bundle, cached_runtime, compile_and_instantiate, count, module_bytes,
    runtime,
};
use polyplug_benches::wasmtime;

const DRAIN: Duration = Duration::from_secs(10);

fn wasm_call(c: &mut Criterion) {
    let bytes = module_bytes().unwrap();
    let direct = Direct::new(&bytes).unwrap();
    let runtime = runtime().unwrap();
    assert_eq!(direct.count(CALLS).unwrap(), CALLS);
    assert_eq!(count(&runtime, CALLS).unwrap(), CALLS);
    let mut group = c.benchmark_group("wasm_call");
    group.throughput(Throughput::Elements(u64::from(CALLS)));
    group.bench_function("wasmi", |b| {
        b.iter(|| direct.count(black_box(CALLS)).unwrap())
    });
    group.bench_function("polyplug", |b| {
        b.iter(|| count(&runtime, black_box(CALLS)).unwrap());
    });
    group.finish();
}

fn wasm_lifecycle(c: &mut Criterion) {
    let bytes = module_bytes().unwrap();
    let dir = bundle();
    let runtime = runtime().unwrap();
    let id = runtime.bundle_id("wasm-add").unwrap();
    runtime.unload_bundle(id).unwrap();
    runtime.drain(DRAIN).unwrap();
    let mut group = c.benchmark_group("wasm_lifecycle");
    group.bench_function("wasmi", |b| {
        b.iter(|| compile_and_instantiate(black_box(&bytes)).unwrap());
    });
    // load alone (the unload is not timed).
    group.bench_function("load", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let id = runtime.load_bundle(&dir).unwrap();
                total += start.elapsed();
                runtime.unload_bundle(id).unwrap();
                runtime.drain(DRAIN).unwrap();
            }
            total
        });
    });
    // reload + drain: the new module compiled and instantiated, the old
    // one dropped.
    let id = runtime.load_bundle(&dir).unwrap();
    group.bench_function("reload", |b| {
        b.iter(|| {
            runtime.reload_bundle(id, None).unwrap();
            runtime.drain(DRAIN).unwrap();
        });
    });
    runtime.unload_bundle(id).unwrap();
    runtime.drain(DRAIN).unwrap();
    // The same two with the loader's module cache: compiling is skipped,
    // instantiating, the start function, polyplug_init and registering
    // are not.
    let cached = cached_runtime().unwrap();
    let id = cached.bundle_id("wasm-add").unwrap();
    cached.unload_bundle(id).unwrap();
    cached.drain(DRAIN).unwrap();
    group.bench_function("load_cached", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let id = cached.load_bundle(&dir).unwrap();
                total += start.elapsed();
                cached.unload_bundle(id).unwrap();
                cached.drain(DRAIN).unwrap();
            }
            total
        });
    });
    let id = cached.load_bundle(&dir).unwrap();
    group.bench_function("reload_cached", |b| {
        b.iter(|| {
            cached.reload_bundle(id, None).unwrap();
            cached.drain(DRAIN).unwrap();
        });
    });
    group.finish();
}

/// `threads` threads each count `iters` calls with the counter `make`
/// gives them (made before the clock starts); the slowest one's time.
fn threaded<C: FnMut(u32)>(threads: usize, iters: u64, make: impl Fn() -> C + Sync) -> Duration {
    let start = Barrier::new(threads);
    let calls = u32::try_from(iters).unwrap_or(u32::MAX);
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut counter = make();
                    start.wait();
                    let began = Instant::now();
                    counter(calls);
                    began.elapsed()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap())
            .max()
            .unwrap()
    })
}

fn wasm_scaling(c: &mut Criterion) {
    let runtime = runtime().unwrap();
    let shared = Shared::new(&module_bytes().unwrap()).unwrap();
    let mut group = c.benchmark_group("wasm_scaling");
    for threads in [1usize, 2] {
        group.throughput(Throughput::Elements(threads as u64));
        group.bench_function(BenchmarkId::new("polyplug", threads), |b| {
            b.iter_custom(|iters| {
                threaded(threads, iters, || {
                    // The thread's wasm instance is made before the clock starts.
                    count(&runtime, 1).unwrap();
                    |n| {
                        count(&runtime, n).unwrap();
                    }
                })
            });
        });
        group.bench_function(BenchmarkId::new("wasmi", threads), |b| {
            b.iter_custom(|iters| {
                threaded(threads, iters, || {
                    let direct = shared.instance().unwrap();
                    move |n| {
                        direct.count(n).unwrap();
                    }
                })
            });
        });
    }
    group.finish();
}

/// The call, lifecycle and scaling arms again on wasmtime, each against
/// wasmtime used directly.
fn wasmtime_arms(c: &mut Criterion) {
    let bytes = module_bytes().unwrap();
    let direct = wasmtime::Direct::new(&bytes).unwrap();
    let runtime = wasmtime::runtime().unwrap();
    assert_eq!(direct.count(CALLS).unwrap(), CALLS);
    assert_eq!(count(&runtime, CALLS).unwrap(), CALLS);
    let mut group = c.benchmark_group("wasmtime_call");
    group.throughput(Throughput::Elements(u64::from(CALLS)));
    group.bench_function("wasmtime", |b| {
        b.iter(|| direct.count(black_box(CALLS)).unwrap())
    });
    group.bench_function("polyplug", |b| {
        b.iter(|| count(&runtime, black_box(CALLS)).unwrap());
    });
    group.finish();

    let dir = bundle();
    let id = runtime.bundle_id("wasm-add").unwrap();
    runtime.unload_bundle(id).unwrap();
    runtime.drain(DRAIN).unwrap();
    let engine = wasmtime::engine().unwrap();
    let mut group = c.benchmark_group("wasmtime_lifecycle");
    group.bench_function("wasmtime", |b| {
        b.iter(|| wasmtime::compile_and_instantiate(&engine, black_box(&bytes)).unwrap());
    });
    group.bench_function("load", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let id = runtime.load_bundle(&dir).unwrap();
                total += start.elapsed();
                runtime.unload_bundle(id).unwrap();
                runtime.drain(DRAIN).unwrap();
            }
            total
        });
    });
    let id = runtime.load_bundle(&dir).unwrap();
    group.bench_function("reload", |b| {
        b.iter(|| {
            runtime.reload_bundle(id, None).unwrap();
            runtime.drain(DRAIN).unwrap();
        });
    });
    group.finish();

    let shared = wasmtime::Shared::new(&bytes).unwrap();
    let mut group = c.benchmark_group("wasmtime_scaling");
    for threads in [1usize, 2] {
        group.throughput(Throughput::Elements(threads as u64));
        group.bench_function(BenchmarkId::new("polyplug", threads), |b| {
            b.iter_custom(|iters| {
                threaded(threads, iters, || {
                    // The thread's wasm instance is made before the clock starts.
                    count(&runtime, 1).unwrap();
                    |n| {
                        count(&runtime, n).unwrap();
                    }
                })
            });
        });
        group.bench_function(BenchmarkId::new("wasmtime", threads), |b| {
            b.iter_custom(|iters| {
                threaded(threads, iters, || {
                    let direct = shared.instance().unwrap();
                    move |n| {
                        direct.count(n).unwrap();
                    }
                })
            });
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    targets = wasm_call, wasm_lifecycle, wasm_scaling, wasmtime_arms
}
criterion_main!(benches);
