//! Count to a million through every arm of `polyplug_benches::counter`, in
//! one run, so each arm's ratio to its baseline comes from one machine
//! state. Throughput is in elements: one element is one call.
#![expect(
    clippy::unwrap_used,
    reason = "a benchmark whose setup fails must stop"
)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use polyplug_benches::counter::{Arm, COUNT, Setup};

fn counter_inc(c: &mut Criterion) {
    let setup = Setup::new().unwrap();
    let mut group = c.benchmark_group("counter_inc");
    group.throughput(Throughput::Elements(u64::from(COUNT)));
    for arm in Arm::ALL {
        assert_eq!(setup.run(arm, COUNT).unwrap(), COUNT, "{arm:?} counts");
        group.bench_function(arm.id(), |b| {
            b.iter(|| setup.run(arm, black_box(COUNT)).unwrap());
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = counter_inc
}
criterion_main!(benches);
