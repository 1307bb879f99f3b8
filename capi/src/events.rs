//! Events: what the runtime reports (loads, reloads, unloads, drains,
//! closed libraries, plugin logs), by polling a subscription or by a
//! callback on a listener thread.
//!
//! Both are a [`engine::Runtime::subscribe`] receiver. A
//! subscription is polled by the host; a listener owns a thread of its own
//! that waits on the receiver and calls the host's callback there, one
//! event at a time, in the order the runtime emitted them.

use std::ffi::{CString, c_char, c_void};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{JoinHandle, ThreadId};
use std::time::Duration;

use engine::{Event, LogLevel, Unmapped};
use polyplug_abi::Version;

use crate::error::guarded;
use crate::object::{Tag, Tagged, c_string, hand_out, live, put, take_back};
use crate::read::POLYPLUG_NO_BUNDLE;
use crate::runtime::bundle_raw;
use crate::runtime::{polyplug_runtime, runtime};
use crate::status::{
    Failure, POLYPLUG_ERR_BUSY, POLYPLUG_ERR_IO, POLYPLUG_ERR_PANIC, polyplug_status,
};

/// No event: the subscription had none waiting.
///
/// ```c
/// while (polyplug_events_poll(events, &event) == POLYPLUG_OK && event.kind != POLYPLUG_EVENT_NONE) handle(&event);
/// ```
pub const POLYPLUG_EVENT_NONE: u32 = 0;
/// A bundle is about to be loaded from `path`.
///
/// ```c
/// if (event.kind == POLYPLUG_EVENT_LOADING) printf("loading %s\n", event.path);
/// ```
pub const POLYPLUG_EVENT_LOADING: u32 = 1;
/// Bundle `bundle`, `name`, `version` was loaded; `text` lists its
/// contracts (`"name version"`, separated by `", "`).
///
/// ```c
/// if (event.kind == POLYPLUG_EVENT_LOADED) printf("%s provides %s\n", event.name, event.text);
/// ```
pub const POLYPLUG_EVENT_LOADED: u32 = 2;
/// A load from `path` failed with the error `text`; nothing changed.
///
/// ```c
/// if (event.kind == POLYPLUG_EVENT_LOAD_FAILED) fprintf(stderr, "%s: %s\n", event.path, event.text);
/// ```
pub const POLYPLUG_EVENT_LOAD_FAILED: u32 = 3;
/// Bundle `bundle`, `name` is about to be reloaded.
///
/// ```c
/// if (event.kind == POLYPLUG_EVENT_RELOADING) printf("reloading %s\n", event.name);
/// ```
pub const POLYPLUG_EVENT_RELOADING: u32 = 4;
/// Bundle `bundle`, `name` was reloaded from version `from` to `version`.
///
/// ```c
/// if (event.kind == POLYPLUG_EVENT_RELOADED) printf("%s %u -> %u\n", event.name, event.from.major, event.version.major);
/// ```
pub const POLYPLUG_EVENT_RELOADED: u32 = 5;
/// A reload of `bundle`, `name` failed with `text`; the old version serves.
///
/// ```c
/// if (event.kind == POLYPLUG_EVENT_RELOAD_FAILED) fprintf(stderr, "%s kept: %s\n", event.name, event.text);
/// ```
pub const POLYPLUG_EVENT_RELOAD_FAILED: u32 = 6;
/// Bundle `bundle`, `name` is about to be unloaded.
///
/// ```c
/// if (event.kind == POLYPLUG_EVENT_UNLOADING) printf("unloading %s\n", event.name);
/// ```
pub const POLYPLUG_EVENT_UNLOADING: u32 = 7;
/// Bundle `bundle`, `name` was unloaded.
///
/// ```c
/// if (event.kind == POLYPLUG_EVENT_UNLOADED) forget_bundle(event.bundle);
/// ```
pub const POLYPLUG_EVENT_UNLOADED: u32 = 8;
/// Version `version` of `bundle`, `name`, retired by a reload or unload,
/// has no callers left.
///
/// ```c
/// if (event.kind == POLYPLUG_EVENT_DRAINED) printf("%s %u.%u has no callers left\n", event.name, event.version.major, event.version.minor);
/// ```
pub const POLYPLUG_EVENT_DRAINED: u32 = 9;
/// The library of bundle `name` (private copy `path`) was closed;
/// `unmapped` says whether its image left memory.
///
/// ```c
/// if (event.kind == POLYPLUG_EVENT_LIBRARY_CLOSED) printf("closed %s\n", event.path);
/// ```
pub const POLYPLUG_EVENT_LIBRARY_CLOSED: u32 = 10;
/// The plugin of bundle `name` logged `text` at `level` (`PP_LOG_*`).
///
/// ```c
/// if (event.kind == POLYPLUG_EVENT_LOG && event.level >= PP_LOG_WARN) fprintf(stderr, "%s: %s\n", event.name, event.text);
/// ```
pub const POLYPLUG_EVENT_LOG: u32 = 11;

