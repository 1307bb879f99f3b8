//! Opening a bundle's files without ever blocking.
//!
//! Opening a FIFO for reading waits for a writer, reading a character
//! device such as `/dev/zero` never ends, and opening some devices has side
//! effects. A bundle is data the host did not write, so every file read
//! from one (its manifest, its library) is opened by [`open_regular`],
//! which refuses anything but a regular file, before and after opening:
//!
//! 1. `stat` (following symlinks) must say *regular file*; nothing else is
//!    opened at all.
//! 2. The file is opened read-only with `O_NONBLOCK` on Unix, so even a
//!    FIFO swapped in after step 1 cannot make `open` wait.
//! 3. `fstat` on the opened descriptor must say *regular file* again: that
//!    is the file that will be read, whatever the path names by now.
//!
//! `O_NONBLOCK` changes nothing for reads of a regular file.
//!
//! [`read_shared`] then reads such a file whole into the `Arc<[u8]>` the
//! loader keeps, with no second copy.

use core::fmt;
use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, Read, Seek};
use std::path::Path;
use std::sync::Arc;

/// What a path names, when it is not a regular file.
///
/// Its `Display` is the phrase used in messages: `a FIFO (named pipe)`.
///
/// ```
/// use polyplug_loader::FileKind;
///
/// assert_eq!(FileKind::Fifo.to_string(), "a FIFO (named pipe)");
/// assert_eq!(FileKind::CharDevice.to_string(), "a character device");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// A directory.
    Directory,
    /// A FIFO (named pipe): opening or reading it waits for a writer.
    Fifo,
    /// A Unix domain socket.
    Socket,
    /// A character device, such as `/dev/zero` or a terminal.
    CharDevice,
    /// A block device, such as a disk.
    BlockDevice,
    /// A symbolic link, where one is not followed.
    Symlink,
    /// Anything else that is not a regular file.
    Other,
}

impl FileKind {
    /// The kind of a file that is not regular, or `None` for a regular
    /// file.
    fn of(metadata: &Metadata) -> Option<FileKind> {
        let kind = metadata.file_type();
        if kind.is_file() {
            return None;
        }
        if kind.is_dir() {
            return Some(FileKind::Directory);
        }
        if kind.is_symlink() {
            return Some(FileKind::Symlink);
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            if kind.is_fifo() {
                return Some(FileKind::Fifo);
            }
            if kind.is_socket() {
                return Some(FileKind::Socket);
            }
            if kind.is_char_device() {
                return Some(FileKind::CharDevice);
            }
            if kind.is_block_device() {
                return Some(FileKind::BlockDevice);
            }
        }
        Some(FileKind::Other)
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FileKind::Directory => "a directory",
            FileKind::Fifo => "a FIFO (named pipe)",
            FileKind::Socket => "a socket",
            FileKind::CharDevice => "a character device",
            FileKind::BlockDevice => "a block device",
            FileKind::Symlink => "a symbolic link",
            FileKind::Other => "a file that is not a regular file",
        })
    }
}

/// Why [`open_regular`] did not open a file.
///
/// ```
/// use std::path::Path;
/// use polyplug_loader::{FileKind, OpenError, open_regular};
///
/// let err = open_regular(Path::new("/")).unwrap_err();
/// assert!(matches!(err, OpenError::NotRegular(FileKind::Directory)));
/// assert_eq!(err.to_string(), "expected a regular file, found a directory");
/// ```
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The path names something other than a regular file; it was not
    /// read.
    #[error("expected a regular file, found {0}")]
    NotRegular(FileKind),
    /// The file system refused: missing, no permission, a symlink loop...
    #[error(transparent)]
    Io(io::Error),
}

