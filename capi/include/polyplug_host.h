/*
 * polyplug_host.h: the C API of libpolyplug, for hosts written in C, C++
 * and other languages that call C (Python through ctypes).
 *
 * GENERATED from the Rust crate polyplug-capi (capi/src) by cbindgen, using
 * capi/cbindgen.toml. DO NOT EDIT: a test fails when this file is stale.
 * Regenerate it with
 *
 *     POLYPLUG_BLESS=1 cargo test -p polyplug-capi --test header
 *
 * Link with -lpolyplug (libpolyplug.so or libpolyplug.a); include
 * polyplug_host.h, which includes polyplug.h (abi/include) for PpVersion,
 * PpNativeFn, PpVoidFn and PpAbiError. C++ hosts may use the RAII wrapper
 * polyplug_host.hpp.
 *
 * CONVENTIONS
 *
 * - Every function returns a polyplug_status (uint32_t): POLYPLUG_OK or a
 *   POLYPLUG_ERR_* code naming the kind of failure. On failure, the message
 *   (naming the argument, handle, bundle, contract or function) is read
 *   with polyplug_last_error_message, and a plugin's own code with
 *   polyplug_last_error_code. The last error is per thread and survives
 *   successful calls (like errno); it is the library's only state outside
 *   the objects you hold. Two runtimes in one process share nothing.
 * - Results are written through out-pointers, only on success.
 * - Strings passed in are NUL-terminated UTF-8 (paths: any bytes on Unix).
 * - Ownership is stated on every function: an object made by *_new (or
 *   polyplug_bundles, polyplug_subscribe, polyplug_events_listen) is the
 *   caller's until its *_destroy; strings and arrays handed out are the
 *   library's, valid for the stated time.
 * - No panic and no Rust unwinding crosses this API: an internal panic (a
 *   bug) becomes POLYPLUG_ERR_PANIC. Functions the host hands to polyplug
 *   (host contract functions, the event callback) must not unwind either.
 *
 * THREADS
 *
 * - A runtime's functions may be called from any thread, concurrently.
 *   Writes (load, reload, unload, drain, reclaim, register) serialise on the
 *   runtime's writer lock; reads never wait for them.
 * - A reader is made on one thread and used only there: pin, unpin and
 *   every read under its guards, and its destruction. A polyplug_fn is used
 *   on the thread that made it. Instances, bundle lists, subscriptions and
 *   host contracts may move between threads.
 * - Bundle ids are uint64_t: the issuing runtime's serial in the high 32
 *   bits, the bundle's number in that runtime in the low 32 bits. Never 0
 *   (0 stands for an id past that range: 2^32 runtimes in the process or
 *   2^32 loads in one runtime). Pass an id to the runtime that issued it;
 *   another runtime refuses it with POLYPLUG_ERR_FOREIGN_BUNDLE.
 * - Typed functions: a native one is a plain C function pointer
 *   (polyplug_typed, polyplug_fn_get); one an engine runs (a WebAssembly
 *   function) has none (POLYPLUG_ERR_NOT_NATIVE) and is called packed with
 *   polyplug_fn_call, which calls native ones too.
 * - Read per call or per batch: pin a guard, find or fetch, call, unpin.
 *   Everything found under a guard (contract descriptions, typed function
 *   pointers) may be used only while that guard stays pinned: the guard is
 *   what keeps the plugin's library loaded through a concurrent reload or
 *   unload. Contract handles and polyplug_fn objects may be kept across
 *   guards: they follow reloads and are refused once stale.
 *
 * WHAT IS CHECKED, AND WHAT IS NOT
 *
 * Checked on every call, with the status given:
 * - a NULL where a pointer is required: POLYPLUG_ERR_NULL;
 * - an object pointer (runtime, reader, fn, instance, bundle list,
 *   subscription, listener, host contract, a guard's reader) that is
 *   misaligned, points to an object of another kind, or points to an object
 *   already destroyed whose memory has not been handed out again:
 *   POLYPLUG_ERR_INVALID_HANDLE. So a second destroy is detected as long as
 *   the allocator has not reused the memory (AddressSanitizer's quarantine
 *   keeps it from doing so; plain malloc soon may);
 * - a guard that was unpinned (use after unpin, double unpin), for as long
 *   as its reader lives: POLYPLUG_ERR_STALE_GUARD (exact: each guard slot
 *   has a 56-bit generation);
 * - a reader, guard or fn used on a thread other than the one that made it:
 *   POLYPLUG_ERR_WRONG_THREAD (a thread is told apart by the address of a
 *   thread-local; a thread that ended may pass it on to a new thread);
 * - destroying a runtime that has live readers, a reader that has pinned
 *   guards, unpinning a guard while a call further up the same thread's
 *   stack uses it (from a host function a plugin called), calling or
 *   destroying an instance while another thread calls it, destroying a
 *   listener from its own callback: POLYPLUG_ERR_BUSY;
 * - a contract handle whose contract was unloaded:
 *   POLYPLUG_ERR_STALE_CONTRACT, exact (generation-checked); an integer
 *   that cannot be a handle: POLYPLUG_ERR_INVALID_HANDLE;
 * - a typed function asked for with another signature than it was
 *   registered with: POLYPLUG_ERR_SIGNATURE_MISMATCH, naming both.
 * Not checked (undefined behaviour, as with any C library):
 * - a pointer this library never returned, or a destroyed object whose
 *   memory was reused: reading its tag reads whatever is there;
 * - using an object on another thread while it is being destroyed;
 * - calling a typed function pointer after its guard was unpinned, or
 *   casting it to another type than the signature that was checked;
 * - args and out of native calls: their types are the contract's, which
 *   polyplug cannot see (the plugin gets them as passed, NULL included);
 * - string arguments that are not NUL-terminated, out-pointers that are not
 *   writable.
 */

#ifndef POLYPLUG_HOST_H
#define POLYPLUG_HOST_H

#include <stdint.h>
#include <stddef.h>
#include "polyplug.h"
/* The objects a host holds by pointer: opaque. */
typedef struct polyplug_runtime polyplug_runtime;
typedef struct polyplug_reader polyplug_reader;
typedef struct polyplug_fn polyplug_fn;
typedef struct polyplug_instance polyplug_instance;
typedef struct polyplug_bundle_list polyplug_bundle_list;
typedef struct polyplug_host_contract polyplug_host_contract;
typedef struct polyplug_subscription polyplug_subscription;
typedef struct polyplug_listener polyplug_listener;


/**
 * No event: the subscription had none waiting.
 *
 * ```c
 * while (polyplug_events_poll(events, &event) == POLYPLUG_OK && event.kind != POLYPLUG_EVENT_NONE) handle(&event);
 * ```
 */
#define POLYPLUG_EVENT_NONE 0

/**
 * A bundle is about to be loaded from `path`.
 *
 * ```c
 * if (event.kind == POLYPLUG_EVENT_LOADING) printf("loading %s\n", event.path);
 * ```
 */
#define POLYPLUG_EVENT_LOADING 1

/**
 * Bundle `bundle`, `name`, `version` was loaded; `text` lists its
 * contracts (`"name version"`, separated by `", "`).
 *
 * ```c
 * if (event.kind == POLYPLUG_EVENT_LOADED) printf("%s provides %s\n", event.name, event.text);
 * ```
 */
#define POLYPLUG_EVENT_LOADED 2

/**
 * A load from `path` failed with the error `text`; nothing changed.
 *
 * ```c
 * if (event.kind == POLYPLUG_EVENT_LOAD_FAILED) fprintf(stderr, "%s: %s\n", event.path, event.text);
 * ```
 */
#define POLYPLUG_EVENT_LOAD_FAILED 3

/**
 * Bundle `bundle`, `name` is about to be reloaded.
 *
 * ```c
 * if (event.kind == POLYPLUG_EVENT_RELOADING) printf("reloading %s\n", event.name);
 * ```
 */
#define POLYPLUG_EVENT_RELOADING 4

/**
 * Bundle `bundle`, `name` was reloaded from version `from` to `version`.
 *
 * ```c
 * if (event.kind == POLYPLUG_EVENT_RELOADED) printf("%s %u -> %u\n", event.name, event.from.major, event.version.major);
 * ```
 */
#define POLYPLUG_EVENT_RELOADED 5

/**
 * A reload of `bundle`, `name` failed with `text`; the old version serves.
 *
 * ```c
 * if (event.kind == POLYPLUG_EVENT_RELOAD_FAILED) fprintf(stderr, "%s kept: %s\n", event.name, event.text);
 * ```
 */
#define POLYPLUG_EVENT_RELOAD_FAILED 6

/**
 * Bundle `bundle`, `name` is about to be unloaded.
 *
 * ```c
 * if (event.kind == POLYPLUG_EVENT_UNLOADING) printf("unloading %s\n", event.name);
 * ```
 */
#define POLYPLUG_EVENT_UNLOADING 7

/**
 * Bundle `bundle`, `name` was unloaded.
 *
 * ```c
 * if (event.kind == POLYPLUG_EVENT_UNLOADED) forget_bundle(event.bundle);
 * ```
 */
#define POLYPLUG_EVENT_UNLOADED 8

/**
 * Version `version` of `bundle`, `name`, retired by a reload or unload,
 * has no callers left.
 *
 * ```c
 * if (event.kind == POLYPLUG_EVENT_DRAINED) printf("%s %u.%u has no callers left\n", event.name, event.version.major, event.version.minor);
 * ```
 */
