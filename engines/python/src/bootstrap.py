# The engine's Python side: runs a bundle's script in a fresh module,
# gives it the `polyplug` module, reads what it registers, and describes
# exceptions with the script's file:line. Loaded once per interpreter.
import builtins
import inspect
import os
import traceback
import types


class BudgetExceeded(BaseException):
    """Raised in a call that ran past its time limit (limits.fuel)."""


def where(exc, tb=None):
    """`file:line: Type: message` of an exception, at its innermost frame
    outside this engine (an import the script made, a registration it
    got wrong, are the script's, not the engine's)."""
    if isinstance(exc, SyntaxError):
        name = os.path.basename(exc.filename or "?")
        return f"{name}:{exc.lineno}: {type(exc).__name__}: {exc.msg}"
    frames = [
        frame
        for frame in traceback.extract_tb(tb or exc.__traceback__)
        if os.path.basename(frame.filename) != "polyplug_engine.py"
    ]
    text = f"{type(exc).__name__}: {exc}"
    if frames:
        last = frames[-1]
        return f"{os.path.basename(last.filename)}:{last.lineno}: {text}"
    return text


def host(find, call, log):
    """The `polyplug` module one load's script sees."""
    module = types.ModuleType("polyplug")
    module.find = find
    module.call = call
    module.log = log
    module.BudgetExceeded = BudgetExceeded
    exports = []
    module._exports = exports

    def export(contract, version, sig, name=None):
        def register(fn):
            exports.append((contract, version, name or fn.__name__, sig, fn))
            return fn
        return register

    module.export = export
    return module


def run(path, source, bundle_dir, polyplug, name, files):
    """Runs `source` (from `path`) as a new module `name`; `import x`
    finds `x.py` in `bundle_dir` first, then the standard library. When
    `files` is a dict (a signed bundle: relative path -> the bytes its
    signature check read), `x.py` is taken from it, never read again."""
    cache = {"polyplug": polyplug}
    namespace = dict(vars(builtins))
    real_import = builtins.__import__

    def load_local(top):
        file = os.path.join(bundle_dir, top + ".py")
        if files is not None:
            text = files.get(top + ".py")
            if text is None:
                return None
        elif not os.path.isfile(file):
            return None
        else:
            with open(file, "rb") as f:
                text = f.read()
        module = types.ModuleType(top)
        module.__file__ = file
        module.__builtins__ = namespace
        cache[top] = module
        exec(compile(text, file, "exec"), module.__dict__)
        return module

    def bundle_import(wanted, globals=None, locals=None, fromlist=(), level=0):
        if level == 0:
            top = wanted.partition(".")[0]
            module = cache.get(top) or load_local(top)
            if module is not None and top == wanted:
                return module
        return real_import(wanted, globals, locals, fromlist, level)

    namespace["__import__"] = bundle_import
    module = types.ModuleType(name)
    module.__file__ = path
    module.__builtins__ = namespace
    module.polyplug = polyplug
    exec(compile(source, path, "exec"), module.__dict__)
    return module, cache


def origin(fn):
    """`file:line` where `fn` (a function, a bound method, a class) is
    defined, or its type's name when it has no code of its own."""
    code = getattr(getattr(fn, "__func__", fn), "__code__", None)
    if code is None:
        code = getattr(getattr(fn, "__init__", None), "__code__", None)
    if code is None:
        return type(fn).__name__
    return f"{os.path.basename(code.co_filename)}:{code.co_firstlineno}"


def handover_of(name, entry, stateful):
    """(save, restore) of a `CONTRACTS` entry that gives both, None for
    one that gives neither; either alone, a non-callable, or one that
    cannot take one argument is an error naming the field."""
    given = [field for field in ("save", "restore") if field in entry]
    if not given:
        return None
    if not stateful:
        raise TypeError(f"contract {name}: function {given[0]}: the contract gives `{given[0]}` but no `new`: a state handover is for a stateful contract")
    if len(given) == 1:
        other = "restore" if given[0] == "save" else "save"
        raise TypeError(f"contract {name}: function {given[0]}: `{given[0]}` is given without `{other}`: a state handover gives both or neither")
    for field in ("save", "restore"):
        fn = entry[field]
        if not callable(fn):
            raise TypeError(f"contract {name}: function {field}: `{field}` is a {type(fn).__name__}, expected a callable")
        if not takes(fn, 1):
            raise TypeError(f"contract {name}: function {field}: `{field}` ({origin(fn)}) cannot be called with one argument")
    return entry["save"], entry["restore"]


