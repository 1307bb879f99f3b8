# Keeps weak references to this load's host functions (polyplug.find,
# call and log) in `sys`, where host_count.py counts those still alive.
# The test substitutes RAISE: True makes the script raise after that.
import sys
import weakref

import polyplug

probes = sys.__dict__.setdefault("polyplug_host_probes", [])
probes.extend(weakref.ref(f) for f in (polyplug.find, polyplug.call, polyplug.log))


@polyplug.export("probe.host", "1.0.0", "u32()")
def answer():
    polyplug.log("debug", "probe answers")
    return 7


if RAISE:
    raise RuntimeError("refused on purpose")
