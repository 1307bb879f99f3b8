# Recurses past the interpreter's recursion limit while loading.
def down(n):
    return down(n + 1)


down(0)
