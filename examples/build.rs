//! Builds the example bundles into `$OUT_DIR/bundles/v<N>/<bundle>/`: the
//! manifest from `bundles/v<N>/<bundle>/manifest.toml` next to the library
//! it names. The `demo.text` plugins, built once each, go to
//! `$OUT_DIR/bundles/text/<bundle>/`, their manifests from
//! `bundles/text/<bundle>/manifest.toml`.
//!
//! - Rust: one plain `cargo build --release` of the separate workspace
//!   `plugins/`, into `$OUT_DIR/plugins-target`, with the outer build's
//!   flags, wrappers and target settings removed from the environment (the
//!   outer build may run under `--cfg loom`, clippy or coverage; the
//!   plugins must not).
//! - Rust for WebAssembly: one `cargo build --release --target
//!   wasm32-unknown-unknown` of the separate workspace `wasm-plugins/`,
//!   whose members compile the same `plugins/counter-common/counter.rs`
//!   and `plugins/text-common/text.rs` as the native ones (the target must be installed: `rustup target add
//!   wasm32-unknown-unknown`).
//! - C and C++: `c/counter.c` and `cpp/counter.cpp`, each compiled twice
//!   (`-DCOUNTER_VERSION=1` and `=2`) with the compiler that the `cc` crate
//!   finds for the target; `c/text.c` once.
//! - Lua, JavaScript and Python: nothing to build; each version's script lies in
//!   its bundle directory (`bundles/v<N>/counter-lua/counter.lua`) and is
//!   copied next to its manifest.
//!
//! Any failure prints the compiler's or cargo's output and fails the build.

use std::fs;
use std::path::{Path, PathBuf};

use polyplug_build_support::{
    build_rust_workspace, build_wasm_workspace, copy, create_dir, library_file, rerun_if_changed,
    shared_object, var,
};

/// How a plugin's library is built.
#[derive(Clone, Copy)]
enum Source {
    /// Members of `plugins/`: `counter-rust-v1` and `-v2`, `text-rust`.
    Rust,
    /// A C source, compiled once per version.
    C(&'static str),
    /// A C++ source, compiled once per version.
    Cpp(&'static str),
    /// Members of `wasm-plugins/`: `counter-wasm-v1` and `-v2`, `text-wasm`.
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

/// The `demo.text` plugins, built once each: bundle name, library stem
/// (no version appended: `text_c`) and source.
const TEXT_PLUGINS: &[(&str, &str, Source)] = &[
    ("text-rust", "text_rust", Source::Rust),
    ("text-c", "text_c", Source::C("c/text.c")),
    ("text-wasm", "text_wasm", Source::Wasm),
];

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
    let built = Built {
        examples: &examples,
        include: &include,
        rust_libs: &rust_libs,
        wasm_modules: &wasm_modules,
        c_libs: &c_libs,
        target_os: &target_os,
    };
    for &(bundle, stem, source) in PLUGINS {
        for version in VERSIONS {
            let from = examples
                .join("bundles")
                .join(format!("v{version}"))
                .join(bundle);
            let to = bundles.join(format!("v{version}")).join(bundle);
            let stem = match source {
                Source::Script => stem.to_owned(),
                _ => format!("{stem}_v{version}"),
            };
            let defines = [format!("COUNTER_VERSION={version}")];
            built.place(&from, &to, &stem, source, &defines)?;
        }
    }
    for &(bundle, stem, source) in TEXT_PLUGINS {
        let from = examples.join("bundles").join("text").join(bundle);
        let to = bundles.join("text").join(bundle);
        built.place(&from, &to, stem, source, &[])?;
    }
    Ok(())
}

/// Where the libraries were built, and what compiling C needs.
struct Built<'a> {
    examples: &'a Path,
    include: &'a Path,
    rust_libs: &'a Path,
    wasm_modules: &'a Path,
    c_libs: &'a Path,
    target_os: &'a str,
}

impl Built<'_> {
    /// Puts one bundle into `to`: the manifest from `from` next to the
    /// library, module or script of `stem` (the library file's name is
    /// derived from it) built from `source`; C and C++ sources are
    /// compiled here with `defines`.
    fn place(
        &self,
        from: &Path,
        to: &Path,
        stem: &str,
        source: Source,
        defines: &[String],
    ) -> Result<(), String> {
        let file = match source {
            Source::Wasm => format!("{stem}.wasm"),
            Source::Script => stem.to_owned(),
            _ => library_file(stem, self.target_os),
        };
        let built = match source {
            Source::Rust => self.rust_libs.join(&file),
            Source::Wasm => self.wasm_modules.join(&file),
            Source::Script => from.join(&file),
            Source::C(path) | Source::Cpp(path) => {
                let output = self.c_libs.join(&file);
                let cpp = matches!(source, Source::Cpp(_));
                shared_object(
                    &self.examples.join(path),
                    cpp,
                    defines,
                    self.include,
                    &output,
                )?;
                output
            }
        };
        create_dir(to)?;
        let manifest = from.join("manifest.toml");
        let text = fs::read_to_string(&manifest)
            .map_err(|e| format!("reading {}: {e}", manifest.display()))?;
        if !text.contains(&format!("\"{file}\"")) {
            return Err(format!(
                "{} must name the library {file}",
                manifest.display()
            ));
        }
        copy(&manifest, &to.join("manifest.toml"))?;
        copy(&built, &to.join(&file))
    }
}