#define POLYPLUG_EVENT_DRAINED 9

/**
 * The library of bundle `name` (private copy `path`) was closed;
 * `unmapped` says whether its image left memory.
 *
 * ```c
 * if (event.kind == POLYPLUG_EVENT_LIBRARY_CLOSED) printf("closed %s\n", event.path);
 * ```
 */
#define POLYPLUG_EVENT_LIBRARY_CLOSED 10

/**
 * The plugin of bundle `name` logged `text` at `level` (`PP_LOG_*`).
 *
 * ```c
 * if (event.kind == POLYPLUG_EVENT_LOG && event.level >= PP_LOG_WARN) fprintf(stderr, "%s: %s\n", event.name, event.text);
 * ```
 */
#define POLYPLUG_EVENT_LOG 11

/**
 * `unmapped`: the platform cannot tell.
 *
 * ```c
 * if (event.unmapped == POLYPLUG_UNMAPPED_UNKNOWN) puts("no /proc here: cannot tell");
 * ```
 */
#define POLYPLUG_UNMAPPED_UNKNOWN 0

/**
 * `unmapped`: the image left the address space.
 *
 * ```c
 * if (event.unmapped == POLYPLUG_UNMAPPED_YES) puts("the image left memory");
 * ```
 */
#define POLYPLUG_UNMAPPED_YES 1

/**
 * `unmapped`: the dynamic loader kept the image mapped.
 *
 * ```c
 * if (event.unmapped == POLYPLUG_UNMAPPED_NO) puts("the loader kept the image mapped");
 * ```
 */
#define POLYPLUG_UNMAPPED_NO 2

/**
 * Most guards one reader may have pinned at once (nested pins).
 *
 * ```c
 * polyplug_guard nested[POLYPLUG_MAX_GUARDS]; // at most this many pinned at once
 * ```
 */
#define POLYPLUG_MAX_GUARDS 16

/**
 * `polyplug_contract_info.bundle` of a contract the host provides.
 *
 * ```c
 * if (info.bundle == POLYPLUG_NO_BUNDLE) puts("provided by the host");
 * ```
 */
#define POLYPLUG_NO_BUNDLE UINT64_MAX

/**
 * `polyplug_options.loaders`: add the WebAssembly loader (bundles with
 * `loader = "wasm"`, run by the wasmi interpreter with the default
 * budgets of polyplug-wasm and each bundle's `[limits]`).
 *
 * ```c
 * polyplug_options options = {POLYPLUG_LOADER_WASM};
 * ```
 */
#define POLYPLUG_LOADER_WASM 1

/**
 * `polyplug_options.loaders`: add the Lua loader (bundles with
 * `loader = "lua"`, run by Lua 5.4 with one state per calling thread,
 * the default budgets of polyplug-lua and each bundle's `[limits]`).
 *
 * ```c
 * polyplug_options options = {POLYPLUG_LOADER_LUA | POLYPLUG_LOADER_JS};
 * ```
 */
#define POLYPLUG_LOADER_LUA 2

/**
 * `polyplug_options.loaders`: add the JavaScript loader (bundles with
 * `loader = "javascript"`, one ES module run by QuickJS with one context
 * per calling thread, the default budgets of polyplug-js and each
 * bundle's `[limits]`).
 *
 * ```c
 * polyplug_options options = {POLYPLUG_LOADER_JS};
 * ```
 */
#define POLYPLUG_LOADER_JS 4

/**
 * `polyplug_options.loaders`: add the Python loader (bundles with
 * `loader = "python"`, run by the CPython 3.11 libpolyplug was built
 * against, one thread state per calling thread, calls serialised on the
 * GIL; Python plugins are trusted code, with no sandbox). libpolyplug
 * starts the interpreter on the first Python load. In a process that
 * already runs a Python interpreter (a Python host), a Python bundle's
 * load is refused with `POLYPLUG_ERR_CODE`, naming the loader:
 * Python owns that interpreter's thread states.
 *
 * ```c
 * polyplug_options options = {POLYPLUG_LOADER_PYTHON};
 * ```
 */
#define POLYPLUG_LOADER_PYTHON 8

/**
 * What a call of the C API did: `POLYPLUG_OK` or one `POLYPLUG_ERR_*`.
 *
 * ```c
 * polyplug_status status = polyplug_unpin(guard);
 * if (status != POLYPLUG_OK) fprintf(stderr, "%s\n", polyplug_status_name(status));
 * ```
 */
typedef uint32_t polyplug_status;

/**
 * A contract name and version: provided, or required at least.
 *
 * ```c
 * for (size_t j = 0; j < b->require_count; j++)
 *     printf("needs %s >= %u.%u\n", b->requires[j].name, b->requires[j].version.major, b->requires[j].version.minor);
 * ```
 */
typedef struct polyplug_contract_version {
  /**
   * The contract's name, NUL-terminated UTF-8.
   */
  const char *name;
  /**
   * Its length in bytes, without the NUL.
   */
  size_t name_len;
  /**
   * The version provided, or the minimum required.
   */
  PpVersion version;
} polyplug_contract_version;

/**
 * One loaded bundle. Every pointer points into the list it came from and
 * is valid until that list is destroyed.
 *
 * ```c
 * const polyplug_bundle_info *b = &bundles[0];
 * printf("#%llu %s from %s\n", (unsigned long long)b->id, b->name, b->dir);
 * ```
 */
typedef struct polyplug_bundle_info {
  /**
   * Its id.
   */
  uint64_t id;
  /**
   * Its name (from its manifest), NUL-terminated UTF-8.
   */
  const char *name;
  /**
   * The name's length, without the NUL.
   */
  size_t name_len;
  /**
   * Its version.
   */
  PpVersion version;
  /**
   * The directory it was (re)loaded from, NUL-terminated.
   */
  const char *dir;
  /**
   * The directory's length, without the NUL.
   */
  size_t dir_len;
  /**
   * The contracts it provides.
   */
  const struct polyplug_contract_version *contracts;
  /**
   * How many.
   */
  size_t contract_count;
  /**
   * The contracts it requires, with their minimum versions.
   */
  const struct polyplug_contract_version *requires;
  /**
   * How many.
   */
  size_t require_count;
} polyplug_bundle_info;

/**
 * A pinned guard: a small value, copied freely, naming a slot of its
 * reader. Valid from `polyplug_pin` until `polyplug_unpin`, on the
 * reader's thread. `POLYPLUG_GUARD_NONE` (all zero) is never valid.
 *
 * ```c
 * polyplug_guard guard = POLYPLUG_GUARD_NONE;
 * polyplug_pin(reader, &guard);
 * polyplug_unpin(guard);
 * ```
 */
typedef struct polyplug_guard {
  /**
   * The reader it was pinned on.
   */
  polyplug_reader *reader;
  /**
   * The slot (low 8 bits) and its generation (the rest).
   */
  uint64_t token;
} polyplug_guard;

/**
 * A contract handle as the host keeps it: cheap to copy, valid across
 * reloads, stale after an unload (then refused, never misread).
 *
 * ```c
 * static polyplug_contract add; // found once, kept: follows reloads
 * polyplug_find(guard, "test.add", (PpVersion){1, 0, 0}, &add);
 * ```
 */
typedef uint64_t polyplug_contract;

/**
 * One event. Fields a kind does not use are 0, NULL or
 * `POLYPLUG_NO_BUNDLE`. Strings are NUL-terminated UTF-8 (lengths without
 * the NUL), owned by the subscription or listener that delivered it.
 *
 * ```c
 * polyplug_event event;
 * polyplug_events_wait(events, 1000, &event);
 * printf("%u %.*s\n", event.kind, (int)event.name_len, event.name);
 * ```
 */
typedef struct polyplug_event {
  /**
   * `POLYPLUG_EVENT_*`.
   */
  uint32_t kind;
  /**
   * `POLYPLUG_EVENT_LOG`: the level, `PP_LOG_*`.
   */
  uint32_t level;
  /**
   * `POLYPLUG_EVENT_LIBRARY_CLOSED`: `POLYPLUG_UNMAPPED_*`.
   */
  uint32_t unmapped;
  /**
   * The bundle's id, or `POLYPLUG_NO_BUNDLE`.
   */
  uint64_t bundle;
  /**
   * Loaded: its version; reloaded: the new one; drained: the retired one.
   */
  PpVersion version;
  /**
   * Reloaded: the version that was serving.
   */
  PpVersion from;
  /**
   * The bundle's name.
   */
  const char *name;
  /**
   * Its length.
   */
  size_t name_len;
  /**
   * Loading, load failed: the bundle directory; library closed: the
   * library's private copy.
   */
  const char *path;
  /**
   * Its length.
   */
  size_t path_len;
  /**
   * Loaded: its contracts; failed: the error; log: the message.
   */
  const char *text;
  /**
   * Its length.
   */
  size_t text_len;
} polyplug_event;

/**
 * An event callback: `user_data` as given to `polyplug_events_listen`, and
 * the event, valid during the call only.
 *
 * ```c
 * static void on_event(void *user_data, const polyplug_event *event) { (void)user_data; log_event(event); }
 * polyplug_event_callback callback = on_event;
 * ```
 */
typedef void (*polyplug_event_callback)(void *user_data, const struct polyplug_event *event);

