//! `polyplug demo`: the example plugins in Rust, C, C++, Rust built for
//! WebAssembly, Lua, JavaScript and Python, hot-reloaded again and again
//! while dispatcher threads call them.
//!
//! Each dispatcher pins a guard per round and, for every plugin, calls the
//! typed `version()` and `step(x)` and, for the native plugins, the native
//! `step`, all through one contract table (a wasm module or a script has
//! no native functions). Within one guard the table cannot change, so the
//! answers must agree: `step(x) == x + version()` from every path. Any
//! disagreement, failed call, stale handle or failed reload is an error;
//! so is a library left open, or a wasm module or instance, a script load,
//! a Lua or JavaScript state, a Python module or a dispatcher's Python
//! thread state left alive, at the end. The command exits 1 on any error.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use polyplug::{BundleId, ContractHandle, ContractRef, Guard, Provider, Runtime};
use polyplug_examples::{
    Build, CONTRACT, CONTRACT_VERSION, JS_PLUGIN, LUA_PLUGIN, Language, PLUGINS, PYTHON_PLUGIN,
    Plugin, StepArgs, WASM_PLUGIN,
};

use crate::error::CliError;
use crate::report::{self, Latencies, Progress, Table};

/// Arguments of `polyplug demo`.
#[derive(Debug, clap::Args)]
pub(crate) struct DemoArgs {
    /// Run for this many seconds (default 10, unless --reloads is given).
    #[arg(long, value_name = "N")]
    seconds: Option<f64>,
    /// Stop after this many reloads.
    #[arg(long, value_name = "K")]
    reloads: Option<u64>,
    /// Dispatcher threads (default: one per core, at least 2).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
}

/// The example plugins the demo runs: the native ones, the wasm one, then
/// the Lua, JavaScript and Python ones.
const ALL: [Plugin; 7] = [
    PLUGINS[0],
    PLUGINS[1],
    PLUGINS[2],
    WASM_PLUGIN,
    LUA_PLUGIN,
    JS_PLUGIN,
    PYTHON_PLUGIN,
];

/// Dispatcher rounds between two flushes of a thread's counts.
const ROUNDS_PER_FLUSH: u32 = 256;

/// How long the end of the demo waits for retired versions to drain.
const DRAIN_SECONDS: u64 = 10;

/// The counts of one plugin. Every access is Relaxed: these are counters
/// and a bit set that publish no other memory; the final totals are read
/// after `thread::scope` joined the dispatchers, which orders everything
/// they did before the reads.
#[derive(Debug, Default)]
struct Tally {
    calls: AtomicU64,
    errors: AtomicU64,
    reloads: AtomicU64,
    /// Bit `n` set: some call answered `version() == n`.
    versions: AtomicU32,
}

/// One loaded plugin: its example, its bundle, and its contract's handle.
#[derive(Debug)]
struct Loaded {
    plugin: Plugin,
    id: BundleId,
    handle: ContractHandle,
    serving: Build,
}

/// What every thread shares.
#[derive(Debug, Default)]
struct Shared {
    tallies: [Tally; ALL.len()],
    /// Relaxed: only ends the dispatchers' loops; publishes no data.
    stop: AtomicBool,
    latencies: Mutex<Latencies>,
    reload_failures: AtomicU64,
    first_error: Mutex<Option<String>>,
}

impl Shared {
    fn note_error(&self, message: String) {
        let mut first = self
            .first_error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        first.get_or_insert(message);
    }

    // The totals below load Relaxed: counters for display; see `Tally`.
    fn total_calls(&self) -> u64 {
        self.tallies
            .iter()
            .map(|t| t.calls.load(Ordering::Relaxed))
            .sum()
    }

    fn total_errors(&self) -> u64 {
        self.tallies
            .iter()
            .map(|t| t.errors.load(Ordering::Relaxed))
            .sum::<u64>()
            + self.reload_failures.load(Ordering::Relaxed)
    }

    /// The calls of each plugin so far.
    fn calls(&self) -> [u64; ALL.len()] {
        std::array::from_fn(|i| self.tallies[i].calls.load(Ordering::Relaxed))
    }

    fn total_reloads(&self) -> u64 {
        self.tallies
            .iter()
            .map(|t| t.reloads.load(Ordering::Relaxed))
            .sum()
    }
}

