//! Whether a library image is still mapped, and what closing reports.
//!
//! `dlclose` returning success does not mean the code is gone: the dynamic
//! loader may keep the image (see [`NativeLibrary::close`]). On Linux the
//! kernel's list of mappings, `/proc/self/maps`, says for certain whether
//! any page of a file is still mapped. Each loaded library has its own
//! private path, so a line naming that path means its image is still there.
//!
//! [`NativeLibrary::close`]: crate::NativeLibrary::close

use std::path::{Path, PathBuf};

/// Whether the image of a closed library left the address space.
///
/// ```
/// use polyplug_loader::{CloseReport, Unmapped};
///
/// fn describe(report: &CloseReport) -> &'static str {
///     match report.unmapped {
///         Unmapped::Yes => "unloaded",
///         Unmapped::No => "still in memory",
///         Unmapped::Unknown => "cannot tell on this platform",
///     }
/// }
/// # let _ = describe;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Unmapped {
    /// The image left: on Linux, no mapping of the library's private copy
    /// remains where its entry point was (see
    /// [`NativeLibrary::close`](crate::NativeLibrary::close)), or, where the
    /// kernel cannot be asked about one address, no mapping names the
    /// private path any more.
    Yes,
    /// Some mapping still names the private path: the loader kept the
    /// image, and the library's code and data are still in memory.
    No,
    /// This platform offers no way to tell (not Linux, or `/proc` is not
    /// mounted).
    Unknown,
}

/// What [`NativeLibrary::close`](crate::NativeLibrary::close) observed.
///
/// ```
/// use std::path::PathBuf;
/// use polyplug_loader::{CloseReport, Unmapped};
///
/// let report = CloseReport {
///     private_path: PathBuf::from("/tmp/polyplug-1-0-0/demo-3.so"),
///     unmapped: Unmapped::Yes,
///     close_error: None,
/// };
/// assert!(report.is_clean());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseReport {
    /// The private path the library was loaded from (the file itself was
    /// removed right after loading).
    pub private_path: PathBuf,
    /// Whether the image left the address space.
    pub unmapped: Unmapped,
    /// The `dlclose` error, if it reported one.
    pub close_error: Option<String>,
}

impl CloseReport {
    /// `dlclose` succeeded and the image is known to be gone.
    ///
    /// ```
    /// use std::path::PathBuf;
    /// use polyplug_loader::{CloseReport, Unmapped};
    ///
    /// let kept = CloseReport {
    ///     private_path: PathBuf::from("/tmp/polyplug-1-0-0/demo-3.so"),
    ///     unmapped: Unmapped::No, // for example, a library linked with `-z nodelete`
    ///     close_error: None,
    /// };
    /// assert!(!kept.is_clean());
    /// let unknown = CloseReport { unmapped: Unmapped::Unknown, ..kept };
    /// assert!(!unknown.is_clean()); // not known to be gone
    /// ```
    pub fn is_clean(&self) -> bool {
        self.close_error.is_none() && self.unmapped == Unmapped::Yes
    }
}

/// The file behind a mapping: its device and inode, as `stat` gives them
/// (`st_dev`, `st_ino`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FileId {
    /// `st_dev`.
    pub(crate) dev: u64,
    /// `st_ino`.
    pub(crate) inode: u64,
}

/// Where one loaded private copy lies: an address inside its image (the
/// entry point) and the copy's file. Recorded by
/// [`NativeLibrary::open`](crate::NativeLibrary::open) only after the
/// kernel said that the mapping covering `address` is of `file`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ImageMark {
    pub(crate) address: usize,
    pub(crate) file: FileId,
}

impl ImageMark {
    /// The mark of the image that holds `address`, when the kernel says
    /// the mapping covering it is of `file`; `None` otherwise (the address
    /// is in another image, or the question cannot be asked here).
    pub(crate) fn of(address: usize, file: FileId) -> Option<ImageMark> {
        #[cfg(target_os = "linux")]
        {
            (crate::procmap::query(address) == Some(crate::procmap::Covering::File(file)))
                .then_some(ImageMark { address, file })
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _unused = (address, file);
            None
        }
    }

