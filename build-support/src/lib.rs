//! What the build scripts of polyplug's fixture and example plugins share.
//!
//! # The problem
//!
//! `fixtures/` and `examples/` both build real plugins from their build
//! scripts, so that `cargo test` and `cargo run` need nothing run by hand:
//! Rust plugins through a nested `cargo build` of a separate workspace, C
//! and C++ plugins through the compiler the `cc` crate finds. The nested
//! build must not inherit the outer build's flags (the outer build may run
//! under `--cfg loom`, clippy, coverage or a sanitizer), and every failure
//! must print what the compiler said. This crate is that logic, once.
//!
//! # Example
//!
//! ```
//! use polyplug_build_support::library_file;
//!
//! assert_eq!(library_file("test_add", "linux"), "libtest_add.so");
//! assert_eq!(library_file("test_add", "macos"), "libtest_add.dylib");
//! assert_eq!(library_file("test_add", "windows"), "test_add.dll");
//! ```

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// An environment variable that cargo sets for build scripts.
///
/// # Errors
///
/// The variable is unset or not Unicode; the message names it.
///
/// ```
/// let err = polyplug_build_support::var("POLYPLUG_NO_SUCH_VARIABLE").unwrap_err();
/// assert!(err.starts_with("environment variable POLYPLUG_NO_SUCH_VARIABLE"));
/// ```
pub fn var(key: &str) -> Result<String, String> {
    env::var(key).map_err(|e| format!("environment variable {key}: {e}"))
}

/// Links the binaries of the calling crate (one with `polyplug-python` as
/// a normal dependency) to the libpython polyplug-python was built
/// against: an rpath to the directory it exports as
/// `DEP_POLYPLUG_PYTHON_LIB_DIR`, so the process does not load another
/// CPython 3.11 the system finds first. Call it from `build.rs`.
///
/// ```
/// // Outside a build script the variable is unset: nothing is linked.
/// polyplug_build_support::python_rpath();
/// ```
pub fn python_rpath() {
    if let Ok(dir) = env::var("DEP_POLYPLUG_PYTHON_LIB_DIR") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
    println!("cargo:rerun-if-env-changed=DEP_POLYPLUG_PYTHON_LIB_DIR");
}

/// The library file name of `stem` on `target_os`, as rustc names a cdylib
/// and as every manifest's `[library]` table spells it.
///
/// ```
/// assert_eq!(polyplug_build_support::library_file("c_mul", "linux"), "libc_mul.so");
/// ```
pub fn library_file(stem: &str, target_os: &str) -> String {
    match target_os {
        "windows" => format!("{stem}.dll"),
        "macos" | "ios" => format!("lib{stem}.dylib"),
        _ => format!("lib{stem}.so"),
    }
}

