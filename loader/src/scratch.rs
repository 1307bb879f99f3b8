//! The scratch directory: a private place for the copies of libraries
//! that are handed to `dlopen`.
//!
//! Every load copies the library bytes to a new, uniquely named file here.
//! `dlopen` keeps one image per path (and per inode), so loading a fresh
//! path every time means a rebuilt library is never served from a cached
//! image, and the image that runs is exactly the bytes that were hashed.

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::image::FileId;

/// How many names `ScratchDir::new_in` tries before it gives up.
const ATTEMPTS: u32 = 64;

/// A private directory, `polyplug-<pid>-<unique>`, that holds the private
/// copies of loaded libraries. It is created with mode 0700 on Unix and
/// removed, with everything in it, on drop (errors are ignored there).
///
/// One scratch directory may serve any number of loads, from any thread.
///
/// ```
/// use polyplug_loader::ScratchDir;
///
/// let scratch = ScratchDir::new()?;
/// let path = scratch.path().to_owned();
/// assert!(path.is_dir());
/// drop(scratch);
/// assert!(!path.exists());
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct ScratchDir {
    path: PathBuf,
    /// Makes file names unique within this directory. There is no
    /// process-wide state: two runtimes own two directories.
    next_file: AtomicU64,
}

impl ScratchDir {
    /// Creates a scratch directory under [`std::env::temp_dir`].
    ///
    /// # Platform-specific behaviour
    ///
    /// Where the temporary directory is mounted `noexec`, `dlopen` cannot
    /// map code from it; use [`ScratchDir::new_in`] with a directory on an
    /// executable file system.
    ///
    /// # Example
    ///
    /// ```
    /// use polyplug_loader::ScratchDir;
    ///
    /// let scratch = ScratchDir::new()?;
    /// assert!(scratch.path().starts_with(std::env::temp_dir().canonicalize()?));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new() -> io::Result<ScratchDir> {
        ScratchDir::new_in(&std::env::temp_dir())
    }

    /// Creates a scratch directory under `parent`, which must exist.
    ///
    /// The name is `polyplug-<pid>-<nanos>-<attempt>`; when it exists
    /// already, another is tried. The stored path is canonical, so it is
    /// the path that `/proc/self/maps` shows for mapped copies.
    ///
    /// ```
    /// use polyplug_loader::ScratchDir;
    ///
    /// let scratch = ScratchDir::new_in(&std::env::temp_dir())?;
    /// let name = scratch.path().file_name().unwrap().to_string_lossy().into_owned();
    /// assert!(name.starts_with(&format!("polyplug-{}-", std::process::id())));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new_in(parent: &Path) -> io::Result<ScratchDir> {
        let mut builder = DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        for attempt in 0..ATTEMPTS {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.subsec_nanos());
            let name = format!("polyplug-{}-{nanos}-{attempt}", std::process::id());
            let path = parent.join(name);
            match builder.create(&path) {
                Ok(()) => {
                    // Own the directory before anything can fail, so it is
                    // removed on every path.
                    let mut scratch = ScratchDir {
                        path,
                        next_file: AtomicU64::new(0),
                    };
                    scratch.path = fs::canonicalize(&scratch.path)?;
                    return Ok(scratch);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!(
                "expected a free scratch directory name under {}, found {ATTEMPTS} taken",
                parent.display()
            ),
        ))
    }

    /// The canonical path of the directory.
    ///
    /// ```
    /// use polyplug_loader::ScratchDir;
    ///
    /// let scratch = ScratchDir::new()?;
    /// assert!(scratch.path().is_absolute());
    /// assert_eq!(scratch.path().canonicalize()?, scratch.path());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `bytes` to a new file `<stem>-<counter><DLL_SUFFIX>` (created
    /// with `create_new`, mode 0700 on Unix) and returns its path and, on
    /// Unix, its device and inode.
    pub(crate) fn write_new(
        &self,
        stem: &str,
        bytes: &[u8],
    ) -> Result<(PathBuf, Option<FileId>), (PathBuf, io::Error)> {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o700);
        let mut last = None;
        for _ in 0..ATTEMPTS {
            // Relaxed: the value is only a name suffix; the read-modify-write
            // alone makes it unique, and nothing is published through it.
            let number = self.next_file.fetch_add(1, Ordering::Relaxed);
            let name = format!("{stem}-{number}{}", std::env::consts::DLL_SUFFIX);
            let path = self.path.join(name);
            match options.open(&path) {
                Ok(mut file) => {
                    return match file.write_all(bytes).and_then(|()| file.flush()) {
                        Ok(()) => Ok((path, file_id(&file))),
                        Err(e) => {
                            let _removed = fs::remove_file(&path);
                            Err((path, e))
                        }
                    };
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some((path, e)),
                Err(e) => return Err((path, e)),
            }
        }
        Err(last.unwrap_or_else(|| {
            let e = io::Error::new(io::ErrorKind::AlreadyExists, "no free file name");
            (self.path.clone(), e)
        }))
    }
}

/// The device and inode of an open file (`fstat`); `None` off Unix or
/// when `fstat` fails.
fn file_id(file: &fs::File) -> Option<FileId> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        file.metadata().ok().map(|meta| FileId {
            dev: meta.dev(),
            inode: meta.ino(),
        })
    }
    #[cfg(not(unix))]
    {
        let _unused = file;
        None
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        // Best effort: a mapped image keeps its pages after its file is
        // gone, so removal cannot harm a library that is still open.
        let _removed = fs::remove_dir_all(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_get_distinct_names_and_the_directory_goes_on_drop() {
        let scratch = ScratchDir::new().unwrap();
        let (first, first_id) = scratch.write_new("demo", b"one").unwrap();
        let (second, second_id) = scratch.write_new("demo", b"two").unwrap();
        if cfg!(unix) {
            assert!(first_id.is_some());
            assert_ne!(first_id, second_id);
        }
        assert_ne!(first, second);
        assert!(first.starts_with(scratch.path()));
        assert_eq!(fs::read(&second).unwrap(), b"two");
        let dir = scratch.path().to_owned();
        drop(scratch);
        assert!(!dir.exists());
    }

    #[cfg(unix)]
    #[test]
    fn the_directory_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let scratch = ScratchDir::new().unwrap();
        let mode = fs::metadata(scratch.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    #[test]
    fn two_directories_differ() {
        let a = ScratchDir::new().unwrap();
        let b = ScratchDir::new().unwrap();
        assert_ne!(a.path(), b.path());
    }
}
