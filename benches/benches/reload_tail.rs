//! Where a native reload's latency tail comes from: the writer's own work,
//! `dlclose`, or waiting for a processor.
//!
//! For every timed step this records the wall time and, from
//! `/proc/thread-self/schedstat` (Linux), the writer thread's time on a
//! processor and its time runnable but waiting in the run queue; the rest
//! of the wall time is time blocked (a lock, IO, a page fault that sleeps).
//! It prints percentiles of each, and for the slowest 1% of steps how
//! their wall time splits into the three.
//!
//! Arms, each `STEPS` steps back to back, as the demo's writer reloads:
//!
//! - `reload`: `Runtime::reload_bundle` of `reload-v1`/`reload-v2` in turn
//!   (its write ends by closing the libraries drained so far), with 0 and
//!   with `DISPATCHERS` reader threads calling the contract in a loop;
//! - the loader's phases of one native reload under the same readers:
//!   `Bundle::open` (read, digest), `NativeLibrary::open` (private copy,
//!   `dlopen`, ABI check) and `NativeLibrary::close` (`dlclose`, unmap
//!   check).
//!
//! Run: `cargo bench -p polyplug-benches --bench reload_tail`.
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a benchmark whose setup fails must stop"
)]

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use polyplug::{Runtime, Version};
use polyplug_loader::{Bundle, NativeLibrary, ScratchDir};

/// Steps per arm.
const STEPS: usize = 2000;
/// Reader threads in the loaded arms (the demo's 2 on 2 cores).
const DISPATCHERS: usize = 2;
const V1: Version = Version::new(1, 0, 0);
type VersionFn = extern "C" fn() -> u32;

/// The calling thread's time on a processor and time waiting to run, in
/// nanoseconds, since it started (`/proc/thread-self/schedstat`).
fn schedstat() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let mut fields = text
        .split_whitespace()
        .map(|f| f.parse::<u64>().unwrap_or(0));
    (fields.next().unwrap_or(0), fields.next().unwrap_or(0))
}

/// One timed step: wall, on a processor, waiting in the run queue.
#[derive(Clone, Copy)]
struct Sample {
    wall: u64,
    on_cpu: u64,
    run_queue: u64,
}

impl Sample {
    fn blocked(&self) -> u64 {
        self.wall.saturating_sub(self.on_cpu + self.run_queue)
    }
}

/// Times `step` once.
fn timed(step: impl FnOnce()) -> Sample {
    let (cpu0, wait0) = schedstat();
    let start = Instant::now();
    step();
    let wall = start.elapsed();
    let (cpu1, wait1) = schedstat();
    Sample {
        wall: u64::try_from(wall.as_nanos()).unwrap_or(u64::MAX),
        on_cpu: cpu1.saturating_sub(cpu0),
        run_queue: wait1.saturating_sub(wait0),
    }
}

fn us(ns: u64) -> String {
    format!("{:.0}", ns as f64 / 1000.0)
}

/// Nearest-rank percentile of sorted `values`.
fn percentile(sorted: &[u64], p: usize) -> u64 {
    let rank = (sorted.len() * p).div_ceil(100).max(1);
    sorted[rank - 1]
}

fn report(name: &str, samples: &[Sample]) {
    let column = |f: fn(&Sample) -> u64| {
        let mut v: Vec<u64> = samples.iter().map(f).collect();
        v.sort_unstable();
        format!(
            "p50 {:>6} p90 {:>6} p99 {:>6} max {:>6}",
            us(percentile(&v, 50)),
            us(percentile(&v, 90)),
            us(percentile(&v, 99)),
            us(*v.last().unwrap())
        )
    };
    println!("{name} ({} steps, µs)", samples.len());
    println!("  wall       {}", column(|s| s.wall));
    println!("  on cpu     {}", column(|s| s.on_cpu));
    println!("  run queue  {}", column(|s| s.run_queue));
    println!("  blocked    {}", column(Sample::blocked));
    let mut walls: Vec<u64> = samples.iter().map(|s| s.wall).collect();
    walls.sort_unstable();
    let p99 = percentile(&walls, 99);
    let tail: Vec<&Sample> = samples.iter().filter(|s| s.wall >= p99).collect();
    let sum = |f: fn(&Sample) -> u64| tail.iter().map(|s| f(s)).sum::<u64>() as f64;
    let wall = sum(|s| s.wall).max(1.0);
    println!(
        "  slowest {} (wall >= p99): {:.0}% on cpu, {:.0}% run queue, {:.0}% blocked",
        tail.len(),
        100.0 * sum(|s| s.on_cpu) / wall,
        100.0 * sum(|s| s.run_queue) / wall,
        100.0 * sum(Sample::blocked) / wall,
    );
}

