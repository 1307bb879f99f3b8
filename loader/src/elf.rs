//! How many bytes an ELF file says it holds, read from its own headers.
//!
//! `dlopen` maps a library's loadable segments straight from the file. When
//! the file is shorter than a segment (a copy cut short, a build still being
//! written), the mapping succeeds and the first touch of a page past the end
//! of the file raises `SIGBUS` while the dynamic loader relocates it: the
//! host dies inside `dlopen`. So before `dlopen`,
//! [`NativeLibrary::open`](crate::NativeLibrary::open) compares the file's
//! length with [`extent`] and refuses a file that is shorter.
//!
//! Pure: bytes in, a number out; no IO, no panic, no unsafe.

/// `p_type` of a loadable segment.
const PT_LOAD: u64 = 1;

/// The number of bytes the ELF file `bytes` must hold by its own headers:
/// the end of the ELF header, of the program header table, of the file
/// image of every `PT_LOAD` segment, and of the section header table,
/// whichever is last. Sums saturate, so absurd headers give a huge extent.
///
/// `None` when `bytes` does not start with the ELF magic, names an unknown
/// class or byte order, or has program headers too small to read.
///
/// ```text
/// ELF header: e_phoff, e_phentsize, e_phnum   -> program header table
///             e_shoff, e_shentsize, e_shnum   -> section header table
/// PT_LOAD:    p_offset, p_filesz              -> mapped from the file
/// ```
pub(crate) fn extent(bytes: &[u8]) -> Option<u64> {
    if !bytes.starts_with(b"\x7fELF") {
        return None;
    }
    // EI_CLASS: 1 = 32-bit, 2 = 64-bit; EI_DATA: 1 = little, 2 = big endian.
    let word: usize = match bytes.get(4)? {
        1 => 4,
        2 => 8,
        _ => return None,
    };
    let big_endian = match bytes.get(5)? {
        1 => false,
        2 => true,
        _ => return None,
    };
    let read = |at: usize, size: usize| -> Option<u64> {
        let field = bytes.get(at..at.checked_add(size)?)?;
        let push = |value: u64, byte: &u8| (value << 8) | u64::from(*byte);
        Some(if big_endian {
            field.iter().fold(0, push)
        } else {
            field.iter().rev().fold(0, push)
        })
    };
    // e_ident (16), e_type (2), e_machine (2), e_version (4), then e_entry,
    // e_phoff and e_shoff (a word each), e_flags (4), e_ehsize (2), and
    // e_phentsize, e_phnum, e_shentsize, e_shnum (2 each).
    let header_len = 0x28 + 3 * word;
    let header = u64::try_from(header_len).unwrap_or(u64::MAX);
    if bytes.len() < header_len {
        return Some(header);
    }
    let phoff = read(0x18 + word, word)?;
    let shoff = read(0x18 + 2 * word, word)?;
    let phentsize = read(0x1E + 3 * word, 2)?;
    let phnum = read(0x20 + 3 * word, 2)?;
    let shentsize = read(0x22 + 3 * word, 2)?;
    let shnum = read(0x24 + 3 * word, 2)?;
    let table_end =
        |offset: u64, size: u64, count: u64| offset.saturating_add(size.saturating_mul(count));
    let program_headers = table_end(phoff, phentsize, phnum);
    let mut end = header
        .max(program_headers)
        .max(table_end(shoff, shentsize, shnum));
    let length = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if program_headers > length {
        // The segments cannot be read; the table's end is already too far.
        return Some(end);
    }
    // p_type is the first field (4 bytes); p_offset is the second word-sized
    // field of an entry and p_filesz the fifth (ELF64: 8 and 32, ELF32: 4
    // and 16).
    let (offset_at, filesz_at) = (word, 4 * word);
    if phnum > 0 && phentsize < u64::try_from(filesz_at + word).unwrap_or(u64::MAX) {
        return None;
    }
    for index in 0..phnum {
        let entry = usize::try_from(phoff.saturating_add(index.saturating_mul(phentsize))).ok()?;
        if read(entry, 4)? != PT_LOAD {
            continue;
        }
        let offset = read(entry.checked_add(offset_at)?, word)?;
        let filesz = read(entry.checked_add(filesz_at)?, word)?;
        end = end.max(offset.saturating_add(filesz));
    }
    Some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little-endian ELF64 header with `phnum` program headers right
    /// after it and a section header table at `shoff` (`shnum` × 64).
    fn elf64(phnum: u16, shoff: u64, shnum: u16) -> Vec<u8> {
        let mut bytes = vec![0u8; 64];
        bytes[..4].copy_from_slice(b"\x7fELF");
        bytes[4] = 2;
        bytes[5] = 1;
        bytes[0x20..0x28].copy_from_slice(&64u64.to_le_bytes());
        bytes[0x28..0x30].copy_from_slice(&shoff.to_le_bytes());
        bytes[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
        bytes[0x38..0x3A].copy_from_slice(&phnum.to_le_bytes());
        bytes[0x3A..0x3C].copy_from_slice(&64u16.to_le_bytes());
        bytes[0x3C..0x3E].copy_from_slice(&shnum.to_le_bytes());
        bytes
    }

    /// A program header of type `kind` mapping `filesz` bytes at `offset`.
    fn phdr64(kind: u32, offset: u64, filesz: u64) -> Vec<u8> {
        let mut entry = vec![0u8; 56];
        entry[..4].copy_from_slice(&kind.to_le_bytes());
        entry[8..16].copy_from_slice(&offset.to_le_bytes());
        entry[32..40].copy_from_slice(&filesz.to_le_bytes());
        entry
    }

    #[test]
    fn the_last_loadable_segment_or_table_ends_the_file() {
        let mut bytes = elf64(3, 1000, 2);
        bytes.extend(phdr64(1, 0, 600));
        bytes.extend(phdr64(1, 600, 5000));
        // A non-loadable segment past everything does not count.
        bytes.extend(phdr64(2, 9000, 9000));
        assert_eq!(extent(&bytes), Some(5600));
        let mut bytes = elf64(1, 6000, 2);
        bytes.extend(phdr64(1, 0, 600));
        assert_eq!(extent(&bytes), Some(6000 + 2 * 64));
    }

    #[test]
    fn a_cut_program_header_table_is_its_own_extent() {
        let bytes = elf64(10, 0, 0);
        assert_eq!(extent(&bytes), Some(64 + 10 * 56));
        assert_eq!(extent(&bytes[..40]), Some(64));
    }

    #[test]
    fn absurd_headers_saturate() {
        let mut bytes = elf64(1, u64::MAX, u16::MAX);
        bytes.extend(phdr64(1, u64::MAX - 1, 10));
        assert_eq!(extent(&bytes), Some(u64::MAX));
    }

    #[test]
    fn big_endian_and_32_bit_headers_are_read() {
        let mut bytes = vec![0u8; 52];
        bytes[..4].copy_from_slice(b"\x7fELF");
        bytes[4] = 1;
        bytes[5] = 2;
        bytes[0x1C..0x20].copy_from_slice(&52u32.to_be_bytes());
        bytes[0x2A..0x2C].copy_from_slice(&32u16.to_be_bytes());
        bytes[0x2C..0x2E].copy_from_slice(&1u16.to_be_bytes());
        let mut entry = vec![0u8; 32];
        entry[..4].copy_from_slice(&1u32.to_be_bytes());
        entry[4..8].copy_from_slice(&100u32.to_be_bytes());
        entry[16..20].copy_from_slice(&700u32.to_be_bytes());
        bytes.extend(entry);
        assert_eq!(extent(&bytes), Some(800));
    }

    #[test]
    fn foreign_or_malformed_headers_have_no_extent() {
        assert_eq!(extent(b"#!/bin/sh\n"), None);
        let mut bytes = elf64(0, 0, 0);
        bytes[4] = 3;
        assert_eq!(extent(&bytes), None);
        let mut bytes = elf64(1, 0, 0);
        bytes[0x36..0x38].copy_from_slice(&8u16.to_le_bytes());
        bytes.extend(phdr64(1, 0, 10));
        assert_eq!(extent(&bytes), None, "program headers too small to read");
    }

    #[test]
    fn the_test_binary_itself_fits_its_headers() {
        if cfg!(target_os = "linux") {
            let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
            let needed = extent(&exe).unwrap();
            assert!(needed <= u64::try_from(exe.len()).unwrap());
            let cut = &exe[..exe.len() / 2];
            assert!(extent(cut).unwrap() > u64::try_from(cut.len()).unwrap());
        }
    }
}
