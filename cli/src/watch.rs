//! `polyplug watch`: load a bundle, or every bundle in a directory, and
//! reload each when its files change, printing what happens.
//!
//! The runtime's own watch ([`polyplug::Runtime::watch`]) does the work: a
//! change to a bundle's manifest, library, module or script, or to the
//! symlink it was loaded through, reloads it once its files have been quiet
//! for the quiet period, so a library still being written is never read.
//! Each reload prints one line; a failed one prints the error, and the
//! version that was serving keeps serving. The command runs until Ctrl-C,
//! or for `--seconds N`; it exits 1 when the last reload of some bundle
//! failed (that bundle serves an older version than its files).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use polyplug::{BundleId, Event, LogLevel, WatchOptions};
use polyplug_loader::{Escaped, MANIFEST_FILE};

use crate::error::CliError;

/// Arguments of `polyplug watch`.
#[derive(Debug, clap::Args)]
pub(crate) struct WatchArgs {
    /// A bundle directory, or a directory of bundle directories.
    dir: PathBuf,
    /// Stop after this many seconds (default: run until Ctrl-C).
    #[arg(long, value_name = "N")]
    seconds: Option<f64>,
    /// How long a bundle's files must stay unchanged before it is
    /// reloaded, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = duration_ms(WatchOptions::DEFAULT_QUIET))]
    quiet_ms: u64,
}

fn duration_ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// How often the loop looks at the clock and the watch's problems when no
/// event comes.
const TICK: Duration = Duration::from_millis(200);

pub(crate) fn run(args: &WatchArgs) -> Result<(), CliError> {
    let deadline = match args.seconds {
        Some(s) if s.is_finite() && s >= 0.0 => Some(Instant::now() + Duration::from_secs_f64(s)),
        Some(s) => {
            return Err(CliError::Argument(format!(
                "--seconds {s}: expected a number of seconds, 0 or more"
            )));
        }
        None => None,
    };
    let (runtime, _) = crate::scratch::runtime()?;
    let events = runtime.subscribe();
    let dir = &args.dir;
    if dir.join(MANIFEST_FILE).is_file() {
        runtime.load_bundle(dir)?;
    } else {
        runtime.load_dir(dir)?;
    }
    let bundles = runtime.bundles();
    for info in &bundles {
        println!(
            "loaded {} {} from {}",
            Escaped(&info.name),
            info.version,
            Escaped(info.dir.display())
        );
    }
    let options = WatchOptions {
        quiet: Duration::from_millis(args.quiet_ms),
    };
    let watch = match runtime.watch_with(dir, options) {
        Ok(watch) => watch,
        Err(error) => {
            eprintln!("error: {error}");
            return Err(CliError::Reported);
        }
    };
    println!(
        "watching {} ({} bundle{}, quiet period {} ms){}",
        Escaped(watch.dir().display()),
        bundles.len(),
        if bundles.len() == 1 { "" } else { "s" },
        args.quiet_ms,
        if deadline.is_some() {
            ""
        } else {
            "; Ctrl-C stops"
        }
    );
    // Each bundle's last reload: true when it failed.
    let mut failed: BTreeMap<BundleId, bool> = BTreeMap::new();
    let mut tally = Tally::default();
    loop {
        let wait = deadline.map_or(TICK, |d| {
            d.saturating_duration_since(Instant::now()).min(TICK)
        });
        match events.recv_timeout(wait) {
            Ok(event) => {
                if let Some((bundle, failure)) = print(&event, &mut tally) {
                    failed.insert(bundle, failure);
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        for problem in watch.problems() {
            println!("watch problem: {problem}");
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
    }
    drop(watch);
    let stale: Vec<String> = runtime
        .bundles()
        .into_iter()
        .filter(|b| failed.get(&b.id).copied().unwrap_or(false))
        .map(|b| Escaped(&b.name).to_string())
        .collect();
    println!(
        "{} reloads, {} failed{}",
        tally.reloaded + tally.failed,
        tally.failed,
        if stale.is_empty() {
            String::new()
        } else {
            format!("; last reload failed: {}", stale.join(", "))
        }
    );
    if stale.is_empty() {
        Ok(())
    } else {
        Err(CliError::Reported)
    }
}

#[derive(Debug, Default)]
struct Tally {
    reloaded: u64,
    failed: u64,
}

/// Prints `event` as one line (nothing for the runtime's housekeeping);
/// for a reload outcome, returns its bundle and whether it failed.
fn print(event: &Event, tally: &mut Tally) -> Option<(BundleId, bool)> {
    match event {
        Event::Reloading { name, .. } => println!("reloading {}", Escaped(name)),
        Event::Reloaded {
            bundle,
            name,
            from,
            to,
        } => {
            tally.reloaded += 1;
            println!("reloaded {} {from} -> {to}", Escaped(name));
            return Some((*bundle, false));
        }
        Event::ReloadFailed {
            bundle,
            name,
            error,
        } => {
            tally.failed += 1;
            // `error` is a LoadError's Display: escaped already.
            println!(
                "reload failed: {}: {error} (the serving version stays)",
                Escaped(name)
            );
            return Some((*bundle, true));
        }
        Event::Log {
            bundle,
            level,
            message,
        } => println!(
            "log {} {}: {}",
            Escaped(bundle),
            level_name(*level),
            Escaped(message)
        ),
        _ => {}
    }
    None
}

fn level_name(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Trace => "trace",
        LogLevel::Debug => "debug",
        LogLevel::Info => "info",
        LogLevel::Warn => "warn",
        LogLevel::Error => "error",
    }
}
