//! `polyplug validate`: checks one bundle before it ships.
//!
//! In order: the manifest parses; the library it names lies inside the
//! bundle and exists; it is a shared object; its digest matches
//! `library.sha256` when the manifest gives one; it exports
//! `polyplug_abi_version` with this ABI's version and `polyplug_entry`; its
//! entry point succeeds in a scratch runtime; and it registers exactly the
//! contracts its manifest declares. Then it is unloaded, and the command
//! reports whether its image left memory. The first failure is printed
//! like a compiler error and the command exits 1.
//!
//! A wasm bundle (`loader = "wasm"`) goes through the same steps with its
//! module in place of the library: the wasm loader compiles it, checks its
//! imports and export names, instantiates it (start function and
//! `polyplug_init` under its budget), and registers its contracts; after
//! the unload every module and wasm instance must be dropped.
//!
//! A Lua bundle (`loader = "lua"`), a JavaScript one
//! (`loader = "javascript"`) and a Python one (`loader = "python"`) go
//! through them with their script in place of the library: the engine
//! runs it once under its budget and registers the contracts it returns,
//! exports or lists; a script that does not parse or fails while it runs
//! is reported at the file and line the engine names. After the unload
//! every load and every script state (for Python, every module the load
//! made) must be freed. A `[limits]` field the engine cannot enforce (a
//! Python bundle's `limits.memory_pages`) is reported at its manifest
//! line.

use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use polyplug::LoadError;
use polyplug_loader::{Bundle, BundleError, LoaderKind, NativeError, platform_key};
use sha2::{Digest, Sha256};

use crate::diagnostic::{Diagnostic, locate, provides_index};
use crate::error::CliError;
use crate::inspect::{ContractInfo, contracts_of};
use crate::report;
use crate::scratch::Engines;

pub(crate) fn run(dir: &Path, with: &[PathBuf], previous: &[PathBuf]) -> Result<(), CliError> {
    match check(dir, with) {
        Ok(lines) => {
            for line in lines {
                println!("{line}");
            }
            semver(dir, previous)
        }
        Err(diagnostic) => {
            eprint!("{diagnostic}");
            Err(CliError::Reported)
        }
    }
}

/// Compares each definition the bundle ships with the `previous`
/// definition of the same contract, if given: the bundle's version must not
/// claim a compatibility its definition lacks (see `polyplug diff`).
fn semver(dir: &Path, previous: &[PathBuf]) -> Result<(), CliError> {
    if previous.is_empty() {
        return Ok(());
    }
    let bundle = Bundle::open(dir).map_err(|e| CliError::Argument(e.to_string()))?;
    let mut failed = false;
    for path in previous {
        let old =
            polyplug_contract::Definition::load(path).map_err(crate::generate::GenError::from)?;
        let shipped = bundle
            .manifest()
            .definitions
            .iter()
            .find(|(decl, _)| decl.name.as_str() == old.name);
        let Some((_, file)) = shipped else {
            eprintln!(
                "error: {}: the bundle ships no definition of contract {:?} to compare with {}",
                dir.display(),
                old.name,
                path.display()
            );
            failed = true;
            continue;
        };
        let new = polyplug_contract::Definition::load(&bundle.dir().join(file))
            .map_err(crate::generate::GenError::from)?;
        let diff = polyplug_contract::Diff::between(&old, &new);
        let problems = diff.problems();
        for problem in &problems {
            eprintln!("error: {}: {problem}", dir.display());
        }
        if problems.is_empty() {
            println!(
                "ok: contract {} {} keeps the promise of its version over {}",
                new.name, new.version, old.version
            );
        }
        failed |= !problems.is_empty();
    }
    if failed {
        Err(CliError::Reported)
    } else {
        Ok(())
    }
}

