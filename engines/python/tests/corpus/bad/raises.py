# Raises while loading: line 4, called from line 5.
config = None
def setup():
    return config["answer"]
answer = setup()
