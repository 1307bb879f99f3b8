# `fn` is an integer, not a function.
CONTRACTS = [
    {"name": "corpus.test", "version": "1.0.0",
     "functions": {"version": {"sig": "u32()", "fn": 1}}},
]
