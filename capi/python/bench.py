"""Calls from Python: a typed function through polyplug against a plain
ctypes call of the same C function, in one run.

Usage: python3 capi/python/bench.py <c-add bundle dir> [calls]

Arms, each the best of five runs of `calls` calls (default 200,000):
- ctypes:   polyplug_bench_inc of the C plugin, opened with ctypes.CDLL;
- typed:    the same plugin's typed `inc`, from Guard.typed under one
            guard: a ctypes call of the pointer polyplug hands out;
- function: Function.__call__, reload-safe per call: pin, fetch, call, unpin.
"""

import ctypes
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import polyplug  # noqa: E402


def best(body, calls, runs=5):
    """The best time per call, in ns, of `runs` runs of `body(calls)`."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        body(calls)
        times.append((time.perf_counter() - start) / calls * 1e9)
    return min(times)


def main(bundle, calls):
    library = next(Path(bundle).glob("*.so"))
    raw = ctypes.CDLL(str(library)).polyplug_bench_inc
    raw.argtypes, raw.restype = [ctypes.c_uint32], ctypes.c_uint32

    def loop(inc):
        def run(n):
            x = 0
            for _ in range(n):
                x = inc(x)
            assert x == n

        return run

    with polyplug.Runtime() as runtime:
        runtime.load_bundle(bundle)
        contract = runtime.find("test.add", (1, 0))
        function = contract.function("inc", "u32(u32)")
        with runtime.pin() as guard:
            typed = guard.typed(contract, "inc", "u32(u32)")
            arms = {
                "ctypes": best(loop(raw), calls),
                "typed": best(loop(typed), calls),
                "function": best(loop(function), calls),
            }
    base = arms["ctypes"]
    print(f"{'arm':10} {'ns/call':>9} {'ratio':>7}")
    for arm, ns in arms.items():
        print(f"{arm:10} {ns:9.1f} {ns / base:6.2f}x")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 200_000)