/// Runs every check; returns the lines to print on success.
fn check(dir: &Path, with: &[PathBuf]) -> Result<Vec<String>, Diagnostic> {
    let manifest_path = dir.join(polyplug_loader::MANIFEST_FILE);
    // Only for pointing at lines; `Bundle::open` reads it for real. Opened
    // by the loader's rules, so a FIFO or a device is not read here either.
    let text = manifest_text(&manifest_path);
    let bundle = Bundle::open(dir).map_err(|e| bundle_error(&manifest_path, &text, &e))?;
    let manifest = bundle.manifest();
    if !LOADERS.contains(&manifest.loader) {
        let names: Vec<String> = LOADERS.iter().map(|l| format!("{:?}", l.name())).collect();
        return Err(Diagnostic::field(
            &manifest_path,
            &text,
            "bundle.loader",
            locate(&text, "bundle", None, "loader"),
            &format!(
                "expected one of {}, the loaders this command has, found {:?}",
                names.join(", "),
                manifest.loader.name()
            ),
        ));
    }
    let Some(library) = bundle.library_path() else {
        return Err(Diagnostic::at(dir, "a bundle without a library or module"));
    };
    let bytes = bundle
        .library_bytes()
        .ok_or_else(|| Diagnostic::at(library, "the library was not read"))?;
    let digest = hex(&Sha256::digest(bytes));

    let (runtime, engines) = crate::scratch::runtime().map_err(|e| {
        Diagnostic::at(
            dir,
            format!("cannot create a scratch runtime to load it: {e}"),
        )
    })?;
    for provider in with {
        runtime
            .load_bundle(provider)
            .map_err(|e| Diagnostic::at(provider, format!("cannot load --with bundle: {e}")))?;
    }
    let id = runtime
        .load_bundle(dir)
        .map_err(|e| load_error(&bundle, &manifest_path, &text, &e))?;

    // The runtime refuses undeclared and unregistered contracts itself;
    // compare once more, and count the functions.
    let contracts = contracts_of(&runtime, id);
    for decl in &manifest.provides {
        let found = contracts
            .iter()
            .any(|c| c.name == decl.name.as_str() && c.version.satisfies(decl.version));
        if !found {
            let index = provides_index(&text, decl.name.as_str());
            return Err(Diagnostic::field(
                &manifest_path,
                &text,
                &format!("provides[{}].name", index.unwrap_or(0)),
                index.and_then(|i| locate(&text, "provides", Some(i), "name")),
                &format!(
                    "expected the plugin to register contract {} {}, found it did not",
                    decl.name.as_str(),
                    decl.version
                ),
            ));
        }
    }
    for contract in &contracts {
        if !manifest
            .provides
            .iter()
            .any(|d| d.name.as_str() == contract.name)
        {
            return Err(Diagnostic::at(
                &manifest_path,
                format!(
                    "the plugin registered contract {} {}, which the manifest does not declare",
                    contract.name, contract.version
                ),
            ));
        }
    }

    runtime
        .unload_bundle(id)
        .map_err(|e| Diagnostic::at(dir, format!("cannot unload it: {e}")))?;
    runtime
        .drain(Duration::from_secs(5))
        .map_err(|e| Diagnostic::at(dir, format!("its tables did not drain: {e}")))?;
    let stats = runtime.library_stats();

    let file = library.file_name().map_or_else(
        || library.display().to_string(),
        |f| f.to_string_lossy().into_owned(),
    );
    let counts = contracts
        .iter()
        .map(ContractInfo::counts)
        .collect::<Vec<_>>()
        .join("; ");
    if let Some(engine) = engine_report(manifest.loader, &engines) {
        let mut lines = vec![format!(
            "ok: {} {}: {} ({counts}), {} {file} sha256 {}, {}",
            manifest.name.as_str(),
            manifest.version,
            plural(contracts.len(), "contract"),
            engine.code,
            &digest[..16],
            if engine.clean {
                engine.clean_text
            } else {
                engine.leak_text
            }
        )];
        if manifest.library.as_ref().is_none_or(|l| l.sha256.is_none()) {
            lines.push(format!(
                "note: library.sha256 is not set; to pin this exact {}, add to [library]:\n  sha256 = \"{digest}\"",
                engine.noun
            ));
        }
        return Ok(lines);
    }
    let mut ok = format!(
        "ok: {} {}: {} ({}), ABI {}, library {file} sha256 {}",
        manifest.name.as_str(),
        manifest.version,
        plural(contracts.len(), "contract"),
        counts,
        polyplug_abi::ABI_VERSION,
        &digest[..16],
    );
    let unmapped = stats.still_mapped == 0 && stats.unmapped == stats.closed;
    let _ = write!(
        ok,
        ", {}",
        if unmapped {
            "unloads cleanly (image unmapped)"
        } else {
            "unloads, but its image stayed mapped"
        }
    );
    let mut lines = vec![ok];
    if manifest.library.as_ref().is_none_or(|l| l.sha256.is_none()) {
        lines.push(format!(
            "note: library.sha256 is not set; to pin this exact library, add to [library]:\n  sha256 = \"{digest}\""
        ));
    }
    if !unmapped {
        lines.push(format!(
            "warning: {}: the dynamic loader kept the image mapped after dlclose \
             (C++ unique symbols or thread-local destructors do that; see SAFETY.md, \
             \"Library unmapping\"); reloads will accumulate copies",
            report::libraries(&stats)
        ));
    }
    Ok(lines)
}

