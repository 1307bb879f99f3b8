# A signature the grammar refuses: `str` is an argument type only.
CONTRACTS = [
    {
        "name": "reload.test",
        "version": "1.0.0",
        "functions": {"mix": {"sig": "str(u32)", "fn": lambda x: x}},
    }
]
