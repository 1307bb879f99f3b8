//! Support shared by the runtime's integration tests.
#![expect(
    clippy::unwrap_used,
    reason = "test support: a failed step fails the test"
)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Receiver;
use std::time::Duration;

use polyplug::{CallError, ContractRef, Event, Runtime, Version};

/// A directory removed when dropped.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(label: &str) -> TempDir {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("polyplug-test-{}-{label}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(crate) const V1: Version = Version::new(1, 0, 0);

/// A handle to the serving `reload.test`, to keep across reloads.
pub(crate) fn handle_of(runtime: &Runtime) -> polyplug::ContractHandle {
    let reader = runtime.reader();
    let guard = reader.pin();
    guard.find("reload.test", V1).unwrap().handle()
}

/// Calls `reload.test`'s native `version` through a kept handle.
pub(crate) fn version_of(runtime: &Runtime, handle: polyplug::ContractHandle) -> u32 {
    let reader = runtime.reader();
    let guard = reader.pin();
    let contract = guard.get(handle).unwrap();
    call(&contract, "version", 0, 0).unwrap()
}

/// The argument struct of every native function of the fixtures.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct AddArgs {
    pub(crate) a: u32,
    pub(crate) b: u32,
}

/// Calls a fixture's native function `function` with no instance.
pub(crate) fn call(
    contract: &ContractRef<'_>,
    function: &str,
    a: u32,
    b: u32,
) -> Result<u32, CallError> {
    let native = contract.native(function).unwrap();
    let mut out = 0u32;
    // SAFETY: [P1] every native function of the fixtures takes `AddArgs`
    // and writes a `u32` (fixtures/plugins and fixtures/c document each).
    unsafe { native.call(&AddArgs { a, b }, &mut out) }?;
    Ok(out)
}

/// Every event received so far.
pub(crate) fn drain_events(events: &Receiver<Event>) -> Vec<Event> {
    let mut all = Vec::new();
    while let Ok(e) = events.recv_timeout(Duration::from_millis(1)) {
        all.push(e);
    }
    all
}

/// Drains the runtime until every retired library is closed.
pub(crate) fn drain(runtime: &Runtime) {
    runtime.drain(Duration::from_secs(30)).unwrap();
}
