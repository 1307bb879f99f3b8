# demo.calc 1.0.0: typed calls of every kind, registered with the
# decorator and with CONTRACTS, and a module from the bundle directory.
import threading

import polyplug
import helper

# Per-thread state: lives as long as the calling thread's thread state.
local = threading.local()


@polyplug.export("demo.calc", "1.0.0", "u32()")
def calls_on_this_thread():
    local.calls = getattr(local, "calls", 0) + 1
    return local.calls


@polyplug.export("demo.calc", "1.0.0", "u32(u32)")
def inc(x):
    return x + 1


@polyplug.export("demo.calc", "1.0.0", "i64(i64,i64)")
def add64(a, b):
    return a + b


# Six arguments, the most a typed signature has: each in its own digit,
# so an argument passed out of order shows.
@polyplug.export("demo.calc", "1.0.0", "u64(u8,u16,u32,u64,i32,i64)")
def digits(a, b, c, d, e, f):
    return a + 10 * b + 100 * c + 1000 * d + 10000 * e + 100000 * f


def half(x):
    return x / 2


def small(x):
    return x


def greet(name):
    return helper.greeting(name)


def imports():
    try:
        import outside  # noqa: F401  (a sibling of the bundle directory)
        return 1
    except ImportError:
        return 0


CONTRACTS = [
    {
        "name": "demo.calc",
        "version": "1.0.0",
        "functions": {
            "half": {"sig": "f64(f64)", "fn": half},
            "small": {"sig": "u8(u16)", "fn": small},
            "greet": {"sig": "string(str)", "fn": greet},
            "reverse": {"sig": "buf(bytes)", "fn": lambda b: b[::-1]},
            "negative": {"sig": "u32()", "fn": lambda: -1},
            "fraction": {"sig": "i64()", "fn": lambda: 1.5},
            "wrong_kind": {"sig": "u32()", "fn": lambda: "seven"},
            "imports": {"sig": "u32()", "fn": imports},
        },
    }
]
