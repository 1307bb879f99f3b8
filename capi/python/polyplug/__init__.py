"""polyplug for Python hosts: load plugins written in Rust, C and C++, call
them, hot-reload and unload them while other threads keep calling.

A thin layer over libpolyplug's C API through ctypes: no build step. The
library is found through ``POLYPLUG_LIB`` (a path), next to this package, or
in the cargo target directory of the repository it sits in.

    import polyplug

    with polyplug.Runtime() as runtime:
        bundle = runtime.load_bundle("plugins/reload-v1")
        version = runtime.find("reload.test", (1, 0)).function("version", "u32()")
        print(version())                      # 100
        runtime.reload_bundle(bundle, "plugins/reload-v2")
        print(version())                      # 200: the same function, the new version

Typed functions take and return ints and floats as their signature says
(``u8``..``u64``, ``i8``..``i64``, ``usize``, ``isize``, ``f32``, ``f64``,
``void``), and text and bytes: a ``str`` argument takes a Python ``str``
(passed as UTF-8), a ``bytes`` argument a ``bytes``-like value; a ``string``
result comes back as a ``str`` (``NotUtf8Error``, naming the function, when
the plugin returned bytes that are not UTF-8) and a ``buf`` result as
``bytes``; the library's buffer is freed with ``polyplug_buf_free`` once,
after it is copied. Such functions, and functions an engine runs
(WebAssembly, Lua, JavaScript: ``Runtime(loaders=polyplug.LOADER_WASM |
polyplug.LOADER_LUA | polyplug.LOADER_JS)``), are called packed
through ``polyplug_fn_call``; the others through their plain C pointer.

Threads: reads go through a reader per thread, made on first use. A thread
that is done with a runtime calls ``runtime.release_thread()``, which
destroys that thread's reader and function handles there; the runtime
cannot be closed while another thread still holds a reader.

Errors are ``polyplug.Error`` subclasses carrying the status, the plugin's
code and the runtime's message, which names the bundle, contract or
function.
"""

import ctypes
import itertools
import threading
from collections import namedtuple
from ctypes import byref, c_size_t, c_uint64, c_void_p

from . import _lib

__all__ = [
    "Runtime",
    "Contract",
    "Function",
    "Instance",
    "Guard",
    "Subscription",
    "Listener",
    "Event",
    "Bundle",
    "LibraryStats",
    "Error",
    "MisuseError",
    "NotFoundError",
    "StaleContractError",
    "NoFunctionError",
    "SignatureMismatchError",
    "StatelessError",
    "CallError",
    "LoadError",
    "DrainTimeoutError",
    "NotUtf8Error",
    "LOADER_WASM",
    "LOADER_LUA",
    "LOADER_JS",
    "LOADER_PYTHON",
    "prototype",
    "library",
]

_LIB = None
_KEYS = itertools.count()
LOADER_WASM = _lib.LOADER_WASM
LOADER_LUA = _lib.LOADER_LUA
LOADER_JS = _lib.LOADER_JS
LOADER_PYTHON = _lib.LOADER_PYTHON


def library():
    """The loaded libpolyplug (ctypes), loading it on first use."""
    global _LIB
    if _LIB is None:
        _LIB = _lib.load()
    return _LIB


# ---- errors ---------------------------------------------------------------


class Error(Exception):
    """A failed call of libpolyplug: ``status`` (an int), ``status_name``,
    ``code`` (the plugin's own code, or 0) and ``message``."""

    def __init__(self, status, code, message):
        super().__init__(f"{_lib.STATUS.get(status, status)}: {message}")
        self.status = status
        self.status_name = _lib.STATUS.get(status, "unknown polyplug_status")
        self.code = code
        self.message = message


class MisuseError(Error):
    """A NULL, a destroyed or foreign handle, the wrong thread, a stale or
    busy object: a bug in the host."""


class NotFoundError(Error):
    """No loaded contract satisfies the name and version."""


class StaleContractError(Error):
    """The contract was unloaded."""


class NoFunctionError(Error):
    """The contract has no such function."""


