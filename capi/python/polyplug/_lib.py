"""The C API of libpolyplug, declared for ctypes, and how the library is found.

Mirrors ``capi/include/polyplug_host.h``; ``capi/python/tests`` checks every
declaration against the header's function names and the constants' values.
"""

import ctypes
import os
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_char_p,
    c_size_t,
    c_uint32,
    c_uint64,
    c_void_p,
)
from pathlib import Path

# ---- status codes (POLYPLUG_*) -------------------------------------------

OK = 0
STATUS = {
    0: "POLYPLUG_OK",
    1: "POLYPLUG_ERR_NULL",
    2: "POLYPLUG_ERR_UTF8",
    3: "POLYPLUG_ERR_INVALID_HANDLE",
    4: "POLYPLUG_ERR_WRONG_THREAD",
    5: "POLYPLUG_ERR_STALE_GUARD",
    6: "POLYPLUG_ERR_BUSY",
    7: "POLYPLUG_ERR_GUARD_LIMIT",
    8: "POLYPLUG_ERR_PANIC",
    9: "POLYPLUG_ERR_REENTRANT",
    20: "POLYPLUG_ERR_NOT_FOUND",
    21: "POLYPLUG_ERR_STALE_CONTRACT",
    22: "POLYPLUG_ERR_NO_FUNCTION",
    23: "POLYPLUG_ERR_SIGNATURE_MISMATCH",
    24: "POLYPLUG_ERR_STATELESS",
    25: "POLYPLUG_ERR_NOT_NATIVE",
    30: "POLYPLUG_ERR_CALL",
    40: "POLYPLUG_ERR_BUNDLE",
    41: "POLYPLUG_ERR_LIBRARY",
    42: "POLYPLUG_ERR_UNSUPPORTED_LOADER",
    43: "POLYPLUG_ERR_ALREADY_LOADED",
    44: "POLYPLUG_ERR_MISSING_PROVIDER",
    45: "POLYPLUG_ERR_DEPENDENCY_CYCLE",
    46: "POLYPLUG_ERR_INIT_FAILED",
    47: "POLYPLUG_ERR_INVALID_CONTRACT",
    48: "POLYPLUG_ERR_UNDECLARED",
    49: "POLYPLUG_ERR_DUPLICATE_CONTRACT",
    50: "POLYPLUG_ERR_NOT_REGISTERED",
    51: "POLYPLUG_ERR_RELOAD_LACKS_CONTRACT",
    52: "POLYPLUG_ERR_BREAKS_DEPENDENT",
    53: "POLYPLUG_ERR_NAME_MISMATCH",
    54: "POLYPLUG_ERR_UNKNOWN_BUNDLE",
    55: "POLYPLUG_ERR_HAS_DEPENDENTS",
    56: "POLYPLUG_ERR_STORE_FULL",
    57: "POLYPLUG_ERR_READ_DIR",
    58: "POLYPLUG_ERR_HOST_CONTRACT",
    59: "POLYPLUG_ERR_CODE",
    60: "POLYPLUG_ERR_DRAIN_TIMEOUT",
    61: "POLYPLUG_ERR_IO",
    62: "POLYPLUG_ERR_FOREIGN_BUNDLE",
}

EVENT_KINDS = {
    0: "none",
    1: "loading",
    2: "loaded",
    3: "load_failed",
    4: "reloading",
    5: "reloaded",
    6: "reload_failed",
    7: "unloading",
    8: "unloaded",
    9: "drained",
    10: "library_closed",
    11: "log",
}

UNMAPPED = {0: "unknown", 1: "yes", 2: "no"}

NO_BUNDLE = 2**64 - 1
MAX_GUARDS = 16
LOADER_WASM = 1
LOADER_LUA = 2
LOADER_JS = 4
LOADER_PYTHON = 8

# ---- types ---------------------------------------------------------------


class Version(Structure):
    """``PpVersion``."""

    _fields_ = [("major", c_uint32), ("minor", c_uint32), ("patch", c_uint32)]


class Options(Structure):
    """polyplug_options: the loaders a runtime adds to the native one."""

    _fields_ = [("loaders", c_uint32)]


class View(Structure):
    """PpStrView / PpBytesView: a borrowed (pointer, length) argument. The
    pointer is set from a ``bytes`` object (its own buffer, NULs included,
    kept alive by the structure) or None."""

    _fields_ = [("ptr", c_char_p), ("len", c_size_t)]


