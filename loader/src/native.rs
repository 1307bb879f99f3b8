//! Native plugin libraries: verify, copy, `dlopen`, check the ABI, and
//! hand out the entry point only as a borrow of the open library.
//!
//! Every `unsafe` block here cites an invariant of SAFETY.md:
//!
//! - **[L1]** native plugins are trusted code: loading runs their
//!   initialisers and closing runs their finalisers;
//! - **[L2]** the exported symbols have their ABI types: a `uint32_t`
//!   `polyplug_abi_version` and an [`EntryFn`] `polyplug_entry`;
//! - **[L3]** a function pointer never outlives its library: the entry
//!   pointer leaves [`NativeLibrary`] only inside an [`Entry`] that borrows
//!   it.
#![expect(
    unsafe_code,
    reason = "dlopen, dlsym, reading the ABI version and calling the entry point; see SAFETY.md [L1]-[L3]"
)]

use core::marker::PhantomData;
use std::fs;
use std::path::{Path, PathBuf};

use polyplug_abi::{
    ABI_VERSION, ABI_VERSION_SYMBOL, AbiError, BundleContext, ENTRY_SYMBOL, EntryFn, HostApi,
};
use sha2::{Digest, Sha256};

use crate::bundle::Bundle;
use crate::elf;
use crate::error::NativeError;
use crate::image::{CloseReport, ImageMark, Unmapped, image_mapped};
use crate::scratch::{PrivateCopy, ScratchDir};

/// The smallest file accepted as a shared library, in bytes (an ELF
/// header is 64 bytes on 64-bit targets).
const MIN_LIBRARY_BYTES: usize = 64;

/// A native plugin library, loaded from a private copy.
///
/// It owns the `dlopen` handle: dropping it, or [`close`](NativeLibrary::close),
/// calls `dlclose`. The entry point can only be borrowed
/// ([`entry`](NativeLibrary::entry)), so no function pointer from the
/// library outlives it.
///
/// # Thread safety
///
/// `NativeLibrary` is `Send` and `Sync`: `dlopen`, `dlsym` and `dlclose`
/// are thread-safe, and the struct holds only the handle, a function
/// pointer, paths and its private copy's open file (with a weak reference
/// to the scratch directory's shelf, behind a mutex). Whether the plugin's entry point may run on any
/// thread is the plugin's contract ([`EntryFn`] runs on the host's writer
/// thread).
///
/// ```
/// fn assert_send_sync<T: Send + Sync>() {}
/// assert_send_sync::<polyplug_loader::NativeLibrary>();
/// ```
#[derive(Debug)]
pub struct NativeLibrary {
    library: libloading::Library,
    entry: EntryFn,
    bundle: String,
    source_path: PathBuf,
    /// The private copy opened: its name, and its file while the scratch
    /// directory keeps it.
    copy: PrivateCopy,
    /// The entry point's address and the copy's file, when the kernel can
    /// be asked about one address (Linux 6.11 and later).
    mark: Option<ImageMark>,
}