class SignatureMismatchError(Error):
    """The typed function has another signature."""


class StatelessError(Error):
    """The contract makes no instances."""


class CallError(Error):
    """A plugin function returned an error code (``code``)."""


class LoadError(Error):
    """A load, reload or unload that did not happen; nothing changed."""


class DrainTimeoutError(Error):
    """Readers still hold retired tables."""


class NotUtf8Error(Error):
    """A typed function's ``string`` result is not UTF-8 (status
    ``POLYPLUG_ERR_UTF8``); the message names the function. Its bytes are in
    ``data``; the library's buffer was freed."""

    def __init__(self, message, data):
        super().__init__(2, 0, message)
        self.data = data


def _error_class(status):
    if status < 20:
        return MisuseError
    return {
        20: NotFoundError,
        21: StaleContractError,
        22: NoFunctionError,
        23: SignatureMismatchError,
        24: StatelessError,
        30: CallError,
        60: DrainTimeoutError,
    }.get(status, LoadError if 40 <= status < 60 else Error)


def _check(status):
    if status != _lib.OK:
        lib = library()
        length = c_size_t()
        pointer = lib.polyplug_last_error_message(byref(length))
        message = ctypes.string_at(pointer, length.value).decode("utf-8", "replace")
        raise _error_class(status)(status, lib.polyplug_last_error_code(), message)


def _text(pointer, length):
    return ctypes.string_at(pointer, length).decode("utf-8", "replace") if pointer else ""


def _version(version):
    """A ``Version`` from ``(major, minor, patch)``, shorter tuples, or ``"1.2.3"``."""
    if isinstance(version, str):
        version = tuple(int(part) for part in version.split("."))
    parts = tuple(version) + (0, 0, 0)
    return _lib.Version(parts[0], parts[1], parts[2])


def _tuple(version):
    return (version.major, version.minor, version.patch)


# ---- signatures -----------------------------------------------------------

_TYPES = {
    "u8": ctypes.c_uint8,
    "u16": ctypes.c_uint16,
    "u32": ctypes.c_uint32,
    "u64": ctypes.c_uint64,
    "i8": ctypes.c_int8,
    "i16": ctypes.c_int16,
    "i32": ctypes.c_int32,
    "i64": ctypes.c_int64,
    "usize": ctypes.c_size_t,
    "isize": ctypes.c_ssize_t,
    "f32": ctypes.c_float,
    "f64": ctypes.c_double,
}


# Views (arguments) and owned results: passed packed only.
_VIEWS = ("str", "bytes")
_OWNED = ("string", "buf")


def _split(signature):
    """``(ret, [args])`` of a signature such as ``"u32(u32,u32)"``."""
    compact = "".join(signature.split())
    ret, _, rest = compact.partition("(")
    if not rest.endswith(")"):
        raise ValueError(f"expected `ret(args)`, found {signature!r}")
    return ret, [a for a in rest[:-1].split(",") if a]


def prototype(signature):
    """The ctypes function type a signature such as ``"u32(u32,u32)"`` spells.
    Signatures with ``str``, ``bytes``, ``string`` or ``buf`` have none here:
    ``Contract.function`` calls those packed."""
    ret, args = _split(signature)
    try:
        restype = None if ret == "void" else _TYPES[ret]
        argtypes = [_TYPES[a] for a in args]
    except KeyError as missing:
        raise ValueError(f"unknown type {missing} in {signature!r}") from None
    return ctypes.CFUNCTYPE(restype, *argtypes)


def _packed_host(signature, body):
    """The packed form of host function ``body`` of ``signature`` (numbers
    only): reads the arguments from their C struct, writes the result to
    ``out``. A script or a WebAssembly guest calls a host function through
    it. An exception stays here: the caller gets ``PP_ERR_PANIC``."""
    layout = _Packed(signature)
    count = len(layout.args)

    def packed(ctx, instance, args, out, err):
        try:
            values = []
            if layout.struct is not None:
                struct = layout.struct.from_address(args)
                values = [getattr(struct, f"a{i}") for i in range(count)]
            result = body(*values)
            if layout.restype is not None:
                layout.restype.from_address(out).value = result
            return _lib.OK
        except BaseException:
            return _lib.PP_ERR_PANIC

    return _lib.CONTEXT_FN(packed)