pub(crate) fn run(args: &DemoArgs) -> Result<(), CliError> {
    let threads = args.threads.unwrap_or_else(report::default_threads).max(1);
    let seconds = match (args.seconds, args.reloads) {
        (Some(s), _) => Some(s.max(0.0)),
        (None, Some(_)) => None,
        (None, None) => Some(10.0),
    };
    let limit = seconds.map(Duration::from_secs_f64);
    let (runtime, engines) = crate::scratch::runtime()?;
    let mut loaded = Vec::with_capacity(ALL.len());
    for plugin in ALL {
        let id = runtime.load_bundle(plugin.dir(Build::V1))?;
        let handle = handle_of(&runtime, plugin.name)?;
        println!(
            "loaded {:<14} {:<10} {}",
            plugin.name,
            plugin.language.to_string(),
            plugin.dir(Build::V1).display()
        );
        loaded.push(Loaded {
            plugin,
            id,
            handle,
            serving: Build::V1,
        });
    }
    let until = match (limit, args.reloads) {
        (Some(l), Some(k)) => format!("{} s or {k} reloads", l.as_secs_f64()),
        (Some(l), None) => format!("{} s", l.as_secs_f64()),
        (None, Some(k)) => format!("{k} reloads"),
        (None, None) => String::new(),
    };
    println!(
        "{threads} dispatcher threads call {CONTRACT} in all {}; reloading v1 <-> v2 for {until}\n",
        ALL.len()
    );

    // Python thread states are the process's, one per calling thread:
    // the loads above kept this thread's. Every one a dispatcher or the
    // final check makes must be freed when its thread exits.
    let python_before = engines.python.get();
    let shared = Shared::default();
    let handles: Vec<(ContractHandle, bool)> = loaded
        .iter()
        .map(|l| (l.handle, l.plugin.language.is_native()))
        .collect();
    let started = Instant::now();
    let mut reload_time = Duration::ZERO;
    std::thread::scope(|s| {
        let mut dispatchers = Vec::with_capacity(threads);
        for t in 0..threads {
            let (runtime, shared, handles) = (&runtime, &shared, &handles);
            dispatchers.push(s.spawn(move || dispatch(runtime, handles, shared, t)));
        }
        let (tick_tx, tick_rx) = channel::<()>();
        let shared_ref = &shared;
        s.spawn(move || {
            let mut progress = Progress::new();
            let mut last = (Instant::now(), [0u64; ALL.len()]);
            while let Err(RecvTimeoutError::Timeout) = tick_rx.recv_timeout(progress.interval()) {
                let now = Instant::now();
                let calls = shared_ref.calls();
                let window: [u64; ALL.len()] = std::array::from_fn(|i| calls[i] - last.1[i]);
                let line = progress_line(shared_ref, &window, now - last.0, started);
                progress.show(&line);
                last = (now, calls);
            }
            progress.finish();
        });

        // Let every plugin answer (or fail) before the first reload.
        // Relaxed: counters; seeing them non-zero publishes nothing.
        while shared
            .tallies
            .iter()
            .any(|t| t.calls.load(Ordering::Relaxed) + t.errors.load(Ordering::Relaxed) == 0)
        {
            std::thread::yield_now();
        }
        let reload_start = Instant::now();
        let mut round = 0usize;
        loop {
            let done_by_time = limit.is_some_and(|l| started.elapsed() >= l);
            let done_by_count = args.reloads.is_some_and(|k| shared.total_reloads() >= k);
            if done_by_time || done_by_count {
                break;
            }
            let target = &mut loaded[round % ALL.len()];
            let tally = &shared.tallies[round % ALL.len()];
            round += 1;
            let next = target.serving.other();
            let begin = Instant::now();
            match runtime.reload_bundle(target.id, Some(&target.plugin.dir(next))) {
                Ok(()) => {
                    let latency = begin.elapsed();
                    target.serving = next;
                    shared
                        .latencies
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .record(latency);
                    // Relaxed: a counter; see `Tally`.
                    tally.reloads.fetch_add(1, Ordering::Relaxed);
                }
                Err(error) => {
                    // Relaxed: a counter; see `Tally`.
                    shared.reload_failures.fetch_add(1, Ordering::Relaxed);
                    shared.note_error(format!("reload of {}: {error}", target.plugin.name));
                }
            }
        }
        reload_time = reload_start.elapsed();
        // Relaxed: see `Shared::stop`; the scope's join orders the rest.
        shared.stop.store(true, Ordering::Relaxed);
        drop(tick_tx);
        // Joined one by one, not by the scope's end: a join returns once
        // the thread has exited, its thread-local destructors (which free
        // its Python thread state) run.
        for dispatcher in dispatchers {
            if dispatcher.join().is_err() {
                shared.note_error("a dispatcher thread panicked".to_owned());
            }
        }
    });
    let elapsed = started.elapsed();

    // Every plugin serves the build the reloads left it on. Asked from a
    // thread of its own: the Lua and JavaScript states and the Python
    // thread state that thread makes are freed when it exits, so none is
    // left for the checks below.
    let stale = std::thread::scope(|s| {
        s.spawn(|| serving_errors(&runtime, &loaded, &shared))
            .join()
            .unwrap_or(1)
    });
    let mut errors = shared.total_errors() + stale;
    for l in &loaded {
        runtime.unload_bundle(l.id)?;
    }
    runtime
        .drain(Duration::from_secs(DRAIN_SECONDS))
        .map_err(|_| CliError::Drain {
            seconds: DRAIN_SECONDS,
        })?;
    let stats = runtime.library_stats();
    if stats.closed != stats.opened {
        errors += 1;
        shared.note_error(format!(
            "{} libraries opened but {} closed after unloading everything",
            stats.opened, stats.closed
        ));
    }
    let modules = engines.wasm.get();
    if modules.modules_alive() != 0 || modules.instances_alive() != 0 {
        errors += 1;
        shared.note_error(format!(
            "{} wasm modules and {} wasm instances alive after unloading everything",
            modules.modules_alive(),
            modules.instances_alive()
        ));
    }
    let lua = engines.lua.get();
    if lua.loads_alive() != 0 || lua.states_alive() != 0 {
        errors += 1;
        shared.note_error(format!(
            "{} Lua loads and {} Lua states alive after unloading everything",
            lua.loads_alive(),
            lua.states_alive()
        ));
    }
    let js = engines.js.get();
    if js.loads_alive() != 0 || js.states_alive() != 0 {
        errors += 1;
        shared.note_error(format!(
            "{} JavaScript loads and {} JavaScript states alive after unloading everything",
            js.loads_alive(),
            js.states_alive()
        ));
    }
    let python = engines.python.get();
    if python.loads_alive() != 0 || python.modules_alive() != 0 {
        errors += 1;
        shared.note_error(format!(
            "{} Python loads and {} Python modules alive after unloading everything",
            python.loads_alive(),
            python.modules_alive()
        ));
    }
    let kept = thread_states_alive(&python_before);
    if thread_states_alive(&python) != kept {
        errors += 1;
        shared.note_error(format!(
            "{} Python thread states alive after the dispatchers exited, {kept} before they started",
            thread_states_alive(&python)
        ));
    }

    let mut table = Table::new(&[
        "plugin",
        "lang",
        "calls",
        "reloads",
        "versions seen",
        "errors",
    ]);
    for (l, tally) in loaded.iter().zip(&shared.tallies) {
        // Relaxed: read after the scope joined every dispatcher.
        let seen = tally.versions.load(Ordering::Relaxed);
        let versions: Vec<String> = (0..32)
            .filter(|bit| seen & (1 << bit) != 0)
            .map(|bit| format!("v{bit}"))
            .collect();
        table.row(vec![
            l.plugin.name.to_owned(),
            l.plugin.language.to_string(),
            report::count(tally.calls.load(Ordering::Relaxed)),
            report::count(tally.reloads.load(Ordering::Relaxed)),
            versions.join(" "),
            report::count(tally.errors.load(Ordering::Relaxed)),
        ]);
    }
    let latencies = shared
        .latencies
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    let calls = shared.total_calls();
    println!("\n{}", table.render());
    println!(
        "calls           {} in {:.1} s ({}) on {threads} dispatcher threads",
        report::count(calls),
        elapsed.as_secs_f64(),
        report::rate(calls, elapsed)
    );
    println!(
        "reloads         {} ({}), {} failed",
        report::count(shared.total_reloads()),
        report::rate(shared.total_reloads(), reload_time),
        // Relaxed: read after the join.
        report::count(shared.reload_failures.load(Ordering::Relaxed))
    );
    println!("reload latency  {}", latencies.summary());
    println!("libraries       {}", report::libraries(&stats));
    println!(
        "wasm            {} modules compiled, {} dropped; {} instances made, {} dropped",
        report::count(modules.modules_compiled),
        report::count(modules.modules_dropped),
        report::count(modules.instances_made),
        report::count(modules.instances_dropped)
    );
    println!(
        "lua             {} loads, {} dropped; {} states made, {} freed",
        report::count(lua.loads),
        report::count(lua.loads_dropped),
        report::count(lua.states_made),
        report::count(lua.states_dropped)
    );
    println!(
        "javascript      {} loads, {} dropped; {} states made, {} freed",
        report::count(js.loads),
        report::count(js.loads_dropped),
        report::count(js.states_made),
        report::count(js.states_freed)
    );
    println!(
        "python          {} loads, {} dropped; {} modules made, {} dropped; {} thread states made, {} freed, {} kept by threads still running",
        report::count(python.loads),
        report::count(python.loads_dropped),
        report::count(python.modules_made),
        report::count(python.modules_dropped),
        report::count(python.thread_states_made),
        report::count(python.thread_states_dropped),
        report::count(thread_states_alive(&python))
    );
    println!("errors          {errors}");
    if errors == 0 {
        println!(
            "\nok: every call saw one whole version, every retired library was closed, every wasm module and script state dropped, every dispatcher's Python thread state freed"
        );
        Ok(())
    } else {
        let first = shared
            .first_error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        eprintln!(
            "error: the demo saw {errors} errors; the first: {}",
            first.unwrap_or_default()
        );
        Err(CliError::Reported)
    }
}