impl NativeLibrary {
    /// Loads the library of a native `bundle`, through a private copy in
    /// `scratch`.
    ///
    /// 1. Takes the library bytes that [`Bundle::open`] read (this reads no
    ///    file of the bundle). Refuses fewer than 64 bytes and, on Linux,
    ///    bytes without the ELF magic `\x7fELF`.
    /// 2. When the manifest gives `library.sha256`, hashes the bytes and
    ///    refuses a mismatch. On Linux, refuses a file shorter than its ELF
    ///    headers say (a truncated file, which `dlopen` would map and then
    ///    fault on with `SIGBUS`).
    /// 3. Writes the same bytes to a new file in `scratch`, so `dlopen`
    ///    never reuses a cached image of a rebuilt path and what is opened
    ///    is exactly what was hashed. On Linux, a closed copy of this
    ///    bundle whose image left memory and whose bytes are these bytes
    ///    is opened again instead, through its descriptor: a reload of an
    ///    unchanged library writes nothing (see [`ScratchDir`]).
    /// 4. `dlopen`s it (`RTLD_NOW | RTLD_LOCAL` on Unix), then removes the
    ///    file's name; the mapping, and on Linux the open file, stay.
    /// 5. Reads the `u32` data symbol `polyplug_abi_version` (no plugin
    ///    code runs) and refuses any value but
    ///    [`ABI_VERSION`](polyplug_abi::ABI_VERSION).
    /// 6. Looks up `polyplug_entry`.
    ///
    /// On any error after `dlopen`, the library is closed before this
    /// returns.
    ///
    /// # Trust
    ///
    /// Loading native code runs the library's initialisers (ELF
    /// constructors, `.init_array`, thread-local setup) inside this
    /// process, and closing it runs its finalisers. No check can make
    /// arbitrary native code safe; polyplug trusts native plugins to follow
    /// the ABI rules (SAFETY.md, \[L1\] and \[L2\]). The checks above catch
    /// accidents (a stale, truncated or foreign file, a wrong ABI), not
    /// malice: only load bundles you would link into the host.
    ///
    /// # Examples
    ///
    /// A file that is not a shared library is refused before `dlopen`:
    ///
    /// ```
    /// use polyplug_loader::{Bundle, NativeError, NativeLibrary, ScratchDir, platform_key};
    ///
    /// let tmp = ScratchDir::new()?; // a temporary directory, removed on drop
    /// # let manifest = format!(
    /// #     "[bundle]\nname = \"demo\"\nversion = \"1.0.0\"\nloader = \"native\"\n\
    /// #      [library]\n{} = \"libdemo.so\"\n",
    /// #     platform_key(),
    /// # );
    /// # std::fs::write(tmp.path().join("manifest.toml"), manifest)?;
    /// std::fs::write(tmp.path().join("libdemo.so"), b"#!/bin/sh\n")?;
    /// let bundle = Bundle::open(tmp.path())?;
    /// let scratch = ScratchDir::new()?;
    /// let err = NativeLibrary::open(&bundle, &scratch).unwrap_err();
    /// assert!(matches!(err, NativeError::NotASharedObject { .. }));
    /// let path = tmp.path().join("libdemo.so");
    /// assert_eq!(
    ///     err.to_string(),
    ///     format!(
    ///         "bundle \"demo\": expected {} to be a shared library \
    ///          (an ELF file of at least 64 bytes)",
    ///         path.display()
    ///     )
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// Loading a real plugin bundle (one built by the fixtures):
    ///
    /// ```no_run
    /// use std::path::Path;
    /// use polyplug_loader::{Bundle, NativeLibrary, ScratchDir};
    ///
    /// let bundle = Bundle::open(Path::new("plugins/test-add"))?;
    /// let scratch = ScratchDir::new()?;
    /// let library = NativeLibrary::open(&bundle, &scratch)?;
    /// assert!(!library.private_path().exists());
    /// let report = library.close();
    /// println!("{}: unmapped: {:?}", report.private_path.display(), report.unmapped);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(bundle: &Bundle, scratch: &ScratchDir) -> Result<NativeLibrary, NativeError> {
        let name = bundle.name().as_str();
        let (Some(source), Some(shared)) = (bundle.library_path(), bundle.library_arc()) else {
            return Err(NativeError::NotNative {
                bundle: name.to_owned(),
                loader: bundle.manifest().loader,
            });
        };
        let bytes: &[u8] = shared;
        if !looks_like_shared_object(bytes) {
            return Err(NativeError::NotASharedObject {
                bundle: name.to_owned(),
                path: source.to_owned(),
            });
        }
        let expected = bundle.manifest().library.as_ref().and_then(|l| l.sha256);
        if let Some(expected) = expected {
            let found = Sha256::digest(bytes);
            if found.as_slice() != expected.as_slice() {
                return Err(NativeError::DigestMismatch {
                    bundle: name.to_owned(),
                    path: source.to_owned(),
                    expected: hex(&expected),
                    found: hex(found.as_slice()),
                });
            }
        }
        check_length(bytes, name, source)?;
        let copy = scratch
            .copy(name, shared)
            .map_err(|(path, io)| NativeError::Scratch {
                bundle: name.to_owned(),
                path,
                io,
            })?;
        let opened = dlopen(&copy.open_path);
        // The image stays mapped; the name goes, so nothing can reopen or
        // change the file behind it. A failure leaves a file that the
        // scratch directory removes on drop. (A copy from the shelf has no
        // name left.)
        if copy.open_path == copy.path {
            let _removed = fs::remove_file(&copy.path);
        }
        let library = opened.map_err(|e| NativeError::Dlopen {
            bundle: name.to_owned(),
            path: source.to_owned(),
            message: describe(&e),
        })?;
        let entry = match check_abi(&library, name).and_then(|()| find_entry(&library, name)) {
            Ok(entry) => entry,
            Err(e) => {
                let _closed = library.close();
                return Err(e);
            }
        };
        // Where the image lies, for `close` to ask about one address
        // instead of scanning every mapping.
        let mark = copy.id.and_then(|file| ImageMark::of(entry as usize, file));
        Ok(NativeLibrary {
            library,
            entry,
            bundle: name.to_owned(),
            source_path: source.to_owned(),
            copy,
            mark,
        })
    }

    /// The entry point, borrowed from the open library; to call it, see
    /// [`Entry::call`].
    ///
    /// ```no_run
    /// # use std::path::Path;
    /// # use polyplug_loader::{Bundle, NativeLibrary, ScratchDir};
    /// # let bundle = Bundle::open(Path::new("plugins/test-add"))?;
    /// # let scratch = ScratchDir::new()?;
    /// let library = NativeLibrary::open(&bundle, &scratch)?;
    /// let entry = library.entry(); // borrows `library`
    /// # let _ = entry;
    /// let report = library.close(); // fine once `entry` is no longer used
    /// # let _ = report;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn entry(&self) -> Entry<'_> {
        Entry {
            func: self.entry,
            library: PhantomData,
        }
    }

    /// The private copy that was opened. The file was removed right after
    /// `dlopen`, so this path no longer exists; on Linux the mapping shows
    /// it in `/proc/self/maps` with ` (deleted)` appended.
    ///
    /// ```no_run
    /// # use std::path::Path;
    /// # use polyplug_loader::{Bundle, NativeLibrary, ScratchDir};
    /// # let bundle = Bundle::open(Path::new("plugins/test-add"))?;
    /// # let scratch = ScratchDir::new()?;
    /// let library = NativeLibrary::open(&bundle, &scratch)?;
    /// assert!(library.private_path().starts_with(scratch.path()));
    /// assert!(!library.private_path().exists());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn private_path(&self) -> &Path {
        &self.copy.path
    }

    /// The library file in the bundle that was copied.
    ///
    /// ```no_run
    /// # use std::path::Path;
    /// # use polyplug_loader::{Bundle, NativeLibrary, ScratchDir};
    /// # let bundle = Bundle::open(Path::new("plugins/test-add"))?;
    /// # let scratch = ScratchDir::new()?;
    /// let library = NativeLibrary::open(&bundle, &scratch)?;
    /// assert_eq!(Some(library.source_path()), bundle.library_path());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn source_path(&self) -> &Path {
        &self.source_path
    }

    /// The name of the bundle the library came from.
    ///
    /// ```no_run
    /// # use std::path::Path;
    /// # use polyplug_loader::{Bundle, NativeLibrary, ScratchDir};
    /// # let bundle = Bundle::open(Path::new("plugins/test-add"))?;
    /// # let scratch = ScratchDir::new()?;
    /// let library = NativeLibrary::open(&bundle, &scratch)?;
    /// assert_eq!(library.bundle_name(), bundle.name().as_str());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn bundle_name(&self) -> &str {
        &self.bundle
    }

    /// Closes the library (`dlclose`) and reports whether its image really
    /// left the address space.
    ///
    /// # Platform-specific behaviour
    ///
    /// `dlclose` only drops a reference; the loader may keep the image
    /// mapped, and then the library's code and static data stay in memory
    /// and its finalisers have not run. With glibc this happens when the
    /// library registered thread-local destructors (for example a Rust
    /// `thread_local!` with a `Drop` type, used on a thread that is still
    /// alive: the image stays until those threads exit), when it was
    /// opened or linked with `RTLD_NODELETE` (`-z nodelete`), or when
    /// another loaded library depends on it or bound its unique symbols.
    /// On Linux the kernel tells ([`Unmapped::Yes`]/[`Unmapped::No`]):
    /// from Linux 6.11 by one `PROCMAP_QUERY` question about the page of
    /// the entry point (is it still mapped from the private copy's inode?
    /// the loader maps and unmaps an image as a whole), before that by
    /// reading all of `/proc/self/maps` for the private path ([`image_mapped`],
    /// which costs time in proportion to the process's mappings); elsewhere
    /// it reports [`Unmapped::Unknown`].
    ///
    /// # Example
    ///
    /// ```no_run
    /// # use std::path::Path;
    /// # use polyplug_loader::{Bundle, NativeLibrary, ScratchDir};
    /// # let bundle = Bundle::open(Path::new("plugins/test-add"))?;
    /// # let scratch = ScratchDir::new()?;
    /// use polyplug_loader::Unmapped;
    ///
    /// let library = NativeLibrary::open(&bundle, &scratch)?;
    /// let report = library.close();
    /// if report.unmapped == Unmapped::No {
    ///     eprintln!("{} is still in memory", report.private_path.display());
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn close(self) -> CloseReport {
        let NativeLibrary {
            library,
            copy,
            mark,
            ..
        } = self;
        let close_error = library.close().err().map(|e| describe(&e));
        // One question about the entry point's page where the kernel
        // answers it; else a scan of every mapping for the path.
        let mapped = mark
            .and_then(|mark| mark.still_mapped())
            .or_else(|| image_mapped(&copy.path));
        let unmapped = match mapped {
            Some(false) => Unmapped::Yes,
            Some(true) => Unmapped::No,
            None => Unmapped::Unknown,
        };
        let private_path = copy.path.clone();
        if unmapped == Unmapped::Yes && close_error.is_none() {
            // The image left: the copy's file may serve a load of the same
            // bytes ([L6]).
            copy.unmapped();
        }
        CloseReport {
            private_path,
            unmapped,
            close_error,
        }
    }
}

