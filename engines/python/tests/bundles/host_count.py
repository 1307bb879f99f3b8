# Counts the host functions host_probe.py loads recorded, and those of
# them still alive, after a full collection of the interpreter's cycles.
import gc
import sys

import polyplug


def probes():
    return sys.__dict__.get("polyplug_host_probes", [])


@polyplug.export("probe.count", "1.0.0", "u32()")
def recorded():
    return len(probes())


@polyplug.export("probe.count", "1.0.0", "u32()")
def alive_now():
    return sum(1 for ref in probes() if ref() is not None)


@polyplug.export("probe.count", "1.0.0", "u32()")
def alive_after_collect():
    gc.collect()
    return alive_now()
