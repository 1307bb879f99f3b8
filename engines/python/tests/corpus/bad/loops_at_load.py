# Never finishes loading: the time limit stops it on line 4, where the
# whole loop is.
n = 0
while True: n += 1  # noqa: E701
