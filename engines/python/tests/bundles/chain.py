# chain.wasm 1.0.0, in Python: the contract the C fixture `c-caller`
# calls. inc_via_native(x) = test.add's inc(x), through polyplug.find/call.
import polyplug


def inc_via_native(x):
    add = polyplug.find("test.add", "1.0.0")
    return polyplug.call(add, "inc", "u32(u32)", x)


def via_c(x):
    caller = polyplug.find("test.caller", 1)
    return polyplug.call(caller, "call_wasm", "u32(u32)", x)


def missing():
    return polyplug.find("no.such", 1)


CONTRACTS = [
    {
        "name": "chain.wasm",
        "version": "1.0.0",
        "functions": {
            "inc_via_native": {"sig": "u32(u32)", "fn": inc_via_native},
            "via_c": {"sig": "u32(u32)", "fn": via_c},
            "missing": {"sig": "u32()", "fn": missing},
        },
    }
]