class _Packed:
    """How one signature is called with ``polyplug_fn_call``: its arguments
    as a ctypes structure laid out as the C struct of the signature, and
    room for its result."""

    def __init__(self, signature):
        ret, args = _split(signature)
        try:
            fields = [
                (f"a{i}", _lib.View if a in _VIEWS else _TYPES[a]) for i, a in enumerate(args)
            ]
            self.restype = None if ret == "void" else _lib.OwnedBuf if ret in _OWNED else _TYPES[ret]
        except KeyError as missing:
            raise ValueError(f"unknown type {missing} in {signature!r}") from None
        self.ret = ret
        self.args = args
        self.struct = type("Args", (ctypes.Structure,), {"_fields_": fields}) if fields else None

    def pack(self, name, values):
        """The argument structure (or None) and what keeps its views alive."""
        if len(values) != len(self.args):
            raise TypeError(f"{name} takes {len(self.args)} arguments, {len(values)} given")
        if self.struct is None:
            return None, ()
        packed, keep = [], []
        for ty, value in zip(self.args, values):
            if ty in _VIEWS:
                if (ty == "str") != isinstance(value, str):
                    want = "str" if ty == "str" else "bytes-like"
                    raise TypeError(f"{name}: a {ty} argument takes a {want} value, not {type(value).__name__}")
                data = value.encode("utf-8") if ty == "str" else bytes(value)
                keep.append(data)
                # A view of the bytes object's own buffer, NULs included;
                # {NULL, 0} when empty.
                packed.append(_lib.View(data or None, len(data)))
            else:
                packed.append(value)
        return self.struct(*packed), keep


# ---- reading --------------------------------------------------------------


class Guard:
    """A pinned guard on this thread's reader: a context manager. What it
    finds, and typed functions it hands out, are valid until it is
    unpinned."""

    def __init__(self, runtime):
        self._runtime = runtime
        self._raw = _lib.Guard()
        _check(library().polyplug_pin(runtime._reader(), byref(self._raw)))
        self._pinned = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.unpin()

    def unpin(self):
        """Lets go: what was found under this guard must not be used after."""
        if self._pinned:
            self._pinned = False
            _check(library().polyplug_unpin(self._raw))

    def find(self, name, version=(1, 0, 0)):
        """The best loaded contract ``name`` satisfying ``version``."""
        handle = c_uint64()
        _check(library().polyplug_find(self._raw, name.encode(), _version(version), byref(handle)))
        return Contract(self._runtime, handle.value)

    def find_all(self, name, version=(1, 0, 0)):
        """Every loaded contract ``name`` satisfying ``version``."""
        count = c_size_t()
        lib = library()
        _check(lib.polyplug_find_all(self._raw, name.encode(), _version(version), None, 0, byref(count)))
        handles = (c_uint64 * max(count.value, 1))()
        _check(
            lib.polyplug_find_all(
                self._raw, name.encode(), _version(version), handles, count.value, byref(count)
            )
        )
        return [Contract(self._runtime, handles[i]) for i in range(min(count.value, len(handles)))]

    def typed(self, contract, name, signature):
        """Typed function ``name`` of ``contract`` as a ctypes function,
        checked against ``signature``; callable while this guard is
        pinned. The fastest form: a plain ctypes call."""
        pointer = c_void_p()
        _check(
            library().polyplug_typed(
                self._raw, contract.handle, name.encode(), signature.encode(), byref(pointer)
            )
        )
        return prototype(signature)(pointer.value)

    def revision(self):
        """The runtime's revision, as this guard sees it."""
        revision = c_uint64()
        _check(library().polyplug_guard_revision(self._raw, byref(revision)))
        return revision.value