/// The loaders this command's runtime has.
const LOADERS: [LoaderKind; 5] = [
    LoaderKind::Native,
    LoaderKind::Wasm,
    LoaderKind::Lua,
    LoaderKind::JavaScript,
    LoaderKind::Python,
];

/// How an engine's bundle is reported, and whether its engine freed
/// everything the bundle made.
struct EngineReport {
    /// What its code is: `wasm module`.
    code: &'static str,
    /// The short name of that: `module`.
    noun: &'static str,
    clean: bool,
    clean_text: &'static str,
    leak_text: &'static str,
}

/// The report of a bundle of an engine's `loader`, after its unload;
/// `None` for a native bundle.
fn engine_report(loader: LoaderKind, engines: &Engines) -> Option<EngineReport> {
    match loader {
        LoaderKind::Wasm => {
            let stats = engines.wasm.get();
            Some(EngineReport {
                code: "wasm module",
                noun: "module",
                clean: stats.modules_alive() == 0 && stats.instances_alive() == 0,
                clean_text: "unloads cleanly (module and instances dropped)",
                leak_text: "unloads, but wasm engine objects stayed alive",
            })
        }
        LoaderKind::Lua => {
            let stats = engines.lua.get();
            Some(EngineReport {
                code: "Lua script",
                noun: "script",
                clean: stats.loads_alive() == 0 && stats.states_alive() == 0,
                clean_text: "unloads cleanly (script and Lua states freed)",
                leak_text: "unloads, but Lua states stayed alive",
            })
        }
        LoaderKind::JavaScript => {
            let stats = engines.js.get();
            Some(EngineReport {
                code: "JavaScript module",
                noun: "module",
                clean: stats.loads_alive() == 0 && stats.states_alive() == 0,
                clean_text: "unloads cleanly (module and JavaScript states freed)",
                leak_text: "unloads, but JavaScript states stayed alive",
            })
        }
        LoaderKind::Python => {
            let stats = engines.python.get();
            Some(EngineReport {
                code: "Python script",
                noun: "script",
                clean: stats.loads_alive() == 0 && stats.modules_alive() == 0,
                clean_text: "unloads cleanly (script and its Python modules freed)",
                leak_text: "unloads, but Python modules stayed alive",
            })
        }
        _ => None,
    }
}

/// `1 contract`, `2 contracts`.
pub(crate) fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// The manifest's text, at most `MAX_MANIFEST_BYTES` + 1 bytes of it, or
/// nothing when it is not a regular file or cannot be read.
fn manifest_text(path: &Path) -> String {
    let Ok(file) = polyplug_loader::open_regular(path) else {
        return String::new();
    };
    let limit = u64::try_from(polyplug_loader::MAX_MANIFEST_BYTES + 1).unwrap_or(u64::MAX);
    let mut bytes = Vec::new();
    if file.take(limit).read_to_end(&mut bytes).is_err() {
        return String::new();
    }
    String::from_utf8(bytes).unwrap_or_default()
}

/// Lowercase hex.
fn hex(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(text, "{b:02x}");
    }
    text
}

/// The manifest field that names the library on this platform.
fn library_field() -> String {
    format!("library.{}", platform_key())
}

fn library_position(text: &str) -> Option<crate::diagnostic::Position> {
    locate(text, "library", None, platform_key())
}

fn bundle_error(manifest_path: &Path, text: &str, error: &BundleError) -> Diagnostic {
    match error {
        BundleError::Manifest(e) => Diagnostic::manifest(e, text),
        BundleError::LibraryOutsideBundle { field, .. } => Diagnostic::field(
            manifest_path,
            text,
            field,
            library_position(text),
            &error.to_string(),
        ),
        BundleError::LibraryMissing { .. }
        | BundleError::LibraryAccess { .. }
        | BundleError::LibraryNotAFile { .. }
        | BundleError::NoLibraryForPlatform { .. } => Diagnostic::field(
            manifest_path,
            text,
            &library_field(),
            library_position(text),
            &error.to_string(),
        ),
        BundleError::Dir { dir, .. } | BundleError::NotADirectory { dir } => {
            Diagnostic::at(dir, error.to_string())
        }
        BundleError::ManifestMissing { path }
        | BundleError::ManifestRead { path, .. }
        | BundleError::ManifestNotAFile { path, .. }
        | BundleError::ManifestTooLarge { path, .. } => Diagnostic::at(path, error.to_string()),
        // `validate` checks no signature (`polyplug verify` does).
        BundleError::Seal(_) => Diagnostic::at(manifest_path, error.to_string()),
    }
}