class OwnedBuf(Structure):
    """PpOwnedBuf: a string or buf result, freed with polyplug_buf_free."""

    _fields_ = [("ptr", c_void_p), ("len", c_size_t)]


class Guard(Structure):
    """``polyplug_guard``, passed by value."""

    _fields_ = [("reader", c_void_p), ("token", c_uint64)]


class ContractInfo(Structure):
    """``polyplug_contract_info``."""

    _fields_ = [
        ("name", c_void_p),
        ("name_len", c_size_t),
        ("version", Version),
        ("bundle", c_uint64),
        ("stateful", c_uint32),
        ("native_count", c_uint32),
        ("typed_count", c_uint32),
    ]


class ContractVersion(Structure):
    """``polyplug_contract_version``."""

    _fields_ = [("name", c_void_p), ("name_len", c_size_t), ("version", Version)]


class BundleInfo(Structure):
    """``polyplug_bundle_info``."""

    _fields_ = [
        ("id", c_uint64),
        ("name", c_void_p),
        ("name_len", c_size_t),
        ("version", Version),
        ("dir", c_void_p),
        ("dir_len", c_size_t),
        ("contracts", POINTER(ContractVersion)),
        ("contract_count", c_size_t),
        ("requires", POINTER(ContractVersion)),
        ("require_count", c_size_t),
    ]


class LibraryStats(Structure):
    """``polyplug_library_stats``."""

    _fields_ = [
        ("opened", c_uint64),
        ("closed", c_uint64),
        ("unmapped", c_uint64),
        ("still_mapped", c_uint64),
    ]


class Event(Structure):
    """``polyplug_event``."""

    _fields_ = [
        ("kind", c_uint32),
        ("level", c_uint32),
        ("unmapped", c_uint32),
        ("bundle", c_uint64),
        ("version", Version),
        ("from_", Version),
        ("name", c_void_p),
        ("name_len", c_size_t),
        ("path", c_void_p),
        ("path_len", c_size_t),
        ("text", c_void_p),
        ("text_len", c_size_t),
    ]


EVENT_CALLBACK = CFUNCTYPE(None, c_void_p, POINTER(Event))
VOID_FN = c_void_p
# PpContextFn: a packed form, called as (ctx, instance, args, out, err).
CONTEXT_FN = CFUNCTYPE(c_uint32, c_void_p, c_void_p, c_void_p, c_void_p, c_void_p)
# The plugin error code a packed form returns when its callable raised.
PP_ERR_PANIC = 8
p = c_void_p
u32 = c_uint32
u64 = c_uint64
size = c_size_t

