//! Test helpers shared by the integration tests: a self-removing temporary
//! directory built on std alone.
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test helper that cannot set up its directory fails the test"
)]

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

static NEXT: AtomicU64 = AtomicU64::new(0);

/// A directory under the system temp dir, removed with its contents on
/// drop. Its path is canonical.
pub(crate) struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub(crate) fn new(label: &str) -> TempDir {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        // Relaxed: only a unique suffix; pairs with nothing.
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "polyplug-loader-test-{label}-{}-{n}-{nanos}",
            std::process::id()
        ));
        fs::create_dir(&path).unwrap();
        TempDir {
            path: fs::canonicalize(&path).unwrap(),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `bytes` to `relative` (creating parent directories) and
    /// returns the full path.
    pub(crate) fn write(&self, relative: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(&path, bytes).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// A native manifest naming `library` for every platform, with an optional
/// `sha256` line.
pub(crate) fn native_manifest(name: &str, library: &str, sha256: Option<&str>) -> String {
    let digest = sha256.map_or(String::new(), |d| format!("sha256 = \"{d}\"\n"));
    format!(
        "[bundle]\nname = \"{name}\"\nversion = \"1.0.0\"\nloader = \"native\"\n\n\
         [library]\nlinux = \"{library}\"\nmacos = \"{library}\"\nwindows = \"{library}\"\n{digest}\n\
         [[provides]]\nname = \"test.add\"\nversion = \"1.0.0\"\n"
    )
}

/// Makes a FIFO (named pipe) at `path` with `mkfifo(1)`.
#[cfg(unix)]
pub(crate) fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "mkfifo {} failed", path.display());
}

/// Runs `work` on its own thread and returns its result, failing the test
/// if it has not returned within 30 seconds: a call that blocks (on a FIFO,
/// say) fails instead of hanging the test run. The blocked thread is left
/// behind.
pub(crate) fn within_30s<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, result) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(work());
    });
    result
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("still blocked after 30 s ({e})"))
}
