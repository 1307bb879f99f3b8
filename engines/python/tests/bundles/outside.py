# Written next to the bundle directory, not in it: not importable.
VALUE = 1