/// Tells cargo to rerun the build script when what the plugins are built
/// from changes: the workspace manifest, the guest SDK and the ABI (sources
/// and header), each of `dirs` under `crate_dir`, and everything in
/// `crate_dir/plugins` except a `target` directory or hidden files that a
/// manual build there may have left.
///
/// # Errors
///
/// `crate_dir/plugins` cannot be listed.
///
/// ```no_run
/// use std::path::Path;
///
/// polyplug_build_support::rerun_if_changed(Path::new(".."), Path::new("."), &["c", "bundles"])?;
/// # Ok::<(), String>(())
/// ```
pub fn rerun_if_changed(root: &Path, crate_dir: &Path, dirs: &[&str]) -> Result<(), String> {
    let mut paths = vec![
        root.join("Cargo.toml"),
        root.join("guest").join("Cargo.toml"),
        root.join("guest").join("src"),
        root.join("abi").join("Cargo.toml"),
        root.join("abi").join("src"),
        root.join("abi").join("include"),
    ];
    paths.extend(dirs.iter().map(|d| crate_dir.join(d)));
    let plugins = crate_dir.join("plugins");
    let entries =
        fs::read_dir(&plugins).map_err(|e| format!("reading {}: {e}", plugins.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("reading {}: {e}", plugins.display()))?;
        let name = entry.file_name();
        if name != "target" && !name.to_string_lossy().starts_with('.') {
            paths.push(entry.path());
        }
    }
    for path in paths {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    Ok(())
}

/// Builds the separate cargo workspace of `manifest` in release, into
/// `out_dir/plugins-target`, for the build's target, with a plain
/// environment ([`plain_environment`]); returns the directory holding the
/// libraries. `what` names the build in errors.
///
/// # Errors
///
/// A missing `TARGET`/`HOST` variable, or a failed build with cargo's output.
///
/// ```no_run
/// # fn main() -> Result<(), String> {
/// let out_dir = std::path::PathBuf::from(polyplug_build_support::var("OUT_DIR")?);
/// let libs = polyplug_build_support::build_rust_workspace(
///     std::path::Path::new("plugins/Cargo.toml"),
///     &out_dir,
///     "cargo build of fixtures/plugins",
/// )?;
/// # let _ = libs;
/// # Ok(())
/// # }
/// ```
pub fn build_rust_workspace(
    manifest: &Path,
    out_dir: &Path,
    what: &str,
) -> Result<PathBuf, String> {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target_dir = out_dir.join("plugins-target");
    let mut command = Command::new(cargo);
    command
        .arg("build")
        .arg("--release")
        .arg("--manifest-path")
        .arg(manifest)
        .arg("--target-dir")
        .arg(&target_dir);
    let target = var("TARGET")?;
    let mut lib_dir = target_dir.clone();
    if target != var("HOST")? {
        command.arg("--target").arg(&target);
        lib_dir.push(&target);
    }
    lib_dir.push("release");
    plain_environment(&mut command);
    run_command(&mut command, what)?;
    Ok(lib_dir)
}

/// The target that WebAssembly plugins are built for.
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Builds the separate cargo workspace of `manifest` in release for
/// [`WASM_TARGET`], into `out_dir/wasm-target`, with a plain environment
/// ([`plain_environment`]); returns the directory holding the `.wasm`
/// modules. `what` names the build in errors.
///
/// # Errors
///
/// The target's standard library is not installed (the message says
/// `rustup target add wasm32-unknown-unknown`), or the build failed, with
/// cargo's output.
///
/// ```no_run
/// # fn main() -> Result<(), String> {
/// let out_dir = std::path::PathBuf::from(polyplug_build_support::var("OUT_DIR")?);
/// let modules = polyplug_build_support::build_wasm_workspace(
///     std::path::Path::new("wasm-plugins/Cargo.toml"),
///     &out_dir,
///     "cargo build of fixtures/wasm-plugins",
/// )?;
/// # let _ = modules;
/// # Ok(())
/// # }
/// ```
pub fn build_wasm_workspace(
    manifest: &Path,
    out_dir: &Path,
    what: &str,
) -> Result<PathBuf, String> {
    check_wasm_target(what)?;
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target_dir = out_dir.join("wasm-target");
    let mut command = Command::new(cargo);
    command
        .arg("build")
        .arg("--release")
        .arg("--target")
        .arg(WASM_TARGET)
        .arg("--manifest-path")
        .arg(manifest)
        .arg("--target-dir")
        .arg(&target_dir);
    plain_environment(&mut command);
    run_command(&mut command, what)?;
    Ok(target_dir.join(WASM_TARGET).join("release"))
}

/// Fails with the command that fixes it when the toolchain that runs this
/// build has no standard library for [`WASM_TARGET`].
fn check_wasm_target(what: &str) -> Result<(), String> {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| {
            format!(
                "{what}: could not run {} --print sysroot: {e}",
                rustc.display()
            )
        })?;
    let sysroot = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let lib = Path::new(&sysroot)
        .join("lib")
        .join("rustlib")
        .join(WASM_TARGET)
        .join("lib");
    if output.status.success() && lib.is_dir() {
        return Ok(());
    }
    let toolchain = env::var("RUSTUP_TOOLCHAIN")
        .map(|t| format!(" --toolchain {t}"))
        .unwrap_or_default();
    Err(format!(
        "{what}: the Rust standard library for {WASM_TARGET} is not installed ({} is missing); install it with:\n    rustup target add{toolchain} {WASM_TARGET}",
        lib.display()
    ))
}

/// Compiles one C source into the WebAssembly module `output` with clang
/// (`$CLANG`, else `clang`) and wasm-ld: `--target=wasm32-unknown-unknown
/// -O2 -nostdlib -Wl,--no-entry`, warnings as errors. The module has no
/// libc; it exports what its source marks `export_name`.
///
/// # Errors
///
/// No clang, or a failed compile or link with its output; the message
/// names the Debian packages (`clang lld`) when clang cannot start.
///
/// ```no_run
/// use std::path::Path;
///
/// polyplug_build_support::wasm_module_from_c(Path::new("c/wasm_mul.c"), Path::new("wasm_c_mul.wasm"))?;
/// # Ok::<(), String>(())
/// ```
pub fn wasm_module_from_c(source: &Path, output: &Path) -> Result<(), String> {
    let clang = env::var_os("CLANG").unwrap_or_else(|| "clang".into());
    let mut command = Command::new(&clang);
    command
        .arg("--target=wasm32-unknown-unknown")
        .arg("-O2")
        .arg("-nostdlib")
        .arg("-std=c11")
        .arg("-Wall")
        .arg("-Wextra")
        .arg("-Werror")
        .arg("-Wl,--no-entry")
        .arg("-o")
        .arg(output)
        .arg(source);
    let what = format!("compiling {} to wasm32", source.display());
    run_command(&mut command, &what).map_err(|error| {
        format!(
            "{error}\nclang and wasm-ld build the C WebAssembly plugins (Debian: apt-get install clang lld)"
        )
    })
}

