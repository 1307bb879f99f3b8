//! find, find with a key made once (`Guard::find_key`), resolve
//! (`Guard::get`) and find_all with 10, 100, 1,000 and
//! 10,000 contracts loaded, and the cost of a revision check. Flat is the
//! goal: the runtime indexes contracts by id.
#![expect(
    clippy::unwrap_used,
    reason = "a benchmark whose setup fails must stop"
)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use polyplug::ContractKey;
use polyplug_benches::registry::{V1, name, with_contracts};

const SIZES: [usize; 4] = [10, 100, 1_000, 10_000];

fn registry(c: &mut Criterion) {
    let mut group = c.benchmark_group("registry");
    for n in SIZES {
        let runtime = with_contracts(n).unwrap();
        let reader = runtime.reader();
        let guard = reader.pin();
        // The contract in the middle of the registration order.
        let target = name(n / 2);
        let handle = guard.find(&target, V1).unwrap().handle();
        group.bench_function(BenchmarkId::new("find", n), |b| {
            b.iter(|| guard.find(black_box(&target), V1).unwrap().handle());
        });
        let key = ContractKey::new(&target, V1);
        group.bench_function(BenchmarkId::new("find_key", n), |b| {
            b.iter(|| guard.find_key(black_box(&key)).unwrap().handle());
        });
        group.bench_function(BenchmarkId::new("resolve", n), |b| {
            b.iter(|| guard.get(black_box(handle)).unwrap().version());
        });
        group.bench_function(BenchmarkId::new("find_all", n), |b| {
            b.iter(|| guard.find_all(black_box(&target), V1).count());
        });
        group.bench_function(BenchmarkId::new("revision", n), |b| {
            b.iter(|| black_box(&guard).revision());
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = registry
}
criterion_main!(benches);
