# chain.python 1.0.0: the third link. inc(x) asks chain.wasm.
import polyplug


def inc(x):
    next_link = polyplug.find("chain.wasm", 1)
    return polyplug.call(next_link, "inc", "u32(u32)", x)


CONTRACTS = [
    {
        "name": "chain.python",
        "version": "1.0.0",
        "functions": {"inc": {"sig": "u32(u32)", "fn": inc}},
    }
]
