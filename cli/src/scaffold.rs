//! `polyplug new`: a plugin bundle that builds and validates as it stands.
//!
//! The templates live in `cli/templates/`. Each bundle is one directory:
//! the source, `manifest.toml`, and the means to build the library where
//! the manifest expects it.
//!
//! | language | files | build | library |
//! |---|---|---|---|
//! | Rust | `Cargo.toml` (a cdylib using `polyplug-guest` by path), `src/lib.rs` | `cargo build --release --target-dir target` | `target/release/lib<name>.so` |
//! | C | `<name>.c`, `polyplug.h`, `build.sh` (gcc) | `sh build.sh` | `lib<name>.so` |
//! | C++ | `<name>.cpp`, `polyplug.h`, `polyplug.hpp`, `build.sh` (g++) | `sh build.sh` | `lib<name>.so` |
//! | wasm | `Cargo.toml` (a cdylib using `polyplug-guest` by path, `panic = "abort"`), `src/lib.rs` | `cargo build --release --target wasm32-unknown-unknown --target-dir target` | `target/wasm32-unknown-unknown/release/<name>.wasm` |
//! | lua | `<name>.lua` | none | `<name>.lua` |
//! | js | `<name>.js` (an ES module) | none | `<name>.js` |
//! | python | `<name>.py` | none | `<name>.py` |
//!
//! The wasm bundle is a Rust crate with the same `plugin!` declaration as a
//! native one, built for `wasm32-unknown-unknown` (`rustup target add
//! wasm32-unknown-unknown` once); its manifest says `loader = "wasm"`.
//! A Lua, JavaScript or Python bundle is its script and its manifest
//! (`loader = "lua"`, `loader = "javascript"`, `loader = "python"`):
//! nothing to build, so the only next step printed is `validate`.
//!
//! `polyplug.h` is this polyplug's generated header, copied in, so a C or
//! C++ bundle builds with nothing but the compiler. A C++ bundle also gets
//! `polyplug.hpp`, whose wrappers keep exceptions from reaching the host;
//! the template wraps every function the host calls.

use std::fs;
use std::path::{Path, PathBuf};

use polyplug_loader::BundleName;

use crate::Lang;
use crate::error::{CliError, io_error};

/// The guest SDK of this repository, for Rust plugins' path dependency.
pub(crate) const GUEST_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../guest");

/// The generated C header, copied into C and C++ bundles.
const HEADER: &str = include_str!("../../abi/include/polyplug.h");
/// The C++ exception wrappers, copied into C++ bundles.
const CPP_HEADER: &str = include_str!("../../abi/include/polyplug.hpp");

const MANIFEST: &str = include_str!("../templates/manifest.toml");
const BUILD_SH: &str = include_str!("../templates/build.sh");
const RUST_CARGO: &str = include_str!("../templates/rust/Cargo.toml");
const RUST_LIB: &str = include_str!("../templates/rust/lib.rs");
const C_SOURCE: &str = include_str!("../templates/c/plugin.c");
const CPP_SOURCE: &str = include_str!("../templates/cpp/plugin.cpp");
const WASM_CARGO: &str = include_str!("../templates/wasm/Cargo.toml");
const WASM_LIB: &str = include_str!("../templates/wasm/lib.rs");
const WASM_MANIFEST: &str = include_str!("../templates/wasm/manifest.toml");
const LUA_SOURCE: &str = include_str!("../templates/lua/plugin.lua");
const LUA_MANIFEST: &str = include_str!("../templates/lua/manifest.toml");
const JS_SOURCE: &str = include_str!("../templates/js/plugin.js");
const JS_MANIFEST: &str = include_str!("../templates/js/manifest.toml");
const PYTHON_SOURCE: &str = include_str!("../templates/python/plugin.py");
const PYTHON_MANIFEST: &str = include_str!("../templates/python/manifest.toml");

/// Replaces every `{{key}}` in `template`.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut text = template.to_owned();
    for (key, value) in values {
        text = text.replace(&format!("{{{{{key}}}}}"), value);
    }
    text
}