/// The entry point of an open [`NativeLibrary`], borrowed from it.
///
/// It holds the function pointer and a borrow of the library, so it cannot
/// outlive it; the library cannot be closed while an `Entry` is alive:
///
/// ```compile_fail,E0505
/// # use polyplug_loader::NativeLibrary;
/// fn escape(library: NativeLibrary) {
///     let entry = library.entry();
///     library.close(); // error: cannot move out of `library`, it is borrowed
///     std::hint::black_box(entry);
/// }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Entry<'lib> {
    func: EntryFn,
    library: PhantomData<&'lib NativeLibrary>,
}

impl Entry<'_> {
    /// Calls the plugin's `polyplug_entry(host, bundle, err)` and returns
    /// its code ([`OK`](polyplug_abi::OK) or an error code, with `*err`
    /// filled).
    ///
    /// # Safety
    ///
    /// - `host`, `bundle` and `err` must be valid as [`EntryFn`] describes
    ///   for the whole call: `host` and `bundle` readable, `err` writable
    ///   and initialised to [`AbiError::NONE`]; and the host table must stay
    ///   valid for as long as the library is loaded.
    /// - The entry runs plugin code, which must follow the ABI (\[L1\]). It
    ///   is an `extern "C"` function, so it cannot unwind: a panic inside a
    ///   Rust plugin that the plugin does not catch aborts the process.
    ///   There is nothing for the caller to catch.
    ///
    /// # Example
    ///
    /// ```
    /// use polyplug_abi::{AbiError, BundleContext, HostApi, OK};
    /// use polyplug_loader::NativeLibrary;
    ///
    /// /// Runs the entry point, which registers the plugin's contracts through `host`.
    /// fn register(
    ///     library: &NativeLibrary,
    ///     host: &'static HostApi,
    ///     bundle: &BundleContext,
    /// ) -> Result<(), AbiError> {
    ///     let mut err = AbiError::NONE;
    ///     // The entry borrows `library`, so it is open for the call; `host` is
    ///     // 'static, `bundle` readable, `err` writable and initialised to NONE.
    ///     // SAFETY: [L3][L1][P1] as above; the plugin is trusted code.
    ///     let code = unsafe { library.entry().call(host, bundle, &mut err) };
    ///     if code == OK { Ok(()) } else { Err(err) }
    /// }
    /// ```
    pub unsafe fn call(
        &self,
        host: *const HostApi,
        bundle: *const BundleContext,
        err: *mut AbiError,
    ) -> u32 {
        // SAFETY: [L3] `self` borrows the NativeLibrary, so the library is open and `func`
        // points into it; [L2] `func` is its `polyplug_entry`; the caller upholds the pointers.
        unsafe { (self.func)(host, bundle, err) }
    }
}

