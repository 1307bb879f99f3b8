//! What the runtime tells its subscribers.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Mutex, PoisonError};

use polyplug_abi::Version;
use polyplug_loader::Unmapped;

use crate::BundleId;

/// A plugin's log level (`LOG_*` in the ABI).
///
/// ```
/// use polyplug::LogLevel;
///
/// assert_eq!(LogLevel::from_code(polyplug_abi::LOG_WARN), LogLevel::Warn);
/// assert!(LogLevel::Error > LogLevel::Warn); // ordered by severity
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// `LOG_TRACE`.
    Trace,
    /// `LOG_DEBUG`.
    Debug,
    /// `LOG_INFO`.
    Info,
    /// `LOG_WARN`.
    Warn,
    /// `LOG_ERROR`, and any unknown code.
    Error,
}

impl LogLevel {
    /// The level for an ABI code; unknown codes count as errors.
    ///
    /// ```
    /// use polyplug::LogLevel;
    ///
    /// assert_eq!(LogLevel::from_code(0), LogLevel::Trace);
    /// assert_eq!(LogLevel::from_code(99), LogLevel::Error); // unknown: shown, not lost
    /// ```
    pub fn from_code(code: u32) -> LogLevel {
        match code {
            polyplug_abi::LOG_TRACE => LogLevel::Trace,
            polyplug_abi::LOG_DEBUG => LogLevel::Debug,
            polyplug_abi::LOG_INFO => LogLevel::Info,
            polyplug_abi::LOG_WARN => LogLevel::Warn,
            _ => LogLevel::Error,
        }
    }
}

/// Something that happened in a [`Runtime`](crate::Runtime).
///
/// Events are sent on the thread that caused them (the writer for loads,
/// reloads and unloads; a plugin's thread for its logs), after the change
/// they describe is visible to readers. A subscriber is a channel: sending
/// runs none of its code, so a subscriber that reacts with a write does so
/// on its own thread, and that write waits for the one in progress.
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// use std::time::Duration;
/// use polyplug::{Event, Runtime};
///
/// let runtime = Runtime::new()?;
/// let events = runtime.subscribe();
/// let id = runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
/// runtime.unload_bundle(id)?;
/// runtime.drain(Duration::from_secs(5))?;
/// let seen: Vec<Event> = events.try_iter().collect();
/// assert!(matches!(&seen[0], Event::Loading { .. }));
/// assert!(matches!(&seen[1], Event::Loaded { name, .. } if name == "test-add"));
/// assert!(seen.iter().any(|e| matches!(e, Event::LibraryClosed { .. })));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A bundle is about to be loaded from `dir`.
    Loading {
        /// The bundle directory.
        dir: PathBuf,
    },
    /// A bundle was loaded; its contracts are findable.
    Loaded {
        /// Its id in this runtime.
        bundle: BundleId,
        /// Its name.
        name: String,
        /// Its version.
        version: Version,
        /// The contracts it registered, as `name version`.
        contracts: Vec<String>,
    },
    /// A load failed; nothing changed.
    LoadFailed {
        /// The bundle directory.
        dir: PathBuf,
        /// The error, as text.
        error: String,
    },
    /// A bundle is about to be reloaded.
    Reloading {
        /// Its id.
        bundle: BundleId,
        /// Its name.
        name: String,
    },
    /// A reload succeeded: readers now see the new version.
    Reloaded {
        /// Its id.
        bundle: BundleId,
        /// Its name.
        name: String,
        /// The version that was serving.
        from: Version,
        /// The version now serving.
        to: Version,
    },
    /// A reload failed; the old version keeps serving, untouched.
    ReloadFailed {
        /// Its id.
        bundle: BundleId,
        /// Its name.
        name: String,
        /// The error, as text.
        error: String,
    },
    /// A bundle is about to be unloaded.
    Unloading {
        /// Its id.
        bundle: BundleId,
        /// Its name.
        name: String,
    },
    /// A bundle was unloaded; its contracts are no longer findable.
    Unloaded {
        /// Its id.
        bundle: BundleId,
        /// Its name.
        name: String,
    },
    /// The tables retired by a reload or unload have no callers left: every
    /// guard that could reach them has been dropped, and they are destroyed.
    Drained {
        /// The bundle's id.
        bundle: BundleId,
        /// Its name.
        name: String,
        /// The version that was retired.
        version: Version,
    },
    /// A library was closed with `dlclose`.
    LibraryClosed {
        /// The bundle it belonged to.
        name: String,
        /// The private copy that was opened.
        path: PathBuf,
        /// Whether the image left the address space.
        unmapped: Unmapped,
    },
    /// A plugin logged a message.
    Log {
        /// The bundle whose plugin logged.
        bundle: String,
        /// The level.
        level: LogLevel,
        /// The message.
        message: String,
    },
}

/// The subscribers of one runtime.
#[derive(Debug, Default)]
pub(crate) struct Events {
    subscribers: Mutex<Vec<Sender<Event>>>,
}

impl Events {
    pub(crate) fn subscribe(&self) -> Receiver<Event> {
        let (tx, rx) = channel();
        self.subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(tx);
        rx
    }

    /// Sends `event` to every live subscriber; forgets those that hung up.
    pub(crate) fn emit(&self, event: Event) {
        let mut subscribers = self
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        subscribers.retain(|tx| tx.send(event.clone()).is_ok());
    }
}
