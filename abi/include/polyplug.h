/*
 * polyplug.h: the C ABI shared by polyplug hosts and plugins.
 *
 * GENERATED from the Rust crate polyplug-abi (abi/src) by cbindgen, using
 * abi/cbindgen.toml. DO NOT EDIT: a test fails when this file is stale.
 * Regenerate it with
 *
 *     POLYPLUG_BLESS=1 cargo test -p polyplug-abi --test header
 *
 * Conventions:
 * - Every struct is plain data; its Rust twin is #[repr(C)] and the layouts
 *   are checked by the tests of polyplug-abi.
 * - Codes, levels and flags are uint32_t values with PP_ constants, never C
 *   enums, so any bit pattern is a valid value.
 * - PpContractId and PpContractHandle are #[repr(transparent)] newtypes of
 *   u64 in Rust. cbindgen emits them as typedefs of uint64_t, so in C they
 *   are plain integers: compare them with ==.
 * - A PpStrView is a (pointer, length) view of UTF-8 bytes, not
 *   NUL-terminated; build one from a literal with PP_STR (an expression) or
 *   PP_STR_INIT (a static initializer). A PpBytesView is the same for any
 *   bytes.
 * - Who frees what: views (PpStrView, PpBytesView) are borrowed for one
 *   call. A PpOwnedBuf result (`string`, `buf`) is allocated by the callee
 *   with the host table's alloc(len, 1) and freed by the caller with
 *   free(ptr, len, 1). An error message flagged
 *   PP_ERROR_FLAG_HOST_ALLOCATED is freed by its receiver the same way.
 * - Function pointer fields may be NULL where the documentation says so.
 */

#ifndef POLYPLUG_H
#define POLYPLUG_H

#include <stdint.h>
#include <stddef.h>

struct PpStrView;
struct PpBytesView;
struct PpOwnedBuf;
struct PpVersion;
struct PpAbiError;
struct PpNativeEntry;
struct PpTypedEntry;
struct PpContextEntry;
struct PpContractInterface;
struct PpHostApi;
struct PpBundleContext;

/**
 * The id of a contract: the 64-bit FNV-1a hash of the UTF-8 bytes of
 */
typedef uint64_t PpContractId;

/**
 * A contract found through the host table: an opaque handle that the
 */
typedef uint64_t PpContractHandle;

/**
 * The fixed native calling convention: `fn(instance, args, out, err)`.
 */
typedef uint32_t (*PpNativeFn)(void *instance, const void *args, void *out, struct PpAbiError *err);

/**
 * An untyped function pointer: the storage type of a typed entry. The host
 */
typedef void (*PpVoidFn)(void);

/**
 * Makes one instance of a stateful contract and writes it to `*instance`.
 */
typedef uint32_t (*PpCreateInstanceFn)(const struct PpHostApi *host,
                                       void **instance,
                                       struct PpAbiError *err);

/**
 * Destroys an instance made by the matching [`CreateInstanceFn`].
 */
typedef void (*PpDestroyInstanceFn)(void *instance);

/**
 * The entry point, exported as [`ENTRY_SYMBOL`]. It registers the plugin's
 */
typedef uint32_t (*PpEntryFn)(const struct PpHostApi *host,
                              const struct PpBundleContext *bundle,
                              struct PpAbiError *err);

/**
 * Registers a contract. Valid only while the entry point runs; later calls
 */
typedef uint32_t (*PpRegisterContractFn)(void *ctx,
                                         const struct PpContractInterface *contract,
                                         struct PpAbiError *err);

/**
 * Finds the best loaded contract named `name` that satisfies `min_version`
 */
typedef uint32_t (*PpFindContractFn)(void *ctx,
                                     struct PpStrView name,
                                     struct PpVersion min_version,
                                     PpContractHandle *out,
                                     struct PpAbiError *err);

/**
 * Writes the current interface of `handle` to `*out`. The pointers in it
 */
typedef uint32_t (*PpResolveContractFn)(void *ctx,
                                        PpContractHandle handle,
                                        struct PpContractInterface *out,
                                        struct PpAbiError *err);

/**
 * Logs `message` at `level` (one of the `LOG_*` constants).
 */
typedef void (*PpLogFn)(void *ctx, uint32_t level, struct PpStrView message);

/**
 * Allocates `size` bytes aligned to `align` (a power of two) from the host;
 */
typedef void *(*PpAllocFn)(void *ctx, size_t size, size_t align);

/**
 * Frees memory from [`AllocFn`], given the same size and alignment.
 */
