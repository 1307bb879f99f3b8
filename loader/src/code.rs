//! The code file of an engine-run bundle (a `.wasm` module, a script):
//! read once, bounded, and checked against the manifest's digest.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::bundle::Bundle;

/// The largest code file an engine-run bundle may have, in bytes.
///
/// ```
/// assert_eq!(polyplug_loader::MAX_CODE_BYTES, 256 * 1024 * 1024);
/// ```
pub const MAX_CODE_BYTES: u64 = 256 * 1024 * 1024;

/// A code file that cannot be used.
///
/// ```
/// use std::path::PathBuf;
/// use polyplug_loader::CodeFileError;
///
/// let err = CodeFileError::Missing { bundle: "demo".into() };
/// assert_eq!(
///     err.to_string(),
///     "bundle \"demo\": expected a [library] table naming the code file, found none"
/// );
/// # let _ = PathBuf::new();
/// ```
#[derive(Debug, thiserror::Error)]
pub enum CodeFileError {
    /// The manifest names no code file for this platform.
    #[error("bundle {bundle:?}: expected a [library] table naming the code file, found none")]
    Missing {
        /// The bundle name.
        bundle: String,
    },
    /// The file cannot be read.
    #[error("bundle {bundle:?}: cannot read code file {}: {io}", path.display())]
    Read {
        /// The bundle name.
        bundle: String,
        /// The file.
        path: PathBuf,
        /// The error from the file system.
        io: io::Error,
    },
    /// The file is larger than [`MAX_CODE_BYTES`].
    #[error("bundle {bundle:?}: expected code file {} to be at most {limit} bytes, found more", path.display())]
    TooLarge {
        /// The bundle name.
        bundle: String,
        /// The file.
        path: PathBuf,
        /// The limit.
        limit: u64,
    },
    /// The file's SHA-256 differs from `library.sha256`.
    #[error(
        "bundle {bundle:?}: expected code file {} to have sha256 {expected} (library.sha256), found {found}",
        path.display()
    )]
    DigestMismatch {
        /// The bundle name.
        bundle: String,
        /// The file.
        path: PathBuf,
        /// The digest from the manifest, lowercase hex.
        expected: String,
        /// The digest of the file, lowercase hex.
        found: String,
    },
}

/// The bytes of a bundle's code file, as read and checked.
///
/// ```
/// use polyplug_loader::{Bundle, ScratchDir, platform_key, read_code_file};
///
/// let tmp = ScratchDir::new()?; // a temporary directory, removed on drop
/// let manifest = format!(
///     "[bundle]\nname = \"demo\"\nversion = \"1.0.0\"\nloader = \"wasm\"\n[library]\n{} = \"demo.wasm\"\n",
///     platform_key(),
/// );
/// std::fs::write(tmp.path().join("manifest.toml"), manifest)?;
/// std::fs::write(tmp.path().join("demo.wasm"), b"\0asm\x01\0\0\0")?;
/// let bundle = Bundle::open(tmp.path())?;
/// let code = read_code_file(&bundle)?;
/// assert_eq!(code.bytes.len(), 8);
/// assert!(code.path.ends_with("demo.wasm"));
/// // The bytes the bundle read, shared, not copied.
/// assert_eq!(code.bytes.as_ptr(), bundle.library_bytes().ok_or("no library")?.as_ptr());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeFile {
    /// The canonical path of the file, inside the bundle.
    pub path: PathBuf,
    /// Its bytes: the bundle's own, shared, not a copy.
    pub bytes: Arc<[u8]>,
}

/// Reads the code file of `bundle`: at most [`MAX_CODE_BYTES`], checked
/// against `library.sha256` when the manifest gives one.
///
/// ```
/// use polyplug_loader::{Bundle, CodeFileError, ScratchDir, read_code_file};
///
/// let tmp = ScratchDir::new()?;
/// std::fs::write(tmp.path().join("manifest.toml"), "[bundle]\nname = \"demo\"\nversion = \"1.0.0\"\nloader = \"wasm\"\n")?;
/// let err = read_code_file(&Bundle::open(tmp.path())?).unwrap_err();
/// assert!(matches!(err, CodeFileError::Missing { .. }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_code_file(bundle: &Bundle) -> Result<CodeFile, CodeFileError> {
    let name = bundle.name().as_str();
    let Some(path) = bundle.library_path() else {
        return Err(CodeFileError::Missing {
            bundle: name.to_owned(),
        });
    };
    // The bytes `Bundle::open` read, through the non-blocking open of
    // every bundle file: nothing is read twice, and the bytes checked here
    // are the bytes the loader gets.
    let Some(bytes) = bundle.library_arc() else {
        return Err(CodeFileError::Missing {
            bundle: name.to_owned(),
        });
    };
    if u64::try_from(bytes.len()).map_or(true, |n| n > MAX_CODE_BYTES) {
        return Err(CodeFileError::TooLarge {
            bundle: name.to_owned(),
            path: path.to_owned(),
            limit: MAX_CODE_BYTES,
        });
    }
    let bytes = Arc::clone(bytes);
    let expected = bundle.manifest().library.as_ref().and_then(|l| l.sha256);
    if let Some(expected) = expected {
        let found = Sha256::digest(&bytes);
        if found.as_slice() != expected.as_slice() {
            return Err(CodeFileError::DigestMismatch {
                bundle: name.to_owned(),
                path: path.to_owned(),
                expected: hex(&expected),
                found: hex(found.as_slice()),
            });
        }
    }
    Ok(CodeFile {
        path: path.to_owned(),
        bytes,
    })
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut text = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(text, "{b:02x}");
    }
    text
}