/**
 * What `polyplug_contract_info` tells about a contract. The strings are
 * UTF-8, not NUL-terminated, and valid while the guard is pinned.
 *
 * ```c
 * polyplug_contract_info info;
 * polyplug_contract_describe(guard, add, &info);
 * if (info.stateful) polyplug_instance_new(guard, add, &instance);
 * ```
 */
typedef struct polyplug_contract_info {
  /**
   * The contract's name.
   */
  const char *name;
  /**
   * Its length in bytes.
   */
  size_t name_len;
  /**
   * The version serving now.
   */
  PpVersion version;
  /**
   * The id of the bundle providing it, or `POLYPLUG_NO_BUNDLE` (the
   * host).
   */
  uint64_t bundle;
  /**
   * 1 if it makes instances, else 0.
   */
  uint32_t stateful;
  /**
   * Its number of native functions.
   */
  uint32_t native_count;
  /**
   * Its number of typed functions.
   */
  uint32_t typed_count;
} polyplug_contract_info;

/**
 * How `polyplug_runtime_new_with` makes a runtime. All zero is what
 * `polyplug_runtime_new` makes: native bundles only.
 *
 * ```c
 * polyplug_options options = {0};
 * options.loaders = POLYPLUG_LOADER_WASM; // native and WebAssembly bundles
 * ```
 */
typedef struct polyplug_options {
  /**
   * The loaders added to the native one: `POLYPLUG_LOADER_*` flags.
   */
  uint32_t loaders;
} polyplug_options;

/**
 * Counts of libraries a runtime opened and closed.
 *
 * ```c
 * polyplug_library_stats stats;
 * polyplug_library_stats_get(runtime, &stats);
 * assert(stats.unmapped + stats.still_mapped == stats.closed);
 * ```
 */
typedef struct polyplug_library_stats {
  /**
   * Libraries opened (each load or reload opens one).
   */
  uint64_t opened;
  /**
   * Libraries closed with `dlclose`.
   */
  uint64_t closed;
  /**
   * Closed libraries whose image left the address space.
   */
  uint64_t unmapped;
  /**
   * Closed libraries the dynamic loader kept mapped.
   */
  uint64_t still_mapped;
} polyplug_library_stats;

/**
 * Success.
 *
 * ```c
 * if (polyplug_load_bundle(runtime, "plugins/counter", &id) == POLYPLUG_OK) puts("loaded");
 * ```
 */
#define POLYPLUG_OK 0

/**
 * A required pointer argument is NULL; the message names the argument.
 *
 * ```c
 * assert(polyplug_runtime_new(NULL) == POLYPLUG_ERR_NULL); // "out is NULL"
 * ```
 */
#define POLYPLUG_ERR_NULL 1

/**
 * A string argument is not UTF-8; the message names the argument.
 *
 * ```c
 * assert(polyplug_bundle_id(runtime, "\xff", &id) == POLYPLUG_ERR_UTF8);
 * ```
 */
#define POLYPLUG_ERR_UTF8 2

/**
 * Not a live object of the kind the argument needs: another kind of
 * object, a destroyed one (while its memory is not reused), a misaligned
 * pointer, or an integer that cannot be a contract handle.
 *
 * ```c
 * polyplug_fn_destroy(inc);
 * assert(polyplug_fn_destroy(inc) == POLYPLUG_ERR_INVALID_HANDLE); // "destroyed"
 * ```
 */
#define POLYPLUG_ERR_INVALID_HANDLE 3

/**
 * A reader, guard or function used on a thread other than the one that
 * made it.
 *
 * ```c
 * // on a thread other than the reader's:
 * assert(polyplug_pin(reader, &guard) == POLYPLUG_ERR_WRONG_THREAD);
 * ```
 */
#define POLYPLUG_ERR_WRONG_THREAD 4

/**
 * A guard that was unpinned (or repinned into another slot generation).
 *
 * ```c
 * polyplug_unpin(guard);
 * assert(polyplug_unpin(guard) == POLYPLUG_ERR_STALE_GUARD);
 * ```
 */
#define POLYPLUG_ERR_STALE_GUARD 5

/**
 * Refused because the object is in use: a runtime with live readers, a
 * reader with live guards, a guard in use by a call further up the stack,
 * an instance in a call on another thread, a listener destroyed from its
 * own callback.
 *
 * ```c
 * assert(polyplug_runtime_destroy(runtime) == POLYPLUG_ERR_BUSY); // a reader lives
 * ```
 */
#define POLYPLUG_ERR_BUSY 6

/**
 * A reader already has `POLYPLUG_MAX_GUARDS` live guards.
 *
 * ```c
 * polyplug_guard guards[POLYPLUG_MAX_GUARDS + 1];
 * for (int i = 0; i <= POLYPLUG_MAX_GUARDS; i++) status = polyplug_pin(reader, &guards[i]);
 * assert(status == POLYPLUG_ERR_GUARD_LIMIT);
 * ```
 */
#define POLYPLUG_ERR_GUARD_LIMIT 7

/**
 * polyplug panicked; the panic was caught at the boundary. A bug in
 * polyplug: please report it with the message.
 *
 * ```c
 * if (status == POLYPLUG_ERR_PANIC) report_bug(polyplug_last_error_message(NULL));
 * ```
 */
#define POLYPLUG_ERR_PANIC 8

/**
 * A write (load, reload, unload, drain, reclaim, registering a host
 * contract) called from plugin code that a write of the same runtime is
 * running: an entry point, a thread it waits for, a library finaliser.
 * Nothing changed; the message names both operations.
 *
 * ```c
 * // in a host function that a plugin's entry point calls during a load:
 * if (polyplug_unload_bundle(runtime, other) == POLYPLUG_ERR_REENTRANT) defer_until_after_load();
 * ```
 */
#define POLYPLUG_ERR_REENTRANT 9

/**
 * No loaded contract of that name satisfies the minimum version.
 *
 * ```c
 * assert(polyplug_find(guard, "no.such", (PpVersion){1, 0, 0}, &c) == POLYPLUG_ERR_NOT_FOUND);
 * ```
 */
#define POLYPLUG_ERR_NOT_FOUND 20

/**
 * The contract handle's contract was unloaded.
 *
 * ```c
 * polyplug_unload_bundle(runtime, id);
 * assert(polyplug_fn_get(guard, inc, &f) == POLYPLUG_ERR_STALE_CONTRACT);
 * ```
 */
#define POLYPLUG_ERR_STALE_CONTRACT 21

/**
 * The contract has no function of that name and kind.
 *
 * ```c
 * assert(polyplug_typed(guard, add, "nope", "u32()", &f) == POLYPLUG_ERR_NO_FUNCTION);
 * ```
 */
#define POLYPLUG_ERR_NO_FUNCTION 22

/**
 * The typed function's registered signature is not the one asked for.
 *
 * ```c
 * assert(polyplug_typed(guard, add, "inc", "u64(u64)", &f) == POLYPLUG_ERR_SIGNATURE_MISMATCH);
 * ```
 */
#define POLYPLUG_ERR_SIGNATURE_MISMATCH 23

/**
 * The contract makes no instances.
 *
 * ```c
 * assert(polyplug_instance_new(guard, add, &instance) == POLYPLUG_ERR_STATELESS);
 * ```
 */
#define POLYPLUG_ERR_STATELESS 24

/**
 * The typed function is run by an engine (a WebAssembly function), so it
 * has no plain C function pointer: `polyplug_typed` and `polyplug_fn_get`
 * refuse it; call it with `polyplug_fn_call`.
 *
 * ```c
 * if (polyplug_fn_get(guard, fn, &f) == POLYPLUG_ERR_NOT_NATIVE) {
 *     polyplug_fn_call(guard, fn, &args, &out);
 * }
 * ```
 */
#define POLYPLUG_ERR_NOT_NATIVE 25

/**
 * A plugin function returned an error code; `polyplug_last_error_code`
 * gives the plugin's code.
 *
 * ```c
 * if (polyplug_call_native(guard, add, "fail", &args, &out) == POLYPLUG_ERR_CALL)
 *     printf("plugin code %u\n", polyplug_last_error_code());
 * ```
 */
#define POLYPLUG_ERR_CALL 30

/**
 * The bundle directory or its manifest is unusable.
 *
 * ```c
 * assert(polyplug_load_bundle(runtime, "/no/such/bundle", NULL) == POLYPLUG_ERR_BUNDLE);
 * ```
 */
#define POLYPLUG_ERR_BUNDLE 40

/**
 * The library could not be opened or is not a polyplug plugin.
 *
 * ```c
 * assert(polyplug_load_bundle(runtime, "bundles/bad-abi", NULL) == POLYPLUG_ERR_LIBRARY);
 * ```
 */
#define POLYPLUG_ERR_LIBRARY 41

/**
 * The manifest names a loader this runtime does not have.
 *
 * ```c
 * assert(polyplug_load_bundle(runtime, "bundles/lua-script", NULL) == POLYPLUG_ERR_UNSUPPORTED_LOADER);
 * ```
 */
#define POLYPLUG_ERR_UNSUPPORTED_LOADER 42

/**
 * A bundle of that name is already loaded.
 *
 * ```c
 * polyplug_load_bundle(runtime, "bundles/test-add", NULL);
 * assert(polyplug_load_bundle(runtime, "bundles/test-add", NULL) == POLYPLUG_ERR_ALREADY_LOADED);
 * ```
 */
#define POLYPLUG_ERR_ALREADY_LOADED 43

