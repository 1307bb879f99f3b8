//! Building and running the C and C++ programs of the tests against the
//! library cargo built for them.
//!
//! The library: cargo builds this crate's `cdylib` together with the `rlib`
//! the tests link, into the directory of the test executables
//! (`target/<profile>/deps/libpolyplug_capi.so`), before any test runs.
//! The programs link it as a C host does, with `-lpolyplug`, through a
//! symbolic link `libpolyplug.so` to it in the tests' own directory, and
//! find it at run time through an rpath to that directory.
//!
//! The compilers are `$CC` (default `cc`) and `$CXX` (default `c++`),
//! GCC-like. `POLYPLUG_C_SANITIZE=address` or `thread` compiles the
//! programs with that sanitizer (the library itself stays uninstrumented):
//! `ci/capi.sh` runs the C hosts that way.
#![expect(
    clippy::expect_used,
    clippy::panic,
    reason = "test support: a failed step fails the test with its message"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The crate's directory, `capi/`.
pub(crate) fn capi_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The directory holding `libpolyplug.so`: a symbolic link, made here, to
/// the `libpolyplug_capi.so` cargo built next to the test executable.
pub(crate) fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its executable");
    let built = exe
        .parent()
        .expect("the executable is in a directory")
        .join(format!(
            "{}polyplug_capi{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        ));
    assert!(
        built.is_file(),
        "{} is missing: cargo builds it with the tests of polyplug-capi",
        built.display()
    );
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("polyplug-capi-lib");
    std::fs::create_dir_all(&dir).expect("the library directory can be made");
    let name = format!(
        "{}polyplug{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    // A fresh link renamed over the old one: tests running at once each
    // see a complete link.
    static LINKS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = LINKS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let temp = dir.join(format!("{name}.{}.{n}", std::process::id()));
    let _ = std::fs::remove_file(&temp);
    std::os::unix::fs::symlink(&built, &temp).expect("the link can be made");
    std::fs::rename(&temp, dir.join(&name)).expect("the link can be moved into place");
    dir
}

/// The sanitizer asked for by `POLYPLUG_C_SANITIZE`, if any.
pub(crate) fn sanitizer() -> Option<String> {
    std::env::var("POLYPLUG_C_SANITIZE")
        .ok()
        .filter(|s| !s.is_empty())
}

/// A compiler from the environment variable `var`, or `default`; the value
/// is split on whitespace (`CC="ccache gcc"`).
fn compiler(var: &str, default: &str) -> Command {
    let value = std::env::var(var).unwrap_or_else(|_| default.to_owned());
    let mut words = value.split_whitespace();
    let mut command = Command::new(words.next().expect("the compiler variable is not empty"));
    command.args(words);
    command
}

/// Compiles `sources` (C, or C++ when `cpp`) into the executable `name`,
/// linked with libpolyplug, and returns its path. The build fails the test
/// with the compiler's output.
pub(crate) fn build(name: &str, sources: &[PathBuf], cpp: bool) -> PathBuf {
    let san = sanitizer();
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("polyplug-capi-c");
    std::fs::create_dir_all(&out_dir).expect("the output directory can be made");
    let exe = out_dir.join(match &san {
        Some(s) => format!("{name}-{s}"),
        None => name.to_owned(),
    });
    let lib = lib_dir();
    let mut command = if cpp {
        compiler("CXX", "c++")
    } else {
        compiler("CC", "cc")
    };
    command
        .arg(if cpp { "-std=c++17" } else { "-std=c11" })
        .args(["-Wall", "-Wextra", "-Werror", "-O1", "-g", "-pthread"])
        .arg("-I")
        .arg(capi_dir().join("include"))
        .arg("-I")
        .arg(capi_dir().join("..").join("abi").join("include"))
        .arg("-I")
        .arg(capi_dir().join("tests").join("c"));
    if let Some(s) = &san {
        command
            .arg(format!("-fsanitize={s}"))
            .arg("-fno-omit-frame-pointer");
    }
    command
        .args(sources)
        .arg("-o")
        .arg(&exe)
        .arg("-L")
        .arg(&lib)
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .arg("-lpolyplug")
        .arg("-ldl");
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e} (set CC / CXX?)"));
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    exe
}

/// A C source of the tests, `capi/tests/c/<file>`.
pub(crate) fn test_source(file: &str) -> PathBuf {
    capi_dir().join("tests").join("c").join(file)
}

/// An example source, `capi/examples/<file>`.
pub(crate) fn example(file: &str) -> PathBuf {
    capi_dir().join("examples").join(file)
}

/// Runs `exe` with `args` and returns what it did.
pub(crate) fn run_output(exe: &Path, args: &[&Path]) -> Output {
    let mut command = Command::new(exe);
    command.args(args);
    // cargo puts `target/<profile>` on LD_LIBRARY_PATH, which wins over the
    // rpath; the copy of libpolyplug there is only refreshed by `cargo
    // build`, so it may be stale. The one built for the tests comes first.
    let mut path = std::ffi::OsString::from(lib_dir());
    if let Some(old) = std::env::var_os("LD_LIBRARY_PATH") {
        path.push(":");
        path.push(old);
    }
    command.env("LD_LIBRARY_PATH", path);
    if sanitizer().is_some() {
        command
            .env("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
            // CPython's small-object allocator keeps objects in arenas it
            // maps itself, which LeakSanitizer does not scan: every
            // malloc'd block only an object there points to would be
            // reported. With `malloc`, each object is a heap block of its
            // own, scanned like any other (CPython's advice for memory
            // checkers); a block really lost is still reported.
            .env("PYTHONMALLOC", "malloc")
            // The library is not instrumented: its own memory accesses go
            // unseen, and so do the atomics that order them; without this,
            // TSan would report its interceptors (memcpy, calloc) called
            // from the library as races.
            .env(
                "TSAN_OPTIONS",
                "halt_on_error=1 ignore_noninstrumented_modules=1",
            );
    }
    command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()))
}

/// Runs `exe` with `args`; fails the test, with its output, unless it
/// exits 0. Returns its standard output.
pub(crate) fn run(exe: &Path, args: &[&Path]) -> String {
    let output = run_output(exe, args);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{} exited with {}:\n--- stdout ---\n{stdout}--- stderr ---\n{}",
        exe.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}
