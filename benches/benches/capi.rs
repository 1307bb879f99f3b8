//! The C API against raw `dlsym` and against the Rust API, in one run: every
//! arm of `polyplug_benches::capi`. Call arms count to a million (one
//! element is one call); find arms look `test.add` up 1,000 times (one
//! element is one lookup).
#![expect(
    clippy::unwrap_used,
    reason = "a benchmark whose setup fails must stop"
)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use polyplug_benches::capi::{CapiArm, CapiSetup, FINDS};
use polyplug_benches::counter::COUNT;

fn capi(c: &mut Criterion) {
    let setup = CapiSetup::new().unwrap();
    for (group, calls) in [("capi_call", true), ("capi_find", false)] {
        let n = if calls { COUNT } else { FINDS };
        let mut group = c.benchmark_group(group);
        group.throughput(Throughput::Elements(u64::from(n)));
        for arm in CapiArm::ALL.into_iter().filter(|a| a.is_call() == calls) {
            assert_eq!(setup.run(arm, n).unwrap(), n, "{arm:?} counts");
            group.bench_function(arm.id(), |b| {
                b.iter(|| setup.run(arm, black_box(n)).unwrap());
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = capi
}
criterion_main!(benches);