/// `text` as the inside of a TOML basic string.
fn toml_escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The files of a new bundle, by path relative to its directory, and the
/// command that builds it there, if it needs building.
pub(crate) fn files(
    name: &str,
    lang: Lang,
    guest_path: &Path,
) -> (Vec<(PathBuf, String)>, Option<&'static str>) {
    let stem = name.replace('-', "_");
    match lang {
        Lang::Rust => {
            let build = "cargo build --release --target-dir target";
            let guest = toml_escape(&guest_path.display().to_string());
            let values = [
                ("name", name),
                ("stem", stem.as_str()),
                ("guest_path", guest.as_str()),
                ("dir", "target/release/"),
                ("build", build),
            ];
            let files = vec![
                (PathBuf::from("Cargo.toml"), fill(RUST_CARGO, &values)),
                (PathBuf::from("src/lib.rs"), fill(RUST_LIB, &values)),
                (PathBuf::from("manifest.toml"), fill(MANIFEST, &values)),
            ];
            (files, Some(build))
        }
        Lang::Wasm => {
            let build = "cargo build --release --target wasm32-unknown-unknown --target-dir target";
            let guest = toml_escape(&guest_path.display().to_string());
            let values = [
                ("name", name),
                ("stem", stem.as_str()),
                ("guest_path", guest.as_str()),
                ("dir", "target/wasm32-unknown-unknown/release/"),
                ("build", build),
            ];
            let files = vec![
                (PathBuf::from("Cargo.toml"), fill(WASM_CARGO, &values)),
                (PathBuf::from("src/lib.rs"), fill(WASM_LIB, &values)),
                (PathBuf::from("manifest.toml"), fill(WASM_MANIFEST, &values)),
            ];
            (files, Some(build))
        }
        Lang::Lua | Lang::Js | Lang::Python => {
            let (source, text, manifest) = match lang {
                Lang::Lua => (format!("{stem}.lua"), LUA_SOURCE, LUA_MANIFEST),
                Lang::Js => (format!("{stem}.js"), JS_SOURCE, JS_MANIFEST),
                _ => (format!("{stem}.py"), PYTHON_SOURCE, PYTHON_MANIFEST),
            };
            let values = [("name", name), ("source", source.as_str())];
            let files = vec![
                (PathBuf::from(&source), fill(text, &values)),
                (PathBuf::from("manifest.toml"), fill(manifest, &values)),
            ];
            (files, None)
        }
        Lang::C | Lang::Cpp => {
            let build = "sh build.sh";
            let (source, text, compiler, var, std) = if lang == Lang::C {
                (format!("{stem}.c"), C_SOURCE, "gcc", "CC", "c11")
            } else {
                (format!("{stem}.cpp"), CPP_SOURCE, "g++", "CXX", "c++17")
            };
            let values = [
                ("name", name),
                ("stem", stem.as_str()),
                ("dir", ""),
                ("build", build),
                ("source", source.as_str()),
                ("compiler", compiler),
                ("compiler_var", var),
                ("std", std),
            ];
            let mut files = vec![
                (PathBuf::from(&source), fill(text, &values)),
                (PathBuf::from("polyplug.h"), HEADER.to_owned()),
            ];
            if lang == Lang::Cpp {
                files.push((PathBuf::from("polyplug.hpp"), CPP_HEADER.to_owned()));
            }
            files.push((PathBuf::from("build.sh"), fill(BUILD_SH, &values)));
            files.push((PathBuf::from("manifest.toml"), fill(MANIFEST, &values)));
            (files, Some(build))
        }
    }
}

