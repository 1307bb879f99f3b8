# `version` is registered twice in corpus.test.
import polyplug


@polyplug.export("corpus.test", "1.0.0", "u32()")
def version():
    return 1


CONTRACTS = [
    {"name": "corpus.test", "version": "1.0.0",
     "functions": {"version": {"sig": "u32()", "fn": version}}},
]
