//! `polyplug inspect`: what a bundle, or a directory of bundles, provides
//! and requires, function by function, and the order a directory loads in.
//!
//! The manifests say what is declared; loading the bundles into a scratch
//! runtime says what is really registered (native function names, typed
//! signatures, instances). A directory is loaded with
//! `Runtime::load_dir`, providers first, and that order is printed. Native,
//! wasm, Lua, JavaScript and Python bundles alike: the scratch runtime has
//! those loaders; a wasm bundle's `module` line names its `.wasm` file, a
//! Lua or Python bundle's `script` line its `.lua` or `.py` file, a
//! JavaScript bundle's `module` line its ES module.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use polyplug::{BundleId, ContractHandle, Provider, Runtime, Version};
use polyplug_loader::{Bundle, LoaderKind, MANIFEST_FILE};

use crate::error::{CliError, io_error};

/// One registered contract, as a scratch runtime sees it.
#[derive(Debug, Clone)]
pub(crate) struct ContractInfo {
    pub(crate) name: String,
    pub(crate) version: Version,
    pub(crate) handle: ContractHandle,
    pub(crate) native: Vec<String>,
    /// `(name, signature)`.
    pub(crate) typed: Vec<(String, String)>,
    pub(crate) stateful: bool,
}

impl ContractInfo {
    /// `demo.counter 1.0.0: 2 native, 2 typed, instances`.
    pub(crate) fn counts(&self) -> String {
        let mut text = format!(
            "{} {}: {} native, {} typed",
            self.name,
            self.version,
            self.native.len(),
            self.typed.len()
        );
        if self.stateful {
            text.push_str(", instances");
        }
        text
    }
}

/// Every contract bundle `id` has registered in `runtime`.
pub(crate) fn contracts_of(runtime: &Runtime, id: BundleId) -> Vec<ContractInfo> {
    let Some(info) = runtime.bundles().into_iter().find(|b| b.id == id) else {
        return Vec::new();
    };
    let reader = runtime.reader();
    let guard = reader.pin();
    let mut contracts = Vec::new();
    for (name, version) in &info.contracts {
        let mine = guard
            .find_all(name, *version)
            .find(|c| matches!(c.provider(), Provider::Bundle { id: p, .. } if *p == id));
        if let Some(c) = mine {
            contracts.push(ContractInfo {
                name: c.name().to_owned(),
                version: c.version(),
                handle: c.handle(),
                native: c.native_names().map(str::to_owned).collect(),
                typed: c
                    .typed_signatures()
                    .map(|(n, s)| (n.to_owned(), s.to_owned()))
                    .collect(),
                stateful: c.is_stateful(),
            });
        }
    }
    contracts
}

/// The bundle directories at `path`: itself when it holds a manifest,
/// else its subdirectories that do, sorted.
fn bundle_dirs(path: &Path) -> Result<(Vec<PathBuf>, bool), CliError> {
    if path.join(MANIFEST_FILE).is_file() {
        return Ok((vec![path.to_owned()], false));
    }
    let mut dirs: Vec<PathBuf> = fs::read_dir(path)
        .map_err(io_error(path))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join(MANIFEST_FILE).is_file())
        .collect();
    dirs.sort();
    if dirs.is_empty() {
        return Err(CliError::Argument(format!(
            "{}: expected a bundle (a directory with {MANIFEST_FILE}) or a directory of bundles, found neither",
            path.display()
        )));
    }
    Ok((dirs, true))
}

pub(crate) fn run(path: &Path) -> Result<(), CliError> {
    let (dirs, is_dir_of_bundles) = bundle_dirs(path)?;
    let mut bundles = Vec::with_capacity(dirs.len());
    for dir in &dirs {
        bundles.push(Bundle::open(dir).map_err(polyplug::LoadError::from)?);
    }
    let (runtime, _) = crate::scratch::runtime()?;
    let loaded = if is_dir_of_bundles {
        runtime.load_dir(path)
    } else {
        runtime.load_bundle(path).map(|id| vec![id])
    };
    let ids = match loaded {
        Ok(ids) => ids,
        Err(error) => {
            for bundle in &bundles {
                print!("{}", describe(bundle, None));
            }
            return Err(error.into());
        }
    };
    let infos = runtime.bundles();
    let mut order = Vec::with_capacity(ids.len());
    for id in &ids {
        let Some(info) = infos.iter().find(|b| b.id == *id) else {
            continue;
        };
        order.push(info.name.clone());
        if let Some(bundle) = bundles.iter().find(|b| b.dir() == info.dir) {
            print!("{}", describe(bundle, Some(&contracts_of(&runtime, *id))));
        }
    }
    if is_dir_of_bundles {
        println!("load order: {}", order.join(", "));
    }
    Ok(())
}

/// A bundle's manifest and, when it loaded, its registered contracts.
fn describe(bundle: &Bundle, contracts: Option<&[ContractInfo]>) -> String {
    let manifest = bundle.manifest();
    let mut out = format!(
        "{} {} ({})  {}\n",
        manifest.name.as_str(),
        manifest.version,
        manifest.loader.name(),
        bundle.dir().display()
    );
    if let Some(library) = bundle.library_path() {
        let file = library.strip_prefix(bundle.dir()).unwrap_or(library);
        let what = match manifest.loader {
            LoaderKind::Wasm | LoaderKind::JavaScript => "module ",
            LoaderKind::Lua | LoaderKind::Python => "script ",
            _ => "library",
        };
        let _ = writeln!(out, "  {what}   {}", file.display());
    }
    let list = |decls: &[polyplug_loader::ContractDecl]| {
        if decls.is_empty() {
            "-".to_owned()
        } else {
            decls
                .iter()
                .map(|d| format!("{} {}", d.name.as_str(), d.version))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let _ = writeln!(out, "  provides  {}", list(&manifest.provides));
    let _ = writeln!(out, "  requires  {}", list(&manifest.requires));
    for c in contracts.unwrap_or_default() {
        let _ = writeln!(
            out,
            "  contract  {} {}{}",
            c.name,
            c.version,
            if c.stateful { " (instances)" } else { "" }
        );
        let native = if c.native.is_empty() {
            "-".to_owned()
        } else {
            c.native.join(", ")
        };
        let _ = writeln!(out, "    native  {} {native}", c.native.len());
        let typed: Vec<String> = c.typed.iter().map(|(n, s)| format!("{n}: {s}")).collect();
        let typed = if typed.is_empty() {
            "-".to_owned()
        } else {
            typed.join(", ")
        };
        let _ = writeln!(out, "    typed   {} {typed}", c.typed.len());
    }
    out
}
