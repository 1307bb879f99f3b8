//! Black-box tests of the pure parsers: manifests, versions, names and
//! contract keys.
#![cfg(not(any(loom, shuttle)))]

use std::path::{Path, PathBuf};

use polyplug_abi::{ContractId, Version};
use polyplug_loader::{
    BundleName, ContractDecl, ContractName, LibrarySpec, LoaderKind, MAX_MANIFEST_BYTES, Manifest,
    ManifestError, ManifestErrorKind, NameError, NameKind, VersionError, VersionShape,
    parse_manifest,
};

const FILE: &str = "bundles/test-add/manifest.toml";

const FULL: &str = r#"[bundle]
name = "test-add"
version = "1.2.3"
loader = "native"

[library]
linux = "libtest_add.so"
macos = "lib/libtest_add.dylib"
windows = "test_add.dll"
sha256 = "00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff"

[[provides]]
name = "test.add"
version = "1.0.0"

[[provides]]
name = "test.add"
version = "2.1.0"

[[requires]]
name = "test.host"
version = "1.2"

[[requires]]
name = "log"
version = "3"
"#;

fn parse(text: &str) -> Result<Manifest, ManifestError> {
    parse_manifest(text.as_bytes(), Path::new(FILE))
}

#[expect(
    clippy::panic,
    reason = "a helper of the tests: panicking fails the test"
)]
fn parse_err(text: &str) -> ManifestError {
    match parse(text) {
        Ok(manifest) => panic!("expected an error, parsed {manifest:?}"),
        Err(e) => e,
    }
}

#[expect(
    clippy::unwrap_used,
    reason = "a helper of the tests: the names are valid"
)]
fn decl(name: &str, version: Version) -> ContractDecl {
    ContractDecl {
        name: ContractName::parse(name).unwrap(),
        version,
    }
}

/// A valid native header followed by `rest`.
fn with_header(rest: &str) -> String {
    format!(
        "[bundle]\nname = \"demo\"\nversion = \"1.0.0\"\nloader = \"native\"\n\n\
         [library]\nlinux = \"libdemo.so\"\n{rest}"
    )
}

#[test]
fn a_full_manifest_parses_to_exact_values() {
    let manifest = parse(FULL).unwrap();
    let digest: [u8; 32] = [
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee,
        0xff, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
        0xee, 0xff,
    ];
    let expected = Manifest {
        name: BundleName::parse("test-add").unwrap(),
        version: Version::new(1, 2, 3),
        loader: LoaderKind::Native,
        library: Some(LibrarySpec {
            linux: Some(PathBuf::from("libtest_add.so")),
            macos: Some(PathBuf::from("lib/libtest_add.dylib")),
            windows: Some(PathBuf::from("test_add.dll")),
            sha256: Some(digest),
        }),
        provides: vec![
            decl("test.add", Version::new(1, 0, 0)),
            decl("test.add", Version::new(2, 1, 0)),
        ],
        requires: vec![
            decl("test.host", Version::new(1, 2, 0)),
            decl("log", Version::new(3, 0, 0)),
        ],
        limits: polyplug_loader::Limits::default(),
        definitions: Vec::new(),
    };
    assert_eq!(manifest, expected);
    assert_eq!(manifest.provides[1].id(), ContractId::of("test.add", 2));
    assert_eq!(manifest.provides[1].key(), "test.add@2");
}

#[test]
fn a_script_bundle_needs_no_library_and_lists_default_to_empty() {
    let manifest =
        parse("[bundle]\nname = \"s\"\nversion = \"0.0.0\"\nloader = \"lua\"\n").unwrap();
    assert_eq!(manifest.loader, LoaderKind::Lua);
    assert_eq!(manifest.version, Version::new(0, 0, 0));
    assert_eq!(manifest.library, None);
    assert!(manifest.provides.is_empty());
    assert!(manifest.requires.is_empty());
}

