# Raises while loading, on line 3.
answer = 200
raise RuntimeError(f"init failed with {answer}")
