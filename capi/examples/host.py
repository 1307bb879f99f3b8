"""An example host in Python: load a plugin, call it, hot-reload it while a
thread keeps calling, watch the events, unload it.

Usage: python3 host.py <test-add bundle> <reload-v1 bundle> <reload-v2 bundle>
(with capi/python on PYTHONPATH; libpolyplug is found through POLYPLUG_LIB or
the cargo target directory)
"""

import sys
import threading

import polyplug


def main(test_add, v1, v2):
    with polyplug.Runtime() as runtime:
        events = runtime.subscribe()
        runtime.load_bundle(test_add)
        add = runtime.find("test.add", (1, 0))
        inc = add.function("inc", "u32(u32)")  # signature checked now
        print("inc(41) =", inc(41))

        bundle = runtime.load_bundle(v1)
        version = runtime.find("reload.test", (1, 0)).function("version", "u32()")
        answers = set()
        stop = threading.Event()

        def caller():
            while not stop.is_set():
                answers.add(version())  # pin, fetch, call, unpin: reload-safe
            runtime.release_thread()  # this thread's reader, on this thread

        thread = threading.Thread(target=caller)
        thread.start()
        for i in range(10):
            runtime.reload_bundle(bundle, v2 if i % 2 == 0 else v1)  # readers never wait
        stop.set()
        thread.join()
        print("answers seen:", sorted(answers))

        try:
            runtime.reload_bundle(bundle, "/no/such/bundle")
        except polyplug.LoadError as error:
            print("refused:", error.status_name, "- still serving", version())

        runtime.unload_bundle(bundle)
        runtime.drain()
        reloads = [e for e in events if e.kind == "reloaded"]
        print("reloads reported:", len(reloads))
        print("libraries:", runtime.library_stats())


if __name__ == "__main__":
    main(*sys.argv[1:4])
