//! Signed bundles: the hash list of every file, its Ed25519 signature in
//! minisign's format, the keys, and the trust policy that checks them.
//!
//! A signed bundle holds two more files at its root:
//!
//! - [`SUMS_FILE`] (`polyplug.sha256`): one line per file of the bundle,
//!   `<sha256 hex>  <path>`, sorted by path, the paths relative and
//!   `/`-separated, every file under the directory except these two. It is
//!   what `sha256sum` writes, so `sha256sum -c polyplug.sha256` checks it.
//! - [`SIG_FILE`] (`polyplug.sha256.minisig`): a minisign signature of the
//!   list (prehashed Ed25519, algorithm `ED`), whose trusted comment names
//!   the bundle, so `minisign -Vm polyplug.sha256 -p key.pub` checks it.
//!
//! Keys are minisign's files too: a public key (`Ed`, key id, key) and an
//! unencrypted secret key (`minisign -G -W`). The format is documented in
//! `docs/signed-bundles.md`.
//!
//! Everything here but [`seal_bundle`] and [`Bundle::verified`] is a pure
//! parser or formatter: no IO, no panic.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use blake2::{Blake2b512, Digest as _};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::Sha256;

use crate::bundle::Bundle;
use crate::error::BundleError;
use crate::escape::Escaped;
use crate::file::{self, FileKind, Follow, OpenError};

/// The hash list's file name, at the bundle root.
///
/// ```
/// assert_eq!(polyplug_loader::SUMS_FILE, "polyplug.sha256");
/// ```
pub const SUMS_FILE: &str = "polyplug.sha256";

/// The signature's file name, at the bundle root.
///
/// ```
/// assert_eq!(polyplug_loader::SIG_FILE, "polyplug.sha256.minisig");
/// ```
pub const SIG_FILE: &str = "polyplug.sha256.minisig";

/// The most files a signed bundle may hold.
pub const MAX_SEALED_FILES: usize = 10_000;

/// The deepest directory nesting a signed bundle may have.
pub const MAX_SEALED_DEPTH: usize = 32;

/// The largest signature file, in bytes (minisign's own comment limits
/// fit well inside).
pub const MAX_SIG_BYTES: usize = 16 * 1024;

/// The largest file of a signed bundle, in bytes (the code file limit).
const MAX_FILE_BYTES: u64 = crate::code::MAX_CODE_BYTES;

const SIG_ALG_PREHASHED: [u8; 2] = *b"ED";
const KEY_ALG: [u8; 2] = *b"Ed";
const CHK_ALG: [u8; 2] = *b"B2";
const KDF_NONE: [u8; 2] = [0, 0];
const UNTRUSTED_PREFIX: &str = "untrusted comment: ";
const TRUSTED_PREFIX: &str = "trusted comment: ";
/// The start of the trusted comment that names the signed bundle.
const BUNDLE_COMMENT: &str = "polyplug bundle ";

