//! `polyplug stress`: reloads a bundle K times, alternating with another
//! version of it, while N threads call every typed function it can call.
//!
//! Dispatchers keep the contracts' handles, pin a guard per round, and call
//! each callable typed function once ([`crate::caller`]). A handle that
//! goes stale, a function that disappears or changes its signature, and a
//! reload that fails are all failures; so is a library that is still open
//! once everything is unloaded. The verdict is PASS only with none.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use polyplug::{ContractHandle, FindError, Runtime};
use polyplug_loader::Bundle;

use crate::caller::{Caller, caller_for};
use crate::error::CliError;
use crate::inspect::contracts_of;
use crate::report::{self, Latencies, Progress};

/// Arguments of `polyplug stress`.
#[derive(Debug, clap::Args)]
pub(crate) struct StressArgs {
    /// The bundle to load first.
    bundle: PathBuf,
    /// The bundle to reload with, in turn with the first: another version
    /// of the same bundle (the same bundle name).
    #[arg(long, value_name = "BUNDLE")]
    reload_with: PathBuf,
    /// Dispatcher threads (default: one per core, at least 2).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Reloads to do.
    #[arg(long, value_name = "K", default_value_t = 100)]
    reloads: u64,
}

/// One typed function the dispatchers call.
#[derive(Debug, Clone)]
struct Target {
    handle: ContractHandle,
    function: String,
    caller: Caller,
}

/// Counters shared by the dispatchers and the reloader. Every access is
/// Relaxed: they are counters that publish no other memory, and the totals
/// are read after `thread::scope` joined the dispatchers.
#[derive(Debug, Default)]
struct Counts {
    calls: AtomicU64,
    call_errors: AtomicU64,
    stale: AtomicU64,
    reloads_ok: AtomicU64,
    reloads_failed: AtomicU64,
    /// Relaxed: only ends the dispatchers' loops; publishes no data.
    stop: AtomicBool,
    first_error: Mutex<Option<String>>,
}

impl Counts {
    fn note(&self, message: String) {
        self.first_error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get_or_insert(message);
    }
}

pub(crate) fn run(args: &StressArgs) -> Result<(), CliError> {
    let threads = args.threads.unwrap_or_else(report::default_threads).max(1);
    let first = Bundle::open(&args.bundle).map_err(polyplug::LoadError::from)?;
    let second = Bundle::open(&args.reload_with).map_err(polyplug::LoadError::from)?;
    let name = first.name().as_str().to_owned();
    if second.name().as_str() != name {
        return Err(CliError::Argument(format!(
            "{} is bundle {}, not another version of bundle {name}: a reload must keep the bundle name",
            args.reload_with.display(),
            second.name().as_str()
        )));
    }
    let versions = [first.manifest().version, second.manifest().version];
    let (runtime, _) = crate::scratch::runtime()?;
    let id = runtime.load_bundle(&args.bundle)?;

    let mut targets = Vec::new();
    let mut handles = Vec::new();
    let mut skipped = Vec::new();
    for contract in contracts_of(&runtime, id) {
        handles.push(contract.handle);
        for (function, signature) in &contract.typed {
            match caller_for(signature) {
                Some(caller) => targets.push(Target {
                    handle: contract.handle,
                    function: function.clone(),
                    caller,
                }),
                None => skipped.push(format!("typed {}.{function} {signature}", contract.name)),
            }
        }
        skipped.extend(
            contract
                .native
                .iter()
                .map(|f| format!("native {}.{f}", contract.name)),
        );
        println!("calling   {}", {
            let callable: Vec<String> = contract
                .typed
                .iter()
                .filter(|(_, s)| caller_for(s).is_some())
                .map(|(f, s)| format!("{f} {s}"))
                .collect();
            format!(
                "{} {}: {}",
                contract.name,
                contract.version,
                if callable.is_empty() {
                    "-".to_owned()
                } else {
                    callable.join(", ")
                }
            )
        });
    }
    if !skipped.is_empty() {
        println!(
            "skipped   {} (native functions take contract-specific argument structs, and typed ones \
             outside T(), T(T), T(T,T), void(T) for an integer T, cannot be called generically)",
            skipped.join(", ")
        );
    }
    println!(
        "stress    bundle {name} {} <-> {}, {threads} threads, {} reloads\n",
        versions[0], versions[1], args.reloads
    );

    let counts = Counts::default();
    let latencies = Mutex::new(Latencies::default());
    let dirs = [&args.bundle, &args.reload_with];
    let started = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            let (runtime, counts, targets, handles) = (&runtime, &counts, &targets, &handles);
            s.spawn(move || dispatch(runtime, targets, handles, counts, t));
        }
        // Let the dispatchers make calls before the first reload.
        // Relaxed: a counter; seeing it non-zero publishes nothing.
        while !targets.is_empty()
            && counts.calls.load(Ordering::Relaxed)
                + counts.call_errors.load(Ordering::Relaxed)
                + counts.stale.load(Ordering::Relaxed)
                == 0
        {
            std::thread::yield_now();
        }
        let mut progress = Progress::new();
        let mut shown = Instant::now();
        let mut last_calls = 0u64;
        for i in 0..args.reloads {
            let from = dirs[usize::from(i % 2 == 0)];
            let begin = Instant::now();
            match runtime.reload_bundle(id, Some(from)) {
                Ok(()) => {
                    let latency = begin.elapsed();
                    latencies
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .record(latency);
                    // Relaxed: a counter; see `Counts`.
                    counts.reloads_ok.fetch_add(1, Ordering::Relaxed);
                }
                Err(error) => {
                    // Relaxed: a counter; see `Counts`.
                    counts.reloads_failed.fetch_add(1, Ordering::Relaxed);
                    counts.note(format!("reload {} from {}: {error}", i + 1, from.display()));
                }
            }
            if shown.elapsed() >= progress.interval() || i + 1 == args.reloads {
                // Relaxed: a counter, for the progress line.
                let calls = counts.calls.load(Ordering::Relaxed);
                let line = bar(
                    i + 1,
                    args.reloads,
                    report::rate(calls - last_calls, shown.elapsed()),
                    &counts,
                );
                progress.show(&line);
                shown = Instant::now();
                last_calls = calls;
            }
        }
        progress.finish();
        // Relaxed: see `Counts::stop`; the scope's join orders the rest.
        counts.stop.store(true, Ordering::Relaxed);
    });
    let elapsed = started.elapsed();
    runtime.unload_bundle(id)?;
    runtime
        .drain(Duration::from_secs(10))
        .map_err(|_| CliError::Drain { seconds: 10 })?;
    let stats = runtime.library_stats();
    let latencies = latencies
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);

    // Relaxed: read after the scope joined every dispatcher.
    let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let (ok, failed) = (load(&counts.reloads_ok), load(&counts.reloads_failed));
    let (calls, call_errors, stale) = (
        load(&counts.calls),
        load(&counts.call_errors),
        load(&counts.stale),
    );
    let leaked = stats.opened != stats.closed;
    println!(
        "\nreloads         {} ok, {} failed",
        report::count(ok),
        report::count(failed)
    );
    println!(
        "calls           {} in {:.1} s ({}), {} call errors, {} stale handles",
        report::count(calls),
        elapsed.as_secs_f64(),
        report::rate(calls, elapsed),
        report::count(call_errors),
        report::count(stale)
    );
    println!("libraries       {}", report::libraries(&stats));
    println!("reload latency  {}", latencies.summary());
    if stats.still_mapped > 0 {
        println!(
            "warning: {} libraries stayed mapped after dlclose (see SAFETY.md, \"Library unmapping\")",
            stats.still_mapped
        );
    }
    if failed == 0 && call_errors == 0 && stale == 0 && !leaked {
        println!("verdict         PASS");
        Ok(())
    } else {
        println!("verdict         FAIL");
        if leaked {
            counts.note(format!(
                "{} libraries opened, {} closed: some stayed open after unload",
                stats.opened, stats.closed
            ));
        }
        let first = counts
            .first_error
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        eprintln!("error: first failure: {}", first.unwrap_or_default());
        Err(CliError::Reported)
    }
}