/// At least [`MIN_LIBRARY_BYTES`] long and, on Linux, starting with the
/// ELF magic.
fn looks_like_shared_object(bytes: &[u8]) -> bool {
    let long_enough = bytes.len() >= MIN_LIBRARY_BYTES;
    if cfg!(target_os = "linux") {
        long_enough && bytes.starts_with(b"\x7fELF")
    } else {
        long_enough
    }
}

/// `dlopen(path, RTLD_NOW | RTLD_LOCAL)`.
/// A libloading error with the dynamic loader's reason, which libloading
/// keeps as the error's source ("dlopen failed" alone names nothing).
fn describe(error: &libloading::Error) -> String {
    match std::error::Error::source(error) {
        Some(reason) => format!("{error}: {reason}"),
        None => error.to_string(),
    }
}

/// Refuses an ELF file shorter than its headers say, before `dlopen` maps
/// it and faults on the missing pages (see [`crate::elf`]). Linux only, as
/// [`looks_like_shared_object`].
fn check_length(bytes: &[u8], bundle: &str, path: &Path) -> Result<(), NativeError> {
    if !cfg!(target_os = "linux") {
        return Ok(());
    }
    let found = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    match elf::extent(bytes) {
        Some(expected) if expected <= found => Ok(()),
        Some(expected) => Err(NativeError::Truncated {
            bundle: bundle.to_owned(),
            path: path.to_owned(),
            expected,
            found,
        }),
        // Headers this check cannot read: `dlopen` refuses them itself.
        None => Ok(()),
    }
}