def save(fn, obj):
    """The state `fn` (a contract's `save`) makes of instance object
    `obj`, as bytes."""
    state = fn(obj)
    if isinstance(state, (bytes, bytearray, memoryview)):
        return bytes(state)
    raise TypeError(f"`save` ({origin(fn)}) returned a {type(state).__name__}, expected bytes, bytearray or memoryview")


def registered(module, polyplug):
    """(contract, version, function, sig, fn) for each function the
    script registers, from `CONTRACTS` and `@polyplug.export`; `fn` is
    None for a method of a stateful contract. Also {contract: new} for
    each stateful contract (one whose entry gives `new`), and
    {contract: (save, restore)} for each that hands its state over."""
    out = list(polyplug._exports)
    constructors = {}
    handovers = {}
    contracts = getattr(module, "CONTRACTS", None)
    if contracts is not None:
        if not isinstance(contracts, (list, tuple)):
            raise TypeError(f"CONTRACTS is a {type(contracts).__name__}, expected a list of contracts")
        for position, entry in enumerate(contracts):
            if not isinstance(entry, dict):
                raise TypeError(f"CONTRACTS[{position}] is a {type(entry).__name__}, expected a dict")
            name = entry.get("name")
            if not isinstance(name, str):
                raise TypeError(f"CONTRACTS[{position}] has no `name`")
            functions = entry.get("functions")
            if not isinstance(functions, dict):
                raise TypeError(f"contract {name}: `functions` must be a dict of name: {{'sig': ..., 'fn': ...}}")
            stateful = "new" in entry
            if stateful:
                new = entry["new"]
                if not callable(new):
                    raise TypeError(f"contract {name}: function new: `new` is a {type(new).__name__}, expected a callable that returns an instance")
                constructors[name] = new
            handover = handover_of(name, entry, stateful)
            if handover is not None:
                handovers[name] = handover
            for fname, spec in functions.items():
                if stateful:
                    if not isinstance(spec, dict) or "sig" not in spec or "fn" in spec:
                        raise TypeError(f"contract {name}: function {fname}: the contract is stateful (it gives `new`): its functions are methods of the object `new` returns and give only `sig`, as {{'sig': 'u32()'}}")
                    out.append((name, entry.get("version"), fname, spec["sig"], None))
                    continue
                if not isinstance(spec, dict) or "sig" not in spec or "fn" not in spec:
                    raise TypeError(f"contract {name}: function {fname}: expected {{'sig': 'u32(u32)', 'fn': f}}")
                out.append((name, entry.get("version"), fname, spec["sig"], spec["fn"]))
    checked = []
    for contract, version, fname, sig, fn in out:
        if fn is not None or contract not in constructors:
            if not callable(fn):
                raise TypeError(f"contract {contract}: function {fname}: `fn` is a {type(fn).__name__}, not callable")
        elif any(c == contract and f is not None for c, _, _, _, f in out):
            raise TypeError(f"contract {contract}: the contract is stateful (it gives `new`): @polyplug.export cannot add functions to it")
        if not isinstance(sig, str) or not isinstance(version, str):
            raise TypeError(f"contract {contract}: function {fname}: `sig` and `version` must be strings")
        checked.append((contract, version, str(fname), sig, fn))
    return checked, constructors, handovers


def method(obj, name, maker="new"):
    """Method `name` of an instance's object (made by `maker`), or why it
    has none."""
    found = getattr(obj, name, None)
    if not callable(found):
        raise TypeError(f"the object `{maker}` returned has a {type(found).__name__} for method {name}, expected a method")
    return found


def takes(fn, count):
    """Whether `fn` can be called with `count` positional arguments."""
    try:
        inspect.signature(fn).bind(*([None] * count))
        return True
    except TypeError:
        return False
    except ValueError:
        return True
