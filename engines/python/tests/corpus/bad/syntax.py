# Does not parse: line 5 has `=` where an expression belongs.
CONTRACTS = [
    {"name": "corpus.test", "version": "1.0.0",
     "functions": {
         "version": {"sig": "u32()", "fn": = 1}}},
]
