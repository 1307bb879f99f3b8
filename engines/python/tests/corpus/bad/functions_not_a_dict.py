# `functions` is a string, not a dict of name: {"sig": ..., "fn": ...}.
CONTRACTS = [
    {"name": "corpus.test", "version": "1.0.0", "functions": "version"},
]