class Contract:
    """A contract handle: kept across guards, it follows reloads and is
    refused (``StaleContractError``) once the contract is unloaded."""

    def __init__(self, runtime, handle):
        self._runtime = runtime
        self.handle = handle

    def info(self):
        """``(name, version, bundle id or None, stateful)`` as it serves now."""
        with self._runtime.pin() as guard:
            info = _lib.ContractInfo()
            _check(library().polyplug_contract_describe(guard._raw, self.handle, byref(info)))
            bundle = None if info.bundle == _lib.NO_BUNDLE else info.bundle
            return (_text(info.name, info.name_len), _tuple(info.version), bundle, bool(info.stateful))

    def function(self, name, signature):
        """Typed function ``name``, checked against ``signature`` now and
        after every reload. Call it like a Python function."""
        return Function(self, name, signature)

    def call_native(self, name, args, out_type):
        """Calls native function ``name`` with ``args`` (a ctypes value, or
        None) and returns what it wrote, a ``out_type``."""
        out = out_type()
        with self._runtime.pin() as guard:
            _check(
                library().polyplug_call_native(
                    guard._raw,
                    self.handle,
                    name.encode(),
                    None if args is None else byref(args),
                    byref(out),
                )
            )
        return out.value if hasattr(out, "value") else out

    def create_instance(self):
        """A new instance of this stateful contract."""
        pointer = c_void_p()
        with self._runtime.pin() as guard:
            _check(library().polyplug_instance_new(guard._raw, self.handle, byref(pointer)))
        return Instance(pointer)


class Function:
    """A typed function bound by name and signature. Each call pins this
    thread's reader, fetches the serving version's function (a handle check
    and a compare), calls it, and unpins: safe across reloads.

    A function whose signature has ``str``, ``bytes``, ``string`` or
    ``buf``, and one an engine runs, is called packed
    (``polyplug_fn_call``): views of the arguments' bytes, borrowed for the
    call; an owned result copied into a ``str`` or ``bytes`` and freed."""

    def __init__(self, contract, name, signature):
        self._runtime = contract._runtime
        self._contract = contract
        self.name = name
        self.signature = signature
        ret, args = _split(signature)
        self._packed = _Packed(signature) if ret in _OWNED or any(a in _VIEWS for a in args) else None
        self._prototype = None if self._packed else prototype(signature)
        self._key = next(_KEYS)
        self._calls()  # check the signature now, on this thread

    def _handle(self):
        """This thread's ``polyplug_fn`` for this function."""
        state = self._runtime._thread()
        handle = state.functions.get(self._key)
        if handle is None:
            pointer = c_void_p()
            with self._runtime.pin() as guard:
                _check(
                    library().polyplug_fn_new(
                        guard._raw,
                        self._contract.handle,
                        self.name.encode(),
                        self.signature.encode(),
                        byref(pointer),
                    )
                )
            handle = state.functions[self._key] = pointer.value
        return handle

    def _calls(self):
        """This thread's call state: the reader and function handles, the C
        calls and the out-values, made once per thread and dropped by
        ``release_thread``."""
        state = self._runtime._thread()
        calls = state.calls.get(self._key)
        if calls is None:
            lib = library()
            handle = self._handle()
            guard, pointer = _lib.Guard(), c_void_p()
            calls = state.calls[self._key] = (
                self._runtime._reader(),
                handle,
                lib.polyplug_pin,
                lib.polyplug_fn_get,
                lib.polyplug_unpin,
                guard,
                byref(guard),
                pointer,
                byref(pointer),
                {},  # address -> ctypes function
            )
        return calls

    def __call__(self, *args):
        if self._packed is not None:
            return self._call_packed(args)
        reader, handle, pin, fn_get, unpin, guard, guard_ref, pointer, pointer_ref, made = self._calls()
        status = pin(reader, guard_ref)
        if status:
            _check(status)
        try:
            status = fn_get(guard, handle, pointer_ref)
            if status == _NOT_NATIVE:
                # Run by an engine: packed from now on.
                self._packed = _Packed(self.signature)
                return self._call_packed(args, guard)
            if status:
                _check(status)
            address = pointer.value
            function = made.get(address)
            if function is None:
                if len(made) > 64:  # old versions' addresses: forget them
                    made.clear()
                function = made[address] = self._prototype(address)
            return function(*args)
        finally:
            unpin(guard)

    def _call_packed(self, args, pinned=None):
        """One call through ``polyplug_fn_call`` under ``pinned``, or
        through ``polyplug_fn_call_pinned`` (pin, call and unpin in one
        crossing)."""
        packed = self._packed
        values, keep = packed.pack(self.name, args)
        out = packed.restype() if packed.restype is not None else None
        reader, handle, *_ = self._calls()
        lib = library()
        values_ref = None if values is None else byref(values)
        out_ref = None if out is None else byref(out)
        if pinned is None:
            _check(lib.polyplug_fn_call_pinned(reader, handle, values_ref, out_ref))
        else:
            _check(lib.polyplug_fn_call(pinned, handle, values_ref, out_ref))
        del keep  # the views were borrowed for the call only
        if out is None:
            return None
        if packed.ret not in _OWNED:
            return out.value
        try:
            data = ctypes.string_at(out.ptr, out.len) if out.len else b""
        finally:
            _check(lib.polyplug_buf_free(out))
        if packed.ret == "buf":
            return data
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise NotUtf8Error(
                f"typed function {self.name} ({self.signature}) returned a string that is not UTF-8: {e}",
                data,
            ) from None


