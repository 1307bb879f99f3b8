"""The ctypes declarations match the C header: every function is declared,
and every status and event constant has the header's value."""

import re
from pathlib import Path

from polyplug import _lib

HEADER = (Path(__file__).resolve().parents[2] / "include" / "polyplug_host.h").read_text()


def test_every_function_of_the_header_is_declared():
    declared = set(re.findall(r"\b(polyplug_\w+)\(", HEADER)) - {"polyplug_event_callback"}
    assert declared == set(_lib.FUNCTIONS)


def test_constants_have_the_header_values():
    defines = dict(re.findall(r"#define (POLYPLUG_\w+) (\d+)\n", HEADER))
    statuses = {name: int(v) for name, v in defines.items() if name.startswith(("POLYPLUG_OK", "POLYPLUG_ERR_"))}
    assert statuses == {name: code for code, name in _lib.STATUS.items()}
    events = {int(v): name.removeprefix("POLYPLUG_EVENT_").lower() for name, v in defines.items() if name.startswith("POLYPLUG_EVENT_")}
    assert events == _lib.EVENT_KINDS
    assert int(defines["POLYPLUG_MAX_GUARDS"]) == _lib.MAX_GUARDS


def test_loader_flags_have_the_header_values():
    defines = dict(re.findall(r"#define (POLYPLUG_LOADER_\w+) (\d+)\n", HEADER))
    assert defines == {
        "POLYPLUG_LOADER_WASM": str(_lib.LOADER_WASM),
        "POLYPLUG_LOADER_LUA": str(_lib.LOADER_LUA),
        "POLYPLUG_LOADER_JS": str(_lib.LOADER_JS),
        "POLYPLUG_LOADER_PYTHON": str(_lib.LOADER_PYTHON),
    }