/// `unmapped`: the platform cannot tell.
///
/// ```c
/// if (event.unmapped == POLYPLUG_UNMAPPED_UNKNOWN) puts("no /proc here: cannot tell");
/// ```
pub const POLYPLUG_UNMAPPED_UNKNOWN: u32 = 0;
/// `unmapped`: the image left the address space.
///
/// ```c
/// if (event.unmapped == POLYPLUG_UNMAPPED_YES) puts("the image left memory");
/// ```
pub const POLYPLUG_UNMAPPED_YES: u32 = 1;
/// `unmapped`: the dynamic loader kept the image mapped.
///
/// ```c
/// if (event.unmapped == POLYPLUG_UNMAPPED_NO) puts("the loader kept the image mapped");
/// ```
pub const POLYPLUG_UNMAPPED_NO: u32 = 2;

/// One event. Fields a kind does not use are 0, NULL or
/// `POLYPLUG_NO_BUNDLE`. Strings are NUL-terminated UTF-8 (lengths without
/// the NUL), owned by the subscription or listener that delivered it.
///
/// ```c
/// polyplug_event event;
/// polyplug_events_wait(events, 1000, &event);
/// printf("%u %.*s\n", event.kind, (int)event.name_len, event.name);
/// ```
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct polyplug_event {
    /// `POLYPLUG_EVENT_*`.
    pub kind: u32,
    /// `POLYPLUG_EVENT_LOG`: the level, `PP_LOG_*`.
    pub level: u32,
    /// `POLYPLUG_EVENT_LIBRARY_CLOSED`: `POLYPLUG_UNMAPPED_*`.
    pub unmapped: u32,
    /// The bundle's id, or `POLYPLUG_NO_BUNDLE`.
    pub bundle: u64,
    /// Loaded: its version; reloaded: the new one; drained: the retired one.
    pub version: Version,
    /// Reloaded: the version that was serving.
    pub from: Version,
    /// The bundle's name.
    pub name: *const c_char,
    /// Its length.
    pub name_len: usize,
    /// Loading, load failed: the bundle directory; library closed: the
    /// library's private copy.
    pub path: *const c_char,
    /// Its length.
    pub path_len: usize,
    /// Loaded: its contracts; failed: the error; log: the message.
    pub text: *const c_char,
    /// Its length.
    pub text_len: usize,
}

/// An event and the strings it points to.
struct Owned {
    view: polyplug_event,
    _strings: [CString; 3],
}

const ZERO: Version = Version::new(0, 0, 0);

const NONE: polyplug_event = polyplug_event {
    kind: POLYPLUG_EVENT_NONE,
    level: 0,
    unmapped: 0,
    bundle: POLYPLUG_NO_BUNDLE,
    version: ZERO,
    from: ZERO,
    name: std::ptr::null(),
    name_len: 0,
    path: std::ptr::null(),
    path_len: 0,
    text: std::ptr::null(),
    text_len: 0,
};

fn level_code(level: LogLevel) -> u32 {
    match level {
        LogLevel::Trace => polyplug_abi::LOG_TRACE,
        LogLevel::Debug => polyplug_abi::LOG_DEBUG,
        LogLevel::Info => polyplug_abi::LOG_INFO,
        LogLevel::Warn => polyplug_abi::LOG_WARN,
        LogLevel::Error => polyplug_abi::LOG_ERROR,
    }
}