/**
 * A required contract is not provided by anything loaded.
 *
 * ```c
 * assert(polyplug_load_bundle(runtime, "bundles/consumer", NULL) == POLYPLUG_ERR_MISSING_PROVIDER);
 * ```
 */
#define POLYPLUG_ERR_MISSING_PROVIDER 44

/**
 * The bundles of a directory require each other in a cycle.
 *
 * ```c
 * assert(polyplug_load_dir(runtime, "cyclic", NULL, 0, NULL) == POLYPLUG_ERR_DEPENDENCY_CYCLE);
 * ```
 */
#define POLYPLUG_ERR_DEPENDENCY_CYCLE 45

/**
 * The plugin's entry point failed; `polyplug_last_error_code` gives its
 * code.
 *
 * ```c
 * if (polyplug_load_bundle(runtime, dir, NULL) == POLYPLUG_ERR_INIT_FAILED)
 *     printf("entry point returned %u\n", polyplug_last_error_code());
 * ```
 */
#define POLYPLUG_ERR_INIT_FAILED 46

/**
 * A registered contract failed validation.
 *
 * ```c
 * assert(polyplug_load_bundle(runtime, "bundles/bad-null-fn", NULL) == POLYPLUG_ERR_INVALID_CONTRACT);
 * ```
 */
#define POLYPLUG_ERR_INVALID_CONTRACT 47

/**
 * The plugin registered a contract its manifest does not declare.
 *
 * ```c
 * assert(polyplug_load_bundle(runtime, "bundles/bad-undeclared", NULL) == POLYPLUG_ERR_UNDECLARED);
 * ```
 */
#define POLYPLUG_ERR_UNDECLARED 48

/**
 * The plugin registered one contract twice.
 *
 * ```c
 * assert(polyplug_load_bundle(runtime, "bundles/bad-duplicate", NULL) == POLYPLUG_ERR_DUPLICATE_CONTRACT);
 * ```
 */
#define POLYPLUG_ERR_DUPLICATE_CONTRACT 49

/**
 * The manifest declares a contract the plugin did not register.
 *
 * ```c
 * assert(polyplug_load_bundle(runtime, "bundles/bad-unregistered", NULL) == POLYPLUG_ERR_NOT_REGISTERED);
 * ```
 */
#define POLYPLUG_ERR_NOT_REGISTERED 50

/**
 * A reload's new version lacks a contract the serving one provides.
 *
 * ```c
 * assert(polyplug_reload_bundle(runtime, id, "bundles/bad-lacks-contract") == POLYPLUG_ERR_RELOAD_LACKS_CONTRACT);
 * ```
 */
#define POLYPLUG_ERR_RELOAD_LACKS_CONTRACT 51

/**
 * A reload's new version would break a bundle that depends on it.
 *
 * ```c
 * assert(polyplug_reload_bundle(runtime, provider, "provider-v2") == POLYPLUG_ERR_BREAKS_DEPENDENT);
 * ```
 */
#define POLYPLUG_ERR_BREAKS_DEPENDENT 52

/**
 * A reload from a directory whose manifest names another bundle.
 *
 * ```c
 * assert(polyplug_reload_bundle(runtime, id, "bundles/test-add") == POLYPLUG_ERR_NAME_MISMATCH);
 * ```
 */
#define POLYPLUG_ERR_NAME_MISMATCH 53

/**
 * No bundle with that id (or name) is loaded.
 *
 * ```c
 * assert(polyplug_unload_bundle(runtime, 12345) == POLYPLUG_ERR_UNKNOWN_BUNDLE);
 * ```
 */
#define POLYPLUG_ERR_UNKNOWN_BUNDLE 54

/**
 * Unload refused: other bundles depend on this one.
 *
 * ```c
 * assert(polyplug_unload_bundle(runtime, test_add) == POLYPLUG_ERR_HAS_DEPENDENTS); // consumer needs it
 * ```
 */
#define POLYPLUG_ERR_HAS_DEPENDENTS 55

/**
 * The contract store is full.
 *
 * ```c
 * if (status == POLYPLUG_ERR_STORE_FULL) unload_unused_bundles(runtime);
 * ```
 */
#define POLYPLUG_ERR_STORE_FULL 56

/**
 * A directory of bundles could not be read.
 *
 * ```c
 * assert(polyplug_load_dir(runtime, "/no/such/dir", NULL, 0, NULL) == POLYPLUG_ERR_READ_DIR);
 * ```
 */
#define POLYPLUG_ERR_READ_DIR 57

/**
 * A host contract was refused (a bad name or signature, a duplicate
 * function).
 *
 * ```c
 * polyplug_host_contract_typed(math, "f", "string(u32)", (PpVoidFn)f);
 * assert(polyplug_register_host_contract(runtime, math, NULL) == POLYPLUG_ERR_HOST_CONTRACT);
 * ```
 */
#define POLYPLUG_ERR_HOST_CONTRACT 58

/**
 * A loader (the WebAssembly engine, for one) refused a bundle's code; the
 * message names the bundle, the file, contract and field at fault.
 *
 * ```c
 * if (polyplug_load_bundle(runtime, "plugins/broken-wasm", NULL) == POLYPLUG_ERR_CODE) report(polyplug_last_error_message(NULL));
 * ```
 */
#define POLYPLUG_ERR_CODE 59

/**
 * `polyplug_drain` timed out: readers still hold retired tables.
 *
 * ```c
 * polyplug_pin(reader, &guard); // this thread still pins the old tables
 * assert(polyplug_drain(runtime, 10) == POLYPLUG_ERR_DRAIN_TIMEOUT);
 * ```
 */
#define POLYPLUG_ERR_DRAIN_TIMEOUT 60

/**
 * An operating system error (creating the runtime's private directory,
 * starting a thread).
 *
 * ```c
 * if (polyplug_runtime_new(&runtime) == POLYPLUG_ERR_IO) perror_like(polyplug_last_error_message(NULL));
 * ```
 */
#define POLYPLUG_ERR_IO 61

/**
 * A bundle id issued by another runtime (its high 32 bits name that
 * runtime): ids are passed to the runtime that issued them.
 *
 * ```c
 * assert(polyplug_unload_bundle(runtime_b, id_from_runtime_a) == POLYPLUG_ERR_FOREIGN_BUNDLE);
 * ```
 */
#define POLYPLUG_ERR_FOREIGN_BUNDLE 62

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

/**
 * Frees a `string` or `buf` result of `polyplug_fn_call` (a `PpOwnedBuf`
 * the caller owns), on any thread, before or after the runtime that made
 * it is destroyed: results belong to no runtime. `{NULL, 0}` (an empty
 * result), and any value with `len` 0, is nothing to free: `POLYPLUG_OK`.
 *
 * Checked: the library records every non-empty result it hands out and
 * frees only a recorded one, of its recorded length. A second free of the
 * same value, a pointer that no `polyplug_fn_call` returned, or a wrong
 * `len` is refused with `POLYPLUG_ERR_INVALID_HANDLE` and frees nothing.
 * Not detectable: once a buffer is freed, the allocator may reuse its
 * address for a later result; a second free of the old value while that
 * later result (of the same length) is outstanding frees the later one.
 *
 * # Safety
 *
 * None beyond passing the value by copy: what it frees is only what the
 * library handed out and has not taken back (\[C9\], \[R12\]).
 *
 * ```c
 * PpOwnedBuf greeting;
 * polyplug_fn_call(guard, greet, &(PpStrView){"ada", 3}, &greeting);
 * printf("%.*s\n", (int)greeting.len, (const char *)greeting.ptr);
 * polyplug_buf_free(greeting);                  // POLYPLUG_OK
 * polyplug_buf_free(greeting);                  // POLYPLUG_ERR_INVALID_HANDLE
 * ```
 */
polyplug_status polyplug_buf_free(PpOwnedBuf buf);

/**
 * Writes a snapshot of the loaded bundles, by id, to `*out`.
 *
 * Ownership: the caller owns the list and destroys it with
 * `polyplug_bundle_list_destroy`; it does not change when the runtime
 * does, and may outlive it.
 *
 * # Safety
 *
 * `runtime` NULL or from `polyplug_runtime_new`; `out` writable (\[C1\],
 * \[C4\]).
 *
 * ```c
 * polyplug_bundle_list *list;
 * const polyplug_bundle_info *bundles;
 * size_t count;
 * polyplug_bundles(runtime, &list);
 * polyplug_bundle_list_items(list, &bundles, &count);
 * for (size_t i = 0; i < count; i++) printf("%s %u\n", bundles[i].name, bundles[i].version.major);
 * polyplug_bundle_list_destroy(list);
 * ```
 */
polyplug_status polyplug_bundles(const polyplug_runtime *runtime, polyplug_bundle_list **out);

/**
 * Writes the address of the list's first bundle to `*items` and their
 * number to `*count`. Valid until the list is destroyed.
 *
 * # Safety
 *
 * `list` NULL or from `polyplug_bundles`; `items` and `count` writable.
 *
 * ```c
 * polyplug_bundle_list_items(list, &bundles, &count);
 * ```
 */
polyplug_status polyplug_bundle_list_items(const polyplug_bundle_list *list,
                                           const struct polyplug_bundle_info **items,
                                           size_t *count);