/// Why a bundle's signature does not hold, or why a bundle cannot be
/// signed. Each names the bundle and the file at fault; a file's path is
/// relative to the bundle directory.
///
/// ```
/// use polyplug_loader::SealError;
///
/// let err = SealError::FileAdded { bundle: "demo".into(), path: "extra.lua".into() };
/// assert_eq!(
///     err.to_string(),
///     "bundle \"demo\": file extra.lua is not in the signed list polyplug.sha256 (added after signing)"
/// );
/// ```
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The bundle has no hash list or no signature.
    #[error(
        "bundle {bundle:?}: expected a signed bundle, found no {}",
        Escaped(missing)
    )]
    Unsigned {
        /// The bundle.
        bundle: String,
        /// The file that is missing: [`SUMS_FILE`] or [`SIG_FILE`].
        missing: &'static str,
    },
    /// The signature file does not parse (truncated, garbage, wrong
    /// algorithm).
    #[error("bundle {bundle:?}: {SIG_FILE}: {error}")]
    MalformedSignature {
        /// The bundle.
        bundle: String,
        /// What is wrong.
        error: FormatError,
    },
    /// The hash list does not parse.
    #[error("bundle {bundle:?}: {SUMS_FILE}: {error}")]
    MalformedList {
        /// The bundle.
        bundle: String,
        /// What is wrong, and on which line.
        error: FormatError,
    },
    /// The signature is by a key the policy does not trust.
    #[error("bundle {bundle:?}: signed by key {key_id}, which is not a trusted key")]
    UntrustedKey {
        /// The bundle.
        bundle: String,
        /// The signing key's id, 16 hex digits as minisign prints it.
        key_id: String,
    },
    /// The signature does not verify with the trusted key of its id: the
    /// list or the trusted comment changed after signing, or the
    /// signature is another list's.
    #[error(
        "bundle {bundle:?}: the {what} in {SIG_FILE} does not verify with key {key_id}: \
         {SUMS_FILE} or the signature changed after signing"
    )]
    BadSignature {
        /// The bundle.
        bundle: String,
        /// The key's id.
        key_id: String,
        /// `signature` or `trusted comment signature`.
        what: &'static str,
    },
    /// The signature's trusted comment names another bundle.
    #[error(
        "bundle {bundle:?}: expected a signature for this bundle, found one for {}",
        Escaped(signed_for)
    )]
    OtherBundle {
        /// The bundle.
        bundle: String,
        /// The bundle and version the signature names.
        signed_for: String,
    },
    /// A file's digest differs from the signed list's.
    #[error(
        "bundle {bundle:?}: file {} changed after signing: expected sha256 {expected}, found {found}",
        Escaped(path)
    )]
    FileChanged {
        /// The bundle.
        bundle: String,
        /// The file.
        path: String,
        /// The digest in the list, lowercase hex.
        expected: String,
        /// The file's digest, lowercase hex.
        found: String,
    },
    /// A file not in the signed list.
    #[error(
        "bundle {bundle:?}: file {} is not in the signed list {SUMS_FILE} (added after signing)",
        Escaped(path)
    )]
    FileAdded {
        /// The bundle.
        bundle: String,
        /// The file.
        path: String,
    },
    /// A file of the signed list that the bundle no longer holds.
    #[error(
        "bundle {bundle:?}: file {} of the signed list {SUMS_FILE} is missing (removed after signing)",
        Escaped(path)
    )]
    FileRemoved {
        /// The bundle.
        bundle: String,
        /// The file.
        path: String,
    },
    /// A symlink that leads out of the bundle directory, or to a
    /// directory.
    #[error(
        "bundle {bundle:?}: symlink {} must lead to a file inside the bundle directory",
        Escaped(path)
    )]
    Symlink {
        /// The bundle.
        bundle: String,
        /// The link.
        path: String,
    },
    /// A FIFO, a socket or a device; it was not read.
    #[error(
        "bundle {bundle:?}: expected {} to be a regular file, found {kind}",
        Escaped(path)
    )]
    NotAFile {
        /// The bundle.
        bundle: String,
        /// The file.
        path: String,
        /// What it is.
        kind: FileKind,
    },
    /// A file name a hash list cannot hold: not UTF-8, or holding a
    /// control character or a backslash.
    #[error(
        "bundle {bundle:?}: file name {} cannot be signed: expected UTF-8 without control characters or backslashes",
        Escaped(path.display())
    )]
    FileName {
        /// The bundle.
        bundle: String,
        /// The file.
        path: PathBuf,
    },
    /// More files, deeper directories or a larger file than a signed
    /// bundle may have.
    #[error("bundle {bundle:?}: expected at most {limit} {what}, found more")]
    TooLarge {
        /// The bundle.
        bundle: String,
        /// What is counted: `files`, `directory levels`, `bytes in one file`.
        what: &'static str,
        /// The limit.
        limit: u64,
    },
    /// A file or directory cannot be read or written.
    #[error("bundle {bundle:?}: cannot {action} {}: {io}", Escaped(path.display()))]
    Io {
        /// The bundle.
        bundle: String,
        /// `read` or `write`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The error from the file system.
        io: std::io::Error,
    },
}

/// What is wrong with a key, a signature or a hash list's text; `line` is
/// 1-based.
///
/// ```
/// use polyplug_loader::{FormatError, parse_signature};
///
/// let err = parse_signature(b"untrusted comment: x\n").unwrap_err();
/// assert_eq!(err, FormatError { line: 2, what: "expected the signature line, found the end of the file".into() });
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {}", Escaped(what))]
pub struct FormatError {
    /// The 1-based line.
    pub line: usize,
    /// What was expected and found.
    pub what: String,
}

fn format_error(line: usize, what: impl Into<String>) -> FormatError {
    FormatError {
        line,
        what: what.into(),
    }
}

/// A public key: minisign's key id and an Ed25519 key.
///
/// ```
/// use polyplug_loader::{PublicKey, SecretKey};
///
/// let secret = SecretKey::from_seed([7; 32]);
/// let text = secret.public().to_text();
/// assert!(text.starts_with("untrusted comment: minisign public key "));
/// assert_eq!(PublicKey::parse(&text)?, secret.public());
/// # Ok::<(), polyplug_loader::FormatError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicKey {
    id: [u8; 8],
    key: VerifyingKey,
}

