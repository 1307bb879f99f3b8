# py.counter TAG: a stateful contract. `new` makes an object; the
# contract's functions are its methods. The test substitutes TAG (the
# answer of `tag`).


class Counter:
    def __init__(self):
        self.n = 0

    def bump(self):
        self.n += 1
        return self.n

    def add(self, x):
        self.n += x
        return self.n

    def tag(self):
        return TAG

    def spin(self):
        self.n = -1  # half-updated when the time limit stops it
        while True:
            pass

    def fail(self):
        raise ValueError("no count today")


CONTRACTS = [
    {
        "name": "py.counter",
        "version": "1.0.0",
        "new": Counter,
        "functions": {
            "bump": {"sig": "u32()"},
            "add": {"sig": "u32(u32)"},
            "tag": {"sig": "u32()"},
            "spin": {"sig": "u32()"},
            "fail": {"sig": "u32()"},
        },
    },
]