/// Python thread states made and not yet freed, in the whole process.
fn thread_states_alive(stats: &polyplug_python::PythonStats) -> u64 {
    stats
        .thread_states_made
        .saturating_sub(stats.thread_states_dropped)
}

/// How many plugins do not serve the build the reloads left them on.
fn serving_errors(runtime: &Runtime, loaded: &[Loaded], shared: &Shared) -> u64 {
    let reader = runtime.reader();
    let guard = reader.pin();
    let mut errors = 0;
    for l in loaded {
        let answer = guard
            .get(l.handle)
            .map_err(|e| e.to_string())
            .and_then(|c| {
                c.typed::<extern "C" fn() -> u32>("version")
                    .map_err(|e| e.to_string())?
                    .try_call()
                    .map_err(|e| e.to_string())
            });
        if answer.as_ref().ok() != Some(&l.serving.number()) {
            errors += 1;
            shared.note_error(format!(
                "{} does not serve v{} after the last reload: {answer:?}",
                l.plugin.name,
                l.serving.number()
            ));
        }
    }
    errors
}

/// The handle of `demo.counter` as bundle `bundle` provides it.
fn handle_of(runtime: &Runtime, bundle: &str) -> Result<ContractHandle, CliError> {
    let reader = runtime.reader();
    let guard = reader.pin();
    guard
        .find_all(CONTRACT, CONTRACT_VERSION)
        .find(|c| matches!(c.provider(), Provider::Bundle { name, .. } if name == bundle))
        .map(|c| c.handle())
        .ok_or_else(|| CliError::Argument(format!("bundle {bundle} does not provide {CONTRACT}")))
}