impl PublicKey {
    /// Parses a public key: a minisign public key file (an untrusted
    /// comment line, then the key line) or the key line alone, as
    /// `minisign -P` takes it.
    ///
    /// # Errors
    ///
    /// A [`FormatError`] naming the line: not base64, not 42 bytes, not an
    /// `Ed` key, not a valid Ed25519 point.
    ///
    /// ```
    /// use polyplug_loader::PublicKey;
    ///
    /// assert!(PublicKey::parse("RWQ garbage").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<PublicKey, FormatError> {
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim_end()));
        let (mut number, mut line) = lines
            .next()
            .ok_or_else(|| format_error(1, "expected a public key, found an empty file"))?;
        if line.starts_with(UNTRUSTED_PREFIX) {
            (number, line) = lines.next().ok_or_else(|| {
                format_error(2, "expected the public key line, found the end of the file")
            })?;
        }
        let bytes = decode(number, line, 42, "public key")?;
        if bytes[..2] != KEY_ALG {
            return Err(format_error(number, "expected an Ed25519 (Ed) public key"));
        }
        let (id, key) = (array::<8>(&bytes[2..10]), array::<32>(&bytes[10..]));
        let key = VerifyingKey::from_bytes(&key).map_err(|_| {
            format_error(number, "expected an Ed25519 public key, found a bad point")
        })?;
        Ok(PublicKey { id, key })
    }

    /// The key id, as minisign prints it: 16 uppercase hex digits of the
    /// little-endian number.
    ///
    /// ```
    /// let id = polyplug_loader::SecretKey::from_seed([7; 32]).public().id();
    /// assert_eq!(id.len(), 16);
    /// ```
    pub fn id(&self) -> String {
        key_id_text(&self.id)
    }

    /// The minisign public key file: an untrusted comment, the key line,
    /// and a newline.
    ///
    /// ```
    /// let text = polyplug_loader::SecretKey::from_seed([7; 32]).public().to_text();
    /// assert_eq!(text.lines().count(), 2);
    /// ```
    pub fn to_text(&self) -> String {
        let mut bytes = Vec::with_capacity(42);
        bytes.extend_from_slice(&KEY_ALG);
        bytes.extend_from_slice(&self.id);
        bytes.extend_from_slice(self.key.as_bytes());
        format!(
            "{UNTRUSTED_PREFIX}minisign public key {}\n{}\n",
            self.id(),
            BASE64.encode(bytes)
        )
    }
}

/// A secret key: minisign's unencrypted secret key (`minisign -G -W`).
/// Its `Debug` shows the key id only.
///
/// ```
/// use polyplug_loader::SecretKey;
///
/// let secret = SecretKey::from_seed([7; 32]);
/// let again = SecretKey::parse(&secret.to_text())?;
/// assert_eq!(again.public(), secret.public());
/// # Ok::<(), polyplug_loader::FormatError>(())
/// ```
#[derive(Clone)]
pub struct SecretKey {
    id: [u8; 8],
    key: SigningKey,
}

impl core::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SecretKey")
            .field("id", &self.public().id())
            .finish_non_exhaustive()
    }
}

impl SecretKey {
    /// The key of a 32-byte seed (take it from the system's random
    /// source). Its key id is the first 8 bytes of the SHA-256 of the
    /// public key.
    ///
    /// ```
    /// use polyplug_loader::SecretKey;
    ///
    /// assert_eq!(SecretKey::from_seed([1; 32]).public(), SecretKey::from_seed([1; 32]).public());
    /// ```
    pub fn from_seed(seed: [u8; 32]) -> SecretKey {
        let key = SigningKey::from_bytes(&seed);
        let digest = Sha256::digest(key.verifying_key().as_bytes());
        SecretKey {
            id: array::<8>(&digest[..8]),
            key,
        }
    }

