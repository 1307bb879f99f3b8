# handover.counter VERSION in Python: a stateful contract that hands its
# state over across a reload, in the native fixture's format (8 bytes:
# count then armed, each a little-endian u32), so a native version and a
# Python one hand over to each other. The test substitutes VERSION, STEP
# (how far one step counts) and TAG (what `version` answers).
import struct


class Counter:
    def __init__(self, n=0):
        self.n = n
        self.armed = 0

    def version(self):
        return TAG

    def step(self):
        self.n = (self.n + STEP) & 0xFFFFFFFF
        return self.n

    def count(self):
        return self.n

    def arm(self, mode):
        # 0: nothing; 1: the next save raises; 2: the next save writes
        # state that restore refuses; 3: the next save runs past its time
        # limit; 4: the next save returns no bytes; 5: the next save writes
        # state from which restore makes no counter.
        self.armed = mode
        return mode


def save(counter):
    if counter.armed == 1:
        raise RuntimeError(f"handover.counter v{TAG}: save armed to fail")
    while counter.armed == 3:
        pass
    if counter.armed == 4:
        return "not bytes"
    return struct.pack("<II", counter.n, counter.armed)


def restore(state):
    if len(state) != 8:
        raise ValueError(f"{len(state)} bytes of state, not 8")
    n, armed = struct.unpack("<II", state)
    if armed == 2:
        raise ValueError(f"handover.counter v{TAG}: restore refused: the state was saved armed to be refused")
    if armed == 5:
        return None
    return Counter(n)


CONTRACTS = [
    {
        "name": "handover.counter",
        "version": "VERSION",
        "new": Counter,
        "save": save,
        "restore": restore,
        "functions": {
            "version": {"sig": "u32()"},
            "step": {"sig": "u32()"},
            "count": {"sig": "u32()"},
            "arm": {"sig": "u32(u32)"},
        },
    },
]
