//! Builds the example bundles into `$OUT_DIR/bundles/v<N>/<bundle>/`: the
//! manifest from `bundles/v<N>/<bundle>/manifest.toml` next to the library
//! it names.
//!
//! - Rust: one plain `cargo build --release` of the separate workspace
//!   `plugins/`, into `$OUT_DIR/plugins-target`, with the outer build's
//!   flags, wrappers and target settings removed from the environment (the
//!   outer build may run under `--cfg loom`, clippy or coverage; the
//!   plugins must not).
//! - Rust for WebAssembly: one `cargo build --release --target
//!   wasm32-unknown-unknown` of the separate workspace `wasm-plugins/`,
//!   whose members compile the same `plugins/counter-common/counter.rs`
//!   (the target must be installed: `rustup target add
//!   wasm32-unknown-unknown`).
//! - C and C++: `c/counter.c` and `cpp/counter.cpp`, each compiled twice
//!   (`-DCOUNTER_VERSION=1` and `=2`) with the compiler that the `cc` crate
//!   finds for the target.
//! - Lua, JavaScript and Python: nothing to build; each version's script lies in
//!   its bundle directory (`bundles/v<N>/counter-lua/counter.lua`) and is
//!   copied next to its manifest.
//!
//! Any failure prints the compiler's or cargo's output and fails the build.

use std::fs;
use std::path::PathBuf;

use polyplug_build_support::{
    build_rust_workspace, build_wasm_workspace, copy, create_dir, library_file, rerun_if_changed,
    shared_object, var,
};

/// How a plugin's library is built.
#[derive(Clone, Copy)]
enum Source {
    /// Members `counter-rust-v1` and `-v2` of `plugins/`.
    Rust,
    /// A C source, compiled once per version.
    C(&'static str),
    /// A C++ source, compiled once per version.
    Cpp(&'static str),
    /// Members `counter-wasm-v1` and `-v2` of `wasm-plugins/`.
    Wasm,
    /// A script in each version's bundle directory, named by the stem
    /// column in full: `counter.lua`.
    Script,
}

/// The example plugins: bundle name, library stem (the version is
/// appended: `counter_c_v1`; a script's file name as it is) and source.
const PLUGINS: &[(&str, &str, Source)] = &[
    ("counter-rust", "counter_rust", Source::Rust),
    ("counter-c", "counter_c", Source::C("c/counter.c")),
    ("counter-cpp", "counter_cpp", Source::Cpp("cpp/counter.cpp")),
    ("counter-wasm", "counter_wasm", Source::Wasm),
    ("counter-lua", "counter.lua", Source::Script),
    ("counter-js", "counter.js", Source::Script),
    ("counter-python", "counter.py", Source::Script),
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
    rerun_if_changed(&root, &examples, &["c", "cpp", "bundles", "wasm-plugins"])?;

    let include = root.join("abi").join("include");
    if !include.join("polyplug.h").is_file() {
        return Err(format!(
            "{} is missing",
            include.join("polyplug.h").display()
        ));
    }
    let rust_libs = build_rust_workspace(
        &examples.join("plugins").join("Cargo.toml"),
        &out_dir,
        "cargo build of examples/plugins",
    )?;
    let wasm_modules = build_wasm_workspace(
        &examples.join("wasm-plugins").join("Cargo.toml"),
        &out_dir,
        "cargo build of examples/wasm-plugins",
    )?;
    let c_libs = out_dir.join("c-libs");
    create_dir(&c_libs)?;
    let bundles = out_dir.join("bundles");
    if bundles.exists() {
        fs::remove_dir_all(&bundles)
            .map_err(|e| format!("removing the old {}: {e}", bundles.display()))?;
    }
    for &(bundle, stem, source) in PLUGINS {
        for version in VERSIONS {
            let from = examples
                .join("bundles")
                .join(format!("v{version}"))
                .join(bundle);
            let file = match source {
                Source::Wasm => format!("{stem}_v{version}.wasm"),
                Source::Script => stem.to_owned(),
                _ => library_file(&format!("{stem}_v{version}"), &target_os),
            };
            let built = match source {
                Source::Rust => rust_libs.join(&file),
                Source::Wasm => wasm_modules.join(&file),
                Source::Script => from.join(&file),
                Source::C(path) | Source::Cpp(path) => {
                    let output = c_libs.join(&file);
                    let cpp = matches!(source, Source::Cpp(_));
                    shared_object(
                        &examples.join(path),
                        cpp,
                        &[format!("COUNTER_VERSION={version}")],
                        &include,
                        &output,
                    )?;
                    output
                }
            };
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