/// Lays `event` out for C.
fn owned(event: Event) -> Owned {
    let mut view = NONE;
    let (mut name, mut path, mut text) = (String::new(), String::new(), String::new());
    match event {
        Event::Loading { dir } => {
            view.kind = POLYPLUG_EVENT_LOADING;
            path = dir.to_string_lossy().into_owned();
        }
        Event::Loaded {
            bundle,
            name: n,
            version,
            contracts,
        } => {
            (view.kind, view.bundle, view.version) =
                (POLYPLUG_EVENT_LOADED, bundle_raw(bundle), version);
            (name, text) = (n, contracts.join(", "));
        }
        Event::LoadFailed { dir, error } => {
            view.kind = POLYPLUG_EVENT_LOAD_FAILED;
            (path, text) = (dir.to_string_lossy().into_owned(), error);
        }
        Event::Reloading { bundle, name: n } => {
            (view.kind, view.bundle, name) = (POLYPLUG_EVENT_RELOADING, bundle_raw(bundle), n);
        }
        Event::Reloaded {
            bundle,
            name: n,
            from,
            to,
        } => {
            (view.kind, view.bundle, name) = (POLYPLUG_EVENT_RELOADED, bundle_raw(bundle), n);
            (view.from, view.version) = (from, to);
        }
        Event::ReloadFailed {
            bundle,
            name: n,
            error,
        } => {
            (view.kind, view.bundle, name) = (POLYPLUG_EVENT_RELOAD_FAILED, bundle_raw(bundle), n);
            text = error;
        }
        Event::Unloading { bundle, name: n } => {
            (view.kind, view.bundle, name) = (POLYPLUG_EVENT_UNLOADING, bundle_raw(bundle), n);
        }
        Event::Unloaded { bundle, name: n } => {
            (view.kind, view.bundle, name) = (POLYPLUG_EVENT_UNLOADED, bundle_raw(bundle), n);
        }
        Event::Drained {
            bundle,
            name: n,
            version,
        } => {
            (view.kind, view.bundle, name) = (POLYPLUG_EVENT_DRAINED, bundle_raw(bundle), n);
            view.version = version;
        }
        Event::LibraryClosed {
            name: n,
            path: p,
            unmapped,
        } => {
            view.kind = POLYPLUG_EVENT_LIBRARY_CLOSED;
            view.unmapped = match unmapped {
                Unmapped::Yes => POLYPLUG_UNMAPPED_YES,
                Unmapped::No => POLYPLUG_UNMAPPED_NO,
                Unmapped::Unknown => POLYPLUG_UNMAPPED_UNKNOWN,
            };
            (name, path) = (n, p.to_string_lossy().into_owned());
        }
        Event::Log {
            bundle,
            level,
            message,
        } => {
            (view.kind, view.level) = (POLYPLUG_EVENT_LOG, level_code(level));
            (name, text) = (bundle, message);
        }
    }
    let strings = [c_string(&name), c_string(&path), c_string(&text)];
    let view_of = |s: &CString| (s.as_ptr(), s.as_bytes().len());
    (view.name, view.name_len) = view_of(&strings[0]);
    (view.path, view.path_len) = view_of(&strings[1]);
    (view.text, view.text_len) = view_of(&strings[2]);
    Owned {
        view,
        _strings: strings,
    }
}

/// A subscription's receiver and the event it last delivered.
struct Inbox {
    events: Receiver<Event>,
    last: Option<Owned>,
}

/// A subscription to a runtime's events, polled by the host. Opaque; made
/// by `polyplug_subscribe`, destroyed by `polyplug_subscription_destroy`.
/// Any thread may poll it; polls are serialised.
///
/// ```c
/// polyplug_subscription *events;
/// polyplug_subscribe(runtime, &events);
/// // ... polyplug_events_poll(events, &event) ...
/// polyplug_subscription_destroy(events);
/// ```
#[repr(C)]
pub struct polyplug_subscription {
    tag: Tag,
    inbox: Mutex<Inbox>,
}

// SAFETY: [C1] `#[repr(C)]` with the tag first; the tag value is unique.
unsafe impl Tagged for polyplug_subscription {
    const TAG: u64 = 0x7070_5f73_7562_7363; // "pp_subsc"
    const KIND: &'static str = "polyplug_subscription";
    fn tag(&self) -> &Tag {
        &self.tag
    }
}

impl std::fmt::Debug for polyplug_subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("polyplug_subscription")
            .finish_non_exhaustive()
    }
}

/// Subscribes to every later event of `runtime` and writes the
/// subscription to `*out`. Events queue until polled.
///
/// Ownership: the caller owns it and destroys it with
/// `polyplug_subscription_destroy`; it may outlive the runtime (it then
/// delivers what was queued, then nothing).
///
/// # Safety
///
/// `runtime` NULL or from `polyplug_runtime_new`; `out` writable (\[C1\],
/// \[C4\]).
///
/// ```c
/// polyplug_subscription *events;
/// polyplug_subscribe(runtime, &events);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_subscribe(
    runtime: *const polyplug_runtime,
    out: *mut *mut polyplug_subscription,
) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C1] as documented.
        let rt = unsafe { self::runtime(runtime, "runtime") }?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let object = hand_out(polyplug_subscription {
            tag: Tag::new(polyplug_subscription::TAG),
            inbox: Mutex::new(Inbox {
                events: rt.runtime.subscribe(),
                last: None,
            }),
        });
        // SAFETY: [C4] checked non-NULL above.
        unsafe { put(out, "out", object) }
    })
}

