//! `polyplug watch`: reloads printed as they happen.
#![cfg(not(any(loom, shuttle, miri)))]
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test support: a failed step fails the test"
)]

pub mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use common::{JS_COUNTER, POLYPLUG, TempDir, polyplug, script_bundle};
use polyplug_fixtures::{library, library_file};

/// How long a test waits for a line before it calls the run stuck.
const DEADLOCK_GUARD: Duration = Duration::from_secs(120);

/// A running `polyplug watch`, killed on drop, and its stdout by line.
struct Watching {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Watching {
    fn start(dir: &std::path::Path) -> Watching {
        let mut child = Command::new(POLYPLUG)
            .arg("watch")
            .arg(dir)
            .args(["--quiet-ms", "300"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut watching = Watching {
            child,
            lines,
            seen: Vec::new(),
        };
        watching.wait_for("watching ");
        watching
    }

    /// Waits for a line starting with `prefix`; returns it.
    fn wait_for(&mut self, prefix: &str) -> String {
        loop {
            let line = self.lines.recv_timeout(DEADLOCK_GUARD).unwrap_or_else(|e| {
                panic!("no line {prefix:?} ({e}); printed so far: {:#?}", self.seen)
            });
            self.seen.push(line.clone());
            if line.starts_with(prefix) {
                return line;
            }
        }
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn watch_prints_each_reload_and_each_failed_one() {
    let dir = TempDir::new("watch-native");
    let bundle = polyplug_fixtures::copy_bundle("reload-v1", dir.path()).unwrap();
    let target = bundle.join(library_file("reload-v1"));
    let mut watching = Watching::start(dir.path());
    assert!(
        watching
            .seen
            .iter()
            .any(|l| l.starts_with("loaded reload-test 1.0.0 from ")),
        "{:#?}",
        watching.seen
    );
    std::fs::copy(library("reload-v2"), &target).unwrap();
    assert_eq!(
        watching.wait_for("reloaded "),
        "reloaded reload-test 1.0.0 -> 1.0.0"
    );
    std::fs::write(&target, b"not a library").unwrap();
    let failed = watching.wait_for("reload failed: ");
    assert!(
        failed.starts_with("reload failed: reload-test: ")
            && failed.ends_with("(the serving version stays)"),
        "{failed}"
    );
}

#[test]
fn watch_reloads_a_script_bundle_when_its_script_changes() {
    let dir = TempDir::new("watch-js");
    let bundle = script_bundle(
        dir.path(),
        "watched-js",
        "javascript",
        "main.js",
        JS_COUNTER,
    );
    let mut watching = Watching::start(dir.path());
    common::edit_manifest(&bundle, "version = \"1.0.0\"", "version = \"1.0.1\"");
    assert_eq!(
        watching.wait_for("reloaded "),
        "reloaded watched-js 1.0.0 -> 1.0.1"
    );
    let script = std::fs::read_to_string(bundle.join("main.js")).unwrap();
    std::fs::write(bundle.join("main.js"), format!("{script}\n// edited\n")).unwrap();
    assert_eq!(
        watching.wait_for("reloaded "),
        "reloaded watched-js 1.0.1 -> 1.0.1"
    );
}

#[test]
fn watch_for_some_seconds_ends_with_a_summary() {
    let dir = TempDir::new("watch-seconds");
    polyplug_fixtures::copy_bundle("reload-v1", dir.path()).unwrap();
    let run = polyplug(&[
        "watch".as_ref(),
        dir.path().as_os_str(),
        "--seconds".as_ref(),
        "0.5".as_ref(),
    ]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout.contains("loaded reload-test 1.0.0 from "),
        "{run:?}"
    );
    assert!(run.stdout.ends_with("0 reloads, 0 failed\n"), "{run:?}");
}

#[test]
fn watch_refuses_a_missing_directory() {
    let run = polyplug(&["watch", "/no/such/polyplug/dir", "--seconds", "0"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("/no/such/polyplug/dir"), "{run:?}");
}