/// Runs `DISPATCHERS` readers (or none) calling `reload.test`'s `version`
/// while `writer` runs on this thread.
fn with_readers<T>(runtime: &Runtime, readers: usize, writer: impl FnOnce() -> T) -> T {
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        for _ in 0..readers {
            s.spawn(|| {
                let reader = runtime.reader();
                // Relaxed: the flag only ends the loop.
                while !stop.load(Ordering::Relaxed) {
                    let guard = reader.pin();
                    let version = guard
                        .find("reload.test", V1)
                        .unwrap()
                        .typed::<VersionFn>("version")
                        .unwrap();
                    let answer = black_box(version).call();
                    if answer != 100 && answer != 200 {
                        panic!("torn answer {answer}");
                    }
                }
            });
        }
        let result = writer();
        // Relaxed: see above; the scope joins the readers.
        stop.store(true, Ordering::Relaxed);
        result
    })
}

fn main() {
    let v1 = polyplug_fixtures::bundle("reload-v1");
    let v2 = polyplug_fixtures::bundle("reload-v2");
    let runtime = Runtime::new().unwrap();
    let id = runtime.load_bundle(&v1).unwrap();
    let reload_arm = |readers: usize| {
        with_readers(&runtime, readers, || {
            (0..STEPS)
                .map(|n| {
                    let from = if n % 2 == 0 { &v2 } else { &v1 };
                    timed(|| runtime.reload_bundle(id, Some(from)).unwrap())
                })
                .collect::<Vec<_>>()
        })
    };
    // Warm up once, then the arms.
    for n in 0..100 {
        let from = if n % 2 == 0 { &v2 } else { &v1 };
        runtime.reload_bundle(id, Some(from)).unwrap();
    }
    report("reload, 0 readers", &reload_arm(0));
    report(
        &format!("reload, {DISPATCHERS} readers"),
        &reload_arm(DISPATCHERS),
    );

    // The loader's phases, under the same readers.
    let scratch = ScratchDir::new().unwrap();
    let (bundles, opens, closes) = with_readers(&runtime, DISPATCHERS, || {
        let mut bundles = Vec::with_capacity(STEPS);
        let mut opens = Vec::with_capacity(STEPS);
        let mut closes = Vec::with_capacity(STEPS);
        for n in 0..STEPS {
            let dir = if n % 2 == 0 { &v2 } else { &v1 };
            let mut bundle = None;
            bundles.push(timed(|| bundle = Some(Bundle::open(dir).unwrap())));
            let bundle = bundle.unwrap();
            let mut library = None;
            opens.push(timed(|| {
                library = Some(NativeLibrary::open(&bundle, &scratch).unwrap());
            }));
            let library = library.unwrap();
            closes.push(timed(|| {
                black_box(library.close());
            }));
        }
        (bundles, opens, closes)
    });
    report(&format!("Bundle::open, {DISPATCHERS} readers"), &bundles);
    report(
        &format!("NativeLibrary::open, {DISPATCHERS} readers"),
        &opens,
    );
    report(
        &format!("NativeLibrary::close, {DISPATCHERS} readers"),
        &closes,
    );
    runtime.unload_bundle(id).unwrap();
    runtime.drain(Duration::from_secs(10)).unwrap();
}