/**
 * Destroys a bundle list.
 *
 * # Safety
 *
 * `list` NULL or from `polyplug_bundles` (\[C1\]).
 *
 * ```c
 * polyplug_bundle_list_destroy(list);
 * ```
 */
polyplug_status polyplug_bundle_list_destroy(polyplug_bundle_list *list);

/**
 * Looks up typed function `name` of `contract` under `guard`, checks that
 * its registered signature is `signature` (such as `"u32(u32,u32)"`;
 * whitespace ignored), and writes its address to `*out`. Cast it to the
 * C function type the signature spells and call it: a plain indirect call.
 *
 * Lifetime: the pointer may be called only while `guard` stays pinned
 * (\[C5\]); after `polyplug_unpin` its library may be closed. Not checked:
 * C cannot stop a copy of the pointer from being called later.
 *
 * Errors: `POLYPLUG_ERR_NO_FUNCTION`, `POLYPLUG_ERR_SIGNATURE_MISMATCH`
 * (the message gives both signatures), `POLYPLUG_ERR_STALE_CONTRACT`,
 * `POLYPLUG_ERR_NOT_NATIVE` for a function an engine runs,
 * which has no C pointer (call it through a `polyplug_fn` with
 * `polyplug_fn_call`), and the guard and argument errors.
 *
 * # Safety
 *
 * `guard.reader` NULL or from `polyplug_reader_new`; strings
 * NUL-terminated; `out` writable (\[C1\], \[C4\]).
 *
 * ```c
 * PpVoidFn f;
 * polyplug_typed(guard, add, "inc", "u32(u32)", &f);
 * uint32_t y = ((uint32_t (*)(uint32_t))f)(41);
 * ```
 */
polyplug_status polyplug_typed(struct polyplug_guard guard,
                               polyplug_contract contract,
                               const char *name,
                               const char *signature,
                               PpVoidFn *out);

/**
 * Checks typed function `name` of `contract` against `signature` once,
 * and writes a function handle for `polyplug_fn_get` to `*out`.
 *
 * Ownership: the caller owns it and destroys it with
 * `polyplug_fn_destroy`. It is used (fetched and destroyed) on the calling
 * thread only, under guards of any reader of this thread; it may outlive
 * the guard, the reader and the runtime (it then reports a stale
 * contract).
 *
 * # Safety
 *
 * As for `polyplug_typed`.
 *
 * ```c
 * polyplug_fn *inc;
 * polyplug_fn_new(guard, add, "inc", "u32(u32)", &inc);
 * ```
 */
polyplug_status polyplug_fn_new(struct polyplug_guard guard,
                                polyplug_contract contract,
                                const char *name,
                                const char *signature,
                                polyplug_fn **out);

/**
 * Writes the address of `function` as it serves under `guard` to `*out`:
 * after a reload, the new version's function (its signature checked
 * again). The hot path: a check of the guard, the handle and one compare.
 * The pointer may be called while `guard` stays pinned (\[C5\]).
 *
 * Errors: `POLYPLUG_ERR_STALE_CONTRACT` after an unload;
 * `POLYPLUG_ERR_NO_FUNCTION` or `POLYPLUG_ERR_SIGNATURE_MISMATCH` if a
 * reload dropped or changed it; `POLYPLUG_ERR_WRONG_THREAD` on another
 * thread than the one that made it; `POLYPLUG_ERR_NOT_NATIVE` when an
 * engine runs it: call it with `polyplug_fn_call`.
 *
 * # Safety
 *
 * `guard.reader` and `function` NULL or from this library; `out` writable.
 *
 * ```c
 * polyplug_guard guard;
 * PpVoidFn f;
 * polyplug_pin(reader, &guard);                 // per call: reload-safe
 * if (polyplug_fn_get(guard, inc, &f) == POLYPLUG_OK) {
 *     x = ((uint32_t (*)(uint32_t))f)(x);
 * }
 * polyplug_unpin(guard);
 * ```
 */
polyplug_status polyplug_fn_get(struct polyplug_guard guard,
                                const polyplug_fn *function,
                                PpVoidFn *out);

/**
 * Calls `function` as it serves under `guard`, packed: `args` points to
 * its arguments laid out as a C struct in signature order (NULL when it
 * takes none), `out` to room for its result (NULL for `void`; a `string`
 * or `buf` result is a `PpOwnedBuf` that the caller frees with
 * `polyplug_buf_free`). The convention of `pp_typed_call` in
 * `polyplug.h`, stateless (no instance). It calls every typed function:
 * a native one through the packed form its plugin registered, one an
 * engine runs (WebAssembly) through its engine.
 *
 * Errors: those of `polyplug_fn_get` (but never
 * `POLYPLUG_ERR_NOT_NATIVE`); `POLYPLUG_ERR_CALL` when the function fails
 * (a WebAssembly trap, an error a plugin returns, a native function that
 * registered no packed form: plugin code `PP_ERR_UNSUPPORTED`), with its
 * code in `polyplug_last_error_code` and its message.
 *
 * A non-empty `string` or `buf` result is recorded as handed out, so
 * that `polyplug_buf_free` can refuse a second free (\[C9\]).
 *
 * # Safety
 *
 * `args` and `out` are laid out as the function's checked signature says
 * (\[R6\]); the rest as for `polyplug_fn_get`.
 *
 * ```c
 * typedef struct { uint32_t a, b; } AddArgs;
 * AddArgs args = {2, 3};
 * uint32_t sum;
 * polyplug_fn_call(guard, add, &args, &sum); // native or WebAssembly alike
 * ```
 */
polyplug_status polyplug_fn_call(struct polyplug_guard guard,
                                 const polyplug_fn *function,
                                 const void *args,
                                 void *out);

/**
 * Pins `reader`, calls `function` packed as `polyplug_fn_call` does, and
 * unpins: one crossing of the boundary for a call that must follow
 * reloads, where a pin, a fetch, the call and an unpin would be four.
 * For hosts that pay per crossing (a Python host through ctypes); a C
 * host calling in a loop pins once per batch and calls the pointer.
 *
 * The guard lives only inside this call: the function's library stays
 * loaded until it returns, and nothing of it may be used afterwards but
 * the result (an owned `string` or `buf` result is the caller's, freed
 * with `polyplug_buf_free`). Takes no guard slot, so it works with every
 * slot of the reader pinned, and inside a call made under one;
 * `polyplug_reader_destroy` is refused (`POLYPLUG_ERR_BUSY`) while it
 * runs.
 *
 * Errors: `POLYPLUG_ERR_NULL`, `POLYPLUG_ERR_INVALID_HANDLE` (reader or
 * function), `POLYPLUG_ERR_WRONG_THREAD` (the reader or the function is
 * another thread's), and those of `polyplug_fn_call`.
 *
 * # Safety
 *
 * `reader` NULL or from `polyplug_reader_new`; `function` NULL or from
 * `polyplug_fn_new` (\[C1\]); `args` and `out` as for `polyplug_fn_call`
 * (\[R6\]).
 *
 * ```c
 * uint32_t y;
 * uint32_t x = 41;
 * polyplug_fn_call_pinned(reader, inc, &x, &y); // pin, call, unpin
 * ```
 */
polyplug_status polyplug_fn_call_pinned(polyplug_reader *reader,
                                        const polyplug_fn *function,
                                        const void *args,
                                        void *out);

/**
 * Destroys a function handle, on the thread that made it.
 *
 * # Safety
 *
 * `function` NULL or from `polyplug_fn_new` (\[C1\]).
 *
 * ```c
 * polyplug_fn_destroy(inc);
 * ```
 */
polyplug_status polyplug_fn_destroy(polyplug_fn *function);

/**
 * Calls native function `name` of `contract` with the fixed convention:
 * `fn(NULL, args, out, &err)`. `args` and `out` are passed to the plugin
 * as they are (NULL included); their types are the contract's, which
 * polyplug cannot check. A plugin error is `POLYPLUG_ERR_CALL`, with the
 * plugin's code in `polyplug_last_error_code` and its message.
 *
 * # Safety
 *
 * `args` and `out` are what the contract documents for `name` (\[P1\]);
 * the rest as for `polyplug_typed`.
 *
 * ```c
 * typedef struct { uint32_t a, b; } AddArgs;
 * AddArgs args = {2, 3};
 * uint32_t sum;
 * polyplug_call_native(guard, add, "add", &args, &sum);
 * ```
 */
polyplug_status polyplug_call_native(struct polyplug_guard guard,
                                     polyplug_contract contract,
                                     const char *name,
                                     const void *args,
                                     void *out);

/**
 * Makes an instance of stateful contract `contract` and writes it to
 * `*out`. `POLYPLUG_ERR_STATELESS` if the contract makes none.
 *
 * Ownership: the caller owns it and destroys it with
 * `polyplug_instance_destroy`, on any thread. It needs no guard and may
 * outlive the guard, the reader and the runtime.
 *
 * # Safety
 *
 * As for `polyplug_typed`.
 *
 * ```c
 * polyplug_instance *counter;
 * polyplug_instance_new(guard, contract, &counter);
 * ```
 */
polyplug_status polyplug_instance_new(struct polyplug_guard guard,
                                      polyplug_contract contract,
                                      polyplug_instance **out);

/**
 * Calls native function `name` on `instance`: `fn(state, args, out,
 * &err)`, `args` and `out` passed as they are.
 *
 * # Safety
 *
 * As for `polyplug_call_native`; `instance` NULL or from
 * `polyplug_instance_new`.
 *
 * ```c
 * uint32_t count;
 * polyplug_instance_call(counter, "bump", &args, &count);
 * ```
 */
