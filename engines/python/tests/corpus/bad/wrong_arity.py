# `version` takes one parameter, but its signature gives none.
import polyplug


@polyplug.export("corpus.test", "1.0.0", "u32()")
def version(x):
    return x