_NOT_NATIVE = 25


class Instance:
    """An instance of a stateful contract; it keeps the version that made
    it. Closed by ``close()`` or as a context manager."""

    def __init__(self, pointer):
        self._pointer = pointer

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def call(self, name, args, out_type):
        """Calls native function ``name`` on this instance."""
        out = out_type()
        _check(
            library().polyplug_instance_call(
                self._pointer, name.encode(), None if args is None else byref(args), byref(out)
            )
        )
        return out.value if hasattr(out, "value") else out

    def version(self):
        """The version that made it."""
        version = _lib.Version()
        _check(library().polyplug_instance_version(self._pointer, byref(version)))
        return _tuple(version)

    def close(self):
        if self._pointer:
            pointer, self._pointer = self._pointer, None
            _check(library().polyplug_instance_destroy(pointer))


# ---- events ---------------------------------------------------------------

Event = namedtuple("Event", "kind bundle name version from_version path text level unmapped")
Event.__doc__ = """An event: ``kind`` is "loaded", "reloaded", "drained",
"library_closed", "log", ...; fields a kind does not use are None or ""."""


def _event(raw):
    return Event(
        kind=_lib.EVENT_KINDS.get(raw.kind, str(raw.kind)),
        bundle=None if raw.bundle == _lib.NO_BUNDLE else raw.bundle,
        name=_text(raw.name, raw.name_len),
        version=_tuple(raw.version),
        from_version=_tuple(raw.from_),
        path=_text(raw.path, raw.path_len),
        text=_text(raw.text, raw.text_len),
        level=raw.level,
        unmapped=_lib.UNMAPPED.get(raw.unmapped, "unknown") if raw.kind == 10 else None,
    )


class Subscription:
    """Events of a runtime, queued until polled."""

    def __init__(self, runtime):
        self._pointer = c_void_p()
        _check(library().polyplug_subscribe(runtime._pointer, byref(self._pointer)))

    def poll(self):
        """The next queued event, or None."""
        raw = _lib.Event()
        _check(library().polyplug_events_poll(self._pointer, byref(raw)))
        return None if raw.kind == 0 else _event(raw)

    def wait(self, timeout=1.0):
        """The next event, waiting up to ``timeout`` seconds; None if none came."""
        raw = _lib.Event()
        _check(library().polyplug_events_wait(self._pointer, int(timeout * 1000), byref(raw)))
        return None if raw.kind == 0 else _event(raw)

    def __iter__(self):
        """Every queued event, without waiting."""
        while (event := self.poll()) is not None:
            yield event

    def close(self):
        if self._pointer:
            pointer, self._pointer = self._pointer, None
            _check(library().polyplug_subscription_destroy(pointer))