typedef void (*PpFreeFn)(void *ctx, void *ptr, size_t size, size_t align);

/**
 * Copies the last error that the host reported to this bundle into `*out`
 */
typedef uint32_t (*PpLastErrorFn)(void *ctx, struct PpAbiError *out);

/**
 * A function run by an engine (a WebAssembly interpreter, a script
 */
typedef uint32_t (*PpContextFn)(void *ctx,
                                void *instance,
                                const void *args,
                                void *out,
                                struct PpAbiError *err);

/**
 * Makes one instance of a stateful contract whose functions are
 */
typedef uint32_t (*PpContextCreateFn)(void *ctx, void **instance, struct PpAbiError *err);

/**
 * Destroys an instance made by the matching [`ContextCreateFn`].
 */
typedef void (*PpContextDestroyFn)(void *ctx, void *instance);

/**
 * Saves the state of an instance made by the matching
 */
typedef uint32_t (*PpSaveInstanceFn)(void *instance, struct PpOwnedBuf *out, struct PpAbiError *err);

/**
 * Makes one instance of a stateful contract from bytes that a
 */
typedef uint32_t (*PpRestoreInstanceFn)(const struct PpHostApi *host,
                                        struct PpBytesView state,
                                        void **instance,
                                        struct PpAbiError *err);

/**
 * [`SaveInstanceFn`] for an instance made by a [`ContextCreateFn`] (or a
 */
typedef uint32_t (*PpContextSaveFn)(void *ctx,
                                    void *instance,
                                    struct PpOwnedBuf *out,
                                    struct PpAbiError *err);

/**
 * [`RestoreInstanceFn`] for a contract whose instances are made by a
 */
typedef uint32_t (*PpContextRestoreFn)(void *ctx,
                                       struct PpBytesView state,
                                       void **instance,
                                       struct PpAbiError *err);

/**
 * Success.
 */
#define PP_OK 0

/**
 * A pointer or value passed across the boundary was invalid (null, out of
 */
#define PP_ERR_BAD_ARGUMENT 1

/**
 * The named contract, function or symbol does not exist.
 */
#define PP_ERR_NOT_FOUND 2

/**
 * The plugin was built for another ABI version.
 */
#define PP_ERR_ABI_MISMATCH 3

/**
 * `register_contract` was called outside the entry point.
 */
#define PP_ERR_NOT_IN_INIT 4

/**
 * A contract was registered twice by one bundle.
 */
#define PP_ERR_DUPLICATE 5

/**
 * A contract was registered that the bundle's manifest does not declare.
 */
#define PP_ERR_UNDECLARED 6

/**
 * A registered interface failed validation (null function pointers, counts,
 */
#define PP_ERR_INVALID 7

/**
 * Plugin code panicked; the panic was caught at the boundary.
 */
#define PP_ERR_PANIC 8

/**
 * An allocation failed.
 */
#define PP_ERR_OUT_OF_MEMORY 9

/**
 * The operation is not supported by this host or plugin.
 */
#define PP_ERR_UNSUPPORTED 10

/**
 * A bug in the host; the message says more.
 */
#define PP_ERR_INTERNAL 11

/**
 * Guest code of an engine-run plugin (WebAssembly, a script) trapped:
 */
#define PP_ERR_TRAP 12

/**
 * Guest code of an engine-run plugin exhausted one of its bundle's
 */
#define PP_ERR_BUDGET 13

/**
 * The first code free for plugin-defined errors. Plugins may return any
 */
#define PP_ERR_PLUGIN 1000

/**
 * [`AbiError::flags`] bit: `message` was allocated with the host table's
 */
#define PP_ERROR_FLAG_HOST_ALLOCATED 1

/**
 * The ABI version this crate describes.
 */
#define PP_ABI_VERSION 4

/**
 * Log level: very detailed tracing.
 */
#define PP_LOG_TRACE 0

/**
 * Log level: debugging detail.
 */
#define PP_LOG_DEBUG 1

/**
 * Log level: normal operation.
 */
#define PP_LOG_INFO 2

/**
 * Log level: something unexpected that the plugin handled.
 */
#define PP_LOG_WARN 3

/**
 * Log level: an error.
 */
#define PP_LOG_ERROR 4

/**
 * A borrowed string: a pointer and a length in bytes, not NUL-terminated.
 */
typedef struct PpStrView {
  /**
   * First byte, or null when `len` is 0.
   */
  const uint8_t *ptr;
  /**
   * Length in bytes.
   */
  size_t len;
} PpStrView;