# name: (restype, argtypes)
FUNCTIONS = {
    "polyplug_status_name": (c_char_p, [u32]),
    "polyplug_last_error_status": (u32, []),
    "polyplug_last_error_code": (u32, []),
    "polyplug_last_error_message": (c_void_p, [POINTER(size)]),
    "polyplug_runtime_new": (u32, [POINTER(p)]),
    "polyplug_runtime_new_with": (u32, [POINTER(Options), POINTER(p)]),
    "polyplug_runtime_destroy": (u32, [p]),
    "polyplug_load_bundle": (u32, [p, c_char_p, POINTER(u64)]),
    "polyplug_load_dir": (u32, [p, c_char_p, POINTER(u64), size, POINTER(size)]),
    "polyplug_reload_bundle": (u32, [p, u64, c_char_p]),
    "polyplug_unload_bundle": (u32, [p, u64]),
    "polyplug_unload_cascade": (u32, [p, u64, POINTER(u64), size, POINTER(size)]),
    "polyplug_drain": (u32, [p, u64]),
    "polyplug_reclaim": (u32, [p, POINTER(size)]),
    "polyplug_bundle_id": (u32, [p, c_char_p, POINTER(u64)]),
    "polyplug_revision": (u32, [p, POINTER(u64)]),
    "polyplug_library_stats_get": (u32, [p, POINTER(LibraryStats)]),
    "polyplug_bundles": (u32, [p, POINTER(p)]),
    "polyplug_bundle_list_items": (u32, [p, POINTER(POINTER(BundleInfo)), POINTER(size)]),
    "polyplug_bundle_list_destroy": (u32, [p]),
    "polyplug_host_contract_new": (u32, [c_char_p, Version, POINTER(p)]),
    "polyplug_host_contract_native": (u32, [p, c_char_p, VOID_FN]),
    "polyplug_host_contract_typed": (u32, [p, c_char_p, c_char_p, VOID_FN]),
    "polyplug_host_contract_typed_packed": (u32, [p, c_char_p, c_char_p, VOID_FN, CONTEXT_FN]),
    "polyplug_register_host_contract": (u32, [p, p, POINTER(u64)]),
    "polyplug_host_contract_destroy": (u32, [p]),
    "polyplug_reader_new": (u32, [p, POINTER(p)]),
    "polyplug_reader_destroy": (u32, [p]),
    "polyplug_pin": (u32, [p, POINTER(Guard)]),
    "polyplug_unpin": (u32, [Guard]),
    "polyplug_repin": (u32, [Guard]),
    "polyplug_guard_revision": (u32, [Guard, POINTER(u64)]),
    "polyplug_find": (u32, [Guard, c_char_p, Version, POINTER(u64)]),
    "polyplug_find_all": (u32, [Guard, c_char_p, Version, POINTER(u64), size, POINTER(size)]),
    "polyplug_contract_describe": (u32, [Guard, u64, POINTER(ContractInfo)]),
    "polyplug_typed": (u32, [Guard, u64, c_char_p, c_char_p, POINTER(VOID_FN)]),
    "polyplug_fn_new": (u32, [Guard, u64, c_char_p, c_char_p, POINTER(p)]),
    "polyplug_fn_get": (u32, [Guard, p, POINTER(VOID_FN)]),
    "polyplug_fn_destroy": (u32, [p]),
    "polyplug_fn_call": (u32, [Guard, p, c_void_p, c_void_p]),
    "polyplug_fn_call_pinned": (u32, [p, p, c_void_p, c_void_p]),
    "polyplug_buf_free": (u32, [OwnedBuf]),
    "polyplug_call_native": (u32, [Guard, u64, c_char_p, c_void_p, c_void_p]),
    "polyplug_instance_new": (u32, [Guard, u64, POINTER(p)]),
    "polyplug_instance_call": (u32, [p, c_char_p, c_void_p, c_void_p]),
    "polyplug_instance_version": (u32, [p, POINTER(Version)]),
    "polyplug_instance_destroy": (u32, [p]),
    "polyplug_subscribe": (u32, [p, POINTER(p)]),
    "polyplug_events_poll": (u32, [p, POINTER(Event)]),
    "polyplug_events_wait": (u32, [p, u64, POINTER(Event)]),
    "polyplug_subscription_destroy": (u32, [p]),
    "polyplug_events_listen": (u32, [p, EVENT_CALLBACK, c_void_p, POINTER(p)]),
    "polyplug_listener_destroy": (u32, [p]),
}

LIBRARY_NAME = "libpolyplug.so"
# The name cargo writes it under in a target directory (polyplug-capi's
# Rust library is `polyplug_capi`, apart from the runtime's `polyplug`).
CARGO_NAME = "libpolyplug_capi.so"


def _candidates():
    """Where libpolyplug may be, best first."""
    explicit = os.environ.get("POLYPLUG_LIB")
    if explicit:
        yield Path(explicit)
        return
    here = Path(__file__).resolve().parent
    yield here / LIBRARY_NAME
    yield here.parent / LIBRARY_NAME
    # The cargo target directory of the repository this package sits in
    # (capi/python/polyplug -> the workspace root), or $CARGO_TARGET_DIR.
    roots = []
    if os.environ.get("CARGO_TARGET_DIR"):
        roots.append(Path(os.environ["CARGO_TARGET_DIR"]))
    roots.append(here.parents[2] / "target")
    found = []
    for root in roots:
        for profile in ("release", "debug"):
            for sub in ("", "deps"):
                for name in (LIBRARY_NAME, CARGO_NAME):
                    path = root / profile / sub / name
                    if path.is_file():
                        found.append(path)
    # The most recently built one: a stale copy must not win.
    yield from sorted(found, key=lambda path: path.stat().st_mtime, reverse=True)


def load():
    """The library, with every function declared. Raises OSError, naming
    the places searched, when none is found."""
    tried = []
    for path in _candidates():
        tried.append(str(path))
        if path.is_file():
            lib = ctypes.CDLL(str(path))
            for name, (restype, argtypes) in FUNCTIONS.items():
                function = getattr(lib, name)
                function.restype = restype
                function.argtypes = argtypes
            lib.path = path
            return lib
    raise OSError(
        "libpolyplug not found; build it with `cargo build -p polyplug-capi` "
        "or set POLYPLUG_LIB to its path. Tried: " + ", ".join(tried)
    )