    /// Parses an unencrypted minisign secret key file.
    ///
    /// # Errors
    ///
    /// A [`FormatError`]: not a minisign secret key, an encrypted one
    /// (decrypt it with `minisign -C -W`), or a bad checksum.
    ///
    /// ```
    /// assert!(polyplug_loader::SecretKey::parse("untrusted comment: x\nAAAA\n").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<SecretKey, FormatError> {
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim_end()));
        let (mut number, mut line) = lines
            .next()
            .ok_or_else(|| format_error(1, "expected a secret key, found an empty file"))?;
        if line.starts_with(UNTRUSTED_PREFIX) {
            (number, line) = lines.next().ok_or_else(|| {
                format_error(2, "expected the secret key line, found the end of the file")
            })?;
        }
        let bytes = decode(number, line, 158, "secret key")?;
        if bytes[..2] != KEY_ALG || bytes[4..6] != CHK_ALG {
            return Err(format_error(
                number,
                "expected an Ed25519 (Ed, B2) secret key",
            ));
        }
        if bytes[2..4] != KDF_NONE {
            return Err(format_error(
                number,
                "expected an unencrypted secret key, found an encrypted one \
                 (decrypt it with `minisign -C -W`)",
            ));
        }
        let id = array::<8>(&bytes[54..62]);
        let secret = &bytes[62..126];
        let checksum = &bytes[126..158];
        // minisign 0.11 leaves an unencrypted key's checksum all zeros;
        // the public half is checked against the seed below either way.
        let unset = checksum.iter().all(|b| *b == 0);
        if !unset && checksum != key_checksum(&id, secret).as_slice() {
            return Err(format_error(
                number,
                "the secret key's checksum does not match",
            ));
        }
        let key = SigningKey::from_bytes(&array::<32>(&secret[..32]));
        if key.verifying_key().as_bytes() != &secret[32..] {
            return Err(format_error(
                number,
                "the secret key's public half does not match its seed",
            ));
        }
        Ok(SecretKey { id, key })
    }

    /// Its public key.
    ///
    /// ```
    /// let public = polyplug_loader::SecretKey::from_seed([7; 32]).public();
    /// # let _ = public;
    /// ```
    pub fn public(&self) -> PublicKey {
        PublicKey {
            id: self.id,
            key: self.key.verifying_key(),
        }
    }

    /// The unencrypted minisign secret key file.
    ///
    /// ```
    /// let text = polyplug_loader::SecretKey::from_seed([7; 32]).to_text();
    /// assert!(text.starts_with("untrusted comment: "));
    /// ```
    pub fn to_text(&self) -> String {
        let mut secret = Vec::with_capacity(64);
        secret.extend_from_slice(self.key.as_bytes());
        secret.extend_from_slice(self.key.verifying_key().as_bytes());
        let mut bytes = Vec::with_capacity(158);
        bytes.extend_from_slice(&KEY_ALG);
        bytes.extend_from_slice(&KDF_NONE);
        bytes.extend_from_slice(&CHK_ALG);
        bytes.extend_from_slice(&[0; 32 + 8 + 8]); // salt, opslimit, memlimit
        bytes.extend_from_slice(&self.id);
        bytes.extend_from_slice(&secret);
        bytes.extend_from_slice(&key_checksum(&self.id, &secret));
        format!(
            "{UNTRUSTED_PREFIX}minisign secret key {} (unencrypted)\n{}\n",
            self.public().id(),
            BASE64.encode(bytes)
        )
    }

    /// Signs `message` (prehashed, minisign's `ED`) with `trusted_comment`,
    /// and returns the signature file's text.
    ///
    /// ```
    /// use polyplug_loader::{SecretKey, parse_signature};
    ///
    /// let text = SecretKey::from_seed([7; 32]).sign(b"list", "polyplug bundle demo 1.0.0");
    /// let signature = parse_signature(text.as_bytes())?;
    /// assert_eq!(signature.trusted_comment(), "polyplug bundle demo 1.0.0");
    /// # Ok::<(), polyplug_loader::FormatError>(())
    /// ```
    pub fn sign(&self, message: &[u8], trusted_comment: &str) -> String {
        let signature = self.key.sign(&Blake2b512::digest(message));
        let mut global = Vec::with_capacity(64 + trusted_comment.len());
        global.extend_from_slice(&signature.to_bytes());
        global.extend_from_slice(trusted_comment.as_bytes());
        let global = self.key.sign(&global);
        let mut line = Vec::with_capacity(74);
        line.extend_from_slice(&SIG_ALG_PREHASHED);
        line.extend_from_slice(&self.id);
        line.extend_from_slice(&signature.to_bytes());
        format!(
            "{UNTRUSTED_PREFIX}signature from polyplug secret key {}\n{}\n{TRUSTED_PREFIX}{trusted_comment}\n{}\n",
            self.public().id(),
            BASE64.encode(line),
            BASE64.encode(global.to_bytes())
        )
    }
}

/// A parsed minisign signature file.
///
/// ```
/// use polyplug_loader::{SecretKey, parse_signature};
///
/// let secret = SecretKey::from_seed([7; 32]);
/// let signature = parse_signature(secret.sign(b"list", "hello").as_bytes())?;
/// assert_eq!(signature.key_id(), secret.public().id());
/// assert!(signature.verify(b"list", &secret.public()).is_ok());
/// assert!(signature.verify(b"lisT", &secret.public()).is_err());
/// # Ok::<(), polyplug_loader::FormatError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MinisignSignature {
    id: [u8; 8],
    signature: Signature,
    trusted_comment: String,
    global: Signature,
}

impl MinisignSignature {
    /// The signing key's id, as [`PublicKey::id`] prints it.
    ///
    /// ```
    /// # let s = polyplug_loader::parse_signature(polyplug_loader::SecretKey::from_seed([7; 32]).sign(b"", "").as_bytes()).unwrap();
    /// assert_eq!(s.key_id().len(), 16);
    /// ```
    pub fn key_id(&self) -> String {
        key_id_text(&self.id)
    }

    /// The trusted comment, as signed.
    ///
    /// ```
    /// # let s = polyplug_loader::parse_signature(polyplug_loader::SecretKey::from_seed([7; 32]).sign(b"", "c").as_bytes()).unwrap();
    /// assert_eq!(s.trusted_comment(), "c");
    /// ```
    pub fn trusted_comment(&self) -> &str {
        &self.trusted_comment
    }