#[cfg(unix)]
fn dlopen(path: &Path) -> Result<libloading::Library, libloading::Error> {
    use libloading::os::unix::{Library, RTLD_LOCAL, RTLD_NOW};
    // SAFETY: [L1] trusted plugin code; `path` is the private copy of exactly the bytes
    // that passed the ELF and digest checks, so its initialisers are the verified ones.
    let library = unsafe { Library::open(Some(path), RTLD_NOW | RTLD_LOCAL) }?;
    Ok(library.into())
}

/// `LoadLibraryExW` through libloading's portable wrapper.
#[cfg(not(unix))]
fn dlopen(path: &Path) -> Result<libloading::Library, libloading::Error> {
    // SAFETY: [L1] trusted plugin code; `path` is the private copy of exactly the bytes
    // that passed the size and digest checks, so its initialisers are the verified ones.
    unsafe { libloading::Library::new(path) }
}

/// Reads `polyplug_abi_version` and refuses anything but [`ABI_VERSION`].
fn check_abi(library: &libloading::Library, bundle: &str) -> Result<(), NativeError> {
    let missing = || NativeError::MissingSymbol {
        bundle: bundle.to_owned(),
        symbol: ABI_VERSION_SYMBOL,
    };
    // SAFETY: [L2] the symbol is a `uint32_t` object, so its address (what dlsym returns,
    // read here as the symbol's value) is a `*const u32`; `library` is open (borrowed).
    let symbol = unsafe { library.get::<*const u32>(ABI_VERSION_SYMBOL) };
    let address: *const u32 = *symbol.map_err(|_| missing())?;
    if address.is_null() {
        return Err(missing());
    }
    // SAFETY: [L2] non-null address of the library's exported `uint32_t`, mapped while
    // `library` (borrowed) is open; unaligned read, so no alignment is assumed.
    let found = unsafe { address.read_unaligned() };
    if found == ABI_VERSION {
        Ok(())
    } else {
        Err(NativeError::AbiMismatch {
            bundle: bundle.to_owned(),
            found,
            expected: ABI_VERSION,
        })
    }
}

/// Looks up `polyplug_entry`; called only after the ABI version matched.
fn find_entry(library: &libloading::Library, bundle: &str) -> Result<EntryFn, NativeError> {
    // SAFETY: [L2] with the ABI version checked, `polyplug_entry` is an `EntryFn`;
    // `Option<EntryFn>` has the size of a pointer and maps a null address to `None`.
    let symbol = unsafe { library.get::<Option<EntryFn>>(ENTRY_SYMBOL) };
    symbol
        .ok()
        .and_then(|symbol| *symbol)
        .ok_or_else(|| NativeError::MissingSymbol {
            bundle: bundle.to_owned(),
            symbol: ENTRY_SYMBOL,
        })
}

/// Lowercase hexadecimal.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lowercase_and_complete() {
        assert_eq!(hex(&[0x00, 0x7f, 0xab, 0xff]), "007fabff");
        assert_eq!(hex(&[]), "");
    }

    #[test]
    fn short_or_foreign_files_are_refused() {
        let mut elf = vec![0u8; MIN_LIBRARY_BYTES];
        elf[..4].copy_from_slice(b"\x7fELF");
        assert!(looks_like_shared_object(&elf));
        assert!(!looks_like_shared_object(&elf[..MIN_LIBRARY_BYTES - 1]));
        if cfg!(target_os = "linux") {
            assert!(!looks_like_shared_object(&[b'#'; 200]));
        }
    }
}