/// The live line: every plugin's calls over the last `window` (`calls`,
/// one count per plugin of [`ALL`]) as one rate, and the script plugins'
/// share of them by language.
fn progress_line(
    shared: &Shared,
    calls: &[u64; ALL.len()],
    window: Duration,
    started: Instant,
) -> String {
    let latencies = shared
        .latencies
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .short();
    let of = |language: Language| -> u64 {
        ALL.iter()
            .zip(calls)
            .filter(|(p, _)| p.language == language)
            .map(|(_, c)| c)
            .sum()
    };
    format!(
        "{:>5.1} s  calls {:>9} (lua {}, js {}, python {})  reloads {:>6}  reload {latencies}  errors {}",
        started.elapsed().as_secs_f64(),
        report::rate(calls.iter().sum(), window),
        report::rate(of(Language::Lua), window),
        report::rate(of(Language::JavaScript), window),
        report::rate(of(Language::Python), window),
        report::count(shared.total_reloads()),
        shared.total_errors()
    )
}

/// One dispatcher: until `stop`, pins a guard per round and checks every
/// plugin once in it.
fn dispatch(runtime: &Runtime, handles: &[(ContractHandle, bool)], shared: &Shared, thread: usize) {
    let reader = runtime.reader();
    let mut calls = [0u64; ALL.len()];
    let mut errors = [0u64; ALL.len()];
    let mut seen = [0u32; ALL.len()];
    // Start each thread elsewhere; keep x small, so x + 2 never overflows.
    let mut x = u32::try_from(thread % 1000).unwrap_or(0) * 1000;
    // Relaxed: see `Shared::stop`.
    while !shared.stop.load(Ordering::Relaxed) {
        for _ in 0..ROUNDS_PER_FLUSH {
            let guard = reader.pin();
            for (i, &(handle, native)) in handles.iter().enumerate() {
                match check(&guard, handle, native, x) {
                    Ok(version) => {
                        calls[i] += if native { 3 } else { 2 };
                        seen[i] |= 1 << version.min(31);
                    }
                    Err(message) => {
                        errors[i] += 1;
                        shared.note_error(message);
                    }
                }
            }
            x = (x + 1) % 1_000_000;
        }
        for (i, tally) in shared.tallies.iter().enumerate() {
            // Relaxed: counters; see `Tally`.
            tally
                .calls
                .fetch_add(std::mem::take(&mut calls[i]), Ordering::Relaxed);
            tally
                .errors
                .fetch_add(std::mem::take(&mut errors[i]), Ordering::Relaxed);
            tally.versions.fetch_or(seen[i], Ordering::Relaxed);
        }
    }
}