/// Opens `path` for reading if, and only if, it is a regular file,
/// following symlinks; never blocks on a FIFO or a device (see the module
/// docs for the three steps).
///
/// ```
/// use std::path::Path;
/// use polyplug_loader::{FileKind, OpenError, open_regular};
///
/// assert!(open_regular(Path::new("Cargo.toml")).is_ok());
/// # #[cfg(unix)]
/// assert!(matches!(
///     open_regular(Path::new("/dev/null")),
///     Err(OpenError::NotRegular(FileKind::CharDevice))
/// ));
/// assert!(matches!(open_regular(Path::new("/no/such/file")), Err(OpenError::Io(_))));
/// ```
pub fn open_regular(path: &Path) -> Result<File, OpenError> {
    open(path, Follow::Yes).map(|opened| opened.file)
}

/// A regular file [`open`] opened, and its length as the `fstat` that
/// checked it said.
#[derive(Debug)]
pub(crate) struct Opened {
    pub(crate) file: File,
    pub(crate) len: u64,
}

/// Whether the last component of a path may be a symlink.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Follow {
    /// Follow it, as `open` does.
    Yes,
    /// Refuse it (`O_NOFOLLOW` on Unix): for a path that was canonical when
    /// it was checked, a symlink there now was swapped in since.
    No,
}

/// [`open_regular`], with the choice of following a final symlink.
pub(crate) fn open(path: &Path, follow: Follow) -> Result<Opened, OpenError> {
    let before = match follow {
        Follow::Yes => fs::metadata(path),
        Follow::No => fs::symlink_metadata(path),
    }
    .map_err(OpenError::Io)?;
    if let Some(kind) = FileKind::of(&before) {
        return Err(OpenError::NotRegular(kind));
    }
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let nofollow = match follow {
            Follow::Yes => 0,
            Follow::No => libc::O_NOFOLLOW,
        };
        options.custom_flags(libc::O_NONBLOCK | nofollow);
    }
    let file = options.open(path).map_err(OpenError::Io)?;
    let after = file.metadata().map_err(OpenError::Io)?;
    match FileKind::of(&after) {
        None => Ok(Opened {
            file,
            len: after.len(),
        }),
        Some(kind) => Err(OpenError::NotRegular(kind)),
    }
}

/// Reads an opened regular file whole, at most `limit` bytes (a caller
/// that refuses larger files asks for one more than it allows), into
/// memory an `Arc` owns.
///
/// The bytes are read where they stay: the allocation is sized from the
/// `fstat` that [`open`] made, and nothing is copied after the read
/// (reading into a `Vec` and converting it to an `Arc<[u8]>` copies every
/// byte into a second allocation). On Unix the allocation is not zeroed
/// first either: `read` writes into it as it is, and only the bytes `read`
/// wrote are ever treated as initialised. Zeroing would write every byte
/// once more: a buffer the size of a library is not a fresh zero page once
/// the allocator has reused it. A file whose length is not what `fstat`
/// said is read again from the start the plain way.
pub(crate) fn read_shared(opened: Opened, limit: u64) -> io::Result<Arc<[u8]>> {
    let Opened { mut file, len } = opened;
    let expected = len.min(limit);
    if let Ok(len) = usize::try_from(expected)
        && let Some(shared) = read_exactly(&file, len)?
    {
        // At the limit, whatever follows is not read; below it, one more
        // byte means the file grew since `fstat`.
        let mut more = [0u8; 1];
        if expected == limit || (&file).read(&mut more)? == 0 {
            return Ok(shared);
        }
    }
    file.rewind()?;
    let mut bytes = Vec::new();
    file.take(limit).read_to_end(&mut bytes)?;
    Ok(bytes.into())
}

/// [`read_shared`], for a file that may still hold `known`, bytes read
/// from it before: when it holds exactly those bytes, `known` itself comes
/// back, and nothing is allocated or copied. The file is read in pieces,
/// each compared with `known` while it is in the cache; at the first
/// difference, or a length that differs, it is read again whole, as
/// [`read_shared`] reads it.
///
/// ```text
/// same bytes  -> Arc::ptr_eq(&result, known)
/// other bytes -> a new Arc of the file's bytes
/// ```
pub(crate) fn read_shared_known(
    opened: Opened,
    limit: u64,
    known: &Arc<[u8]>,
) -> io::Result<Arc<[u8]>> {
    const PIECE: usize = 64 * 1024;
    let same_length = u64::try_from(known.len()).is_ok_and(|len| len == opened.len && len < limit);
    if same_length {
        let mut piece = vec![0_u8; PIECE.min(known.len()).max(1)];
        let mut file = &opened.file;
        let mut same = true;
        for expected in known.chunks(PIECE) {
            let Some(read) = piece.get_mut(..expected.len()) else {
                same = false;
                break;
            };
            if file.read_exact(read).is_err() || read != expected {
                same = false;
                break;
            }
        }
        // The file ends where `known` does: one more byte means it grew.
        if same && file.read(&mut piece)? == 0 {
            return Ok(Arc::clone(known));
        }
        (&opened.file).rewind()?;
    }
    read_shared(opened, limit)
}

