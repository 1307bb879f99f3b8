//! One question to the kernel about one address: which file, if any, the
//! mapping that covers it comes from (Linux `PROCMAP_QUERY`, an `ioctl` on
//! `/proc/self/maps`, since Linux 6.11).
//!
//! This answers what [`crate::image_mapped`] answers by reading and
//! scanning the whole text of `/proc/self/maps`, for one address, without
//! formatting every mapping of the process. Where the kernel does not know
//! the request, [`query`] says so and the caller scans the text instead.
#![expect(
    unsafe_code,
    reason = "the PROCMAP_QUERY ioctl on /proc/self/maps; see SAFETY.md [L5]"
)]

use std::fs::File;
use std::os::fd::AsRawFd;

use crate::image::FileId;

/// `struct procmap_query` of `<linux/fs.h>` (Linux 6.11), 104 bytes.
#[repr(C)]
#[derive(Default)]
struct ProcmapQuery {
    size: u64,
    query_flags: u64,
    query_addr: u64,
    vma_start: u64,
    vma_end: u64,
    vma_flags: u64,
    vma_page_size: u64,
    vma_offset: u64,
    inode: u64,
    dev_major: u32,
    dev_minor: u32,
    vma_name_size: u32,
    build_id_size: u32,
    vma_name_addr: u64,
    build_id_addr: u64,
}

/// `_IOWR('f', 17, struct procmap_query)`: direction 3 (read and write),
/// the struct's size, type `'f'`, number 17.
const PROCMAP_QUERY: u32 = 0xC068_6611;

/// What the kernel says about one address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Covering {
    /// No mapping covers the address.
    Nothing,
    /// A mapping of this file covers it (inode 0: an anonymous mapping).
    File(FileId),
}

/// Asks the kernel which mapping covers `address` in this process.
///
/// `None` when the question cannot be asked here: no `/proc`, or a kernel
/// without `PROCMAP_QUERY` (before 6.11), or any other error.
pub(crate) fn query(address: usize) -> Option<Covering> {
    let maps = File::open("/proc/self/maps").ok()?;
    let mut arg = ProcmapQuery {
        size: size_of::<ProcmapQuery>() as u64,
        // No flags: only the mapping that covers the address, of any kind.
        query_addr: address as u64,
        ..ProcmapQuery::default()
    };
    // SAFETY: [L5] `maps` is an open `/proc/self/maps`; `arg` is a `procmap_query` whose
    // `size` is its own size, with no name or build-id buffer (both sizes 0, addresses 0),
    // so the kernel writes only into `arg`, which lives across the call.
    let result = unsafe {
        libc::ioctl(
            maps.as_raw_fd(),
            // The request's bits, whatever the C type of the argument.
            PROCMAP_QUERY as libc::Ioctl,
            &raw mut arg,
        )
    };
    if result == 0 {
        let dev = libc::makedev(arg.dev_major, arg.dev_minor);
        return Some(Covering::File(FileId {
            dev,
            inode: arg.inode,
        }));
    }
    match std::io::Error::last_os_error().raw_os_error() {
        Some(libc::ENOENT) => Some(Covering::Nothing),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn the_request_number_is_the_kernels() {
        assert_eq!(size_of::<ProcmapQuery>(), 104);
        let size = u32::try_from(size_of::<ProcmapQuery>()).unwrap();
        assert_eq!(
            PROCMAP_QUERY,
            (3 << 30) | (size << 16) | (u32::from(b'f') << 8) | 17
        );
    }

    #[cfg_attr(miri, ignore)]
    #[test]
    fn finds_this_function_in_the_test_binary_and_nothing_at_zero() {
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
        let mut parts = release.split(|c: char| !c.is_ascii_digit());
        let major: u32 = parts.next().unwrap().parse().unwrap();
        let minor: u32 = parts.next().unwrap().parse().unwrap();
        let found = query(query as *const () as usize);
        if (major, minor) < (6, 11) {
            assert_eq!(
                found, None,
                "a kernel before 6.11 does not know the request"
            );
            return;
        }
        let found = found.unwrap();
        let exe = std::fs::metadata(std::env::current_exe().unwrap()).unwrap();
        assert_eq!(
            found,
            Covering::File(FileId {
                dev: exe.dev(),
                inode: exe.ino()
            })
        );
        assert_eq!(query(0), Some(Covering::Nothing));
    }
}
