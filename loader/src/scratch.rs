//! The scratch directory: a private place for the copies of libraries
//! that are handed to `dlopen`.
//!
//! Every load copies the library bytes to a new, uniquely named file here,
//! or opens again a closed copy of the same bytes (the shelf, below).
//! `dlopen` keeps one image per path (and per inode), so loading a fresh
//! path every time means a rebuilt library is never served from a cached
//! image, and the image that runs is exactly the bytes that were hashed.
//!
//! **The shelf.** Writing a copy (allocating its pages, creating and
//! unlinking its file) costs more than the `dlopen` cycle itself. On Linux
//! a copy's file stays open after its name is removed, and when its
//! library is closed and the kernel confirms that its image left memory
//! ([`Unmapped::Yes`](crate::Unmapped::Yes)), the file goes on a small
//! shelf. A later load whose bytes equal the bytes written to the file
//! opens that file again as `/proc/self/fd/N` instead of
//! writing a new one: a reload of an unchanged library writes nothing. A
//! shelved file is never written: a load of other bytes writes a new
//! copy, as before.

use std::collections::VecDeque;
use std::fs::{self, DirBuilder, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::image::FileId;

/// How many names `ScratchDir::new_in` tries before it gives up.
const ATTEMPTS: u32 = 64;

/// How many copies' files a scratch directory keeps open, in use and on
/// the shelf together: each is one file descriptor. Copies past this are
/// closed once opened, as if there were no shelf.
const KEPT_FILES: usize = 64;

/// How many closed copies the shelf holds; the oldest goes first.
const SHELF_SIZE: usize = 8;

/// A private directory, `polyplug-<pid>-<unique>`, that holds the private
/// copies of loaded libraries. It is created with mode 0700 on Unix and
/// removed, with everything in it, on drop (errors are ignored there).
///
/// One scratch directory may serve any number of loads, from any thread.
///
/// On Linux it keeps up to 64 copies' files open after their names are
/// removed (one descriptor each). When a library is closed and its image
/// left memory, its copy's file goes on a shelf of up to 8; a later load
/// of the same bundle name and the same bytes opens that file again
/// instead of writing a new copy, so a reload of an unchanged library
/// writes nothing. A shelved file is never written. The files close when
/// the scratch directory is dropped.
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
    /// Closed copies whose images left memory, for a load of the same
    /// bytes.
    shelf: Arc<Shelf>,
    /// How many copies' files are open (at most [`KEPT_FILES`]).
    kept: Arc<AtomicUsize>,
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
                        shelf: Arc::new(Shelf::default()),
                        kept: Arc::new(AtomicUsize::new(0)),
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

    /// A private copy of `bytes` for library `stem`: a closed copy of the
    /// same bytes from the shelf, or else a new file ([`Self::write_new`]).
    pub(crate) fn copy(
        &self,
        stem: &str,
        bytes: &Arc<[u8]>,
    ) -> Result<PrivateCopy, (PathBuf, io::Error)> {
        if let Some(kept) = self.shelf.take_same(stem, bytes) {
            return Ok(PrivateCopy::reopened(kept, Arc::downgrade(&self.shelf)));
        }
        let (path, file) = self.write_new(stem, bytes)?;
        let id = file_id(&file);
        let kept = id.and_then(|id| {
            // Relaxed: a bound on open files; no data is published through
            // it, and the read-modify-write alone keeps the count exact.
            let taken = self
                .kept
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                    (n < KEPT_FILES).then_some(n + 1)
                })
                .is_ok();
            taken.then(|| {
                Box::new(KeptCopy {
                    file: Some(file),
                    path: path.clone(),
                    id,
                    stem: stem.to_owned(),
                    bytes: Arc::clone(bytes),
                    by_descriptor: false,
                    open: Arc::clone(&self.kept),
                })
            })
        });
        Ok(PrivateCopy {
            open_path: path.clone(),
            path,
            id,
            kept,
            shelf: Arc::downgrade(&self.shelf),
        })
    }

    /// Writes `bytes` to a new file `<stem>-<counter><DLL_SUFFIX>` (created
    /// with `create_new`, mode 0700 on Unix) and returns its path and the
    /// open file.
    pub(crate) fn write_new(
        &self,
        stem: &str,
        bytes: &[u8],
    ) -> Result<(PathBuf, fs::File), (PathBuf, io::Error)> {
        let mut options = OpenOptions::new();
        options.read(true).write(true).create_new(true);
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
                        Ok(()) => Ok((path, file)),
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

/// A private copy of a library, as [`ScratchDir::copy`] made or found it.
#[derive(Debug)]
pub(crate) struct PrivateCopy {
    /// The name the copy was written under (removed once it is opened).
    pub(crate) path: PathBuf,
    /// What `dlopen` opens: `path` for a new copy, `/proc/self/fd/N` for
    /// one from the shelf (its name is gone).
    pub(crate) open_path: PathBuf,
    /// The copy's device and inode, on Unix.
    pub(crate) id: Option<FileId>,
    /// The open file, when the scratch directory keeps it.
    pub(crate) kept: Option<Box<KeptCopy>>,
    /// Where the file goes once its image left memory.
    pub(crate) shelf: Weak<Shelf>,
}

impl PrivateCopy {
    /// A copy taken from the shelf, opened through its descriptor.
    fn reopened(mut kept: Box<KeptCopy>, shelf: Weak<Shelf>) -> PrivateCopy {
        kept.by_descriptor = true;
        PrivateCopy {
            path: kept.path.clone(),
            open_path: kept.descriptor_path(),
            id: Some(kept.id),
            kept: Some(kept),
            shelf,
        }
    }

    /// After `dlclose`, with the kernel's word that the image left memory
    /// ([`Unmapped::Yes`](crate::Unmapped::Yes)) and no `dlclose` error:
    /// the file goes on the shelf, for a load of the same bytes.
    pub(crate) fn unmapped(self) {
        if let Some(mut kept) = self.kept {
            kept.by_descriptor = false;
            if let Some(shelf) = self.shelf.upgrade() {
                shelf.put(kept);
            }
        }
    }
}

/// A copy's open file: the name is gone, the file stays while this lives.
#[derive(Debug)]
pub(crate) struct KeptCopy {
    /// Always `Some` but in `drop`.
    file: Option<fs::File>,
    path: PathBuf,
    id: FileId,
    stem: String,
    /// The bytes written to the file. The file is never written again:
    /// its name is gone before anything is mapped from it, and only this
    /// descriptor reaches it (and, as for any open file, a process of the
    /// same user through `/proc/<pid>/fd`, which could as well write into
    /// this process's memory).
    bytes: Arc<[u8]>,
    /// Opened by `dlopen` as `/proc/self/fd/N`, and not known to be
    /// unmapped since. glibc matches a `dlopen` name against the names of
    /// the images it holds before it opens anything, so while an image of
    /// that name may be mapped, descriptor `N` must stay taken: dropped in
    /// this state, the descriptor is left open for good, never closed and
    /// given to another file.
    by_descriptor: bool,
    /// The scratch directory's count of open copies.
    open: Arc<AtomicUsize>,
}

impl KeptCopy {
    /// `/proc/self/fd/N`, the path that opens this file again.
    fn descriptor_path(&self) -> PathBuf {
        #[cfg(unix)]
        {
            use std::os::fd::AsRawFd;
            let fd = self.file.as_ref().map_or(-1, AsRawFd::as_raw_fd);
            PathBuf::from(format!("/proc/self/fd/{fd}"))
        }
        #[cfg(not(unix))]
        {
            self.path.clone()
        }
    }
}

impl Drop for KeptCopy {
    fn drop(&mut self) {
        // Relaxed: see `ScratchDir::copy`.
        self.open.fetch_sub(1, Ordering::Relaxed);
        #[cfg(unix)]
        if self.by_descriptor
            && let Some(file) = self.file.take()
        {
            let _left_open = std::os::fd::IntoRawFd::into_raw_fd(file);
        }
    }
}

/// Closed copies whose images left memory, oldest first.
#[derive(Debug, Default)]
pub(crate) struct Shelf {
    copies: Mutex<VecDeque<Box<KeptCopy>>>,
}

impl Shelf {
    /// Puts a closed copy on the shelf, dropping the oldest past
    /// [`SHELF_SIZE`].
    fn put(&self, kept: Box<KeptCopy>) {
        let dropped = {
            let mut copies = self.copies.lock().unwrap_or_else(PoisonError::into_inner);
            copies.push_back(kept);
            let over = copies.len().saturating_sub(SHELF_SIZE);
            copies.drain(..over).collect::<Vec<_>>()
        };
        drop(dropped);
    }

    /// Takes a copy of library `stem` whose file holds exactly `bytes`.
    fn take_same(&self, stem: &str, bytes: &Arc<[u8]>) -> Option<Box<KeptCopy>> {
        let mut copies = self.copies.lock().unwrap_or_else(PoisonError::into_inner);
        let index = copies.iter().position(|c| {
            c.stem == stem && (Arc::ptr_eq(&c.bytes, bytes) || *c.bytes == **bytes)
        })?;
        copies.remove(index)
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
        let (first, first_file) = scratch.write_new("demo", b"one").unwrap();
        let (second, second_file) = scratch.write_new("demo", b"two").unwrap();
        let (first_id, second_id) = (file_id(&first_file), file_id(&second_file));
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

    fn shared(bytes: &[u8]) -> Arc<[u8]> {
        Arc::from(bytes)
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_shelved_copy_serves_the_same_stem_and_bytes_only() {
        let scratch = ScratchDir::new().unwrap();
        let bytes = shared(b"library one");
        let first = scratch.copy("demo", &bytes).unwrap();
        assert!(first.kept.is_some());
        let path = first.path.clone();
        first.unmapped();
        // Another stem, or other bytes of the same length, get new files.
        let other_stem = scratch.copy("else", &bytes).unwrap();
        assert_ne!(other_stem.path, path);
        let other_bytes = scratch.copy("demo", &shared(b"library two")).unwrap();
        assert_ne!(other_bytes.path, path);
        // Equal bytes in another buffer take the shelved file, through its
        // descriptor.
        let again = scratch.copy("demo", &shared(b"library one")).unwrap();
        assert_eq!(again.path, path);
        assert!(again.open_path.starts_with("/proc/self/fd/"));
        assert_eq!(fs::read(&again.open_path).unwrap(), b"library one");
        // Taken, it is off the shelf.
        let third = scratch.copy("demo", &bytes).unwrap();
        assert_ne!(third.path, path);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_shelf_keeps_the_newest_copies_only() {
        let scratch = ScratchDir::new().unwrap();
        let all: Vec<Arc<[u8]>> = (0..SHELF_SIZE + 2)
            .map(|i| shared(format!("library {i}").as_bytes()))
            .collect();
        for bytes in &all {
            scratch.copy("demo", bytes).unwrap().unmapped();
        }
        assert_eq!(scratch.shelf.copies.lock().unwrap().len(), SHELF_SIZE);
        // The two oldest went, and their descriptors were closed.
        assert_eq!(scratch.kept.load(Ordering::Relaxed), SHELF_SIZE);
        let oldest = scratch.copy("demo", &all[0]).unwrap();
        assert!(!oldest.open_path.starts_with("/proc"));
        let newest = scratch.copy("demo", &all[SHELF_SIZE + 1]).unwrap();
        assert!(newest.open_path.starts_with("/proc"));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn at_most_kept_files_copies_stay_open() {
        let scratch = ScratchDir::new().unwrap();
        let copies: Vec<PrivateCopy> = (0..KEPT_FILES + 3)
            .map(|i| {
                scratch
                    .copy("demo", &shared(format!("{i}").as_bytes()))
                    .unwrap()
            })
            .collect();
        let kept = copies.iter().filter(|c| c.kept.is_some()).count();
        assert_eq!(kept, KEPT_FILES);
        assert_eq!(scratch.kept.load(Ordering::Relaxed), KEPT_FILES);
        drop(copies);
        assert_eq!(scratch.kept.load(Ordering::Relaxed), 0);
    }

    /// A copy opened through its descriptor and dropped without the word
    /// that its image left keeps its descriptor number taken for good.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_reopened_copy_dropped_unconfirmed_leaves_its_descriptor_open() {
        let scratch = ScratchDir::new().unwrap();
        let bytes = shared(b"library");
        scratch.copy("demo", &bytes).unwrap().unmapped();
        let again = scratch.copy("demo", &bytes).unwrap();
        let descriptor = again.open_path.clone();
        drop(again);
        assert_eq!(fs::read(&descriptor).unwrap(), b"library");
        // Confirmed unmapped, a reopened copy goes back to the shelf.
        let written = scratch.copy("demo", &shared(b"other")).unwrap();
        written.unmapped();
        let reopened = scratch.copy("demo", &shared(b"other")).unwrap();
        assert!(reopened.open_path.starts_with("/proc"));
        reopened.unmapped();
        assert!(
            scratch
                .copy("demo", &shared(b"other"))
                .unwrap()
                .open_path
                .starts_with("/proc")
        );
    }

    #[test]
    fn two_directories_differ() {
        let a = ScratchDir::new().unwrap();
        let b = ScratchDir::new().unwrap();
        assert_ne!(a.path(), b.path());
    }
}
