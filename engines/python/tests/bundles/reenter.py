# reenter.test 1.0.0: `load_inside` asks the host to load a bundle from
# inside this call; the answer is the load's error code (0: loaded).
import polyplug


@polyplug.export("reenter.test", "1.0.0", "u32()")
def load_inside():
    loader = polyplug.find("test.loader", 1)
    return polyplug.call(loader, "load", "u32()")
