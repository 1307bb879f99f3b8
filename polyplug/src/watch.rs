//! Reload on file change: [`Runtime::watch`].
//!
//! A watch follows one directory tree through the platform's file-system
//! notifications (the `notify` crate: inotify on Linux). Every change it
//! hears of is mapped to the loaded bundles it touches: a file inside a
//! bundle's directory (its manifest, its library, its script or module, any
//! other file there), the directory itself or one of its parents, and the
//! path the host gave for the bundle (a `current` symlink flipped to another
//! build). A bundle is reloaded once its files have been quiet for
//! [`WatchOptions::quiet`]: every change restarts the wait, so a library
//! that a compiler or a copy writes in several chunks is read only after
//! the last one. The reload is [`Runtime::reload_bundle`] without a path,
//! on the watch's own thread: it re-opens the path the host gave, and it
//! reports itself as events ([`Event::Reloading`], then
//! [`Event::Reloaded`] or [`Event::ReloadFailed`]); a failed reload changes
//! nothing, and the version that was serving keeps serving (\[R8\]).
//!
//! The watch thread lives exactly as long as its [`Watch`]: dropping the
//! handle stops the notifications, ends the thread and waits for it, so no
//! reload runs after the drop returns.
//!
//! [`Event::Reloading`]: crate::Event::Reloading
//! [`Event::Reloaded`]: crate::Event::Reloaded
//! [`Event::ReloadFailed`]: crate::Event::ReloadFailed

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode, MetadataKind, ModifyKind};
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use polyplug_loader::Escaped;

use crate::runtime::Shared;
use crate::{BundleId, BundleInfo, Runtime};

/// How a [`Watch`] waits before it reloads.
///
/// ```
/// use std::time::Duration;
/// use polyplug::WatchOptions;
///
/// let options = WatchOptions { quiet: Duration::from_secs(1) };
/// assert!(options.quiet > WatchOptions::default().quiet);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatchOptions {
    /// How long a bundle's files must stay unchanged before it is reloaded.
    /// Every change to them restarts the wait. Longer than the longest
    /// pause of whatever writes the files (a linker, a copy), or a reload
    /// may read a file half-written; such a reload fails (the old version
    /// keeps serving) and the next change reloads again.
    pub quiet: Duration,
}

impl WatchOptions {
    /// The quiet period of [`Runtime::watch`]: 300 ms.
    ///
    /// ```
    /// use std::time::Duration;
    /// use polyplug::WatchOptions;
    ///
    /// assert_eq!(WatchOptions::DEFAULT_QUIET, Duration::from_millis(300));
    /// ```
    pub const DEFAULT_QUIET: Duration = Duration::from_millis(300);
}

impl Default for WatchOptions {
    fn default() -> WatchOptions {
        WatchOptions {
            quiet: WatchOptions::DEFAULT_QUIET,
        }
    }
}

/// A watch that could not start. Nothing is watched.
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// use polyplug::{Runtime, WatchError};
///
/// let runtime = Runtime::new()?;
/// let err = runtime.watch("/no/such/dir").unwrap_err();
/// assert!(matches!(err, WatchError::Dir { .. }));
/// assert!(err.to_string().starts_with("cannot watch /no/such/dir: "));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// The directory does not exist or cannot be resolved.
    #[error("cannot watch {}: {io}", Escaped(dir.display()))]
    Dir {
        /// The directory, as given.
        dir: PathBuf,
        /// The IO error.
        io: std::io::Error,
    },
    /// The path is not a directory.
    #[error("cannot watch {}: not a directory", Escaped(dir.display()))]
    NotADirectory {
        /// The path, resolved.
        dir: PathBuf,
    },
    /// The platform's notifications refused the directory (on Linux, the
    /// inotify watch limit `fs.inotify.max_user_watches` is a usual cause).
    #[error("cannot watch {}: {error}", Escaped(dir.display()))]
    Notify {
        /// The directory, resolved.
        dir: PathBuf,
        /// The error `notify` gave.
        error: notify::Error,
    },
    /// The watch thread could not be started.
    #[error("cannot start the watch thread for {}: {io}", Escaped(dir.display()))]
    Thread {
        /// The directory, resolved.
        dir: PathBuf,
        /// The IO error.
        io: std::io::Error,
    },
}

