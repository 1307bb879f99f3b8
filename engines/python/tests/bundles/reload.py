# reload.test VERSION: `version` answers ANSWER (the test substitutes both).
CONTRACTS = [
    {
        "name": "reload.test",
        "version": "VERSION",
        "functions": {"version": {"sig": "u32()", "fn": lambda: ANSWER}},
    }
]
