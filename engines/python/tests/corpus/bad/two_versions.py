# corpus.test is registered as 1.0.0 by the decorator and 1.1.0 in CONTRACTS.
import polyplug


@polyplug.export("corpus.test", "1.0.0", "u32()")
def version():
    return 1


CONTRACTS = [
    {"name": "corpus.test", "version": "1.1.0",
     "functions": {"greet": {"sig": "string(str)", "fn": lambda name: name}}},
]
