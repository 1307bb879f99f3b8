//! The command's errors. Each names the file, bundle or contract it is
//! about.

use std::io;
use std::path::PathBuf;

use polyplug::LoadError;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// The command already printed what went wrong (a diagnostic, a failed
    /// verdict); only the exit code is left to set.
    #[error("the command failed; see above")]
    Reported,
    /// The runtime could not create its private directory for library
    /// copies.
    #[error("cannot create the runtime's scratch directory: {0}")]
    Runtime(io::Error),
    /// A load, reload or unload failed.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// Reading or writing a file failed.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error from the file system.
        error: io::Error,
    },
    /// An argument that clap cannot check: a bundle name, a directory that
    /// exists already, two bundles that are not versions of one another.
    #[error("{0}")]
    Argument(String),
    /// A contract the demo needs is missing from an example plugin.
    #[error("{0}")]
    Find(#[from] polyplug::FindError),
    /// Bindings could not be generated from a contract definition.
    #[error(transparent)]
    Gen(#[from] crate::generate::GenError),
    /// Retired versions did not drain in time: a reader kept its guard.
    #[error("retired plugin versions did not drain within {seconds} s")]
    Drain {
        /// The timeout.
        seconds: u64,
    },
}

/// For `map_err`: an IO error about `path`.
pub(crate) fn io_error(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> CliError {
    let path = path.into();
    move |error| CliError::Io { path, error }
}