    /// Whether `key` signed `message` and this trusted comment; the key
    /// id must match too. `Err` says which part does not verify:
    /// `"key id"`, `"signature"` or `"trusted comment signature"`.
    ///
    /// # Errors
    ///
    /// The part that does not verify.
    ///
    /// ```
    /// use polyplug_loader::{SecretKey, parse_signature};
    ///
    /// let signature = parse_signature(SecretKey::from_seed([7; 32]).sign(b"m", "").as_bytes())?;
    /// assert_eq!(signature.verify(b"m", &SecretKey::from_seed([8; 32]).public()), Err("key id"));
    /// # Ok::<(), polyplug_loader::FormatError>(())
    /// ```
    pub fn verify(&self, message: &[u8], key: &PublicKey) -> Result<(), &'static str> {
        if self.id != key.id {
            return Err("key id");
        }
        key.key
            .verify_strict(&Blake2b512::digest(message), &self.signature)
            .map_err(|_| "signature")?;
        let mut global = Vec::with_capacity(64 + self.trusted_comment.len());
        global.extend_from_slice(&self.signature.to_bytes());
        global.extend_from_slice(self.trusted_comment.as_bytes());
        key.key
            .verify_strict(&global, &self.global)
            .map_err(|_| "trusted comment signature")
    }
}

/// Parses a minisign signature file: an untrusted comment line, the
/// signature line (`ED`, prehashed, only), the trusted comment line and
/// the global signature line. Lines end with `\n` or `\r\n`; nothing may
/// follow but empty lines.
///
/// # Errors
///
/// A [`FormatError`] naming the line.
///
/// ```
/// use polyplug_loader::parse_signature;
///
/// assert!(parse_signature(b"\xff\xfe").is_err());
/// ```
pub fn parse_signature(bytes: &[u8]) -> Result<MinisignSignature, FormatError> {
    if bytes.len() > MAX_SIG_BYTES {
        return Err(format_error(
            1,
            format!(
                "expected at most {MAX_SIG_BYTES} bytes, found {}",
                bytes.len()
            ),
        ));
    }
    let text = core::str::from_utf8(bytes)
        .map_err(|e| format_error(line_of(bytes, e.valid_up_to()), "expected UTF-8 text"))?;
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let mut next = |number: usize, what: &str| {
        lines
            .next()
            .filter(|l| !l.is_empty() || number == 3)
            .ok_or_else(|| {
                format_error(
                    number,
                    format!("expected the {what} line, found the end of the file"),
                )
            })
    };
    let untrusted = next(1, "untrusted comment")?;
    if !untrusted.starts_with(UNTRUSTED_PREFIX) {
        return Err(format_error(
            1,
            format!("expected a line starting {UNTRUSTED_PREFIX:?}"),
        ));
    }
    let line = decode(2, next(2, "signature")?, 74, "signature")?;
    if line[..2] != SIG_ALG_PREHASHED {
        return Err(format_error(
            2,
            "expected a prehashed Ed25519 (ED) signature, found another algorithm \
             (sign without minisign's -l)",
        ));
    }
    let trusted = next(3, "trusted comment")?;
    let Some(trusted_comment) = trusted.strip_prefix(TRUSTED_PREFIX) else {
        return Err(format_error(
            3,
            format!("expected a line starting {TRUSTED_PREFIX:?}"),
        ));
    };
    let global = decode(4, next(4, "trusted comment signature")?, 64, "signature")?;
    let rest = lines.enumerate().find(|(_, l)| !l.is_empty());
    if let Some((index, _)) = rest {
        return Err(format_error(
            5 + index,
            "expected the end of the file, found more text",
        ));
    }
    Ok(MinisignSignature {
        id: array::<8>(&line[2..10]),
        signature: Signature::from_bytes(&array::<64>(&line[10..])),
        trusted_comment: trusted_comment.to_owned(),
        global: Signature::from_bytes(&array::<64>(&global)),
    })
}

/// A hash list: file paths and their SHA-256, sorted by path.
pub type SumList = BTreeMap<String, [u8; 32]>;

/// Parses a hash list ([`SUMS_FILE`]): lines of 64 lowercase hex digits,
/// two spaces and a path, sorted by path with no path twice, each line
/// ending with `\n`. A path is relative and `/`-separated, with no empty,
/// `.` or `..` component, no control character and no backslash.
///
/// # Errors
///
/// A [`FormatError`] naming the line.
///
/// ```
/// use polyplug_loader::parse_sums;
///
/// let line = format!("{}  lib/a.lua\n", "ab".repeat(32));
/// assert_eq!(parse_sums(line.as_bytes())?.len(), 1);
/// assert!(parse_sums(b"ab  ../x\n").is_err());
/// # Ok::<(), polyplug_loader::FormatError>(())
/// ```
pub fn parse_sums(bytes: &[u8]) -> Result<SumList, FormatError> {
    let text = core::str::from_utf8(bytes)
        .map_err(|e| format_error(line_of(bytes, e.valid_up_to()), "expected UTF-8 text"))?;
    let mut list = SumList::new();
    if text.is_empty() {
        return Ok(list);
    }
    let Some(body) = text.strip_suffix('\n') else {
        return Err(format_error(
            text.split('\n').count(),
            "expected the last line to end with a newline",
        ));
    };
    let mut last: Option<&str> = None;
    for (index, line) in body.split('\n').enumerate() {
        let number = index + 1;
        let (hex, path) = line
            .split_at_checked(64)
            .and_then(|(hex, rest)| Some((hex, rest.strip_prefix("  ")?)))
            .ok_or_else(|| format_error(number, "expected `<64 hex digits>  <path>`"))?;
        let digest = parse_hex(hex)
            .ok_or_else(|| format_error(number, "expected 64 lowercase hexadecimal digits"))?;
        if !valid_path(path) {
            return Err(format_error(
                number,
                format!(
                    "expected a relative '/'-separated path without '.', '..', empty components, \
                     control characters or backslashes, found {:?}",
                    Escaped(path).to_string()
                ),
            ));
        }
        if last.is_some_and(|last| last >= path) {
            return Err(format_error(
                number,
                format!(
                    "expected paths sorted, each once, found {:?} after {:?}",
                    Escaped(path).to_string(),
                    Escaped(last.unwrap_or_default()).to_string()
                ),
            ));
        }
        last = Some(path);
        list.insert(path.to_owned(), digest);
    }
    Ok(list)
}