/// A running watch of one directory tree, made by [`Runtime::watch`].
/// Dropping it stops the watch: see [`Runtime::watch`].
pub struct Watch {
    dir: PathBuf,
    /// The notification source; dropped first, so no change arrives after.
    watcher: Option<RecommendedWatcher>,
    /// The watch thread's inbox, for [`Message::Stop`].
    inbox: Sender<Message>,
    thread: Option<JoinHandle<()>>,
    runtime: Weak<Shared>,
    problems: Arc<Mutex<Vec<String>>>,
}

impl fmt::Debug for Watch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watch")
            .field("dir", &self.dir)
            .field("running", &self.thread.is_some())
            .finish_non_exhaustive()
    }
}

impl Watch {
    /// The directory watched, resolved.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// let dir = std::env::temp_dir().join(format!("polyplug-doc-watch-dir-{}", std::process::id()));
    /// std::fs::create_dir_all(dir.join("plugins"))?;
    /// let runtime = polyplug::Runtime::new()?;
    /// let watch = runtime.watch(dir.join("plugins/."))?;
    /// assert_eq!(watch.dir(), std::fs::canonicalize(&dir)?.join("plugins"));
    /// # drop(watch);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What the notifications reported as going wrong since the last call,
    /// one line each: an overflowed event queue, a new subdirectory that
    /// could not be watched. Each such report also counts as a change to
    /// every bundle it may concern (all of them when it names no path), so
    /// those are reloaded rather than missed.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # let dir = std::env::temp_dir().join(format!("polyplug-doc-watch-problems-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let runtime = polyplug::Runtime::new()?;
    /// let watch = runtime.watch(&dir)?;
    /// for problem in watch.problems() {
    ///     eprintln!("watch: {problem}");
    /// }
    /// # drop(watch);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn problems(&self) -> Vec<String> {
        std::mem::take(&mut *lock(&self.problems))
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        drop(self.watcher.take());
        // The thread may be gone already (its runtime was dropped).
        let _ = self.inbox.send(Message::Stop);
        let Some(thread) = self.thread.take() else {
            return;
        };
        // [R14] dropped from plugin code inside a write of this runtime, the
        // thread may be waiting for that write's lock: joining it would wait
        // for ever. It stops on its own once it gets the lock and returns.
        let inside_write = self.runtime.upgrade().is_some_and(|s| s.in_write());
        if !inside_write {
            // A panic on the thread has nothing left to report.
            let _ = thread.join();
        }
    }
}