/// The next `len` bytes of `file` in a new `Arc`, or `None` when the file
/// ends before them (it shrank since `fstat`).
#[cfg(unix)]
#[expect(
    unsafe_code,
    reason = "read(2) into uninitialised memory, then assume_init of the bytes it wrote"
)]
fn read_exactly(file: &File, len: usize) -> io::Result<Option<Arc<[u8]>>> {
    use std::os::unix::io::AsRawFd;

    let mut shared = Arc::<[u8]>::new_uninit_slice(len);
    let Some(buf) = Arc::get_mut(&mut shared) else {
        return Ok(None);
    };
    let mut filled = 0;
    while let Some(rest) = buf.get_mut(filled..).filter(|rest| !rest.is_empty()) {
        let (ptr, room) = (rest.as_mut_ptr().cast(), rest.len());
        // SAFETY: none needed (SAFETY.md unsafe inventory, file.rs): `read`
        // writes at most `room` bytes to `ptr`, unaliased writable memory.
        let read = unsafe { libc::read(file.as_raw_fd(), ptr, room) };
        match usize::try_from(read) {
            Ok(0) => return Ok(None),
            Ok(n) => filled += n,
            Err(_) => {
                let error = io::Error::last_os_error();
                if error.kind() != io::ErrorKind::Interrupted {
                    return Err(error);
                }
            }
        }
    }
    // SAFETY: no invariant needed (SAFETY.md unsafe inventory, file.rs):
    // the loop ends only when `read` has written all `len` bytes.
    Ok(Some(unsafe { shared.assume_init() }))
}