/**
 * A borrowed run of bytes: a pointer and a length. The argument type
 */
typedef struct PpBytesView {
  /**
   * First byte, or null when `len` is 0.
   */
  const uint8_t *ptr;
  /**
   * Length in bytes.
   */
  size_t len;
} PpBytesView;

/**
 * Bytes returned by a typed function: the result types `string` (UTF-8)
 */
typedef struct PpOwnedBuf {
  /**
   * First byte, allocated with the host's `alloc(len, 1)`; null when
   */
  uint8_t *ptr;
  /**
   * Length in bytes.
   */
  size_t len;
} PpOwnedBuf;

/**
 * A contract version, `major.minor.patch`.
 */
typedef struct PpVersion {
  /**
   * Breaking changes.
   */
  uint32_t major;
  /**
   * Additions that keep every older caller working.
   */
  uint32_t minor;
  /**
   * Fixes.
   */
  uint32_t patch;
} PpVersion;

/**
 * An error: a `u32` code and a message.
 */
typedef struct PpAbiError {
  /**
   * One of the `ERR_*` codes, or a plugin code `>= ERR_PLUGIN`.
   */
  uint32_t code;
  /**
   * `ERROR_FLAG_*` bits that say who owns `message`.
   */
  uint32_t flags;
  /**
   * What went wrong, for people.
   */
  struct PpStrView message;
} PpAbiError;
/**
 * No error: code [`OK`], no message. Initialise every `err` argument
 */
#define PpAbiError_NONE (PpAbiError){ .code = PP_OK, .flags = 0, .message = PpStrView_EMPTY }

/**
 * One native function of a contract.
 */
typedef struct PpNativeEntry {
  /**
   * The function's name, unique within the contract.
   */
  struct PpStrView name;
  /**
   * The function; a null entry is refused at registration.
   */
  PpNativeFn func;
} PpNativeEntry;

/**
 * One typed function of a contract: a plain C function pointer called with
 */
typedef struct PpTypedEntry {
  /**
   * The function's name, unique within the contract.
   */
  struct PpStrView name;
  /**
   * The function's C signature, as above.
   */
  struct PpStrView signature;
  /**
   * The function, cast to [`VoidFn`]; a null entry is refused.
   */
  PpVoidFn func;
  /**
   * The packed form, called with this entry's address as `ctx`; null
   */
  PpContextFn packed;
} PpTypedEntry;

/**
 * One function of a contract run by an engine: a typed function (its
 */
typedef struct PpContextEntry {
  /**
   * The function's name, unique within the contract (among its typed
   */
  struct PpStrView name;
  /**
   * The function's C signature, as for [`TypedEntry::signature`].
   */
  struct PpStrView signature;
  /**
   * Passed as the first argument of every call of `func`; valid for as
   */
  void *ctx;
  /**
   * The function; a null entry is refused.
   */
  PpContextFn func;
} PpContextEntry;

/**
 * A contract: what a plugin registers and a host calls.
 */
typedef struct PpContractInterface {
  /**
   * `ContractId::of(name, version.major)`; checked by the host.
   */
  PpContractId id;
  /**
   * The contract's name, for example `test.add`.
   */
  struct PpStrView name;
  /**
   * The contract's version.
   */
  struct PpVersion version;
  /**
   * Number of entries in `native`.
   */
  uint32_t native_count;
  /**
   * Native functions, `native_count` of them; may be null when the count
   */
  const struct PpNativeEntry *native;
  /**
   * Number of entries in `typed`.
   */
  uint32_t typed_count;
  /**
   * Typed functions, `typed_count` of them; may be null when the count is
   */
  const struct PpTypedEntry *typed;
  /**
   * Makes an instance; null for a contract without state. Set both or
   */
  PpCreateInstanceFn create_instance;
  /**
   * Destroys an instance.
   */
  PpDestroyInstanceFn destroy_instance;
  /**
   * Number of entries in `context`.
   */
  uint32_t context_count;
  /**
   * Functions run by an engine, `context_count` of them; may be null
   */
  const struct PpContextEntry *context;
  /**
   * Passed to `create_context_instance` and `destroy_context_instance`.
   */
  void *instance_ctx;
  /**
   * Makes an instance for the `context` functions; null for a contract
   */
  PpContextCreateFn create_context_instance;
  /**
   * Destroys an instance made by `create_context_instance`.
   */
  PpContextDestroyFn destroy_context_instance;
  /**
   * Saves an instance's state for a state handover (ABI 4); null when
   */
  PpSaveInstanceFn save_instance;
  /**
   * Makes an instance from saved state (ABI 4); null when the contract
   */
  PpRestoreInstanceFn restore_instance;
  /**
   * `save_instance` for instances made by `create_context_instance`,
   */
  PpContextSaveFn save_context_instance;
  /**
   * `restore_instance` for instances made by
   */
  PpContextRestoreFn restore_context_instance;
} PpContractInterface;

