# The contract's version is a number, not a string.
import polyplug


@polyplug.export("corpus.test", 1, "u32()")
def version():
    return 1
