//! `polyplug keygen`, `sign` and `verify`: a key pair, a signed bundle,
//! and each way its check fails, with the exit code and the message.
#![cfg(not(any(loom, shuttle, miri)))]

pub mod common;

use std::path::{Path, PathBuf};

use common::{LUA_COUNTER, Run, TempDir, polyplug, script_bundle};

/// `polyplug keygen --dir <dir> --name <name>`, which must succeed; the
/// secret and public key files.
fn keygen(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let run = polyplug(&[
        "keygen".as_ref(),
        "--dir".as_ref(),
        dir.as_os_str(),
        "--name".as_ref(),
        name.as_ref(),
    ]);
    assert_eq!(run.code, Some(0), "{run:?}");
    (
        dir.join(format!("{name}.key")),
        dir.join(format!("{name}.pub")),
    )
}

fn sign(bundle: &Path, key: &Path) -> Run {
    polyplug(&[
        "sign".as_ref(),
        bundle.as_os_str(),
        "--key".as_ref(),
        key.as_os_str(),
    ])
}

fn verify(bundle: &Path, trust: &[&std::ffi::OsStr]) -> Run {
    let mut args = vec!["verify".as_ref(), bundle.as_os_str()];
    for key in trust {
        args.push("--trust".as_ref());
        args.push(key);
    }
    polyplug(&args)
}

/// Asserts that `run` failed with exit code 1 and a message holding each
/// of `culprits`.
fn fails(run: &Run, culprits: &[&str]) {
    assert_eq!(run.code, Some(1), "{run:?}");
    for culprit in culprits {
        assert!(run.stderr.contains(culprit), "{culprit:?} in {run:?}");
    }
}

#[test]
fn keygen_writes_a_key_pair_and_keeps_existing_keys() {
    let tmp = TempDir::new("keygen");
    let (secret, public) = keygen(tmp.path(), "release");
    let secret_text = std::fs::read_to_string(&secret).unwrap();
    let public_text = std::fs::read_to_string(&public).unwrap();
    assert!(
        secret_text.starts_with("untrusted comment: "),
        "{secret_text}"
    );
    assert!(
        public_text.starts_with("untrusted comment: minisign public key "),
        "{public_text}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secret).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the secret key is its owner's only");
    }
    let again = polyplug(&[
        "keygen".as_ref(),
        "--dir".as_ref(),
        tmp.path().as_os_str(),
        "--name".as_ref(),
        "release".as_ref(),
    ]);
    fails(&again, &["release.key", "exists already", "--force"]);
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), secret_text);
    // Two runs make two keys.
    let (_, other) = keygen(tmp.path(), "other");
    assert_ne!(std::fs::read_to_string(other).unwrap(), public_text);
}

#[test]
fn a_signed_bundle_verifies_and_each_fault_is_named() {
    let tmp = TempDir::new("sign");
    let (secret, public) = keygen(tmp.path(), "trusted");
    let (other_secret, other_public) = keygen(tmp.path(), "other");
    let bundle = script_bundle(tmp.path(), "signed", "lua", "counter.lua", LUA_COUNTER);
    std::fs::create_dir(bundle.join("lib")).unwrap();
    std::fs::write(bundle.join("lib/util.lua"), "return 1").unwrap();

    // Unsigned.
    fails(
        &verify(&bundle, &[public.as_os_str()]),
        &["signed", "polyplug.sha256"],
    );

    let run = sign(&bundle, &secret);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.contains("3 files"), "{run:?}");
    let list = std::fs::read_to_string(bundle.join("polyplug.sha256")).unwrap();
    let paths: Vec<&str> = list.lines().map(|l| &l[66..]).collect();
    assert_eq!(paths, ["counter.lua", "lib/util.lua", "manifest.toml"]);

    let run = verify(&bundle, &[public.as_os_str()]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.contains("signed by a trusted key"), "{run:?}");
    // The key's base64 line alone, as minisign -P takes it; and one
    // trusted key among several.
    let line = std::fs::read_to_string(&public).unwrap();
    let line = line.lines().nth(1).unwrap().to_owned();
    assert_eq!(verify(&bundle, &[line.as_ref()]).code, Some(0));
    let both = verify(&bundle, &[other_public.as_os_str(), public.as_os_str()]);
    assert_eq!(both.code, Some(0), "{both:?}");

    // Another key.
    let key_id = std::fs::read_to_string(&public).unwrap();
    let key_id = key_id.lines().next().unwrap().rsplit(' ').next().unwrap();
    let untrusted = verify(&bundle, &[other_public.as_os_str()]);
    fails(&untrusted, &[key_id, "not a trusted key"]);

    // A file changed, then one added.
    std::fs::write(bundle.join("lib/util.lua"), "return 2").unwrap();
    fails(
        &verify(&bundle, &[public.as_os_str()]),
        &["lib/util.lua", "changed after signing"],
    );
    std::fs::write(bundle.join("lib/util.lua"), "return 1").unwrap();
    std::fs::write(bundle.join("extra.txt"), "added").unwrap();
    fails(
        &verify(&bundle, &[public.as_os_str()]),
        &["extra.txt", "added after signing"],
    );
    std::fs::remove_file(bundle.join("extra.txt")).unwrap();
    assert_eq!(verify(&bundle, &[public.as_os_str()]).code, Some(0));

    // Signed again by the other key: the trusted key no longer verifies.
    assert_eq!(sign(&bundle, &other_secret).code, Some(0));
    fails(
        &verify(&bundle, &[public.as_os_str()]),
        &["not a trusted key"],
    );

    // A garbage signature.
    std::fs::write(bundle.join("polyplug.sha256.minisig"), "garbage").unwrap();
    fails(
        &verify(&bundle, &[public.as_os_str()]),
        &["polyplug.sha256.minisig", "line 1"],
    );
}

#[test]
fn bad_keys_are_named() {
    let tmp = TempDir::new("bad-keys");
    let bundle = script_bundle(tmp.path(), "b", "lua", "counter.lua", LUA_COUNTER);
    let not_a_key = tmp.path().join("not-a-key");
    std::fs::write(&not_a_key, "hello\n").unwrap();
    fails(&sign(&bundle, &not_a_key), &["not-a-key", "line 1"]);
    fails(
        &verify(&bundle, &[not_a_key.as_os_str()]),
        &["not-a-key", "line 1"],
    );
    fails(
        &verify(&bundle, &["RWQnotakey".as_ref()]),
        &["--trust", "neither a readable file nor a public key"],
    );
    let (secret, _) = keygen(tmp.path(), "k");
    fails(
        &sign(&tmp.path().join("no-such-bundle"), &secret),
        &["no-such-bundle"],
    );
}
