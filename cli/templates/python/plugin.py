# Plugin `{{name}}`: contract `{{name}}` 1.0.0 in Python, made by
# `polyplug new`. `@polyplug.export` registers each function under its
# own name, with its typed signature; a function takes as many
# parameters as its signature lists.
#
#   typed "add":     u32(u32,u32) -> a + b (wrapping)
#   typed "version": u32()        -> 1
#
# The script runs once per load, in a module of its own that every
# calling thread shares; calls serialise on the GIL. The `polyplug`
# module finds and calls other loaded contracts (`polyplug.find`,
# `polyplug.call`) and logs (`polyplug.log`). Python plugins are trusted
# code: there is no sandbox.
import polyplug


# Python integers do not overflow: the mask wraps the sum at 2^32, as u32 does.
@polyplug.export("{{name}}", "1.0.0", "u32(u32,u32)")
def add(a, b):
    return (a + b) & 0xFFFFFFFF


@polyplug.export("{{name}}", "1.0.0", "u32()")
def version():
    return 1
