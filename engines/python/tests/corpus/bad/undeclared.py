# Registers corpus.test and corpus.extra, which the manifest does not declare.
import polyplug


@polyplug.export("corpus.test", "1.0.0", "u32()")
def version():
    return 1


@polyplug.export("corpus.extra", "1.0.0", "u32()")
def extra():
    return 2
