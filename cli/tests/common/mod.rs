//! Test support: running the `polyplug` binary, temporary directories,
//! and bad copies of a good example bundle.
#![expect(
    clippy::unwrap_used,
    reason = "test support: a failed step fails the test"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `polyplug` binary cargo built for these tests.
pub const POLYPLUG: &str = env!("CARGO_BIN_EXE_polyplug");

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    /// The exit code; `None` when a signal ended it.
    pub code: Option<i32>,
    /// Everything printed to stdout.
    pub stdout: String,
    /// Everything printed to stderr.
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// Runs `polyplug <args>`.
pub fn polyplug<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Run {
    Command::new(POLYPLUG).args(args).output().unwrap().into()
}

/// A directory under cargo's per-target temporary directory, removed on
/// drop.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// A new, empty directory whose name holds `name` and this process id.
    pub fn new(name: &str) -> TempDir {
        let path = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("polyplug-cli-{name}-{}", std::process::id()));
        if path.exists() {
            std::fs::remove_dir_all(&path).unwrap();
        }
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Copies every file of bundle directory `from` into `to/<name>`.
pub fn copy_bundle(from: &Path, to: &Path, name: &str) -> PathBuf {
    let dir = to.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    dir
}

/// Replaces `old` (which must occur) by `new` in `dir/manifest.toml`.
pub fn edit_manifest(dir: &Path, old: &str, new: &str) {
    let path = dir.join("manifest.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(old), "{} has no {old:?}", path.display());
    std::fs::write(&path, text.replacen(old, new, 1)).unwrap();
}

/// Writes bundle `to/<name>` of engine `loader` (`lua`, `javascript`,
/// `python`):
/// its script `file` holding `script`, and a manifest naming it and
/// declaring `demo.counter` 1.0.0.
pub fn script_bundle(to: &Path, name: &str, loader: &str, file: &str, script: &str) -> PathBuf {
    let dir = to.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(file), script).unwrap();
    std::fs::write(
        dir.join("manifest.toml"),
        format!(
            "[bundle]\nname = \"{name}\"\nversion = \"1.0.0\"\nloader = \"{loader}\"\n\n\
             [library]\nlinux = \"{file}\"\nmacos = \"{file}\"\nwindows = \"{file}\"\n\n\
             [[provides]]\nname = \"demo.counter\"\nversion = \"1.0.0\"\n"
        ),
    )
    .unwrap();
    dir
}

/// A Lua script registering `demo.counter` 1.0.0 with typed `version`
/// and `step`.
pub const LUA_COUNTER: &str = "\
return { contracts = { { name = \"demo.counter\", version = \"1.0.0\", functions = {
  version = { sig = \"u32()\", fn = function() return 1 end },
  step = { sig = \"u32(u32)\", fn = function(x) return (x + 1) & 0xffffffff end },
} } } }
";

/// The same contract as a Python script.
pub const PYTHON_COUNTER: &str = "\
import polyplug

CONTRACTS = [{\"name\": \"demo.counter\", \"version\": \"1.0.0\", \"functions\": {
    \"version\": {\"sig\": \"u32()\", \"fn\": lambda: 1},
    \"step\": {\"sig\": \"u32(u32)\", \"fn\": lambda x: (x + 1) & 0xFFFFFFFF},
}}]
";

/// The same contract as an ES module.
pub const JS_COUNTER: &str = "\
export const contracts = [{ name: \"demo.counter\", version: \"1.0.0\", functions: {
  version: { sig: \"u32()\", fn: () => 1 },
  step: { sig: \"u32(u32)\", fn: (x) => (x + 1) >>> 0 },
} }];
";