/// Takes the next event, waiting up to `timeout` (none: no wait).
///
/// # Safety
///
/// As for [`polyplug_events_poll`].
unsafe fn next(
    subscription: *const polyplug_subscription,
    timeout: Option<Duration>,
    out: *mut polyplug_event,
) -> Result<(), Failure> {
    // SAFETY: [C1] forwarded.
    let sub = unsafe { live::<polyplug_subscription>(subscription, "subscription") }?;
    if out.is_null() {
        return Err(Failure::null("out"));
    }
    let mut inbox = sub.inbox.lock().unwrap_or_else(PoisonError::into_inner);
    let event = match timeout {
        None => inbox.events.try_recv().ok(),
        Some(t) => inbox.events.recv_timeout(t).ok(),
    };
    inbox.last = event.map(owned);
    let view = inbox.last.as_ref().map_or(NONE, |o| o.view);
    // SAFETY: [C4] checked non-NULL above.
    unsafe { put(out, "out", view) }
}

/// Takes the next queued event into `*out`, without waiting; `out->kind` is
/// `POLYPLUG_EVENT_NONE` when there is none. The strings of the event are
/// valid until the next poll or wait on this subscription, or its
/// destruction.
///
/// # Safety
///
/// `subscription` NULL or from `polyplug_subscribe`; `out` writable.
///
/// ```c
/// polyplug_event event;
/// while (polyplug_events_poll(events, &event) == POLYPLUG_OK && event.kind != POLYPLUG_EVENT_NONE) {
///     printf("event %u: %s\n", event.kind, event.name);
/// }
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_events_poll(
    subscription: *const polyplug_subscription,
    out: *mut polyplug_event,
) -> polyplug_status {
    // SAFETY: [C1][C4] as documented.
    guarded(|| unsafe { next(subscription, None, out) })
}

/// As `polyplug_events_poll`, but waits up to `timeout_ms` milliseconds
/// for an event.
///
/// # Safety
///
/// As for `polyplug_events_poll`.
///
/// ```c
/// polyplug_events_wait(events, 1000, &event);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_events_wait(
    subscription: *const polyplug_subscription,
    timeout_ms: u64,
    out: *mut polyplug_event,
) -> polyplug_status {
    let timeout = Some(Duration::from_millis(timeout_ms));
    // SAFETY: [C1][C4] as documented.
    guarded(|| unsafe { next(subscription, timeout, out) })
}

/// Destroys a subscription; its queued events are dropped.
///
/// # Safety
///
/// `subscription` NULL or from `polyplug_subscribe` (\[C1\]).
///
/// ```c
/// polyplug_subscription_destroy(events);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_subscription_destroy(
    subscription: *mut polyplug_subscription,
) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C1] as documented.
        unsafe { live::<polyplug_subscription>(subscription, "subscription") }?;
        // SAFETY: [C1] live (checked), not used after this.
        drop(unsafe { take_back(subscription) });
        Ok(())
    })
}

/// An event callback: `user_data` as given to `polyplug_events_listen`, and
/// the event, valid during the call only.
///
/// ```c
/// static void on_event(void *user_data, const polyplug_event *event) { (void)user_data; log_event(event); }
/// polyplug_event_callback callback = on_event;
/// ```
pub type polyplug_event_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, event: *const polyplug_event)>;

/// How often a listener checks whether it is being destroyed.
const LISTENER_TICK: Duration = Duration::from_millis(20);

/// A listener: a thread that delivers a runtime's events to a callback.
/// Opaque; made by `polyplug_events_listen`, destroyed by
/// `polyplug_listener_destroy`.
///
/// ```c
/// polyplug_listener *listener;
/// polyplug_events_listen(runtime, on_event, NULL, &listener);
/// // ...
/// polyplug_listener_destroy(listener);
/// ```
#[repr(C)]
#[derive(Debug)]
pub struct polyplug_listener {
    tag: Tag,
    stop: Arc<AtomicBool>,
    thread: Mutex<Option<JoinHandle<()>>>,
    thread_id: ThreadId,
}

// SAFETY: [C1] `#[repr(C)]` with the tag first; the tag value is unique.
unsafe impl Tagged for polyplug_listener {
    const TAG: u64 = 0x7070_5f6c_7374_6e72; // "pp_lstnr"
    const KIND: &'static str = "polyplug_listener";
    fn tag(&self) -> &Tag {
        &self.tag
    }
}

