//! The signed-bundle formats: the hash list's one spelling, the signature
//! file's lines, the keys, and walking a bundle directory.
#![expect(
    clippy::unwrap_used,
    reason = "test support: a failed step fails the test"
)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use polyplug_loader::{
    Bundle, BundleError, PublicKey, SIG_FILE, SUMS_FILE, ScratchDir, SealError, SecretKey, SumList,
    Trust, format_sums, parse_signature, parse_sums, seal_bundle,
};

const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn line(path: &str) -> String {
    format!("{HEX}  {path}\n")
}

#[test]
fn a_hash_list_has_one_spelling() {
    let text = format!(
        "{}{}{}",
        line("a.lua"),
        line("lib/b.lua"),
        line("manifest.toml")
    );
    let list = parse_sums(text.as_bytes()).unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(format_sums(&list), text.as_bytes());
    assert_eq!(parse_sums(b"").unwrap(), SumList::new());
    let bad = [
        (format!("{}{}", line("b"), line("a")), 2, "sorted"),
        (format!("{}{}", line("a"), line("a")), 2, "sorted"),
        (line("../a"), 1, "'..'"),
        (line("/etc/passwd"), 1, "relative"),
        (line("a//b"), 1, "empty"),
        (line("./a"), 1, "'.'"),
        (line("a\\b"), 1, "backslash"),
        (line("a\tb"), 1, "control"),
        (line("a").to_uppercase(), 1, "lowercase"),
        (line("a").replacen("  ", " ", 1), 1, "<64 hex digits>"),
        (line("a").trim_end().to_owned(), 1, "newline"),
        (format!("{}\r\n", line("a").trim_end()), 1, "control"),
        (format!("{}\n", line("a")), 2, "<64 hex digits>"),
        ("\n".to_owned(), 1, "<64 hex digits>"),
    ];
    for (text, at, expected) in bad {
        let error = parse_sums(text.as_bytes()).unwrap_err();
        assert_eq!(error.line, at, "{text:?}: {error}");
        assert!(error.to_string().contains(expected), "{text:?}: {error}");
    }
}

/// `text` with the algorithm of its signature line replaced by `alg`.
fn with_algorithm(text: &str, alg: &[u8; 2]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let mut bytes = BASE64.decode(&lines[1]).unwrap();
    bytes[..2].copy_from_slice(alg);
    lines[1] = BASE64.encode(bytes);
    lines.join("\n") + "\n"
}

#[test]
fn a_signature_file_is_four_lines_of_the_prehashed_algorithm() {
    let key = SecretKey::from_seed([3; 32]);
    let text = key.sign(b"list", "polyplug bundle demo 1.0.0");
    let signature = parse_signature(text.as_bytes()).unwrap();
    assert_eq!(signature.verify(b"list", &key.public()), Ok(()));
    // CRLF and trailing empty lines are fine.
    let crlf = text.replace('\n', "\r\n") + "\r\n";
    assert_eq!(parse_signature(crlf.as_bytes()).unwrap(), signature);
    // The legacy algorithm, more text, a missing prefix, a short line.
    let legacy = with_algorithm(&text, b"Ed");
    let error = parse_signature(legacy.as_bytes()).unwrap_err();
    assert_eq!(error.line, 2);
    assert!(error.to_string().contains("-l"), "{error}");
    let more = format!("{text}more\n");
    assert_eq!(parse_signature(more.as_bytes()).unwrap_err().line, 5);
    let no_prefix = text.replace("trusted comment: polyplug", "polyplug");
    assert_eq!(parse_signature(no_prefix.as_bytes()).unwrap_err().line, 3);
    let short = text.replacen(text.lines().nth(3).unwrap(), "AAAA", 1);
    let error = parse_signature(short.as_bytes()).unwrap_err();
    assert!(error.to_string().contains("64 bytes"), "{error}");
    // A changed comment breaks the second signature only.
    let comment = text.replace("demo 1.0.0", "demo 9.0.0");
    let changed = parse_signature(comment.as_bytes()).unwrap();
    assert_eq!(
        changed.verify(b"list", &key.public()),
        Err("trusted comment signature")
    );
}