/// The text of a hash list: one `<hex>  <path>\n` line per entry, in
/// path order.
///
/// ```
/// use polyplug_loader::{SumList, format_sums, parse_sums};
///
/// let mut list = SumList::new();
/// list.insert("manifest.toml".into(), [0xab; 32]);
/// assert_eq!(parse_sums(&format_sums(&list))?, list);
/// # Ok::<(), polyplug_loader::FormatError>(())
/// ```
pub fn format_sums(list: &SumList) -> Vec<u8> {
    let mut text = String::new();
    for (path, digest) in list {
        text.push_str(&hex(digest));
        text.push_str("  ");
        text.push_str(path);
        text.push('\n');
    }
    text.into_bytes()
}

/// The trusted comment that names a bundle: `polyplug bundle <name>
/// <version>`.
fn bundle_comment(bundle: &Bundle) -> String {
    format!(
        "{BUNDLE_COMMENT}{} {}",
        bundle.name().as_str(),
        bundle.manifest().version
    )
}

/// Whether a bundle must be signed to load.
///
/// ```
/// use polyplug_loader::{SecretKey, Trust};
///
/// assert!(!Trust::Off.is_required());
/// let trust = Trust::required([SecretKey::from_seed([7; 32]).public()]);
/// assert!(trust.is_required());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Trust {
    /// Signatures are not checked (and need not be there).
    #[default]
    Off,
    /// Every bundle must be signed by one of these keys.
    Required(Vec<PublicKey>),
}

impl Trust {
    /// A policy that requires a signature by one of `keys`.
    ///
    /// ```
    /// let trust = polyplug_loader::Trust::required([]);
    /// assert!(trust.is_required()); // and trusts nothing: every load fails
    /// ```
    pub fn required(keys: impl IntoIterator<Item = PublicKey>) -> Trust {
        Trust::Required(keys.into_iter().collect())
    }

    /// Whether signatures are checked.
    ///
    /// ```
    /// assert!(!polyplug_loader::Trust::default().is_required());
    /// ```
    pub fn is_required(&self) -> bool {
        matches!(self, Trust::Required(_))
    }
}

/// The files of a bundle, as read once: path relative to the bundle
/// directory, and bytes.
pub type BundleFiles = BTreeMap<String, Arc<[u8]>>;