polyplug_status polyplug_instance_call(polyplug_instance *instance,
                                       const char *name,
                                       const void *args,
                                       void *out);

/**
 * Writes the version that made `instance` to `*version`.
 *
 * # Safety
 *
 * `instance` NULL or from `polyplug_instance_new`; `version` writable.
 *
 * ```c
 * PpVersion made_by;
 * polyplug_instance_version(counter, &made_by);
 * ```
 */
polyplug_status polyplug_instance_version(polyplug_instance *instance, PpVersion *version);

/**
 * Destroys `instance`: runs the plugin's destructor on this thread and
 * lets its library go (it is closed by the runtime's next write or
 * reclaim, never here). Refused with `POLYPLUG_ERR_BUSY` while a call on
 * it runs.
 *
 * # Safety
 *
 * `instance` NULL or from `polyplug_instance_new` (\[C1\]).
 *
 * ```c
 * polyplug_instance_destroy(counter);
 * ```
 */
polyplug_status polyplug_instance_destroy(polyplug_instance *instance);

/**
 * The status of the last failed call on this thread, or `POLYPLUG_OK` if
 * none has failed yet. Any thread; reads only this thread's record.
 *
 * ```c
 * if (polyplug_unpin(guard) != POLYPLUG_OK) {
 *     assert(polyplug_last_error_status() == POLYPLUG_ERR_STALE_GUARD);
 * }
 * ```
 */
polyplug_status polyplug_last_error_status(void);

/**
 * The plugin's own code for the last failure on this thread: the code a
 * plugin function returned (`POLYPLUG_ERR_CALL`) or its entry point
 * returned (`POLYPLUG_ERR_INIT_FAILED`); 0 for every other failure.
 *
 * ```c
 * if (polyplug_call_native(guard, contract, "fail", &args, &out) == POLYPLUG_ERR_CALL) {
 *     printf("plugin code %u\n", polyplug_last_error_code());
 * }
 * ```
 */
uint32_t polyplug_last_error_code(void);

/**
 * The message of the last failure on this thread: UTF-8, NUL-terminated,
 * naming the argument, handle, bundle, contract or function. Never NULL
 * (`""` before the first failure). If `len` is not NULL, `*len` receives
 * the length without the NUL.
 *
 * Lifetime: owned by the library; valid until the next call on this
 * thread that fails. Copy it to keep it. Any thread.
 *
 * # Safety
 *
 * `len` is NULL or writable for one `size_t` (\[C4\]).
 *
 * ```c
 * size_t len;
 * const char *message = polyplug_last_error_message(&len);
 * fprintf(stderr, "%.*s\n", (int)len, message);
 * ```
 */
const char *polyplug_last_error_message(size_t *len);

/**
 * Subscribes to every later event of `runtime` and writes the
 * subscription to `*out`. Events queue until polled.
 *
 * Ownership: the caller owns it and destroys it with
 * `polyplug_subscription_destroy`; it may outlive the runtime (it then
 * delivers what was queued, then nothing).
 *
 * # Safety
 *
 * `runtime` NULL or from `polyplug_runtime_new`; `out` writable (\[C1\],
 * \[C4\]).
 *
 * ```c
 * polyplug_subscription *events;
 * polyplug_subscribe(runtime, &events);
 * ```
 */
polyplug_status polyplug_subscribe(const polyplug_runtime *runtime, polyplug_subscription **out);

/**
 * Takes the next queued event into `*out`, without waiting; `out->kind` is
 * `POLYPLUG_EVENT_NONE` when there is none. The strings of the event are
 * valid until the next poll or wait on this subscription, or its
 * destruction.
 *
 * # Safety
 *
 * `subscription` NULL or from `polyplug_subscribe`; `out` writable.
 *
 * ```c
 * polyplug_event event;
 * while (polyplug_events_poll(events, &event) == POLYPLUG_OK && event.kind != POLYPLUG_EVENT_NONE) {
 *     printf("event %u: %s\n", event.kind, event.name);
 * }
 * ```
 */
polyplug_status polyplug_events_poll(const polyplug_subscription *subscription,
                                     struct polyplug_event *out);

/**
 * As `polyplug_events_poll`, but waits up to `timeout_ms` milliseconds
 * for an event.
 *
 * # Safety
 *
 * As for `polyplug_events_poll`.
 *
 * ```c
 * polyplug_events_wait(events, 1000, &event);
 * ```
 */
polyplug_status polyplug_events_wait(const polyplug_subscription *subscription,
                                     uint64_t timeout_ms,
                                     struct polyplug_event *out);

/**
 * Destroys a subscription; its queued events are dropped.
 *
 * # Safety
 *
 * `subscription` NULL or from `polyplug_subscribe` (\[C1\]).
 *
 * ```c
 * polyplug_subscription_destroy(events);
 * ```
 */
polyplug_status polyplug_subscription_destroy(polyplug_subscription *subscription);

/**
 * Starts a listener: a thread of its own (named `polyplug-events`) that
 * calls `callback(user_data, &event)` for every later event of `runtime`,
 * one at a time, in order, and writes it to `*out`.
 *
 * Thread: the callback runs on the listener's thread, never on the thread
 * that caused the event; the event it gets is valid during the call only.
 * Re-entrancy: a callback must not call write operations of the same
 * runtime (load, reload, unload, drain, reclaim, register, destroy); it
 * may read (with a reader of the listener's thread) and may call other
 * runtimes. It must not destroy its own listener (refused with
 * `POLYPLUG_ERR_BUSY`).
 *
 * # Safety
 *
 * `runtime` NULL or from `polyplug_runtime_new`; `callback` safe to call
 * from another thread with `user_data` until the listener is destroyed,
 * and never unwinds (\[C6\]); `out` writable.
 *
 * ```c
 * static void on_event(void *user_data, const polyplug_event *event) {
 *     if (event->kind == POLYPLUG_EVENT_RELOADED) atomic_fetch_add((atomic_int *)user_data, 1);
 * }
 * polyplug_listener *listener;
 * polyplug_events_listen(runtime, on_event, &reloads, &listener);
 * ```
 */
polyplug_status polyplug_events_listen(const polyplug_runtime *runtime,
                                       polyplug_event_callback callback,
                                       void *user_data,
                                       polyplug_listener **out);

/**
 * Stops a listener and waits for its thread to end (at most one running
 * callback, plus 20 ms); events not yet delivered are dropped. Refused
 * with `POLYPLUG_ERR_BUSY` from the listener's own callback.
 *
 * # Safety
 *
 * `listener` NULL or from `polyplug_events_listen` (\[C1\]).
 *
 * ```c
 * polyplug_listener_destroy(listener);
 * ```
 */
polyplug_status polyplug_listener_destroy(polyplug_listener *listener);

/**
 * Starts host contract `name` at `version`, with no functions yet, and
 * writes it to `*out`. The name is checked when it is registered.
 *
 * Ownership: the caller owns it until `polyplug_register_host_contract`
 * takes it, or destroys it with `polyplug_host_contract_destroy`.
 *
 * # Safety
 *
 * `name` NUL-terminated; `out` writable (\[C4\]).
 *
 * ```c
 * polyplug_host_contract *math;
 * polyplug_host_contract_new("host.math", (PpVersion){1, 0, 0}, &math);
 * ```
 */
polyplug_status polyplug_host_contract_new(const char *name,
                                           PpVersion version,
                                           polyplug_host_contract **out);

/**
 * Adds native function `name`, with the fixed convention `fn(instance,
 * args, out, err)` of `polyplug.h` (`PpNativeFn`).
 *
 * # Safety
 *
 * `contract` NULL or from `polyplug_host_contract_new`; `name`
 * NUL-terminated; `func` keeps the rules of a plugin function: callable
 * from any thread at any time until the runtime is destroyed, fills `*err`
 * when it fails, never unwinds (\[C6\]).
 *
 * ```c
 * static uint32_t answer(void *instance, const void *args, void *out, PpAbiError *err) {
 *     *(uint32_t *)out = 42;
 *     return PP_OK;
 * }
 * polyplug_host_contract_native(math, "answer", answer);
 * ```
 */
polyplug_status polyplug_host_contract_native(polyplug_host_contract *contract,
                                              const char *name,
                                              PpNativeFn func);

/**
 * Adds typed function `name` with signature `signature` (`"u32(u32)"`:
 * return type, then argument types, from `u8` to `i64`, `usize`,
 * `isize`, `f32`, `f64`, and `void` as a return type). The spelling is
 * checked when the contract is registered.
 *
 * # Safety
 *
 * As for `polyplug_host_contract_native`, and `func`, cast to `PpVoidFn`,
 * is a function of exactly the C type `signature` spells: callers will
 * call it as that type (\[C6\], \[R6\]).
 *
 * ```c
 * static uint32_t twice(uint32_t x) { return 2 * x; }
 * polyplug_host_contract_typed(math, "twice", "u32(u32)", (PpVoidFn)twice);
 * ```
 */
polyplug_status polyplug_host_contract_typed(polyplug_host_contract *contract,
                                             const char *name,
                                             const char *signature,
                                             PpVoidFn func);