/**
 * The table of host services a plugin calls back into.
 */
typedef struct PpHostApi {
  /**
   * [`ABI_VERSION`] of the host.
   */
  uint32_t abi_version;
  /**
   * `size_of::<HostApi>()` as the host built it; fields beyond it are
   */
  uint32_t size;
  /**
   * The host's context for this library; opaque to the plugin.
   */
  void *ctx;
  /**
   * See [`RegisterContractFn`].
   */
  PpRegisterContractFn register_contract;
  /**
   * See [`FindContractFn`].
   */
  PpFindContractFn find_contract;
  /**
   * See [`ResolveContractFn`].
   */
  PpResolveContractFn resolve_contract;
  /**
   * See [`LogFn`].
   */
  PpLogFn log;
  /**
   * See [`AllocFn`].
   */
  PpAllocFn alloc;
  /**
   * See [`FreeFn`].
   */
  PpFreeFn free;
  /**
   * See [`LastErrorFn`].
   */
  PpLastErrorFn last_error;
} PpHostApi;

/**
 * What the entry point learns about the bundle it was loaded from. Valid
 */
typedef struct PpBundleContext {
  /**
   * The bundle's name, from its manifest.
   */
  struct PpStrView name;
  /**
   * The bundle's version, from its manifest.
   */
  struct PpVersion version;
  /**
   * The bundle directory, as UTF-8 when it is valid UTF-8, else empty.
   */
  struct PpStrView dir;
} PpBundleContext;

/* ------------------------------------------------------------------------
 * Written by hand in abi/cbindgen.toml (cbindgen cannot derive these).
 * ------------------------------------------------------------------------ */

/**
 * The empty PpStrView (`StrView::EMPTY` in Rust), a C compound literal.
 * PpAbiError_NONE, above, is one too: both are C only. A zero-initialised
 * value (`PpAbiError err = {0};` in C, `PpAbiError err{};` in C++) is the
 * same value.
 */
#ifndef __cplusplus
#define PpStrView_EMPTY ((PpStrView){ NULL, 0 })
#endif

/** Name of the exported `uint32_t` holding the plugin's ABI version. */
#define PP_ABI_VERSION_SYMBOL "polyplug_abi_version"

/** Name of the exported entry point, of type PpEntryFn. */
#define PP_ENTRY_SYMBOL "polyplug_entry"

/**
 * A PpStrView of a string literal, without its terminating NUL:
 * `PP_STR("test.add")`. An expression (a compound literal in C); for a
 * static initializer use PP_STR_INIT.
 */
#ifdef __cplusplus
#define PP_STR(lit) (PpStrView{ reinterpret_cast<const uint8_t *>(lit), sizeof(lit) - 1 })
#else
#define PP_STR(lit) ((PpStrView){ (const uint8_t *)(lit), sizeof(lit) - 1 })
#endif

/**
 * The braced initializer of a PpStrView of a string literal, for static
 * tables: `static const PpNativeEntry e = { PP_STR_INIT("add"), add };`.
 */
#define PP_STR_INIT(lit) { (const uint8_t *)(lit), sizeof(lit) - 1 }

/** Marks a symbol as exported from the plugin's shared library. */
#ifndef PP_EXPORT
#if defined(_WIN32) || defined(__CYGWIN__)
#define PP_EXPORT __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#define PP_EXPORT __attribute__((visibility("default")))
#else
#define PP_EXPORT
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Defined by every plugin: `const uint32_t polyplug_abi_version =
 * PP_ABI_VERSION;`. The host reads it before calling any plugin function.
 */
PP_EXPORT extern const uint32_t polyplug_abi_version;

/**
 * Defined by every plugin: the entry point, of type PpEntryFn. It registers
 * the plugin's contracts through `host->register_contract` and returns PP_OK,
 * or an error code with `*err` filled.
 */
PP_EXPORT uint32_t polyplug_entry(const PpHostApi *host, const PpBundleContext *bundle, PpAbiError *err);