impl Bundle {
    /// Checks this bundle against `trust`, and returns it holding the
    /// bytes of every one of its files ([`Bundle::file`]).
    ///
    /// With [`Trust::Off`], returns the bundle as it is. Otherwise reads
    /// every file under the directory (the manifest and the library are
    /// not read again: their digests are of the bytes [`Bundle::open`]
    /// read, which are the bytes that load), and checks, in order: the
    /// hash list and signature are there, the signature parses, its key is
    /// trusted, it verifies over the list and its trusted comment, the
    /// comment names this bundle and version, the list parses, and every
    /// file's digest is the list's, with no file added or removed.
    ///
    /// # Errors
    ///
    /// The first [`SealError`] found; nothing was loaded.
    ///
    /// ```
    /// use polyplug_loader::{Bundle, ScratchDir, SealError, SecretKey, Trust, seal_bundle};
    ///
    /// let tmp = ScratchDir::new()?;
    /// std::fs::write(tmp.path().join("manifest.toml"), "[bundle]\nname = \"demo\"\nversion = \"1.0.0\"\nloader = \"lua\"\n")?;
    /// let key = SecretKey::from_seed([7; 32]);
    /// let trust = Trust::required([key.public()]);
    /// let unsigned = Bundle::open(tmp.path())?.verified(&trust);
    /// assert!(matches!(unsigned, Err(SealError::Unsigned { .. })));
    ///
    /// seal_bundle(tmp.path(), &key)?;
    /// let bundle = Bundle::open(tmp.path())?.verified(&trust)?;
    /// assert!(bundle.file("manifest.toml").is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn verified(mut self, trust: &Trust) -> Result<Bundle, SealError> {
        let Trust::Required(keys) = trust else {
            return Ok(self);
        };
        let bundle = self.name().as_str().to_owned();
        let mut files = read_files(&self)?;
        let (sums, sig) = match (files.remove(SUMS_FILE), files.remove(SIG_FILE)) {
            (Some(sums), Some(sig)) => (sums, sig),
            (None, _) => {
                return Err(SealError::Unsigned {
                    bundle,
                    missing: SUMS_FILE,
                });
            }
            (Some(_), None) => {
                return Err(SealError::Unsigned {
                    bundle,
                    missing: SIG_FILE,
                });
            }
        };
        let signature = parse_signature(&sig).map_err(|error| SealError::MalformedSignature {
            bundle: bundle.clone(),
            error,
        })?;
        let Some(key) = keys.iter().find(|k| k.id == signature.id) else {
            return Err(SealError::UntrustedKey {
                bundle,
                key_id: signature.key_id(),
            });
        };
        signature
            .verify(&sums, key)
            .map_err(|what| SealError::BadSignature {
                bundle: bundle.clone(),
                key_id: signature.key_id(),
                what,
            })?;
        let comment = signature.trusted_comment();
        if let Some(signed_for) = comment.strip_prefix(BUNDLE_COMMENT)
            && comment != bundle_comment(&self)
        {
            return Err(SealError::OtherBundle {
                bundle,
                signed_for: signed_for.to_owned(),
            });
        }
        let list = parse_sums(&sums).map_err(|error| SealError::MalformedList {
            bundle: bundle.clone(),
            error,
        })?;
        compare(&bundle, &list, &files)?;
        self.files = Some(Arc::new(files));
        Ok(self)
    }
}

/// Compares the files read with the signed list.
fn compare(bundle: &str, list: &SumList, files: &BundleFiles) -> Result<(), SealError> {
    for (path, bytes) in files {
        let Some(expected) = list.get(path) else {
            return Err(SealError::FileAdded {
                bundle: bundle.to_owned(),
                path: path.clone(),
            });
        };
        let found: [u8; 32] = Sha256::digest(bytes).into();
        if &found != expected {
            return Err(SealError::FileChanged {
                bundle: bundle.to_owned(),
                path: path.clone(),
                expected: hex(expected),
                found: hex(&found),
            });
        }
    }
    if let Some(path) = list.keys().find(|p| !files.contains_key(*p)) {
        return Err(SealError::FileRemoved {
            bundle: bundle.to_owned(),
            path: path.clone(),
        });
    }
    Ok(())
}

/// Signs the bundle in `dir` with `key`: writes [`SUMS_FILE`], the hash
/// list of every other file, and [`SIG_FILE`], its signature naming the
/// bundle. Returns the list.
///
/// # Errors
///
/// The bundle does not open, or (as [`BundleError::Seal`]) a file cannot
/// be read or signed, or the two files cannot be written.
///
/// ```
/// use polyplug_loader::{ScratchDir, SecretKey, seal_bundle};
///
/// let tmp = ScratchDir::new()?;
/// std::fs::write(tmp.path().join("manifest.toml"), "[bundle]\nname = \"demo\"\nversion = \"1.0.0\"\nloader = \"lua\"\n")?;
/// let list = seal_bundle(tmp.path(), &SecretKey::from_seed([7; 32]))?;
/// assert_eq!(list.keys().collect::<Vec<_>>(), ["manifest.toml"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn seal_bundle(dir: &Path, key: &SecretKey) -> Result<SumList, BundleError> {
    let opened = Bundle::open(dir)?;
    let bundle = opened.name().as_str().to_owned();
    let mut files = read_files(&opened)?;
    files.remove(SUMS_FILE);
    files.remove(SIG_FILE);
    let list: SumList = files
        .iter()
        .map(|(path, bytes)| (path.clone(), Sha256::digest(bytes).into()))
        .collect();
    let sums = format_sums(&list);
    let signature = key.sign(&sums, &bundle_comment(&opened));
    for (name, bytes) in [
        (SUMS_FILE, sums.as_slice()),
        (SIG_FILE, signature.as_bytes()),
    ] {
        let path = opened.dir().join(name);
        std::fs::write(&path, bytes).map_err(|io| SealError::Io {
            bundle: bundle.clone(),
            action: "write",
            path,
            io,
        })?;
    }
    Ok(list)
}

/// Reads every file under the bundle's directory, by relative path. The
/// manifest and the library are taken from the bundle, not read again.
fn read_files(bundle: &Bundle) -> Result<BundleFiles, SealError> {
    let mut walk = Walk {
        bundle,
        name: bundle.name().as_str(),
        files: BundleFiles::new(),
    };
    walk.dir(bundle.dir(), "", 0)?;
    Ok(walk.files)
}

struct Walk<'a> {
    bundle: &'a Bundle,
    name: &'a str,
    files: BundleFiles,
}

