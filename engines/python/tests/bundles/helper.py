# A module of the calc bundle, imported from the bundle directory.
def greeting(name):
    return "hello " + name
