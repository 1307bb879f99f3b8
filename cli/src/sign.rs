//! `polyplug keygen`, `polyplug sign` and `polyplug verify`: signed
//! bundles (`docs/signed-bundles.md`).
//!
//! `keygen` writes a key pair in minisign's formats (the secret key
//! unencrypted, readable by its owner only); `sign` writes a bundle's hash
//! list and its signature; `verify` checks a bundle as a runtime that
//! requires signatures does, and says which file or key is at fault.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::Args;
use polyplug::LoadError;
use polyplug_loader::{
    Bundle, BundleError, PublicKey, SIG_FILE, SUMS_FILE, SecretKey, Trust, seal_bundle,
};

use crate::error::{CliError, io_error};

/// `polyplug keygen`.
#[derive(Debug, Args)]
pub(crate) struct KeygenArgs {
    /// Where to write `<NAME>.key` (the secret key) and `<NAME>.pub`.
    #[arg(long, default_value = ".")]
    dir: PathBuf,
    /// The files' name.
    #[arg(long, default_value = "polyplug")]
    name: String,
    /// Replace key files that exist already.
    #[arg(long)]
    force: bool,
}

/// `polyplug sign`.
#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    /// The bundle directory (holding manifest.toml).
    bundle: PathBuf,
    /// The secret key file (`polyplug keygen`, or `minisign -G -W`).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
}

/// `polyplug verify`.
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The bundle directory (holding manifest.toml).
    bundle: PathBuf,
    /// A trusted public key: a `.pub` file, or the key's base64 line. May
    /// be repeated; a signature by any of them is accepted.
    #[arg(long, value_name = "PUBKEY", required = true)]
    trust: Vec<String>,
}

/// `polyplug keygen`: a fresh key pair from the system's random source.
pub(crate) fn keygen(args: &KeygenArgs) -> Result<(), CliError> {
    let mut seed = [0; 32];
    getrandom::fill(&mut seed).map_err(|error| {
        CliError::Argument(format!(
            "cannot read the system's random source for a key: {error}"
        ))
    })?;
    let secret = SecretKey::from_seed(seed);
    let public = secret.public();
    let secret_path = args.dir.join(format!("{}.key", args.name));
    let public_path = args.dir.join(format!("{}.pub", args.name));
    if !args.force {
        for path in [&secret_path, &public_path] {
            if path.exists() {
                return Err(CliError::Argument(format!(
                    "{} exists already; pass --force to replace it",
                    path.display()
                )));
            }
        }
    }
    fs::create_dir_all(&args.dir).map_err(io_error(&args.dir))?;
    write_secret(&secret_path, secret.to_text().as_bytes())?;
    fs::write(&public_path, public.to_text()).map_err(io_error(&public_path))?;
    println!("key {}", public.id());
    println!("  secret key  {}  (keep it private)", secret_path.display());
    println!("  public key  {}", public_path.display());
    println!(
        "sign a bundle:   polyplug sign <bundle> --key {}",
        secret_path.display()
    );
    println!(
        "verify a bundle: polyplug verify <bundle> --trust {}",
        public_path.display()
    );
    Ok(())
}

/// Writes the secret key, readable and writable by its owner only.
fn write_secret(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io_error(path))?;
    file.write_all(bytes).map_err(io_error(path))
}

/// `polyplug sign`.
pub(crate) fn sign(args: &SignArgs) -> Result<(), CliError> {
    let text = fs::read_to_string(&args.key).map_err(io_error(&args.key))?;
    let key = SecretKey::parse(&text)
        .map_err(|error| CliError::Argument(format!("{}: {error}", args.key.display())))?;
    let list = seal_bundle(&args.bundle, &key).map_err(LoadError::from)?;
    println!(
        "signed {} with key {}: {} files",
        args.bundle.display(),
        key.public().id(),
        list.len()
    );
    println!("  {}", args.bundle.join(SUMS_FILE).display());
    println!("  {}", args.bundle.join(SIG_FILE).display());
    Ok(())
}

/// `polyplug verify`.
pub(crate) fn verify(args: &VerifyArgs) -> Result<(), CliError> {
    let mut keys = Vec::with_capacity(args.trust.len());
    for trust in &args.trust {
        keys.push(read_public(trust)?);
    }
    let bundle = Bundle::open(&args.bundle).map_err(LoadError::from)?;
    let bundle = bundle
        .verified(&Trust::required(keys))
        .map_err(seal_error)?;
    let count = bundle.files().map_or(0, |files| files.len());
    println!(
        "{}: bundle {} {} is signed by a trusted key; {count} files match {SUMS_FILE}",
        args.bundle.display(),
        bundle.name(),
        bundle.manifest().version
    );
    Ok(())
}

/// A public key from a file, or from the argument itself (its base64
/// line, as `minisign -P` takes it).
fn read_public(trust: &str) -> Result<PublicKey, CliError> {
    let path = Path::new(trust);
    let (text, source) = if path.is_file() {
        (fs::read_to_string(path).map_err(io_error(path))?, trust)
    } else {
        (trust.to_owned(), "--trust")
    };
    PublicKey::parse(&text).map_err(|error| {
        let hint = if path.is_file() {
            ""
        } else {
            " (neither a readable file nor a public key)"
        };
        CliError::Argument(format!("{source}: {error}{hint}"))
    })
}

fn seal_error(error: polyplug_loader::SealError) -> CliError {
    CliError::Load(LoadError::from(BundleError::Seal(error)))
}
