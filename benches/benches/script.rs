//! Lua, JavaScript and Python through polyplug against mlua, rquickjs and
//! pyo3 used directly on the same script, in one run: a typed call, and
//! (Lua and JavaScript) two calling threads against one. See `polyplug_benches::script` for the arms.
#![expect(
    clippy::unwrap_used,
    reason = "a benchmark whose setup fails must stop"
)]

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use polyplug_benches::script::{CALLS, JsDirect, Language, LuaDirect, PyDirect, count, runtime};

/// A language's baseline counter, made on the thread that uses it (the
/// states are not `Send`).
enum Direct {
    Lua(LuaDirect),
    Js(JsDirect),
    Py(PyDirect),
}

impl Direct {
    fn new(language: Language) -> Direct {
        match language {
            Language::Lua => Direct::Lua(LuaDirect::new().unwrap()),
            Language::Js => Direct::Js(JsDirect::new().unwrap()),
            Language::Py => Direct::Py(PyDirect::new().unwrap()),
        }
    }

    fn count(&self, n: u32) -> u32 {
        match self {
            Direct::Lua(direct) => direct.count(n).unwrap(),
            Direct::Js(direct) => direct.count(n).unwrap(),
            Direct::Py(direct) => direct.count(n).unwrap(),
        }
    }
}

fn script_call(c: &mut Criterion) {
    for language in Language::ALL {
        let direct = Direct::new(language);
        let loaded = runtime(language).unwrap();
        let runtime = loaded.runtime();
        assert_eq!(direct.count(CALLS), CALLS);
        assert_eq!(count(runtime, CALLS).unwrap(), CALLS);
        let mut group = c.benchmark_group(format!("{}_call", language.id()));
        group.throughput(Throughput::Elements(u64::from(CALLS)));
        group.bench_function(language.baseline(), |b| {
            b.iter(|| direct.count(black_box(CALLS)));
        });
        if let Direct::Py(direct) = &direct {
            group.bench_function("pyo3_attach", |b| {
                b.iter(|| direct.count_attached(black_box(CALLS)).unwrap());
            });
        }
        group.bench_function("polyplug", |b| {
            b.iter(|| count(runtime, black_box(CALLS)).unwrap());
        });
        group.finish();
    }
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

fn script_scaling(c: &mut Criterion) {
    for language in Language::SCALING {
        let loaded = runtime(language).unwrap();
        let runtime = loaded.runtime();
        let mut group = c.benchmark_group(format!("{}_scaling", language.id()));
        for threads in [1usize, 2] {
            group.throughput(Throughput::Elements(threads as u64));
            group.bench_function(BenchmarkId::new("polyplug", threads), |b| {
                b.iter_custom(|iters| {
                    threaded(threads, iters, || {
                        // The thread's script state is made before the
                        // clock starts.
                        count(runtime, 1).unwrap();
                        |n| {
                            count(runtime, n).unwrap();
                        }
                    })
                });
            });
            group.bench_function(BenchmarkId::new(language.baseline(), threads), |b| {
                b.iter_custom(|iters| {
                    threaded(threads, iters, || {
                        let direct = Direct::new(language);
                        move |n| {
                            direct.count(n);
                        }
                    })
                });
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    targets = script_call, script_scaling
}
criterion_main!(benches);