/// Removes what the outer build would leak into a nested cargo: flags,
/// wrappers (clippy, sanitizers, coverage), profile and target overrides,
/// and the variables cargo sets for this build script. Keeps the toolchain
/// choice, `CARGO_HOME`, network settings and the jobserver.
///
/// ```
/// let mut command = std::process::Command::new("cargo");
/// polyplug_build_support::plain_environment(&mut command);
/// ```
pub fn plain_environment(command: &mut Command) {
    const KEEP: &[&str] = &["CARGO", "CARGO_HOME", "CARGO_MAKEFLAGS"];
    const KEEP_PREFIXES: &[&str] = &[
        "CARGO_TERM_",
        "CARGO_HTTP_",
        "CARGO_NET_",
        "CARGO_REGISTRIES_",
        "CARGO_REGISTRY_",
    ];
    const REMOVE: &[&str] = &[
        "RUSTFLAGS",
        "RUSTDOCFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "OUT_DIR",
        "TARGET",
        "HOST",
        "PROFILE",
        "OPT_LEVEL",
        "DEBUG",
        "NUM_JOBS",
        "RUSTC_LINKER",
    ];
    for (key, _) in env::vars_os() {
        let Some(key) = key.to_str() else {
            continue;
        };
        let cargo_var = key.starts_with("CARGO_")
            && !KEEP.contains(&key)
            && !KEEP_PREFIXES.iter().any(|p| key.starts_with(p));
        if cargo_var
            || key.starts_with("__CARGO")
            || key.starts_with("CLIPPY_")
            || key.starts_with("DEP_")
            || REMOVE.contains(&key)
        {
            command.env_remove(key);
        }
    }
}

/// Compiles one C (C11) or C++ (C++17) source into the shared object
/// `output` with the compiler the `cc` crate finds, warnings as errors,
/// `-I include` and each of `defines` as `-D`.
///
/// # Errors
///
/// No compiler, an MSVC-like one, or a failed compile with its output.
///
/// ```no_run
/// use std::path::Path;
///
/// polyplug_build_support::shared_object(
///     Path::new("c/mul.c"),
///     false,
///     &[],
///     Path::new("../abi/include"),
///     Path::new("libc_mul.so"),
/// )?;
/// # Ok::<(), String>(())
/// ```
pub fn shared_object(
    source: &Path,
    cpp: bool,
    defines: &[String],
    include: &Path,
    output: &Path,
) -> Result<(), String> {
    let compiler = cc::Build::new()
        .cpp(cpp)
        .try_get_compiler()
        .map_err(|e| format!("finding a C{} compiler: {e}", if cpp { "++" } else { "" }))?;
    if compiler.is_like_msvc() {
        return Err(format!(
            "{}: the C and C++ plugins need a GCC- or Clang-like compiler, not MSVC",
            source.display()
        ));
    }
    let mut command = compiler.to_command();
    command
        .arg("-shared")
        .arg("-fPIC")
        .arg("-O2")
        .arg(if cpp { "-std=c++17" } else { "-std=c11" })
        .arg("-Wall")
        .arg("-Wextra")
        .arg("-Werror");
    for define in defines {
        command.arg(format!("-D{define}"));
    }
    command
        .arg("-I")
        .arg(include)
        .arg("-o")
        .arg(output)
        .arg(source);
    run_command(&mut command, &format!("compiling {}", source.display()))
}

/// Runs `command`; on failure the error holds the command and its output.
///
/// # Errors
///
/// The command could not start, or exited unsuccessfully.
///
/// ```
/// use std::process::Command;
/// use polyplug_build_support::run_command;
///
/// let err = run_command(Command::new("false").arg("x"), "a check").unwrap_err();
/// assert!(err.starts_with("a check failed"));
/// ```
pub fn run_command(command: &mut Command, what: &str) -> Result<(), String> {
    let output = command
        .output()
        .map_err(|e| format!("{what}: could not run {command:?}: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "{what} failed ({status})\ncommand: {command:?}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
        status = output.status,
        stdout = String::from_utf8_lossy(&output.stdout),
        stderr = String::from_utf8_lossy(&output.stderr),
    ))
}

/// `fs::create_dir_all`, with an error naming the directory.
///
/// # Errors
///
/// The directory could not be created.
///
/// ```
/// let dir = std::env::temp_dir().join(format!("pp-build-{}", std::process::id()));
/// polyplug_build_support::create_dir(&dir.join("a/b"))?;
/// assert!(dir.join("a/b").is_dir());
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), String>(())
/// ```
pub fn create_dir(dir: &Path) -> Result<(), String> {
    fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))
}

/// `fs::copy`, with an error naming both files.
///
/// # Errors
///
/// The copy failed.
///
/// ```
/// let err = polyplug_build_support::copy("no/such/file".as_ref(), "x".as_ref()).unwrap_err();
/// assert!(err.starts_with("copying no/such/file to x"));
/// ```
pub fn copy(from: &Path, to: &Path) -> Result<(), String> {
    fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("copying {} to {}: {e}", from.display(), to.display()))
}