#[test]
fn every_loader_kind_parses() {
    for (text, kind) in [
        ("native", LoaderKind::Native),
        ("lua", LoaderKind::Lua),
        ("python", LoaderKind::Python),
        ("javascript", LoaderKind::JavaScript),
        ("wasm", LoaderKind::Wasm),
    ] {
        let library = if kind == LoaderKind::Native {
            "[library]\nwindows = \"x.dll\"\n"
        } else {
            ""
        };
        let text =
            format!("[bundle]\nname = \"k\"\nversion = \"1.0.0\"\nloader = \"{text}\"\n{library}");
        assert_eq!(parse(&text).unwrap().loader, kind);
    }
}

#[test]
fn bytes_that_are_not_utf8_point_at_the_first_bad_byte() {
    let err = parse_manifest(b"[bundle]\nname = \"a\xff\"\n", Path::new(FILE)).unwrap_err();
    assert_eq!(err.kind, ManifestErrorKind::NotUtf8);
    assert_eq!((err.line, err.column), (2, 10));
    assert_eq!(err.field, None);
    assert_eq!(err.file, Path::new(FILE));
}

#[test]
fn a_manifest_over_the_limit_is_refused_and_one_at_the_limit_is_not() {
    let base = with_header("");
    let mut at_limit = base.clone();
    while at_limit.len() < MAX_MANIFEST_BYTES - 1 {
        at_limit.push_str("# padding\n");
    }
    at_limit.truncate(MAX_MANIFEST_BYTES - 1);
    at_limit.push('\n');
    assert_eq!(at_limit.len(), MAX_MANIFEST_BYTES);
    // The truncated padding line is still a comment.
    assert!(parse(&at_limit).is_ok());

    let over = format!("{at_limit}#");
    let err = parse_err(&over);
    assert_eq!(
        err.kind,
        ManifestErrorKind::TooLarge {
            limit: MAX_MANIFEST_BYTES,
            found: MAX_MANIFEST_BYTES + 1
        }
    );
    assert_eq!((err.line, err.column), (1, 1));
}

#[test]
fn toml_syntax_errors_carry_their_position() {
    let err = parse_err("[bundle\nname = \"x\"\n");
    assert!(
        matches!(err.kind, ManifestErrorKind::Syntax { .. }),
        "{err}"
    );
    assert_eq!((err.line, err.column), (1, 8));

    let err = parse_err("[bundle]\nname = \"x\"\nversion = \n");
    assert!(
        matches!(err.kind, ManifestErrorKind::Syntax { .. }),
        "{err}"
    );
    assert_eq!(err.line, 3);

    let err = parse_err("[bundle]\nname = \"x\"\nname = \"y\"\n");
    assert!(
        matches!(err.kind, ManifestErrorKind::Syntax { .. }),
        "{err}"
    );
    assert_eq!((err.line, err.column), (3, 1));
}

#[test]
fn unknown_fields_are_refused_with_their_path() {
    let err = parse_err(
        "[bundle]\nname = \"x\"\nversion = \"1.0.0\"\nloader = \"lua\"\ncolour = \"red\"\n",
    );
    let ManifestErrorKind::Schema { message } = &err.kind else {
        panic!("expected a schema error, found {err}");
    };
    assert!(message.contains("unknown field `colour`"), "{message}");
    assert_eq!((err.line, err.column), (5, 1));
    assert_eq!(err.field.as_deref(), Some("bundle.colour"));

    let err = parse_err(&with_header(
        "\n[[provides]]\nname = \"a\"\nversion = \"1.0.0\"\noptional = true\n",
    ));
    assert!(
        matches!(err.kind, ManifestErrorKind::Schema { .. }),
        "{err}"
    );
    assert_eq!((err.line, err.column), (12, 1));
    assert_eq!(err.field.as_deref(), Some("provides[0].optional"));

    let err = parse_err(&with_header("[extra]\nx = 1\n"));
    assert!(
        matches!(err.kind, ManifestErrorKind::Schema { .. }),
        "{err}"
    );
    assert_eq!(err.field.as_deref(), Some("extra"));
    assert_eq!(err.line, 8);
}