/// Calls `version()`, typed `step(x)` and, when the plugin is `native`,
/// native `step(x)` of one table; returns the version, or what disagreed.
#[expect(
    unsafe_code,
    reason = "the one native call of the command: the demo knows its contract's argument types"
)]
fn check(guard: &Guard<'_>, handle: ContractHandle, native: bool, x: u32) -> Result<u32, String> {
    let contract: ContractRef<'_> = guard.get(handle).map_err(|e| e.to_string())?;
    let version = contract
        .typed::<extern "C" fn() -> u32>("version")
        .map_err(|e| e.to_string())?
        .try_call()
        .map_err(|e| e.to_string())?;
    let typed = contract
        .typed::<extern "C" fn(u32) -> u32>("step")
        .map_err(|e| e.to_string())?
        .try_call(x)
        .map_err(|e| e.to_string())?;
    let expected = x.wrapping_add(version);
    let mut out = expected;
    if native {
        let native = contract.native("step").map_err(|e| e.to_string())?;
        // SAFETY: [P1] demo.counter documents native `step` as taking a
        // `StepArgs` and writing a `u32`; both are live locals of those types.
        unsafe { native.call(&StepArgs { x }, &mut out) }.map_err(|e| e.to_string())?;
    }
    if !(1..=2).contains(&version) || typed != expected || out != expected {
        return Err(format!(
            "{}: version() = {version}, step({x}) = {typed}, native step({x}) = {out}: one table gave answers of two versions",
            contract.name()
        ));
    }
    Ok(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_line_shows_the_script_plugins_calls() {
        // Rust, C, C++, wasm, Lua, JavaScript, Python, as in `ALL`.
        let calls = [1000, 1000, 1000, 2000, 300, 40, 7];
        let line = progress_line(
            &Shared::default(),
            &calls,
            Duration::from_secs(1),
            Instant::now(),
        );
        assert!(
            line.contains("calls    5.3k/s (lua 300/s, js 40/s, python 7/s)  reloads      0"),
            "{line}"
        );
        assert_eq!(ALL[4], LUA_PLUGIN);
        assert_eq!(ALL[5], JS_PLUGIN);
        assert_eq!(ALL[6], PYTHON_PLUGIN);
    }
}
