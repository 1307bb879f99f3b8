//! `manifest.toml` bytes into [`parse_manifest`].
//!
//! Properties, for every input:
//!
//! 1. `parse_manifest` returns; it never panics.
//! 2. An error names the file: its `file` is the path passed in, and its
//!    `Display` starts with `path:line:column: `, with a line that exists in
//!    the input and a column of at least 1. Its `Display` holds no control
//!    or bidi character, whatever the input holds.
//! 3. An accepted manifest keeps its own invariants (a native bundle has a
//!    library for some platform, no contract is provided twice, every name
//!    parses again), and [`render`]ing it gives text that parses to the
//!    same [`Manifest`].

use std::fmt::Write as _;
use std::path::Path;

use polyplug_loader::{
    BundleName, ContractDecl, ContractName, LibrarySpec, LoaderKind, MAX_MANIFEST_BYTES, Manifest,
    parse_manifest,
};

/// The path every fuzzed manifest is parsed under; errors must name it.
pub const FILE: &str = "fuzz-bundle/manifest.toml";

/// Parses `bytes` as a manifest and checks the properties above.
///
/// ```
/// polyplug_fuzz::manifest::check(b"[bundle]\nname = 1\n");
/// ```
pub fn check(bytes: &[u8]) {
    let file = Path::new(FILE);
    match parse_manifest(bytes, file) {
        Ok(manifest) => check_accepted(bytes, &manifest),
        Err(error) => {
            assert_eq!(error.file, file, "the error names another file");
            let shown = error.to_string();
            let prefix = format!("{FILE}:{}:{}: ", error.line, error.column);
            assert!(
                shown.starts_with(&prefix),
                "{shown:?} does not start with {prefix:?}"
            );
            let lines = 1 + bytes.iter().filter(|&&b| b == b'\n').count();
            assert!(
                (1..=lines).contains(&error.line),
                "line {} of a {lines}-line input: {shown}",
                error.line
            );
            assert!(error.column >= 1, "column 0: {shown}");
            assert!(
                !shown.chars().any(polyplug_loader::is_unsafe_char),
                "a control character in the message: {shown:?}"
            );
            if let Some(field) = &error.field {
                assert!(!field.is_empty(), "an empty field name: {shown}");
            }
        }
    }
}

fn check_accepted(bytes: &[u8], manifest: &Manifest) {
    assert!(bytes.len() <= MAX_MANIFEST_BYTES);
    assert_eq!(
        BundleName::parse(manifest.name.as_str()).as_ref(),
        Ok(&manifest.name)
    );
    if manifest.loader == LoaderKind::Native {
        let library = manifest.library.as_ref();
        assert!(
            library.is_some_and(|l| l.linux.is_some() || l.macos.is_some() || l.windows.is_some()),
            "a native bundle without a library: {manifest:?}"
        );
    }
    for (i, decl) in manifest.provides.iter().enumerate() {
        assert!(
            !manifest.provides[..i].iter().any(|d| d.id() == decl.id()),
            "{} provided twice: {manifest:?}",
            decl.key()
        );
    }
    for decl in manifest.provides.iter().chain(&manifest.requires) {
        assert_eq!(
            ContractName::parse(decl.name.as_str()).as_ref(),
            Ok(&decl.name)
        );
    }
    let text = render(manifest);
    match parse_manifest(text.as_bytes(), Path::new(FILE)) {
        Ok(again) => assert_eq!(&again, manifest, "rendered as:\n{text}"),
        Err(error) => panic!("the rendering of an accepted manifest fails: {error}\n{text}"),
    }
}

/// The canonical text of a manifest: every field it holds, in schema
/// order, with versions written out in full.
///
/// ```
/// use std::path::Path;
/// use polyplug_loader::parse_manifest;
///
/// let text = b"[bundle]\nname='a'\nversion='1.0.0'\nloader='lua'\n[[requires]]\nname='x'\nversion='2'\n";
/// let manifest = parse_manifest(text, Path::new("m.toml")).unwrap();
/// let canonical = polyplug_fuzz::manifest::render(&manifest);
/// assert!(canonical.contains("version = \"2.0.0\""));
/// assert_eq!(parse_manifest(canonical.as_bytes(), Path::new("m.toml")), Ok(manifest));
/// ```
pub fn render(manifest: &Manifest) -> String {
    let mut out = String::new();
    out.push_str("[bundle]\n");
    line(&mut out, "name", manifest.name.as_str());
    line(&mut out, "version", &manifest.version.to_string());
    line(&mut out, "loader", manifest.loader.name());
    if let Some(library) = &manifest.library {
        render_library(&mut out, library);
    }
    for (table, decls) in [
        ("provides", &manifest.provides),
        ("requires", &manifest.requires),
    ] {
        for decl in decls {
            render_decl(&mut out, table, decl);
        }
    }
    out
}

fn render_library(out: &mut String, library: &LibrarySpec) {
    out.push_str("\n[library]\n");
    for (key, path) in [
        ("linux", &library.linux),
        ("macos", &library.macos),
        ("windows", &library.windows),
    ] {
        if let Some(path) = path {
            // Paths come from TOML strings, so they are always UTF-8.
            line(out, key, &path.to_string_lossy());
        }
    }
    if let Some(digest) = &library.sha256 {
        let hex = digest.iter().fold(String::new(), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        });
        line(out, "sha256", &hex);
    }
}

fn render_decl(out: &mut String, table: &str, decl: &ContractDecl) {
    let _ = writeln!(out, "\n[[{table}]]");
    line(out, "name", decl.name.as_str());
    line(out, "version", &decl.version.to_string());
}

/// `key = "value"` with the value as a TOML basic string.
fn line(out: &mut String, key: &str, value: &str) {
    let _ = write!(out, "{key} = \"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{0}'..='\u{1f}' | '\u{7f}' => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push_str("\"\n");
}
