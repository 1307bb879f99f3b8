# `version` is declared u32() but takes an argument.
CONTRACTS = [
    {
        "name": "reload.test",
        "version": "1.0.0",
        "functions": {"version": {"sig": "u32()", "fn": lambda x: x}},
    }
]