#[test]
fn missing_fields_point_at_their_table() {
    let err = parse_err("[bundle]\nname = \"x\"\nloader = \"lua\"\n");
    let ManifestErrorKind::Schema { message } = &err.kind else {
        panic!("expected a schema error, found {err}");
    };
    assert!(message.contains("missing field `version`"), "{message}");
    assert_eq!((err.line, err.column), (1, 1));
    assert_eq!(err.field.as_deref(), Some("bundle"));

    let err = parse_err(&with_header("\n[[requires]]\nversion = \"1\"\n"));
    assert!(err.to_string().contains("missing field `name`"), "{err}");
    assert_eq!((err.line, err.column), (9, 1));
    assert_eq!(err.field.as_deref(), Some("requires[0]"));

    let err = parse_err("");
    assert!(err.to_string().contains("missing field `bundle`"), "{err}");
    assert_eq!((err.line, err.column), (1, 1));
}

#[test]
fn wrong_types_point_at_the_value() {
    let err = parse_err("[bundle]\nname = 12\nversion = \"1.0.0\"\nloader = \"lua\"\n");
    assert!(
        matches!(err.kind, ManifestErrorKind::Schema { .. }),
        "{err}"
    );
    assert_eq!((err.line, err.column), (2, 8));
    assert_eq!(err.field.as_deref(), Some("bundle.name"));
}

#[test]
fn a_bad_bundle_version_reads_like_a_compiler_error() {
    let err = parse_err("[bundle]\nname = \"x\"\nversion = \"1.x\"\nloader = \"lua\"\n");
    assert_eq!(
        err.kind,
        ManifestErrorKind::Version(VersionError::Shape {
            input: "1.x".to_owned(),
            expected: VersionShape::Exact
        })
    );
    assert_eq!((err.line, err.column), (3, 11));
    assert_eq!(
        err.to_string(),
        "bundles/test-add/manifest.toml:3:11: bundle.version: expected major.minor.patch, found \"1.x\""
    );
}

#[test]
fn a_bad_bundle_name_is_refused() {
    let err = parse_err("[bundle]\nname = \"Test-Add\"\nversion = \"1.0.0\"\nloader = \"lua\"\n");
    assert_eq!(
        err.kind,
        ManifestErrorKind::Name(NameError::Start {
            kind: NameKind::Bundle,
            input: "Test-Add".to_owned()
        })
    );
    assert_eq!((err.line, err.column), (2, 8));
    assert_eq!(err.field.as_deref(), Some("bundle.name"));
    // Dots are for contract names only.
    let err = parse_err("[bundle]\nname = \"test.add\"\nversion = \"1.0.0\"\nloader = \"lua\"\n");
    assert!(matches!(
        err.kind,
        ManifestErrorKind::Name(NameError::Char { found: '.', .. })
    ));
}

#[test]
fn bad_contract_entries_name_their_index() {
    let text = with_header(
        "\n[[provides]]\nname = \"ok.one\"\nversion = \"1.0.0\"\n\n[[provides]]\nname = \"bad name\"\nversion = \"1.0.0\"\n",
    );
    let err = parse_err(&text);
    assert!(matches!(
        err.kind,
        ManifestErrorKind::Name(NameError::Char {
            kind: NameKind::Contract,
            found: ' ',
            ..
        })
    ));
    assert_eq!(err.field.as_deref(), Some("provides[1].name"));
    assert_eq!((err.line, err.column), (14, 8));

    let text = with_header("\n[[requires]]\nname = \"a\"\nversion = \"1.2.3.4\"\n");
    let err = parse_err(&text);
    assert!(matches!(
        err.kind,
        ManifestErrorKind::Version(VersionError::Shape {
            expected: VersionShape::Requirement,
            ..
        })
    ));
    assert_eq!(err.field.as_deref(), Some("requires[0].version"));
    assert_eq!((err.line, err.column), (11, 11));

    // A provided version is exact: "1.0" is refused there.
    let err = parse_err(&with_header(
        "\n[[provides]]\nname = \"a\"\nversion = \"1.0\"\n",
    ));
    assert_eq!(err.field.as_deref(), Some("provides[0].version"));
}