#[test]
fn keys_round_trip_and_an_encrypted_key_is_named() {
    let key = SecretKey::from_seed([4; 32]);
    let again = SecretKey::parse(&key.to_text()).unwrap();
    assert_eq!(again.public(), key.public());
    let public = key.public().to_text();
    let bare = public.lines().nth(1).unwrap();
    assert_eq!(PublicKey::parse(bare).unwrap(), key.public());
    // Marked as encrypted (kdf "Sc"): refused, naming how to decrypt.
    let text = key.to_text();
    let mut bytes = BASE64.decode(text.lines().nth(1).unwrap()).unwrap();
    bytes[2..4].copy_from_slice(b"Sc");
    let encrypted = format!("untrusted comment: x\n{}\n", BASE64.encode(&bytes));
    let error = SecretKey::parse(&encrypted).unwrap_err();
    assert!(error.to_string().contains("minisign -C -W"), "{error}");
    // A flipped checksum byte.
    bytes[2..4].copy_from_slice(&[0, 0]);
    bytes[157] ^= 1;
    let corrupt = format!("untrusted comment: x\n{}\n", BASE64.encode(&bytes));
    assert!(SecretKey::parse(&corrupt).is_err());
    // A public key file is not a secret key, nor the other way round.
    assert!(SecretKey::parse(&public).is_err());
    assert!(PublicKey::parse(&text).is_err());
}

fn demo(dir: &ScratchDir) {
    std::fs::write(
        dir.path().join("manifest.toml"),
        "[bundle]\nname = \"demo\"\nversion = \"1.0.0\"\nloader = \"lua\"\n",
    )
    .unwrap();
}

#[test]
fn signing_lists_every_file_in_every_directory() {
    let dir = ScratchDir::new().unwrap();
    demo(&dir);
    std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
    std::fs::write(dir.path().join("a/b/deep.lua"), "return 1").unwrap();
    std::fs::write(dir.path().join(".hidden"), "x").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("a/b/deep.lua", dir.path().join("link.lua")).unwrap();
    let key = SecretKey::from_seed([5; 32]);
    let list = seal_bundle(dir.path(), &key).unwrap();
    let mut expected = vec![".hidden", "a/b/deep.lua", "manifest.toml"];
    if cfg!(unix) {
        expected.insert(2, "link.lua");
    }
    assert_eq!(
        list.keys().map(String::as_str).collect::<Vec<_>>(),
        expected
    );
    // Signing again over the signed bundle leaves its own files out.
    assert_eq!(seal_bundle(dir.path(), &key).unwrap(), list);
    let bundle = Bundle::open(dir.path())
        .unwrap()
        .verified(&Trust::required([key.public()]))
        .unwrap();
    assert_eq!(bundle.file("a/b/deep.lua"), Some(&b"return 1"[..]));
    assert!(bundle.file(SUMS_FILE).is_none() && bundle.file(SIG_FILE).is_none());
    // No trusted key at all: every signature is untrusted.
    let error = Bundle::open(dir.path())
        .unwrap()
        .verified(&Trust::required([]))
        .unwrap_err();
    assert!(matches!(error, SealError::UntrustedKey { .. }), "{error}");
}

#[cfg(unix)]
#[test]
fn a_fifo_in_the_bundle_is_refused_without_blocking() {
    let dir = ScratchDir::new().unwrap();
    demo(&dir);
    let fifo = dir.path().join("pipe");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    match seal_bundle(dir.path(), &SecretKey::from_seed([6; 32])) {
        Err(BundleError::Seal(SealError::NotAFile { path, .. })) => assert_eq!(path, "pipe"),
        other => panic!("expected a FIFO refused, got {other:?}"),
    }
}