/// The next `len` bytes of `file` in a new `Arc`, or `None` when the file
/// ends before them (it shrank since `fstat`).
#[cfg(not(unix))]
#[expect(unsafe_code, reason = "assume_init of zeroed bytes")]
fn read_exactly(file: &File, len: usize) -> io::Result<Option<Arc<[u8]>>> {
    let zeroed = Arc::<[u8]>::new_zeroed_slice(len);
    // SAFETY: no invariant needed (SAFETY.md unsafe inventory, file.rs):
    // every byte is zero, and a zero byte is a valid u8.
    let mut shared = unsafe { zeroed.assume_init() };
    let Some(buf) = Arc::get_mut(&mut shared) else {
        return Ok(None);
    };
    match (&*file).read_exact(buf) {
        Ok(()) => Ok(Some(shared)),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory `polyplug-<what>-<pid>` under the temporary
    /// directory, and the path of a file `bytes` in it.
    fn scratch_file(what: &str) -> (std::path::PathBuf, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("polyplug-{what}-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bytes");
        (dir, path)
    }

    #[test]
    fn read_shared_reads_whole_files_up_to_the_limit() {
        let (dir, path) = scratch_file("read");
        let bytes: Vec<u8> = (0u8..=250).cycle().take(300_000).collect();
        fs::write(&path, &bytes).unwrap();
        let read = |limit| read_shared(open(&path, Follow::No).unwrap(), limit).unwrap();
        assert_eq!(&*read(u64::MAX), &bytes[..]);
        assert_eq!(&*read(1_000), &bytes[..1_000]);
        fs::write(&path, b"").unwrap();
        assert!(read(u64::MAX).is_empty());
        fs::remove_dir_all(&dir).unwrap();
    }

    /// `read_shared_known` gives back the known `Arc` only for a file that
    /// holds exactly its bytes; a difference in any piece, the last byte,
    /// or the length reads the file's own bytes.
    #[test]
    fn read_shared_known_shares_only_equal_bytes() {
        let (dir, path) = scratch_file("known");
        let bytes: Vec<u8> = (0u8..=250).cycle().take(200_000).collect();
        let known: Arc<[u8]> = Arc::from(&bytes[..]);
        let read = |content: &[u8]| {
            fs::write(&path, content).unwrap();
            read_shared_known(open(&path, Follow::No).unwrap(), u64::MAX, &known).unwrap()
        };
        assert!(Arc::ptr_eq(&read(&bytes), &known));
        for at in [0, 65_536, 131_071, 199_999] {
            let mut changed = bytes.clone();
            changed[at] ^= 1;
            let found = read(&changed);
            assert!(!Arc::ptr_eq(&found, &known), "byte {at}");
            assert_eq!(&*found, &changed[..], "byte {at}");
        }
        assert_eq!(&*read(&bytes[..199_999]), &bytes[..199_999]);
        let mut longer = bytes.clone();
        longer.push(7);
        assert_eq!(&*read(&longer), &longer[..]);
        // At the limit, the file is the limit's bytes, not `known`'s.
        fs::write(&path, &bytes).unwrap();
        let limited = read_shared_known(open(&path, Follow::No).unwrap(), 1_000, &known).unwrap();
        assert_eq!(&*limited, &bytes[..1_000]);
        fs::remove_dir_all(&dir).unwrap();
    }

    /// `read_exactly` fills exactly the bytes it asked for, and says when
    /// the file ends first (a file that shrank since `fstat`).
    #[test]
    fn read_exactly_reads_what_it_asks_for_or_says_the_file_ended() {
        let (dir, path) = scratch_file("exact");
        let bytes: Vec<u8> = (1u8..=200).collect();
        fs::write(&path, &bytes).unwrap();
        let read = |len| read_exactly(&open(&path, Follow::No).unwrap().file, len).unwrap();
        assert_eq!(read(200).as_deref(), Some(&bytes[..]));
        assert_eq!(read(7).as_deref(), Some(&bytes[..7]));
        assert_eq!(read(0).as_deref(), Some(&[][..]));
        assert_eq!(read(201), None);
        fs::remove_dir_all(&dir).unwrap();
    }

    /// A file longer than `fstat` says (as `/proc` files are: size 0) is
    /// read again the plain way, whole.
    #[cfg(target_os = "linux")]
    #[test]
    fn read_shared_reads_a_file_longer_than_its_stat_again() {
        let path = Path::new("/proc/self/status");
        let opened = open(path, Follow::Yes).unwrap();
        assert_eq!(opened.len, 0);
        let read = read_shared(opened, u64::MAX).unwrap();
        assert!(
            read.starts_with(b"Name:"),
            "{:?}",
            String::from_utf8_lossy(&read)
        );
        assert!(read.ends_with(b"\n"));
    }

    #[test]
    fn a_directory_is_named() {
        let dir = std::env::temp_dir();
        assert!(matches!(
            open(&dir, Follow::Yes),
            Err(OpenError::NotRegular(FileKind::Directory))
        ));
    }

    #[cfg(unix)]
    #[test]
    fn devices_are_refused_and_a_final_symlink_only_when_asked() {
        use std::os::unix::fs::symlink;
        assert!(matches!(
            open(Path::new("/dev/zero"), Follow::Yes),
            Err(OpenError::NotRegular(FileKind::CharDevice))
        ));
        let dir = std::env::temp_dir().join(format!("polyplug-file-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let target = dir.join("target");
        fs::write(&target, b"x").unwrap();
        let link = dir.join("link");
        let _ = fs::remove_file(&link);
        symlink(&target, &link).unwrap();
        assert!(open(&link, Follow::Yes).is_ok());
        assert!(matches!(
            open(&link, Follow::No),
            Err(OpenError::NotRegular(FileKind::Symlink))
        ));
        fs::remove_dir_all(&dir).unwrap();
    }
}