fn native_error(
    bundle: &Bundle,
    manifest_path: &Path,
    text: &str,
    error: &NativeError,
) -> Diagnostic {
    let library = bundle.library_path().unwrap_or(bundle.dir());
    match error {
        NativeError::DigestMismatch { .. } => Diagnostic::field(
            manifest_path,
            text,
            "library.sha256",
            locate(text, "library", None, "sha256"),
            &error.to_string(),
        )
        .note("rebuilt on purpose? put the new digest in library.sha256"),
        NativeError::AbiMismatch { .. } => Diagnostic::at(library, error.to_string()).note(
            "rebuild the plugin against this polyplug: abi/include/polyplug.h for C and C++, polyplug-guest for Rust",
        ),
        NativeError::MissingSymbol { .. } => Diagnostic::at(library, error.to_string()).note(
            "a plugin exports polyplug_abi_version and polyplug_entry (PP_EXPORT in C and C++, the plugin! macro in Rust)",
        ),
        // Read, not a shared object, truncated, dlopen refused, ...: the
        // library file is the thing to look at.
        _ => Diagnostic::at(library, error.to_string()),
    }
}

fn load_error(bundle: &Bundle, manifest_path: &Path, text: &str, error: &LoadError) -> Diagnostic {
    let library = bundle.library_path().unwrap_or(bundle.dir());
    match error {
        LoadError::Bundle(e) => bundle_error(manifest_path, text, e),
        LoadError::Native(e) => native_error(bundle, manifest_path, text, e),
        LoadError::NotRegistered { contract, .. } => {
            let index = provides_index(text, contract);
            Diagnostic::field(
                manifest_path,
                text,
                &format!("provides[{}].name", index.unwrap_or(0)),
                index.and_then(|i| locate(text, "provides", Some(i), "name")),
                &error.to_string(),
            )
        }
        LoadError::Undeclared {
            contract, version, ..
        } => Diagnostic::at(manifest_path, error.to_string()).note(format!(
            "declare it in the manifest:\n    [[provides]]\n    name = \"{contract}\"\n    version = \"{version}\""
        )),
        LoadError::MissingProvider { .. } => Diagnostic::at(manifest_path, error.to_string())
            .note("load the bundle that provides it first: --with <bundle-dir>"),
        LoadError::InitFailed { .. }
        | LoadError::InvalidContract { .. }
        | LoadError::DuplicateContract { .. } => Diagnostic::at(library, error.to_string()),
        LoadError::Code { error: code, .. } => {
            let loader = bundle.manifest().loader;
            let script = String::from_utf8_lossy(bundle.library_bytes().unwrap_or_default());
            if code.code == polyplug_abi::ERR_UNSUPPORTED
                && let Some(key) = code.field.strip_prefix("limits.")
            {
                return Diagnostic::field(
                    manifest_path,
                    text,
                    &code.field,
                    locate(text, "limits", None, key),
                    &error.to_string(),
                )
                .note(format!(
                    "the {} loader cannot enforce {}: remove it from [limits]",
                    loader.name(),
                    code.field
                ));
            }
            let diagnostic = match loader {
                LoaderKind::Lua | LoaderKind::JavaScript | LoaderKind::Python => {
                    Diagnostic::script(&code.file, &script, error.to_string())
                }
                _ => Diagnostic::at(&code.file, error.to_string()),
            };
            if code.field.starts_with("limits.") {
                diagnostic.note(format!(
                    "raise {} in the manifest's [limits], or make the {} need less",
                    code.field,
                    if loader == LoaderKind::Wasm { "module" } else { "script" }
                ))
            } else {
                diagnostic.note(match loader {
                    LoaderKind::Lua => {
                        "a Lua script returns its contracts: return { contracts = { { name = ..., version = ..., functions = { f = { sig = \"u32(u32)\", fn = ... } } } } }; see README.md, \"Plugins in Lua and JavaScript\""
                    }
                    LoaderKind::JavaScript => {
                        "a JavaScript module exports its contracts: export const contracts = [{ name, version, functions: { f: { sig: \"u32(u32)\", fn } } }]; see README.md, \"Plugins in Lua and JavaScript\""
                    }
                    LoaderKind::Python => {
                        "a Python script lists its contracts, CONTRACTS = [{\"name\": ..., \"version\": ..., \"functions\": {\"f\": {\"sig\": \"u32(u32)\", \"fn\": f}}}], or marks functions with @polyplug.export(contract, version, sig); see docs/python-plugins.md"
                    }
                    _ => {
                        "a wasm module declares its contracts by export names, <contract>@<version>/<function>:<signature>; see docs/wasm-plugins.md"
                    }
                })
            }
        }
        _ => Diagnostic::at(bundle.dir(), error.to_string()),
    }
}
