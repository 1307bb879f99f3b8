# capi.python 1.0.0: what tests/c/scripts.c calls from C.
CONTRACTS = [
    {
        "name": "capi.python",
        "version": "1.0.0",
        "functions": {
            "add": {"sig": "u32(u32,u32)", "fn": lambda a, b: (a + b) & 0xFFFFFFFF},
            "upper": {"sig": "string(str)", "fn": lambda s: s.upper()},
        },
    },
]


def fail(x):
    raise RuntimeError(f"refused {x}")


CONTRACTS[0]["functions"]["fail"] = {"sig": "u32(u32)", "fn": fail}