/// `[##########----------]  50/100 reloads  1.2M calls/s  0 errors`.
fn bar(done: u64, total: u64, rate: String, counts: &Counts) -> String {
    const WIDTH: u64 = 24;
    let filled = (done * WIDTH).checked_div(total).unwrap_or(WIDTH);
    let filled = usize::try_from(filled).unwrap_or(0);
    let empty = usize::try_from(WIDTH).unwrap_or(0).saturating_sub(filled);
    // Relaxed: counters, for the progress line.
    let errors = counts.call_errors.load(Ordering::Relaxed)
        + counts.stale.load(Ordering::Relaxed)
        + counts.reloads_failed.load(Ordering::Relaxed);
    format!(
        "[{}{}] {done:>6}/{total} reloads  calls {rate:>9}  errors {errors}",
        "#".repeat(filled),
        "-".repeat(empty)
    )
}

/// Until `stop`: pins a guard per round and calls every target once.
/// Without callable targets it still resolves every handle.
fn dispatch(
    runtime: &Runtime,
    targets: &[Target],
    handles: &[ContractHandle],
    counts: &Counts,
    thread: usize,
) {
    let reader = runtime.reader();
    let mut seed = u64::try_from(thread).unwrap_or(0) * 7919;
    // Relaxed: see `Counts::stop`.
    while !counts.stop.load(Ordering::Relaxed) {
        let (mut calls, mut errors, mut stale) = (0u64, 0u64, 0u64);
        for _ in 0..256 {
            let guard = reader.pin();
            for target in targets {
                match guard.get(target.handle) {
                    Ok(contract) => match (target.caller)(&contract, &target.function, seed) {
                        Ok(()) => calls += 1,
                        Err(error) => {
                            errors += 1;
                            counts.note(error.to_string());
                        }
                    },
                    Err(error @ FindError::Stale { .. }) => {
                        stale += 1;
                        counts.note(error.to_string());
                    }
                    Err(error) => {
                        errors += 1;
                        counts.note(error.to_string());
                    }
                }
            }
            if targets.is_empty() {
                for handle in handles {
                    if guard.get(*handle).is_err() {
                        stale += 1;
                    }
                }
            }
            seed = seed.wrapping_add(1);
        }
        // Relaxed: counters; see `Counts`.
        counts.calls.fetch_add(calls, Ordering::Relaxed);
        counts.call_errors.fetch_add(errors, Ordering::Relaxed);
        counts.stale.fetch_add(stale, Ordering::Relaxed);
    }
}
