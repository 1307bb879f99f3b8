//! Library lifetime: a loaded library lives while anything points into it,
//! and is closed on the writer side only.
//!
//! Every value whose function pointers point into a library holds an
//! `Arc<LoadedLibrary>`: the store entries of its contracts, the bundle's
//! record, and every [`Instance`](crate::Instance) made from it. When the
//! last one drops, `LoadedLibrary::drop` does not close the library; it
//! moves it to the runtime's [`Graveyard`]. The writer empties the graveyard
//! after each write and in [`Runtime::reclaim`](crate::Runtime::reclaim):
//! that is the only place `dlclose` runs (\[R1\], \[R2\]).
//!
//! Code run by an engine ([`crate::loader`]) is kept the same way: its
//! owner object takes the place of the library, and is dropped in the
//! graveyard, on the writer side, where the library would be closed.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use polyplug_loader::{NativeLibrary, Unmapped};

use crate::host::HostContext;
use crate::loader::LoadedCode;

/// The code a bundle runs: a native library, or an engine's objects.
pub(crate) enum Code {
    /// A library opened with `dlopen`.
    Native(NativeLibrary),
    /// What an engine's loader made: its module, instances, functions.
    Engine(Box<dyn LoadedCode>),
}

/// A library that no longer has users, waiting to be closed.
struct Closing {
    bundle: String,
    code: Code,
    /// Freed after `dlclose`: the plugin may hold its address until then.
    host: Box<HostContext>,
}

/// Counts of engine-run code (anything but native libraries) loaded and
/// released by one runtime. A load or reload of an engine-run bundle loads
/// one; it is released, on the writer side, once nothing can reach it.
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// let runtime = polyplug::Runtime::new()?;
/// let stats = runtime.code_stats();
/// assert_eq!((stats.loaded, stats.released, stats.alive()), (0, 0, 0));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CodeStats {
    /// Engine-run code objects loaded (each load or reload makes one).
    pub loaded: u64,
    /// Those released again.
    pub released: u64,
}

impl CodeStats {
    /// Loaded and not yet released.
    ///
    /// ```
    /// let stats = polyplug::CodeStats { loaded: 3, released: 1 };
    /// assert_eq!(stats.alive(), 2);
    /// ```
    pub fn alive(&self) -> u64 {
        self.loaded.saturating_sub(self.released)
    }
}

/// What closing one library did.
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// use std::time::Duration;
/// use polyplug::{Closed, Event, Runtime};
///
/// let runtime = Runtime::new()?;
/// let events = runtime.subscribe();
/// let id = runtime.load_bundle(polyplug_fixtures::bundle("c-mul"))?;
/// runtime.unload_bundle(id)?;
/// runtime.drain(Duration::from_secs(5))?;
/// let closed: Vec<Closed> = events
///     .try_iter()
///     .filter_map(|e| match e {
///         Event::LibraryClosed { name, path, unmapped } => Some(Closed { bundle: name, path, unmapped }),
///         _ => None,
///     })
///     .collect();
/// assert_eq!(closed.len(), 1);
/// assert_eq!(closed[0].bundle, "c-mul");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    /// The bundle the library belonged to.
    pub bundle: String,
    /// The private copy that was opened.
    pub path: PathBuf,
    /// Whether the image left the address space.
    pub unmapped: Unmapped,
}

/// Counts of libraries opened and closed by one runtime.
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// use std::time::Duration;
/// use polyplug::Runtime;
/// use polyplug_fixtures::bundle;
///
/// let runtime = Runtime::new()?;
/// let id = runtime.load_bundle(bundle("reload-v1"))?;
/// runtime.reload_bundle(id, Some(&bundle("reload-v2")))?; // a second library
/// runtime.unload_bundle(id)?;
/// runtime.drain(Duration::from_secs(5))?;
/// let stats = runtime.library_stats();
/// assert_eq!((stats.opened, stats.closed), (2, 2));
/// assert_eq!(stats.unmapped + stats.still_mapped, stats.closed);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LibraryStats {
    /// Libraries opened (each load or reload opens one).
    pub opened: u64,
    /// Libraries closed with `dlclose`.
    pub closed: u64,
    /// Closed libraries whose image really left the address space.
    pub unmapped: u64,
    /// Closed libraries that the dynamic loader kept mapped.
    pub still_mapped: u64,
}

