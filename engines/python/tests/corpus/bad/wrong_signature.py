# A signature that does not parse: `str` is an argument type only.
import polyplug


@polyplug.export("corpus.test", "1.0.0", "str()")
def version():
    return "1"