class Listener:
    """Calls ``callback(event)`` for every later event of a runtime, on a
    thread of the library's own. The callback must not load, reload or
    unload in the same runtime; an exception it raises is printed and
    dropped."""

    def __init__(self, runtime, callback):
        def deliver(_user_data, raw):
            callback(_event(raw.contents))

        self._callback = _lib.EVENT_CALLBACK(deliver)  # kept alive here
        self._pointer = c_void_p()
        _check(library().polyplug_events_listen(runtime._pointer, self._callback, None, byref(self._pointer)))

    def close(self):
        """Stops the listener and waits for its thread."""
        if self._pointer:
            pointer, self._pointer = self._pointer, None
            _check(library().polyplug_listener_destroy(pointer))


# ---- the runtime ----------------------------------------------------------

Bundle = namedtuple("Bundle", "id name version dir contracts requires")
LibraryStats = namedtuple("LibraryStats", "opened closed unmapped still_mapped")


class _ThreadState:
    """One thread's reader and function handles for one runtime."""

    def __init__(self):
        self.reader = None
        self.functions = {}  # Function key -> polyplug_fn
        self.calls = {}  # Function key -> call state (see Function._calls)


class Runtime:
    """A polyplug runtime. Use it as a context manager, or call ``close()``.
    ``loaders`` adds loaders to the native one: ``LOADER_WASM`` loads
    WebAssembly bundles, ``LOADER_LUA`` Lua ones, ``LOADER_JS`` JavaScript
    ones; combine them with ``|``. ``LOADER_PYTHON`` exists for
    completeness: a Python bundle's load is refused in a Python host
    (``LoadError`` naming the loader), because the interpreter running the
    host owns the thread states a Python plugin would need; C and C++ hosts
    load Python plugins."""

    def __init__(self, loaders=0):
        self._pointer = c_void_p()
        options = _lib.Options(loaders)
        _check(library().polyplug_runtime_new_with(byref(options), byref(self._pointer)))
        self._local = threading.local()
        self._host_functions = []  # ctypes callbacks of host contracts, kept alive

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Releases this thread's reader and destroys the runtime. Raises
        ``MisuseError`` (busy) while another thread still holds a reader."""
        if self._pointer:
            self.release_thread()
            _check(library().polyplug_runtime_destroy(self._pointer))
            self._pointer = None

    def _thread(self):
        state = getattr(self._local, "state", None)
        if state is None:
            state = self._local.state = _ThreadState()
        return state

    def _reader(self):
        state = self._thread()
        if state.reader is None:
            pointer = c_void_p()
            _check(library().polyplug_reader_new(self._pointer, byref(pointer)))
            state.reader = pointer.value
        return state.reader

    def release_thread(self):
        """Destroys this thread's reader and function handles (call it, on
        each thread that read, before the runtime is closed)."""
        state = getattr(self._local, "state", None)
        if state is None:
            return
        lib = library()
        state.calls.clear()
        for handle in state.functions.values():
            _check(lib.polyplug_fn_destroy(handle))
        state.functions.clear()
        if state.reader is not None:
            _check(lib.polyplug_reader_destroy(state.reader))
            state.reader = None

    # -- writes --

    def load_bundle(self, path):
        """Loads the bundle in directory ``path``; returns its id."""
        bundle = c_uint64()
        _check(library().polyplug_load_bundle(self._pointer, str(path).encode(), byref(bundle)))
        return bundle.value

    def load_dir(self, path):
        """Loads every bundle under ``path``, providers first; returns their ids."""
        ids = (c_uint64 * 256)()
        count = c_size_t()
        _check(library().polyplug_load_dir(self._pointer, str(path).encode(), ids, 256, byref(count)))
        return list(ids[: min(count.value, 256)])

    def reload_bundle(self, bundle, path=None):
        """Reloads ``bundle`` from ``path``, or from its own directory."""
        _check(
            library().polyplug_reload_bundle(
                self._pointer, bundle, None if path is None else str(path).encode()
            )
        )

    def unload_bundle(self, bundle):
        """Unloads ``bundle``; refused while others depend on it."""
        _check(library().polyplug_unload_bundle(self._pointer, bundle))

    def unload_cascade(self, bundle):
        """Unloads ``bundle`` and its dependents; returns the ids, in unload order."""
        ids = (c_uint64 * 256)()
        count = c_size_t()
        _check(library().polyplug_unload_cascade(self._pointer, bundle, ids, 256, byref(count)))
        return list(ids[: min(count.value, 256)])

    def drain(self, timeout=5.0):
        """Waits up to ``timeout`` seconds until retired tables are gone."""
        _check(library().polyplug_drain(self._pointer, int(timeout * 1000)))

    def reclaim(self):
        """Closes the libraries nothing uses any more; returns how many."""
        closed = c_size_t()
        _check(library().polyplug_reclaim(self._pointer, byref(closed)))
        return closed.value

    def register_host_contract(self, name, version, typed=None):
        """Publishes contract ``name`` implemented in Python: ``typed`` maps
        function names to ``(signature, callable)``. Plugins call the
        callables from any thread; each call takes the GIL. Returns the
        contract."""
        lib = library()
        builder = c_void_p()
        _check(lib.polyplug_host_contract_new(name.encode(), _version(version), byref(builder)))
        for function, (signature, body) in (typed or {}).items():
            callback = prototype(signature)(body)
            packed = _packed_host(signature, body)
            self._host_functions += [callback, packed]
            status = lib.polyplug_host_contract_typed_packed(
                builder,
                function.encode(),
                signature.encode(),
                ctypes.cast(callback, c_void_p),
                packed,
            )
            if status != _lib.OK:
                lib.polyplug_host_contract_destroy(builder)
                _check(status)
        handle = c_uint64()
        _check(lib.polyplug_register_host_contract(self._pointer, builder, byref(handle)))
        return Contract(self, handle.value)

    # -- reads --

    def pin(self):
        """A guard on this thread's reader (a context manager)."""
        return Guard(self)

    def find(self, name, version=(1, 0, 0)):
        """The best loaded contract ``name`` satisfying ``version``."""
        with self.pin() as guard:
            return guard.find(name, version)

    def bundle_id(self, name):
        """The id of the loaded bundle named ``name``."""
        bundle = c_uint64()
        _check(library().polyplug_bundle_id(self._pointer, name.encode(), byref(bundle)))
        return bundle.value

    def bundles(self):
        """Every loaded bundle."""
        lib = library()
        handle = c_void_p()
        _check(lib.polyplug_bundles(self._pointer, byref(handle)))
        try:
            items = ctypes.POINTER(_lib.BundleInfo)()
            count = c_size_t()
            _check(lib.polyplug_bundle_list_items(handle, byref(items), byref(count)))

            def pairs(array, n):
                return [(_text(array[i].name, array[i].name_len), _tuple(array[i].version)) for i in range(n)]

            return [
                Bundle(
                    id=b.id,
                    name=_text(b.name, b.name_len),
                    version=_tuple(b.version),
                    dir=_text(b.dir, b.dir_len),
                    contracts=pairs(b.contracts, b.contract_count),
                    requires=pairs(b.requires, b.require_count),
                )
                for b in (items[i] for i in range(count.value))
            ]
        finally:
            lib.polyplug_bundle_list_destroy(handle)

    def revision(self):
        """Changes after every load, reload and unload."""
        revision = c_uint64()
        _check(library().polyplug_revision(self._pointer, byref(revision)))
        return revision.value

    def library_stats(self):
        """Libraries opened, closed, unmapped and still mapped."""
        stats = _lib.LibraryStats()
        _check(library().polyplug_library_stats_get(self._pointer, byref(stats)))
        return LibraryStats(stats.opened, stats.closed, stats.unmapped, stats.still_mapped)

    # -- events --

    def subscribe(self):
        """A subscription to every later event."""
        return Subscription(self)

    def listen(self, callback):
        """A listener calling ``callback(event)`` on its own thread."""
        return Listener(self, callback)