impl Runtime {
    /// Watches `dir` (recursively) and reloads a loaded bundle when its
    /// files change, with [`WatchOptions::default`]; see
    /// [`Runtime::watch_with`].
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// use std::time::Duration;
    /// use polyplug::{Event, Runtime, Version};
    /// use polyplug_fixtures::{copy_bundle, library, library_file};
    ///
    /// let plugins = std::env::temp_dir().join(format!("polyplug-doc-watch-{}", std::process::id()));
    /// let bundle = copy_bundle("reload-v1", &plugins)?;
    /// let runtime = Runtime::new()?;
    /// let id = runtime.load_bundle(&bundle)?;
    /// let events = runtime.subscribe();
    /// let watch = runtime.watch(&plugins)?;
    ///
    /// // Rebuild the library in place: reload.test's `version` goes from 100 to 200.
    /// std::fs::copy(library("reload-v2"), bundle.join(library_file("reload-v1")))?;
    /// let outcome = events
    ///     .iter()
    ///     .find(|e| matches!(e, Event::Reloaded { .. } | Event::ReloadFailed { .. }));
    /// assert!(matches!(outcome, Some(Event::Reloaded { bundle, .. }) if bundle == id));
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// let version = guard.find("reload.test", Version::new(1, 0, 0))?.typed::<extern "C" fn() -> u32>("version")?;
    /// assert_eq!(version.call(), 200);
    /// # drop(guard);
    /// drop(watch); // stops watching: no reload after this
    /// std::fs::remove_dir_all(&plugins)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn watch(&self, dir: impl AsRef<Path>) -> Result<Watch, WatchError> {
        self.watch_with(dir, WatchOptions::default())
    }

    /// Watches `dir` (recursively) and reloads a loaded bundle when its
    /// files change.
    ///
    /// A change reloads every loaded bundle it touches: one to a file or
    /// directory inside the bundle's directory, to that directory or one
    /// of its parents, or to the path the host gave for the bundle (a
    /// flipped `current` symlink). Bundles loaded after the watch started
    /// count as well; only changes inside `dir` are heard, so a bundle
    /// whose files lie outside `dir` is reloaded only through its path
    /// inside it. Symlinks inside `dir` are not followed: the link itself
    /// is watched.
    ///
    /// A bundle is reloaded when no change to it has come for
    /// `options.quiet`, with [`Runtime::reload_bundle`] from its own path,
    /// on the watch's thread. Its events tell the outcome:
    /// [`Event::Reloaded`](crate::Event::Reloaded), or
    /// [`Event::ReloadFailed`](crate::Event::ReloadFailed) with the old
    /// version still serving, untouched. The watch goes on either way: a
    /// fixed file reloads at its next change.
    ///
    /// Dropping the [`Watch`] stops it: no change is heard after, a change
    /// still waiting for its quiet period is not reloaded, and the drop
    /// waits for a reload in progress. (Dropped from plugin code that a
    /// write of this runtime runs, it does not wait, since that reload
    /// waits for the write: \[R14\].) A watch does not keep its runtime
    /// alive; once the runtime is dropped, the watch does nothing.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// use std::time::Duration;
    /// use polyplug::{Runtime, WatchOptions};
    ///
    /// # let dir = std::env::temp_dir().join(format!("polyplug-doc-watch-with-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let runtime = Runtime::new()?;
    /// let slow = WatchOptions { quiet: Duration::from_secs(2) }; // a slow network share
    /// let watch = runtime.watch_with(&dir, slow)?;
    /// drop(watch); // stops it
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn watch_with(
        &self,
        dir: impl AsRef<Path>,
        options: WatchOptions,
    ) -> Result<Watch, WatchError> {
        let given = dir.as_ref();
        let dir = std::fs::canonicalize(given).map_err(|io| WatchError::Dir {
            dir: given.to_owned(),
            io,
        })?;
        if !dir.is_dir() {
            return Err(WatchError::NotADirectory { dir });
        }
        let (inbox, messages) = channel();
        let notices = inbox.clone();
        let config = notify::Config::default().with_follow_symlinks(false);
        let notify_error = |error| WatchError::Notify {
            dir: dir.clone(),
            error,
        };
        let mut watcher = RecommendedWatcher::new(
            move |change| {
                // The thread is gone only once the watch is dropped.
                let _ = notices.send(Message::Changed(change));
            },
            config,
        )
        .map_err(notify_error)?;
        // Returns once the directories are watched: a change made after
        // `watch` returned is heard.
        watcher
            .watch(&dir, RecursiveMode::Recursive)
            .map_err(notify_error)?;
        let runtime = Arc::downgrade(self.shared());
        let problems = Arc::new(Mutex::new(Vec::new()));
        let worker = Worker {
            runtime: Weak::clone(&runtime),
            root: dir.clone(),
            quiet: options.quiet,
            pending: BTreeMap::new(),
            problems: Arc::clone(&problems),
        };
        let thread = std::thread::Builder::new()
            .name("polyplug-watch".to_owned())
            .spawn(move || worker.run(&messages))
            .map_err(|io| WatchError::Thread {
                dir: dir.clone(),
                io,
            })?;
        Ok(Watch {
            dir,
            watcher: Some(watcher),
            inbox,
            thread: Some(thread),
            runtime,
            problems,
        })
    }
}

/// What the watch thread receives.
enum Message {
    /// A change (or a problem) the notifications reported.
    Changed(notify::Result<notify::Event>),
    /// The [`Watch`] was dropped.
    Stop,
}

/// The watch thread's state.
struct Worker {
    runtime: Weak<Shared>,
    root: PathBuf,
    quiet: Duration,
    /// Bundles with a change not reloaded yet, and when the last came.
    pending: BTreeMap<BundleId, Instant>,
    problems: Arc<Mutex<Vec<String>>>,
}