    /// Whether the image is still mapped: `Some(true)` when the mapping
    /// covering the marked address is still of the copy's file,
    /// `Some(false)` when it is not (nothing, or another file, is mapped
    /// there), `None` when the question cannot be asked.
    ///
    /// The dynamic loader maps and unmaps an image as a whole (glibc
    /// `munmap`s the image's whole address range on the last `dlclose`),
    /// so the page holding the entry point stands for every page of the
    /// image. The copy's inode stays allocated while any page of it is
    /// mapped, so no other file has it then.
    pub(crate) fn still_mapped(&self) -> Option<bool> {
        #[cfg(target_os = "linux")]
        {
            crate::procmap::query(self.address)
                .map(|found| found == crate::procmap::Covering::File(self.file))
        }
        #[cfg(not(target_os = "linux"))]
        {
            None
        }
    }
}

/// Whether any mapping of this process names `path` (or `path` followed by
/// ` (deleted)`, as Linux shows files removed after mapping).
///
/// Returns `None` where `/proc/self/maps` cannot be read (any OS but
/// Linux, or no `/proc`). `path` should be canonical, since the kernel
/// shows resolved paths.
///
/// ```
/// use polyplug_loader::image_mapped;
///
/// let exe = std::env::current_exe()?.canonicalize()?;
/// if cfg!(target_os = "linux") {
///     assert_eq!(image_mapped(&exe), Some(true));
///     assert_eq!(image_mapped(std::path::Path::new("/no/such/library.so")), Some(false));
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn image_mapped(path: &Path) -> Option<bool> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStrExt;
        let maps = std::fs::read("/proc/self/maps").ok()?;
        Some(maps_name(&maps, path.as_os_str().as_bytes()))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _unused = path;
        None
    }
}

/// Whether some line of a `/proc/<pid>/maps` text maps the file `path`.
///
/// A line is `address perms offset dev inode [pathname]`, the pathname
/// padded with spaces and possibly holding spaces itself.
pub(crate) fn maps_name(maps: &[u8], path: &[u8]) -> bool {
    maps.split(|&b| b == b'\n')
        .filter_map(mapped_path)
        .any(|mapped| mapped == path || mapped.strip_suffix(b" (deleted)") == Some(path))
}

/// The pathname field of one maps line, if it has one.
fn mapped_path(line: &[u8]) -> Option<&[u8]> {
    let mut rest = line;
    for _ in 0..5 {
        rest = trim_spaces(rest);
        let end = rest.iter().position(|&b| b == b' ')?;
        rest = rest.get(end..)?;
    }
    let path = trim_spaces(rest);
    (!path.is_empty()).then_some(path)
}

fn trim_spaces(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != b' ').unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAPS: &[u8] = b"\
55d0c0000000-55d0c0001000 r--p 00000000 08:01 1234                       /usr/bin/host
7f0000000000-7f0000001000 r-xp 00001000 08:01 99                         /tmp/polyplug-1-0-0/demo-3.so (deleted)
7f0000002000-7f0000003000 rw-p 00000000 00:00 0 
7f0000004000-7f0000005000 r--p 00000000 08:01 77                         /opt/my lib/x.so
7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0                          [stack]
";

    #[test]
    fn finds_paths_with_and_without_the_deleted_suffix() {
        assert!(maps_name(MAPS, b"/usr/bin/host"));
        assert!(maps_name(MAPS, b"/tmp/polyplug-1-0-0/demo-3.so"));
        assert!(maps_name(MAPS, b"/opt/my lib/x.so"));
        assert!(maps_name(MAPS, b"[stack]"));
    }

    #[test]
    fn needs_the_whole_path() {
        assert!(!maps_name(MAPS, b"/tmp/polyplug-1-0-0/demo-3"));
        assert!(!maps_name(MAPS, b"/tmp/polyplug-1-0-0/demo-3.so.1"));
        assert!(!maps_name(MAPS, b"/usr/bin"));
        assert!(!maps_name(MAPS, b""));
        assert!(!maps_name(b"", b"/usr/bin/host"));
        assert!(!maps_name(b"garbage without fields\n\n", b"fields"));
    }

    #[test]
    fn reports_clean_only_when_unmapped_without_error() {
        let mut report = CloseReport {
            private_path: PathBuf::from("/x"),
            unmapped: Unmapped::No,
            close_error: None,
        };
        assert!(!report.is_clean());
        report.unmapped = Unmapped::Yes;
        assert!(report.is_clean());
        report.close_error = Some("dlclose failed".to_owned());
        assert!(!report.is_clean());
    }
}
