//! load_bundle, reload_bundle and unload_bundle of the test plugin, beside
//! the bare cycle of `dlopen` + `dlsym` + init + `dlclose` of the same
//! library, in one run. Every runtime arm ends with its old library closed
//! (`Runtime::drain`), as the bare cycle ends with `dlclose`.
#![expect(
    clippy::unwrap_used,
    reason = "a benchmark whose setup fails must stop"
)]

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use polyplug::Runtime;
use polyplug_benches::bare::BareCycle;

const DRAIN: Duration = Duration::from_secs(10);

fn lifecycle(c: &mut Criterion) {
    let mut group = c.benchmark_group("lifecycle");
    let bare = BareCycle::new("test-add");
    group.bench_function("bare_cycle", |b| b.iter(|| bare.run().unwrap()));

    let bundle = polyplug_fixtures::bundle("test-add");
    let runtime = Runtime::new().unwrap();
    // load + unload + drain: one open and one close, as the bare cycle.
    group.bench_function("load_unload", |b| {
        b.iter(|| {
            let id = runtime.load_bundle(&bundle).unwrap();
            runtime.unload_bundle(id).unwrap();
            runtime.drain(DRAIN).unwrap();
        });
    });
    // load alone (the unload is not timed).
    group.bench_function("load", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let id = runtime.load_bundle(&bundle).unwrap();
                total += start.elapsed();
                runtime.unload_bundle(id).unwrap();
                runtime.drain(DRAIN).unwrap();
            }
            total
        });
    });
    // unload + drain alone (the load is not timed).
    group.bench_function("unload", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let id = runtime.load_bundle(&bundle).unwrap();
                let start = Instant::now();
                runtime.unload_bundle(id).unwrap();
                runtime.drain(DRAIN).unwrap();
                total += start.elapsed();
            }
            total
        });
    });
    // reload + drain: the new library opened, the old one closed.
    let id = runtime.load_bundle(&bundle).unwrap();
    group.bench_function("reload", |b| {
        b.iter(|| {
            runtime.reload_bundle(id, None).unwrap();
            runtime.drain(DRAIN).unwrap();
        });
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    targets = lifecycle
}
criterion_main!(benches);
