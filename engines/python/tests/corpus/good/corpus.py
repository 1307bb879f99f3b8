# corpus.test 1.0.0: the version that serves while each bad case is tried.
# `version` is exported by the decorator, `greet` listed in CONTRACTS: a
# script may use both, and they make one contract.
import polyplug


@polyplug.export("corpus.test", "1.0.0", "u32()")
def version():
    return 1


def greet(name):
    polyplug.log("info", "greeting " + name)
    return "hello, " + name


CONTRACTS = [
    {"name": "corpus.test", "version": "1.0.0",
     "functions": {"greet": {"sig": "string(str)", "fn": greet}}},
]