impl Walk<'_> {
    fn io(&self, action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> SealError {
        let (bundle, path) = (self.name.to_owned(), path.to_owned());
        move |io| SealError::Io {
            bundle,
            action,
            path,
            io,
        }
    }

    fn dir(&mut self, dir: &Path, prefix: &str, depth: usize) -> Result<(), SealError> {
        if depth > MAX_SEALED_DEPTH {
            return Err(self.too_large("directory levels", MAX_SEALED_DEPTH));
        }
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(self.io("read", dir))? {
            entries.push(entry.map_err(self.io("read", dir))?.path());
        }
        entries.sort();
        for path in entries {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .filter(|n| valid_path(n))
                .ok_or_else(|| SealError::FileName {
                    bundle: self.name.to_owned(),
                    path: path.clone(),
                })?;
            let relative = format!("{prefix}{name}");
            let metadata = std::fs::symlink_metadata(&path).map_err(self.io("read", &path))?;
            let kind = metadata.file_type();
            if kind.is_dir() {
                self.dir(&path, &format!("{relative}/"), depth + 1)?;
            } else if kind.is_symlink() {
                let target = std::fs::canonicalize(&path)
                    .ok()
                    .filter(|t| t.starts_with(self.bundle.dir()) && !t.is_dir());
                let Some(target) = target else {
                    return Err(SealError::Symlink {
                        bundle: self.name.to_owned(),
                        path: relative,
                    });
                };
                self.file(&path, &target, relative)?;
            } else {
                self.file(&path, &path, relative)?;
            }
        }
        Ok(())
    }

    fn too_large(&self, what: &'static str, limit: usize) -> SealError {
        SealError::TooLarge {
            bundle: self.name.to_owned(),
            what,
            limit: u64::try_from(limit).unwrap_or(u64::MAX),
        }
    }

    /// Reads the regular file `entry` of the directory as `relative`;
    /// `path` is where it leads (itself, or a symlink's canonical target
    /// inside the bundle). The manifest and the library are the bytes the
    /// bundle holds, whichever name reaches them.
    fn file(&mut self, entry: &Path, path: &Path, relative: String) -> Result<(), SealError> {
        if self.files.len() >= MAX_SEALED_FILES {
            return Err(self.too_large("files", MAX_SEALED_FILES));
        }
        let held = if entry == self.bundle.manifest_path() {
            Some(Arc::clone(self.bundle.manifest_bytes()))
        } else if Some(path) == self.bundle.library_path() {
            self.bundle.library_arc().map(Arc::clone)
        } else {
            None
        };
        let bytes = match held {
            Some(bytes) => bytes,
            None => {
                let file = file::open(path, Follow::No).map_err(|error| match error {
                    OpenError::NotRegular(kind) => SealError::NotAFile {
                        bundle: self.name.to_owned(),
                        path: relative.clone(),
                        kind,
                    },
                    OpenError::Io(io) => self.io("read", path)(io),
                })?;
                let bytes =
                    file::read_shared(file, MAX_FILE_BYTES + 1).map_err(self.io("read", path))?;
                if u64::try_from(bytes.len()).map_or(true, |n| n > MAX_FILE_BYTES) {
                    return Err(SealError::TooLarge {
                        bundle: self.name.to_owned(),
                        what: "bytes in one file",
                        limit: MAX_FILE_BYTES,
                    });
                }
                bytes
            }
        };
        self.files.insert(relative, bytes);
        Ok(())
    }
}

/// Whether `path` can stand in a hash list.
fn valid_path(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && path
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
        && !path.chars().any(|c| c.is_control() || c == '\\')
}

fn decode(line: usize, text: &str, len: usize, what: &str) -> Result<Vec<u8>, FormatError> {
    let bytes = BASE64.decode(text.trim()).map_err(|_| {
        format_error(
            line,
            format!("expected the base64 {what}, found other text"),
        )
    })?;
    if bytes.len() != len {
        return Err(format_error(
            line,
            format!(
                "expected a {what} of {len} bytes, found {} bytes",
                bytes.len()
            ),
        ));
    }
    Ok(bytes)
}

/// The first `N` bytes of `bytes`, which the caller sized.
fn array<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0; N];
    for (o, b) in out.iter_mut().zip(bytes) {
        *o = *b;
    }
    out
}

fn key_checksum(id: &[u8; 8], secret: &[u8]) -> [u8; 32] {
    let mut hasher = blake2::Blake2b::<blake2::digest::consts::U32>::new();
    hasher.update(KEY_ALG);
    hasher.update(id);
    hasher.update(secret);
    hasher.finalize().into()
}

fn key_id_text(id: &[u8; 8]) -> String {
    format!("{:016X}", u64::from_le_bytes(*id))
}

fn line_of(bytes: &[u8], offset: usize) -> usize {
    1 + bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
}

fn parse_hex(text: &str) -> Option<[u8; 32]> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let digit = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    };
    let mut out = [0; 32];
    for (o, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        *o = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut text = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(text, "{b:02x}");
    }
    text
}