/**
 * Adds typed function `name` as `polyplug_host_contract_typed` does, with
 * its packed form `packed`, so that callers that hold no C type for it
 * can call it too: a Lua, JavaScript or Python script, a WebAssembly
 * guest, `polyplug_fn_call` and `polyplug_fn_call_pinned`. Without a
 * packed form they are refused with `PP_ERR_UNSUPPORTED`.
 *
 * `packed` is what a plugin's `PpTypedEntry.packed` is: it is called as
 * `packed(ctx, instance, args, out, err)`, with `ctx` the address of a
 * `PpTypedEntry` whose `func` is `func`, `instance` NULL, `args` pointing
 * to the arguments laid out as a C struct of the signature's argument
 * types (NULL when there are none), and `out` writable for one value of
 * its return type (NULL for `void`). It returns `PP_OK`, or an error code
 * with `err` filled as a plugin fills it.
 *
 * # Safety
 *
 * As for `polyplug_host_contract_typed`, and `packed` is a packed form of
 * `func` as just said (\[C6\], \[R13\]).
 *
 * ```c
 * static uint32_t twice(uint32_t x) { return 2 * x; }
 * static uint32_t twice_packed(void *ctx, void *instance, const void *args, void *out,
 *                              PpAbiError *err) {
 *     const PpTypedEntry *entry = ctx;
 *     uint32_t x;
 *     memcpy(&x, args, sizeof x);
 *     uint32_t y = ((uint32_t (*)(uint32_t))entry->func)(x);
 *     memcpy(out, &y, sizeof y);
 *     return PP_OK;
 * }
 * polyplug_host_contract_typed_packed(math, "twice", "u32(u32)", (PpVoidFn)twice, twice_packed);
 * ```
 */
polyplug_status polyplug_host_contract_typed_packed(polyplug_host_contract *contract,
                                                    const char *name,
                                                    const char *signature,
                                                    PpVoidFn func,
                                                    PpContextFn packed);

/**
 * Publishes host contract `contract` in `runtime` and writes its handle to
 * `*handle` unless it is NULL. Once both handles are valid, `contract` is
 * consumed, whether registration succeeds or not: do not use or destroy
 * it afterwards. Refused (`POLYPLUG_ERR_HOST_CONTRACT`, naming the field)
 * as a plugin's registration would be.
 *
 * # Safety
 *
 * `runtime` and `contract` NULL or from this library; `handle` NULL or
 * writable.
 *
 * ```c
 * polyplug_contract handle;
 * polyplug_register_host_contract(runtime, math, &handle); // math is gone
 * ```
 */
polyplug_status polyplug_register_host_contract(const polyplug_runtime *runtime,
                                                polyplug_host_contract *contract,
                                                uint64_t *handle);

/**
 * Destroys a host contract that was not registered.
 *
 * # Safety
 *
 * `contract` NULL or from `polyplug_host_contract_new`, not registered
 * (\[C1\]).
 *
 * ```c
 * polyplug_host_contract_destroy(math);
 * ```
 */
polyplug_status polyplug_host_contract_destroy(polyplug_host_contract *contract);

/**
 * Registers the calling thread for reads of `runtime` and writes the
 * reader to `*out`. Make one per thread and keep it; pins are then cheap.
 *
 * Ownership: the caller owns the reader and destroys it with
 * `polyplug_reader_destroy`, on this thread, before the runtime.
 *
 * # Safety
 *
 * `runtime` NULL or from `polyplug_runtime_new`; `out` NULL or writable
 * (\[C1\], \[C4\]).
 *
 * ```c
 * polyplug_reader *reader;            // once per thread
 * polyplug_reader_new(runtime, &reader);
 * ```
 */
polyplug_status polyplug_reader_new(const polyplug_runtime *runtime, polyplug_reader **out);

/**
 * Destroys a reader, on the thread that made it. Refused with
 * `POLYPLUG_ERR_BUSY` while any of its guards is pinned, and with
 * `POLYPLUG_ERR_WRONG_THREAD` on another thread (a reader whose thread
 * ended without destroying it is leaked, and keeps its runtime from being
 * destroyed).
 *
 * # Safety
 *
 * `reader` NULL or from `polyplug_reader_new` (\[C1\]).
 *
 * ```c
 * polyplug_reader_destroy(reader);
 * ```
 */
polyplug_status polyplug_reader_destroy(polyplug_reader *reader);

/**
 * Pins `reader` and writes the guard to `*out`: until `polyplug_unpin`,
 * nothing found under it is destroyed or unloaded. No lock, no
 * allocation. Keep guards short: a pinned guard keeps every library
 * retired meanwhile loaded. Up to `POLYPLUG_MAX_GUARDS` may be pinned at
 * once (nested), else `POLYPLUG_ERR_GUARD_LIMIT`.
 *
 * # Safety
 *
 * `reader` NULL or a reader of this thread; `out` NULL or writable.
 *
 * ```c
 * polyplug_guard guard;
 * polyplug_pin(reader, &guard);
 * // find, call
 * polyplug_unpin(guard);
 * ```
 */
polyplug_status polyplug_pin(polyplug_reader *reader, struct polyplug_guard *out);

/**
 * Unpins `guard`: what it protected may now be reclaimed, and every
 * function pointer obtained under it must not be called any more. The
 * guard is stale afterwards: using or unpinning it again is refused with
 * `POLYPLUG_ERR_STALE_GUARD`.
 *
 * # Safety
 *
 * `guard.reader` NULL or a reader from `polyplug_reader_new` (\[C1\]).
 *
 * ```c
 * polyplug_unpin(guard);
 * ```
 */
polyplug_status polyplug_unpin(struct polyplug_guard guard);

/**
 * Lets go of what `guard` protected and pins again, keeping the same
 * guard value: a quiescent point for a long batch. Function pointers
 * obtained under it before must not be called after.
 *
 * # Safety
 *
 * As for `polyplug_unpin`.
 *
 * ```c
 * for (int i = 0; i < n; i++) {
 *     // calls under guard
 *     polyplug_repin(guard);
 * }
 * ```
 */
polyplug_status polyplug_repin(struct polyplug_guard guard);

/**
 * Writes the revision seen under `guard` to `*revision`.
 *
 * # Safety
 *
 * As for `polyplug_unpin`; `revision` NULL or writable.
 *
 * ```c
 * uint64_t revision;
 * polyplug_guard_revision(guard, &revision);
 * ```
 */
polyplug_status polyplug_guard_revision(struct polyplug_guard guard, uint64_t *revision);

/**
 * Finds the loaded contract `name` with the highest version satisfying
 * `min_version` (same major, at least its minor) and writes its handle to
 * `*contract`. The handle may be kept: it follows reloads and is refused
 * as stale once the contract is unloaded.
 *
 * # Safety
 *
 * As for `polyplug_unpin`; `name` NUL-terminated; `contract` writable.
 *
 * ```c
 * polyplug_contract add;
 * polyplug_find(guard, "test.add", (PpVersion){1, 0, 0}, &add);
 * ```
 */
polyplug_status polyplug_find(struct polyplug_guard guard,
                              const char *name,
                              PpVersion min_version,
                              polyplug_contract *contract);

/**
 * Writes the handles of every loaded contract `name` satisfying
 * `min_version` (from any bundle or the host) to `contracts`, at most
 * `cap`, and their number to `*count` (unless NULL).
 *
 * # Safety
 *
 * As for `polyplug_find`; `contracts` writable for `cap` values.
 *
 * ```c
 * polyplug_contract all[8];
 * size_t count;
 * polyplug_find_all(guard, "test.add", (PpVersion){1, 0, 0}, all, 8, &count);
 * ```
 */
polyplug_status polyplug_find_all(struct polyplug_guard guard,
                                  const char *name,
                                  PpVersion min_version,
                                  polyplug_contract *contracts,
                                  size_t cap,
                                  size_t *count);

/**
 * Describes contract `contract` as it serves under `guard`.
 *
 * # Safety
 *
 * As for `polyplug_unpin`; `info` writable.
 *
 * ```c
 * polyplug_contract_info info;
 * polyplug_contract_describe(guard, add, &info);
 * printf("%.*s %u.%u\n", (int)info.name_len, info.name, info.version.major, info.version.minor);
 * ```
 */
polyplug_status polyplug_contract_describe(struct polyplug_guard guard,
                                           polyplug_contract contract,
                                           struct polyplug_contract_info *info);

/**
 * Makes a runtime with no bundles and its own private directory for
 * library copies, and writes it to `*out`.
 *
 * Ownership: the caller owns the runtime and destroys it with
 * `polyplug_runtime_destroy`. Two runtimes share nothing.
 *
 * Errors: `POLYPLUG_ERR_NULL` (`out`), `POLYPLUG_ERR_IO` (the private
 * directory could not be made).
 *
 * # Safety
 *
 * `out` is NULL or writable for one pointer (\[C4\]).
 *
 * ```c
 * polyplug_runtime *runtime;
 * if (polyplug_runtime_new(&runtime) != POLYPLUG_OK) return 1;
 * ```
 */
polyplug_status polyplug_runtime_new(polyplug_runtime **out);