/**
 * The id of contract `name` (NUL-terminated UTF-8) at major version `major`:
 * FNV-1a 64 of the bytes of "name@major", `major` in decimal without leading
 * zeros. Equal to `ContractId::of(name, major)` in Rust.
 */
static inline uint64_t pp_contract_id(const char *name, uint32_t major) {
    const uint64_t prime = UINT64_C(0x100000001b3);
    uint64_t hash = UINT64_C(0xcbf29ce484222325);
    const unsigned char *byte = (const unsigned char *)name;
    unsigned char digits[10];
    int count = 0;
    for (; *byte != 0; ++byte) {
        hash ^= (uint64_t)*byte;
        hash *= prime;
    }
    hash ^= (uint64_t)'@';
    hash *= prime;
    do {
        digits[count++] = (unsigned char)('0' + major % 10u);
        major /= 10u;
    } while (major != 0u);
    while (count > 0) {
        hash ^= (uint64_t)digits[--count];
        hash *= prime;
    }
    return hash;
}

/**
 * Whether the view `view` holds exactly the bytes of the NUL-terminated
 * `text`.
 */
static inline int pp_view_is(PpStrView view, const char *text) {
    size_t i = 0;
    for (; text[i] != 0; ++i) {
        if (i >= view.len || view.ptr[i] != (uint8_t)text[i]) {
            return 0;
        }
    }
    return i == view.len;
}

/**
 * One typed function of a resolved contract, whatever runs it: a native
 * typed entry or a function run by an engine (WebAssembly, a script).
 * pp_typed fills it; pp_typed_call calls it packed. `raw` is the plain C
 * function of a native typed entry (call it with its C type when you know
 * it), NULL for an engine-run one. Valid while the PpContractInterface it
 * came from is: until the plugin function that resolved it returns.
 */
typedef struct PpTypedFn {
    /** The packed call, or NULL when the function offers none. */
    PpContextFn call;
    /** Its first argument. */
    void *ctx;
    /** The plain C function, or NULL for an engine-run one. */
    PpVoidFn raw;
} PpTypedFn;

/**
 * Finds the typed function `name` of `iface`, among its typed entries and
 * then its context entries, and checks that its signature is exactly
 * `signature` (for example "u32(u32)" or "string(str)"). Returns PP_OK,
 * PP_ERR_NOT_FOUND when there is no such function, or
 * PP_ERR_BAD_ARGUMENT when its signature differs.
 */
static inline uint32_t pp_typed(const PpContractInterface *iface, const char *name,
                                const char *signature, PpTypedFn *out) {
    uint32_t i;
    for (i = 0; i < iface->typed_count; ++i) {
        const PpTypedEntry *entry = &iface->typed[i];
        if (pp_view_is(entry->name, name)) {
            if (!pp_view_is(entry->signature, signature)) {
                return PP_ERR_BAD_ARGUMENT;
            }
            out->call = entry->packed;
            out->ctx = (void *)entry;
            out->raw = entry->func;
            return PP_OK;
        }
    }
    for (i = 0; i < iface->context_count; ++i) {
        const PpContextEntry *entry = &iface->context[i];
        if (pp_view_is(entry->name, name)) {
            if (!pp_view_is(entry->signature, signature)) {
                return PP_ERR_BAD_ARGUMENT;
            }
            out->call = entry->func;
            out->ctx = entry->ctx;
            out->raw = NULL;
            return PP_OK;
        }
    }
    return PP_ERR_NOT_FOUND;
}

/**
 * Calls `fn` packed, whatever runs it: `args` points to its arguments laid
 * out as a C struct of the signature's types in order (a `str` is a
 * PpStrView, a `bytes` a PpBytesView), `out` to one value of its result
 * type (a `string` or `buf` result is a PpOwnedBuf that the caller frees
 * with the host's `free(ptr, len, 1)`). `instance` is NULL for a stateless
 * call. Returns PP_OK, or an error code with `*err` filled;
 * PP_ERR_UNSUPPORTED when the function offers no packed form.
 */
static inline uint32_t pp_typed_call(const PpTypedFn *fn, void *instance, const void *args,
                                     void *out, PpAbiError *err) {
    if (fn->call == NULL) {
        if (err != NULL) {
            err->code = PP_ERR_UNSUPPORTED;
            err->flags = 0;
            err->message = PP_STR("this typed function offers no packed form");
        }
        return PP_ERR_UNSUPPORTED;
    }
    return fn->call(fn->ctx, instance, args, out, err);
}

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif  /* POLYPLUG_H */