impl Worker {
    fn run(mut self, messages: &Receiver<Message>) {
        loop {
            let message = match self.next_due() {
                None => messages.recv().map_err(|_| RecvTimeoutError::Disconnected),
                Some(due) => messages.recv_timeout(due.saturating_duration_since(Instant::now())),
            };
            match message {
                Ok(Message::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                Ok(Message::Changed(change)) => self.note(change),
                Err(RecvTimeoutError::Timeout) => {}
            }
            if !self.reload_quiet() {
                return;
            }
        }
    }

    /// The runtime, while it is alive.
    fn runtime(&self) -> Option<Runtime> {
        self.runtime.upgrade().map(Runtime::from_shared)
    }

    /// When the earliest pending bundle has been quiet long enough.
    fn next_due(&self) -> Option<Instant> {
        self.pending
            .values()
            .min()
            .map(|last| last.checked_add(self.quiet).unwrap_or(*last))
    }

    /// Marks the bundles a change touches as pending, from now.
    fn note(&mut self, change: notify::Result<notify::Event>) {
        let paths = match change {
            Ok(event) if !changes_files(&event.kind) => return,
            // An overflowed queue (or a change with no path): anything
            // under the root may have changed.
            Ok(event) if event.need_rescan() || event.paths.is_empty() => vec![self.root.clone()],
            Ok(event) => event.paths,
            Err(error) => {
                lock(&self.problems).push(format!(
                    "{}: {}",
                    Escaped(self.root.display()),
                    Escaped(&error)
                ));
                if error.paths.is_empty() {
                    vec![self.root.clone()]
                } else {
                    error.paths
                }
            }
        };
        let Some(runtime) = self.runtime() else {
            return;
        };
        let now = Instant::now();
        for bundle in runtime.bundles() {
            if paths.iter().any(|path| touches(&bundle, path)) {
                self.pending.insert(bundle.id, now);
            }
        }
    }

    /// Reloads every pending bundle that has been quiet for `quiet`.
    /// Returns false once the runtime is gone.
    fn reload_quiet(&mut self) -> bool {
        let now = Instant::now();
        let due: Vec<BundleId> = self
            .pending
            .iter()
            .filter(|(_, last)| now.saturating_duration_since(**last) >= self.quiet)
            .map(|(id, _)| *id)
            .collect();
        if due.is_empty() {
            return true;
        }
        let Some(runtime) = self.runtime() else {
            return false;
        };
        for id in due {
            self.pending.remove(&id);
            // The outcome is an event (Reloaded or ReloadFailed); a bundle
            // unloaded since the change is simply not there any more.
            let _ = runtime.reload_bundle(id, None);
        }
        true
    }
}

/// Whether an event kind can mean new content. Opening and reading a file
/// cannot (a reload reads every file of its bundle: counting that would
/// reload for ever); closing a file written to can.
fn changes_files(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)) => false,
        _ => true,
    }
}

/// Whether a change at `path` touches `bundle`: `path` is inside its
/// directory or its given path, or is one of their parents.
fn touches(bundle: &BundleInfo, path: &Path) -> bool {
    let related = |key: &Path| path.starts_with(key) || key.starts_with(path);
    related(&bundle.dir) || related(&bundle.source) || related(&parent_resolved(&bundle.source))
}

/// `path` with its parent resolved but not its last component: where the
/// notifications (which start from the resolved root) name a symlink.
fn parent_resolved(path: &Path) -> PathBuf {
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => std::fs::canonicalize(parent)
            .map_or_else(|_| path.to_owned(), |parent| parent.join(name)),
        _ => path.to_owned(),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{CreateKind, DataChange};

    fn info(dir: &str, source: &str) -> BundleInfo {
        BundleInfo {
            id: BundleId {
                runtime: 0,
                index: 0,
            },
            name: "b".to_owned(),
            version: crate::Version::new(1, 0, 0),
            dir: PathBuf::from(dir),
            source: PathBuf::from(source),
            contracts: Vec::new(),
            requires: Vec::new(),
        }
    }

    #[test]
    fn a_change_touches_the_bundles_it_is_inside_or_above() {
        let b = info("/w/releases/v1", "/w/current");
        for hit in [
            "/w/releases/v1/lib/libx.so",
            "/w/releases/v1/manifest.toml",
            "/w/releases/v1",
            "/w/releases",
            "/w/current",
            "/w",
        ] {
            assert!(touches(&b, Path::new(hit)), "{hit}");
        }
        for miss in [
            "/w/releases/v2/manifest.toml",
            "/w/releases/v10",
            "/w/current.next",
            "/w/other",
        ] {
            assert!(!touches(&b, Path::new(miss)), "{miss}");
        }
    }

    #[test]
    fn a_watch_can_move_between_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Watch>();
    }

    #[test]
    fn reading_a_file_is_no_change() {
        let read = [
            EventKind::Access(AccessKind::Open(notify::event::AccessMode::Any)),
            EventKind::Access(AccessKind::Close(AccessMode::Read)),
            EventKind::Access(AccessKind::Read),
            EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)),
        ];
        assert!(read.iter().all(|k| !changes_files(k)));
        let written = [
            EventKind::Access(AccessKind::Close(AccessMode::Write)),
            EventKind::Modify(ModifyKind::Data(DataChange::Any)),
            EventKind::Create(CreateKind::File),
            EventKind::Any,
        ];
        assert!(written.iter().all(changes_files));
    }
}
