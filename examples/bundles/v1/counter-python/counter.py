# Example plugin counter-python 1.0.0: contract demo.counter 1.0.0 in
# Python, stepping by 1. The typed functions are those of the Rust, C and
# C++ counters; a Python contract offers no native functions and no
# instances, so the native step and count are not here.
#
#   typed "version": u32()    -> VERSION
#   typed "step":    u32(u32) -> x + VERSION (wrapping)
import polyplug

VERSION = 1


@polyplug.export("demo.counter", "1.0.0", "u32()")
def version():
    return VERSION


# Python integers do not overflow: the mask wraps the sum at 2^32, as u32 does.
@polyplug.export("demo.counter", "1.0.0", "u32(u32)")
def step(x):
    return (x + VERSION) & 0xFFFFFFFF
