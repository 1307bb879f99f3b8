# Written by `polyplug gen counter.toml --lang python` from contract demo.counter 1.0.0.
# A stub to fill in: every function raises until it is written. Name it in a bundle's
# [library] with `loader = "python"`, and declare the contract under [[provides]].
#
# A counter: each plugin version steps by its own amount.

import polyplug

# The plugin's version number: 1 or 2.
@polyplug.export("demo.counter", "1.0.0", "u32()")
def version():
    raise NotImplementedError("demo.counter version: not written yet")

# `x` plus the plugin's version; 0 when that overflows.
@polyplug.export("demo.counter", "1.0.0", "u32(u32)")
def step(x):
    raise NotImplementedError("demo.counter step: not written yet")
