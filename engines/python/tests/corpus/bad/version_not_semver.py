# The contract's version is not "major.minor.patch".
import polyplug


@polyplug.export("corpus.test", "1.0", "u32()")
def version():
    return 1