pub(crate) fn run(name: &str, lang: Lang, dir: &Path, guest_path: &Path) -> Result<(), CliError> {
    let name = BundleName::parse(name)
        .map_err(|e| CliError::Argument(format!("cannot use {name:?} as a bundle name: {e}")))?;
    let name = name.as_str();
    let bundle = dir.join(name);
    if bundle.exists() {
        return Err(CliError::Argument(format!(
            "{} exists already; choose another name or --dir",
            bundle.display()
        )));
    }
    let guest = if matches!(lang, Lang::Rust | Lang::Wasm) {
        let canonical = fs::canonicalize(guest_path).map_err(io_error(guest_path))?;
        if !canonical.join("Cargo.toml").is_file() {
            return Err(CliError::Argument(format!(
                "{}: expected the polyplug-guest crate there (--guest-path), found no Cargo.toml",
                canonical.display()
            )));
        }
        canonical
    } else {
        PathBuf::new()
    };
    let (files, build) = files(name, lang, &guest);
    for (path, text) in &files {
        let path = bundle.join(path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io_error(parent))?;
        }
        fs::write(&path, text).map_err(io_error(&path))?;
    }
    let bundle = fs::canonicalize(&bundle).map_err(io_error(&bundle))?;
    let exe =
        std::env::current_exe().map_or_else(|_| "polyplug".to_owned(), |p| p.display().to_string());
    println!(
        "created {} plugin {name} in {}",
        match lang {
            Lang::Rust => "a Rust",
            Lang::C => "a C",
            Lang::Cpp => "a C++",
            Lang::Wasm => "a WebAssembly (Rust, wasm32-unknown-unknown)",
            Lang::Lua => "a Lua",
            Lang::Js => "a JavaScript",
            Lang::Python => "a Python",
        },
        bundle.display()
    );
    for (path, _) in &files {
        println!("  {}", path.display());
    }
    println!("next:");
    if let Some(build) = build {
        println!("  cd {} && {build}", shell_quote(&bundle));
    }
    println!(
        "  {} validate {}",
        shell_quote(Path::new(&exe)),
        shell_quote(&bundle)
    );
    Ok(())
}

/// `path`, single-quoted for `sh` when it needs quoting.
fn shell_quote(path: &Path) -> String {
    let text = path.display().to_string();
    let plain = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@".contains(c));
    if plain {
        text
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_filled_completely() {
        for lang in [
            Lang::Rust,
            Lang::C,
            Lang::Cpp,
            Lang::Wasm,
            Lang::Lua,
            Lang::Js,
            Lang::Python,
        ] {
            let (files, _) = files("my-plugin", lang, Path::new("/g"));
            for (path, text) in files {
                if path != Path::new("polyplug.h") && path != Path::new("polyplug.hpp") {
                    assert!(
                        !text.contains("{{"),
                        "{} keeps a placeholder",
                        path.display()
                    );
                }
            }
        }
        let (files, _) = files("my-plugin", Lang::C, Path::new("/g"));
        let build = &files
            .iter()
            .find(|(p, _)| p == Path::new("build.sh"))
            .unwrap()
            .1;
        assert!(build.contains("${CC:-gcc} -shared -fPIC"));
        assert!(build.contains("-o libmy_plugin.so my_plugin.c"));
        let (files, _) = super::files("my-plugin", Lang::Cpp, Path::new("/g"));
        let source = &files
            .iter()
            .find(|(p, _)| p == Path::new("my_plugin.cpp"))
            .unwrap()
            .1;
        assert!(source.contains("#include \"polyplug.hpp\""));
        assert!(files.iter().any(|(p, _)| p == Path::new("polyplug.hpp")));
        for (lang, script) in [
            (Lang::Lua, "my_plugin.lua"),
            (Lang::Js, "my_plugin.js"),
            (Lang::Python, "my_plugin.py"),
        ] {
            let (files, build) = super::files("my-plugin", lang, Path::new("/g"));
            assert_eq!(build, None, "a script is not built");
            let manifest = &files
                .iter()
                .find(|(p, _)| p == Path::new("manifest.toml"))
                .unwrap()
                .1;
            assert!(
                manifest.contains(&format!("linux = \"{script}\"")),
                "{manifest}"
            );
            assert!(files.iter().any(|(p, _)| p == Path::new(script)));
        }
    }

    #[test]
    fn paths_are_quoted_for_sh_only_when_needed() {
        assert_eq!(shell_quote(Path::new("/a/b-c")), "/a/b-c");
        assert_eq!(shell_quote(Path::new("/a b/it's")), "'/a b/it'\\''s'");
    }
}