/// The host's callback and its data, moved to the listener thread.
struct Delivery {
    callback: unsafe extern "C" fn(*mut c_void, *const polyplug_event),
    user_data: *mut c_void,
}

// SAFETY: [C6] the host promises that the callback may be called, with
// `user_data`, from the listener's thread.
unsafe impl Send for Delivery {}

/// Starts a listener: a thread of its own (named `polyplug-events`) that
/// calls `callback(user_data, &event)` for every later event of `runtime`,
/// one at a time, in order, and writes it to `*out`.
///
/// Thread: the callback runs on the listener's thread, never on the thread
/// that caused the event; the event it gets is valid during the call only.
/// Re-entrancy: a callback must not call write operations of the same
/// runtime (load, reload, unload, drain, reclaim, register, destroy); it
/// may read (with a reader of the listener's thread) and may call other
/// runtimes. It must not destroy its own listener (refused with
/// `POLYPLUG_ERR_BUSY`).
///
/// # Safety
///
/// `runtime` NULL or from `polyplug_runtime_new`; `callback` safe to call
/// from another thread with `user_data` until the listener is destroyed,
/// and never unwinds (\[C6\]); `out` writable.
///
/// ```c
/// static void on_event(void *user_data, const polyplug_event *event) {
///     if (event->kind == POLYPLUG_EVENT_RELOADED) atomic_fetch_add((atomic_int *)user_data, 1);
/// }
/// polyplug_listener *listener;
/// polyplug_events_listen(runtime, on_event, &reloads, &listener);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_events_listen(
    runtime: *const polyplug_runtime,
    callback: polyplug_event_callback,
    user_data: *mut c_void,
    out: *mut *mut polyplug_listener,
) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C1] as documented.
        let rt = unsafe { self::runtime(runtime, "runtime") }?;
        let callback = callback.ok_or_else(|| Failure::null("callback"))?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let events = rt.runtime.subscribe();
        let stop = Arc::new(AtomicBool::new(false));
        let delivery = Delivery {
            callback,
            user_data,
        };
        let stopping = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("polyplug-events".to_owned())
            .spawn(move || {
                let delivery = delivery;
                // Acquire: pairs with the Release in
                // `polyplug_listener_destroy`; only ends the loop.
                while !stopping.load(Ordering::Acquire) {
                    match events.recv_timeout(LISTENER_TICK) {
                        Ok(event) => {
                            let event = owned(event);
                            // SAFETY: [C6] the host's callback, with its data,
                            // on this thread; the event lives across the call.
                            unsafe { (delivery.callback)(delivery.user_data, &event.view) };
                        }
                        Err(RecvTimeoutError::Timeout) => {}
                        Err(RecvTimeoutError::Disconnected) => break,
                    }
                }
            })
            .map_err(|e| {
                Failure::new(
                    POLYPLUG_ERR_IO,
                    format!("cannot start the listener thread: {e}"),
                )
            })?;
        let object = hand_out(polyplug_listener {
            tag: Tag::new(polyplug_listener::TAG),
            stop,
            thread_id: thread.thread().id(),
            thread: Mutex::new(Some(thread)),
        });
        // SAFETY: [C4] checked non-NULL above.
        unsafe { put(out, "out", object) }
    })
}

/// Stops a listener and waits for its thread to end (at most one running
/// callback, plus 20 ms); events not yet delivered are dropped. Refused
/// with `POLYPLUG_ERR_BUSY` from the listener's own callback.
///
/// # Safety
///
/// `listener` NULL or from `polyplug_events_listen` (\[C1\]).
///
/// ```c
/// polyplug_listener_destroy(listener);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_listener_destroy(
    listener: *mut polyplug_listener,
) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C1] as documented.
        let l = unsafe { live::<polyplug_listener>(listener, "listener") }?;
        if std::thread::current().id() == l.thread_id {
            return Err(Failure::new(
                POLYPLUG_ERR_BUSY,
                "a listener cannot be destroyed from its own callback",
            ));
        }
        // Release: pairs with the Acquire in the listener's loop.
        l.stop.store(true, Ordering::Release);
        let thread = l
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        // SAFETY: [C1] live (checked), not used after this.
        drop(unsafe { take_back(listener) });
        match thread.map(JoinHandle::join) {
            Some(Err(_)) => Err(Failure::new(
                POLYPLUG_ERR_PANIC,
                "the listener thread panicked",
            )),
            _ => Ok(()),
        }
    })
}