/**
 * Makes a runtime as `options` say (NULL: the defaults, as
 * `polyplug_runtime_new`), and writes it to `*out`. With
 * `POLYPLUG_LOADER_WASM`, `POLYPLUG_LOADER_LUA`, `POLYPLUG_LOADER_JS` and
 * `POLYPLUG_LOADER_PYTHON` it loads WebAssembly, Lua, JavaScript and
 * Python bundles beside native ones;
 * their typed functions are called with `polyplug_fn_call`.
 *
 * Ownership: as for `polyplug_runtime_new`.
 *
 * Errors: `POLYPLUG_ERR_NULL` (`out`), `POLYPLUG_ERR_UNSUPPORTED_LOADER`
 * (a flag bit this library does not know), `POLYPLUG_ERR_IO`.
 *
 * # Safety
 *
 * `options` NULL or readable for one `polyplug_options`; `out` NULL or
 * writable for one pointer (\[C4\]).
 *
 * ```c
 * polyplug_options options = {POLYPLUG_LOADER_WASM};
 * polyplug_runtime *runtime;
 * if (polyplug_runtime_new_with(&options, &runtime) != POLYPLUG_OK) return 1;
 * ```
 */
polyplug_status polyplug_runtime_new_with(const struct polyplug_options *options,
                                          polyplug_runtime **out);

/**
 * Destroys a runtime: unloads everything and closes every library nothing
 * else keeps loaded (an instance keeps its library until it is destroyed).
 *
 * Refused with `POLYPLUG_ERR_BUSY` while readers of it live: destroy each
 * reader, on its own thread, first. Subscriptions and listeners may
 * outlive it (they then see no more events); so may instances and
 * functions (a function then reports a stale contract).
 *
 * Detected: NULL, a pointer to another kind of object, a runtime already
 * destroyed whose memory was not reused. Not detected: a call on this
 * runtime from another thread at the same time as its destruction (the
 * host must not do that).
 *
 * # Safety
 *
 * `runtime` is NULL or a runtime from `polyplug_runtime_new` (\[C1\]).
 *
 * ```c
 * polyplug_reader_destroy(reader);   // each reader first, on its thread
 * polyplug_runtime_destroy(runtime);
 * ```
 */
polyplug_status polyplug_runtime_destroy(polyplug_runtime *runtime);

/**
 * Loads the bundle in directory `dir` (NUL-terminated; any bytes on
 * Unix): reads and checks its manifest, opens a private copy of its
 * library, checks the ABI, runs its entry point, checks what it registered,
 * and publishes all its contracts at once. On any error nothing changes.
 * Writes the new bundle's id to `*bundle` unless `bundle` is NULL.
 *
 * Errors: `POLYPLUG_ERR_NULL`, `POLYPLUG_ERR_INVALID_HANDLE`, and the load
 * errors `POLYPLUG_ERR_BUNDLE` to `POLYPLUG_ERR_STORE_FULL`, each with a
 * message naming the bundle and what was wrong.
 *
 * # Safety
 *
 * `runtime` as for `polyplug_runtime_destroy`; `dir` NUL-terminated;
 * `bundle` NULL or writable (\[C1\], \[C4\]).
 *
 * ```c
 * uint64_t id;
 * polyplug_load_bundle(runtime, "plugins/counter", &id);
 * ```
 */
polyplug_status polyplug_load_bundle(const polyplug_runtime *runtime,
                                     const char *dir,
                                     uint64_t *bundle);

/**
 * Loads every bundle in the subdirectories of `dir`, providers first. A
 * cycle or a missing provider is reported before anything loads; if one
 * bundle fails, those this call loaded are unloaded again. Writes the
 * first `cap` ids to `ids` (in load order) and their number to `*count`
 * (unless `count` is NULL); `ids` may be NULL when `cap` is 0.
 *
 * # Safety
 *
 * `ids` writable for `cap` values; `count` NULL or writable; the rest as
 * for `polyplug_load_bundle` (\[C1\], \[C4\]).
 *
 * ```c
 * uint64_t ids[16];
 * size_t count;
 * polyplug_load_dir(runtime, "plugins", ids, 16, &count);
 * ```
 */
polyplug_status polyplug_load_dir(const polyplug_runtime *runtime,
                                  const char *dir,
                                  uint64_t *ids,
                                  size_t cap,
                                  size_t *count);

/**
 * Reloads bundle `bundle`: from its own directory when `from` is NULL (a
 * library rebuilt in place), else from `from`, whose manifest must name
 * the same bundle. Its tables are swapped in one step: kept contract
 * handles reach the new version, readers never wait. On any error the old
 * version keeps serving, untouched.
 *
 * # Safety
 *
 * `from` NULL or NUL-terminated; the rest as for `polyplug_load_bundle`.
 *
 * ```c
 * polyplug_reload_bundle(runtime, id, "plugins/counter-v2");
 * polyplug_reload_bundle(runtime, id, NULL); // rebuilt in place
 * ```
 */
polyplug_status polyplug_reload_bundle(const polyplug_runtime *runtime,
                                       uint64_t bundle,
                                       const char *from);

/**
 * Unloads bundle `bundle`. Refused (`POLYPLUG_ERR_HAS_DEPENDENTS`, naming
 * them) when loaded bundles require its contracts and nothing else
 * provides them. Its contract handles go stale; its library is closed once
 * no guard can reach it.
 *
 * # Safety
 *
 * As for `polyplug_load_bundle`.
 *
 * ```c
 * polyplug_unload_bundle(runtime, id);
 * ```
 */
polyplug_status polyplug_unload_bundle(const polyplug_runtime *runtime, uint64_t bundle);

/**
 * Unloads bundle `bundle` and, first, every bundle that depends on it.
 * Writes the first `cap` unloaded ids, in unload order, to `ids` and their
 * number to `*count` (unless NULL).
 *
 * # Safety
 *
 * As for `polyplug_load_dir`.
 *
 * ```c
 * uint64_t gone[16];
 * size_t count;
 * polyplug_unload_cascade(runtime, id, gone, 16, &count);
 * ```
 */
polyplug_status polyplug_unload_cascade(const polyplug_runtime *runtime,
                                        uint64_t bundle,
                                        uint64_t *ids,
                                        size_t cap,
                                        size_t *count);

/**
 * Waits up to `timeout_ms` milliseconds until every table retired so far
 * has no readers left and is destroyed, then closes the libraries nothing
 * uses any more. `POLYPLUG_ERR_DRAIN_TIMEOUT` (with the number still held)
 * when guards still pin them; a guard held by the calling thread always
 * makes it time out. `POLYPLUG_ERR_REENTRANT` when called from plugin
 * code that a write of this runtime is running.
 *
 * # Safety
 *
 * As for `polyplug_unload_bundle`.
 *
 * ```c
 * polyplug_unload_bundle(runtime, id);
 * polyplug_drain(runtime, 5000);
 * ```
 */
polyplug_status polyplug_drain(const polyplug_runtime *runtime, uint64_t timeout_ms);

/**
 * Reclaims retired tables and closes the libraries nothing uses any more;
 * every write does this too. Writes the number closed to `*closed` unless
 * it is NULL. `POLYPLUG_ERR_REENTRANT` when called from plugin code that a
 * write of this runtime is running.
 *
 * # Safety
 *
 * `closed` NULL or writable; `runtime` as above.
 *
 * ```c
 * size_t closed;
 * polyplug_reclaim(runtime, &closed);
 * ```
 */
polyplug_status polyplug_reclaim(const polyplug_runtime *runtime, size_t *closed);

/**
 * Writes the id of the loaded bundle named `name` (its manifest's name) to
 * `*bundle`; `POLYPLUG_ERR_UNKNOWN_BUNDLE` when none is.
 *
 * # Safety
 *
 * `name` NUL-terminated; `bundle` writable; `runtime` as above.
 *
 * ```c
 * uint64_t id;
 * polyplug_bundle_id(runtime, "reload-test", &id);
 * ```
 */
polyplug_status polyplug_bundle_id(const polyplug_runtime *runtime,
                                   const char *name,
                                   uint64_t *bundle);

/**
 * Writes the runtime's revision to `*revision`: it changes after every
 * load, reload and unload, so a host caching lookups checks one number.
 *
 * # Safety
 *
 * `revision` writable; `runtime` as above.
 *
 * ```c
 * uint64_t seen;
 * polyplug_revision(runtime, &seen);
 * ```
 */
polyplug_status polyplug_revision(const polyplug_runtime *runtime, uint64_t *revision);

/**
 * Writes the counts of libraries opened, closed and unmapped so far.
 *
 * # Safety
 *
 * `stats` writable; `runtime` as above.
 *
 * ```c
 * polyplug_library_stats stats;
 * polyplug_library_stats_get(runtime, &stats);
 * printf("%llu open\n", (unsigned long long)(stats.opened - stats.closed));
 * ```
 */
polyplug_status polyplug_library_stats_get(const polyplug_runtime *runtime,
                                           struct polyplug_library_stats *stats);

/**
 * The name of `status` (`"POLYPLUG_ERR_STALE_GUARD"`), or `"unknown
 * polyplug_status"`. A static, NUL-terminated string: never free it. Any
 * thread.
 *
 * ```c
 * printf("%s\n", polyplug_status_name(POLYPLUG_ERR_NULL)); // POLYPLUG_ERR_NULL
 * ```
 */
const char *polyplug_status_name(polyplug_status status);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

/* ------------------------------------------------------------------------
 * Written by hand in capi/cbindgen.toml.
 * ------------------------------------------------------------------------ */

/** No guard (all zero): an initializer, `polyplug_guard g = POLYPLUG_GUARD_NONE;`. */
#define POLYPLUG_GUARD_NONE { NULL, 0 }

#endif  /* POLYPLUG_HOST_H */