/// Libraries whose last user has gone, and the counters.
#[derive(Default)]
pub(crate) struct Graveyard {
    closing: Mutex<Vec<Closing>>,
    opened: AtomicU64,
    closed: AtomicU64,
    unmapped: AtomicU64,
    still_mapped: AtomicU64,
    code_loaded: AtomicU64,
    code_released: AtomicU64,
}

impl Graveyard {
    pub(crate) fn note_opened(&self) {
        // Relaxed: a statistic; no memory is published through it.
        self.opened.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn note_code_loaded(&self) {
        // Relaxed: a statistic.
        self.code_loaded.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn code_stats(&self) -> CodeStats {
        // Relaxed: statistics; the writer lock orders them for the caller.
        CodeStats {
            loaded: self.code_loaded.load(Ordering::Relaxed),
            released: self.code_released.load(Ordering::Relaxed),
        }
    }

    fn bury(&self, closing: Closing) {
        self.closing
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(closing);
    }

    /// Closes every buried library. Called on the writer side only.
    pub(crate) fn close_all(&self) -> Vec<Closed> {
        let buried =
            std::mem::take(&mut *self.closing.lock().unwrap_or_else(PoisonError::into_inner));
        let mut closed = Vec::with_capacity(buried.len());
        for Closing { bundle, code, host } in buried {
            let library = match code {
                Code::Native(library) => library,
                Code::Engine(owner) => {
                    drop(owner);
                    drop(host);
                    // Relaxed: statistics only.
                    self.code_released.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
            };
            let report = library.close();
            drop(host);
            // Relaxed: statistics only.
            self.closed.fetch_add(1, Ordering::Relaxed);
            match report.unmapped {
                Unmapped::Yes => self.unmapped.fetch_add(1, Ordering::Relaxed),
                _ => self.still_mapped.fetch_add(1, Ordering::Relaxed),
            };
            closed.push(Closed {
                bundle,
                path: report.private_path,
                unmapped: report.unmapped,
            });
        }
        closed
    }

    pub(crate) fn stats(&self) -> LibraryStats {
        // Relaxed: statistics; the writer lock orders them for the caller.
        LibraryStats {
            opened: self.opened.load(Ordering::Relaxed),
            closed: self.closed.load(Ordering::Relaxed),
            unmapped: self.unmapped.load(Ordering::Relaxed),
            still_mapped: self.still_mapped.load(Ordering::Relaxed),
        }
    }
}

impl Drop for Graveyard {
    fn drop(&mut self) {
        self.close_all();
    }
}

/// An open plugin library and the host context its plugin was given.
pub(crate) struct LoadedLibrary {
    bundle: String,
    library: Option<Code>,
    host: Option<Box<HostContext>>,
    graveyard: Arc<Graveyard>,
}

impl LoadedLibrary {
    pub(crate) fn new(
        bundle: &str,
        library: Code,
        host: Box<HostContext>,
        graveyard: Arc<Graveyard>,
    ) -> LoadedLibrary {
        LoadedLibrary {
            bundle: bundle.to_owned(),
            library: Some(library),
            host: Some(host),
            graveyard,
        }
    }

    /// The name of the bundle this library was loaded for.
    pub(crate) fn bundle(&self) -> &str {
        &self.bundle
    }

    pub(crate) fn host(&self) -> Option<&HostContext> {
        self.host.as_deref()
    }
}

impl std::fmt::Debug for LoadedLibrary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedLibrary")
            .field("bundle", &self.bundle)
            .field(
                "path",
                &self.library.as_ref().and_then(|code| match code {
                    Code::Native(library) => Some(library.private_path()),
                    Code::Engine(_) => None,
                }),
            )
            .finish()
    }
}

impl Drop for LoadedLibrary {
    fn drop(&mut self) {
        if let (Some(library), Some(host)) = (self.library.take(), self.host.take()) {
            self.graveyard.bury(Closing {
                bundle: std::mem::take(&mut self.bundle),
                code: library,
                host,
            });
        }
    }
}
