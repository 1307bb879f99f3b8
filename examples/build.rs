//! Builds the example bundles into `$OUT_DIR/bundles/v<N>/<bundle>/`: the
//! manifest from `bundles/v<N>/<bundle>/manifest.toml` next to the library
//! it names.
//!
//! - Rust: one plain `cargo build --release` of the separate workspace
//!   `plugins/`, into `$OUT_DIR/plugins-target`, with the outer build's
//!   flags, wrappers and target settings removed from the environment (the
//!   outer build may run under `--cfg loom`, clippy or coverage; the
//!   plugins must not).
//! - C and C++: `c/counter.c` and `cpp/counter.cpp`, each compiled twice
//!   (`-DCOUNTER_VERSION=1` and `=2`) with the compiler that the `cc` crate
//!   finds for the target.
//!
//! Any failure prints the compiler's or cargo's output and fails the build.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// How a plugin's library is built.
#[derive(Clone, Copy)]
enum Source {
    /// Members `counter-rust-v1` and `-v2` of `plugins/`.
    Rust,
    /// A C source, compiled once per version.
    C(&'static str),
    /// A C++ source, compiled once per version.
    Cpp(&'static str),
}

/// The example plugins: bundle name, library stem (the version is
/// appended: `counter_c_v1`) and source.
const PLUGINS: &[(&str, &str, Source)] = &[
    ("counter-rust", "counter_rust", Source::Rust),
    ("counter-c", "counter_c", Source::C("c/counter.c")),
    ("counter-cpp", "counter_cpp", Source::Cpp("cpp/counter.cpp")),
];

/// The versions every plugin is built in.
const VERSIONS: [u32; 2] = [1, 2];

fn main() {
    if let Err(message) = run() {
        eprintln!("error: building the polyplug example plugins failed:\n{message}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let examples = PathBuf::from(var("CARGO_MANIFEST_DIR")?);
    let root = examples
        .parent()
        .ok_or("examples/ has no parent directory")?
        .to_path_buf();
    let out_dir = PathBuf::from(var("OUT_DIR")?);
    let target_os = var("CARGO_CFG_TARGET_OS")?;
    rerun_if_changed(&root, &examples)?;

    let include = root.join("abi").join("include");
    if !include.join("polyplug.h").is_file() {
        return Err(format!(
            "{} is missing",
            include.join("polyplug.h").display()
        ));
    }
    let rust_libs = build_rust(&examples, &out_dir)?;
    let c_libs = out_dir.join("c-libs");
    create_dir(&c_libs)?;
    let bundles = out_dir.join("bundles");
    if bundles.exists() {
        fs::remove_dir_all(&bundles)
            .map_err(|e| format!("removing the old {}: {e}", bundles.display()))?;
    }
    for &(bundle, stem, source) in PLUGINS {
        for version in VERSIONS {
            let file = library_file(&format!("{stem}_v{version}"), &target_os);
            let built = match source {
                Source::Rust => rust_libs.join(&file),
                Source::C(path) | Source::Cpp(path) => {
                    let output = c_libs.join(&file);
                    let cpp = matches!(source, Source::Cpp(_));
                    build_c(&examples.join(path), cpp, version, &include, &output)?;
                    output
                }
            };
            let from = examples
                .join("bundles")
                .join(format!("v{version}"))
                .join(bundle);
            let dir = bundles.join(format!("v{version}")).join(bundle);
            create_dir(&dir)?;
            let manifest = from.join("manifest.toml");
            let text = fs::read_to_string(&manifest)
                .map_err(|e| format!("reading {}: {e}", manifest.display()))?;
            if !text.contains(&format!("\"{file}\"")) {
                return Err(format!(
                    "{} must name the library {file}",
                    manifest.display()
                ));
            }
            copy(&manifest, &dir.join("manifest.toml"))?;
            copy(&built, &dir.join(&file))?;
        }
    }
    Ok(())
}

/// An environment variable that cargo sets for build scripts.
fn var(key: &str) -> Result<String, String> {
    env::var(key).map_err(|e| format!("environment variable {key}: {e}"))
}

/// The library file name of `stem` on `target_os`, as rustc names a cdylib
/// and as every manifest's `[library]` table spells it.
fn library_file(stem: &str, target_os: &str) -> String {
    match target_os {
        "windows" => format!("{stem}.dll"),
        "macos" | "ios" => format!("lib{stem}.dylib"),
        _ => format!("lib{stem}.so"),
    }
}

fn rerun_if_changed(root: &Path, examples: &Path) -> Result<(), String> {
    let mut paths = vec![
        root.join("guest").join("Cargo.toml"),
        root.join("guest").join("src"),
        root.join("abi").join("Cargo.toml"),
        root.join("abi").join("src"),
        root.join("abi").join("include"),
        examples.join("c"),
        examples.join("cpp"),
        examples.join("bundles"),
    ];
    // Everything in plugins/ except a target directory that a manual build
    // there may have left, which changes on every build.
    let plugins = examples.join("plugins");
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

/// Builds the `plugins/` workspace and returns the directory holding its
/// libraries.
fn build_rust(examples: &Path, out_dir: &Path) -> Result<PathBuf, String> {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target_dir = out_dir.join("plugins-target");
    let mut command = Command::new(cargo);
    command
        .arg("build")
        .arg("--release")
        .arg("--manifest-path")
        .arg(examples.join("plugins").join("Cargo.toml"))
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
    run_command(&mut command, "cargo build of examples/plugins")?;
    Ok(lib_dir)
}

/// Removes what the outer build would leak into a nested cargo: flags,
/// wrappers (clippy, sanitizers, coverage), profile and target overrides,
/// and the variables cargo sets for this build script. Keeps the toolchain
/// choice, `CARGO_HOME`, network settings and the jobserver.
fn plain_environment(command: &mut Command) {
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

/// Compiles one C or C++ source, at `version`, into the shared object
/// `output`.
fn build_c(
    source: &Path,
    cpp: bool,
    version: u32,
    include: &Path,
    output: &Path,
) -> Result<(), String> {
    let compiler = cc::Build::new()
        .cpp(cpp)
        .try_get_compiler()
        .map_err(|e| format!("finding a C{} compiler: {e}", if cpp { "++" } else { "" }))?;
    if compiler.is_like_msvc() {
        return Err(format!(
            "{}: the C examples need a GCC- or Clang-like compiler, not MSVC",
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
        .arg("-Werror")
        .arg(format!("-DCOUNTER_VERSION={version}"))
        .arg("-I")
        .arg(include)
        .arg("-o")
        .arg(output)
        .arg(source);
    run_command(&mut command, &format!("compiling {}", source.display()))
}

fn run_command(command: &mut Command, what: &str) -> Result<(), String> {
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

fn create_dir(dir: &Path) -> Result<(), String> {
    fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("copying {} to {}: {e}", from.display(), to.display()))
}