#[test]
fn an_unknown_loader_kind_lists_the_allowed_ones() {
    let err = parse_err("[bundle]\nname = \"x\"\nversion = \"1.0.0\"\nloader = \"rust\"\n");
    assert_eq!(
        err.kind,
        ManifestErrorKind::UnknownLoader {
            found: "rust".to_owned()
        }
    );
    assert_eq!((err.line, err.column), (4, 10));
    assert_eq!(err.field.as_deref(), Some("bundle.loader"));
    let text = err.to_string();
    for kind in LoaderKind::ALL {
        assert!(text.contains(&format!("\"{kind}\"")), "{text}");
    }
}

#[test]
fn a_contract_provided_twice_at_one_major_is_refused() {
    let text = with_header(
        "\n[[provides]]\nname = \"test.add\"\nversion = \"1.0.0\"\n\n[[provides]]\nname = \"test.add\"\nversion = \"1.4.0\"\n",
    );
    let err = parse_err(&text);
    assert_eq!(
        err.kind,
        ManifestErrorKind::DuplicateContract {
            name: "test.add".to_owned(),
            major: 1,
            first_line: 10
        }
    );
    assert_eq!((err.line, err.column), (14, 8));
    assert_eq!(err.field.as_deref(), Some("provides[1].name"));
}

#[test]
fn a_native_bundle_needs_a_library_for_some_platform() {
    let err = parse_err("[bundle]\nname = \"x\"\nversion = \"1.0.0\"\nloader = \"native\"\n");
    assert_eq!(err.kind, ManifestErrorKind::NoLibrary);
    assert_eq!((err.line, err.column), (4, 10));
    assert_eq!(err.field.as_deref(), Some("library"));

    let err = parse_err(
        "[bundle]\nname = \"x\"\nversion = \"1.0.0\"\nloader = \"native\"\n\n[library]\nsha256 = \"\"\n",
    );
    assert_eq!(err.kind, ManifestErrorKind::NoPlatform);
    assert_eq!(err.line, 6);
    assert_eq!(err.field.as_deref(), Some("library"));
}

#[test]
fn library_values_are_checked() {
    let err = parse_err(&with_header("windows = \"\"\n"));
    assert_eq!(err.kind, ManifestErrorKind::EmptyPath);
    assert_eq!((err.line, err.column), (8, 11));
    assert_eq!(err.field.as_deref(), Some("library.windows"));

    let err = parse_err(&with_header("sha256 = \"abc\"\n"));
    assert_eq!(
        err.kind,
        ManifestErrorKind::Digest {
            found: "abc".to_owned()
        }
    );
    assert_eq!(err.field.as_deref(), Some("library.sha256"));
    assert_eq!((err.line, err.column), (8, 10));
}

#[test]
fn errors_escape_what_the_manifest_and_its_path_hold() {
    // An unknown key that spells a newline, an escape sequence and a bidi
    // override: serde quotes the key in its message.
    let text = "[bundle]\nname = \"demo\"\nversion = \"1.0.0\"\nloader = \"lua\"\n\
                \"x\\n\\u001b[2J\\u202e\" = 1\n";
    let file = Path::new("odd\ndir/manifest.toml");
    let err = parse_manifest(text.as_bytes(), file).unwrap_err();
    assert!(
        matches!(&err.kind, ManifestErrorKind::Schema { message } if message.contains("x\n\u{1b}[2J\u{202e}")),
        "the raw key is kept: {err:?}"
    );
    assert_eq!(err.file, file, "the raw path is kept");
    let shown = err.to_string();
    assert!(
        !shown.chars().any(polyplug_loader::is_unsafe_char),
        "{shown:?}"
    );
    assert!(shown.starts_with(r"odd\ndir/manifest.toml:5:"), "{shown}");
    assert!(shown.contains(r"x\n\u{1b}[2J\u{202e}"), "{shown}");
}
