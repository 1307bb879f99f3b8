"""Threads: hot reload under Python dispatcher threads, events delivered on
the library's own thread, and the per-thread rules of readers."""

import threading
import time

import pytest

import polyplug


def test_reload_under_python_threads(bundle):
    with polyplug.Runtime() as runtime:
        bundle_id = runtime.load_bundle(bundle("reload-v1"))
        version = runtime.find("reload.test").function("version", "u32()")
        answers, started, stop = [], threading.Barrier(5), threading.Event()

        def dispatch():
            seen = set()
            started.wait()
            while not stop.is_set():
                seen.add(version())
            answers.append(seen)
            runtime.release_thread()

        threads = [threading.Thread(target=dispatch) for _ in range(4)]
        for thread in threads:
            thread.start()
        started.wait()
        for i in range(20):
            runtime.reload_bundle(bundle_id, bundle("reload-v2" if i % 2 == 0 else "reload-v1"))
        stop.set()
        for thread in threads:
            thread.join()
        assert len(answers) == 4
        assert set().union(*answers) <= {100, 200}
        runtime.drain()
        assert runtime.library_stats().closed == 20


def test_events_by_subscription_and_by_listener(bundle):
    with polyplug.Runtime() as runtime:
        seen, threads = [], set()

        def on_event(event):
            seen.append(event)
            threads.add(threading.get_ident())

        listener = runtime.listen(on_event)
        events = runtime.subscribe()
        bundle_id = runtime.load_bundle(bundle("reload-v1"))
        runtime.reload_bundle(bundle_id, bundle("reload-v2"))
        runtime.unload_bundle(bundle_id)
        runtime.drain()
        kinds = [e.kind for e in events]
        assert kinds[:2] == ["loading", "loaded"]
        assert "reloaded" in kinds and "drained" in kinds and "library_closed" in kinds
        reloaded = [e for e in runtime.subscribe()]  # a new subscription sees only later events
        assert reloaded == []
        deadline = time.monotonic() + 10
        while len(seen) < len(kinds) and time.monotonic() < deadline:
            time.sleep(0.01)
        listener.close()
        assert [e.kind for e in seen] == kinds
        assert threading.get_ident() not in threads  # delivered on the listener's thread
        closed = [e for e in seen if e.kind == "library_closed"]
        assert all(e.unmapped in ("yes", "no", "unknown") for e in closed)
        reload_event = [e for e in seen if e.kind == "reloaded"][0]
        assert (reload_event.bundle, reload_event.from_version, reload_event.version) == (
            bundle_id,
            (1, 0, 0),
            (2, 0, 0),
        )
        events.close()


def test_a_runtime_is_not_closed_under_another_threads_reader(bundle):
    runtime = polyplug.Runtime()
    runtime.load_bundle(bundle("test-add"))
    holding, release = threading.Event(), threading.Event()

    def reader_thread():
        runtime.find("test.add")  # makes this thread's reader
        holding.set()
        release.wait()
        runtime.release_thread()

    thread = threading.Thread(target=reader_thread)
    thread.start()
    holding.wait()
    with pytest.raises(polyplug.MisuseError, match="1 live reader") as busy:
        runtime.close()
    assert busy.value.status_name == "POLYPLUG_ERR_BUSY"
    release.set()
    thread.join()
    runtime.close()


def test_a_guard_stays_on_its_thread(bundle):
    with polyplug.Runtime() as runtime:
        runtime.load_bundle(bundle("test-add"))
        errors = []
        with runtime.pin() as guard:

            def elsewhere():
                try:
                    guard.find("test.add")
                except polyplug.MisuseError as error:
                    errors.append(error)

            thread = threading.Thread(target=elsewhere)
            thread.start()
            thread.join()
        assert [e.status_name for e in errors] == ["POLYPLUG_ERR_WRONG_THREAD"]
        with pytest.raises(polyplug.MisuseError, match="not pinned"):
            guard.find("test.add")  # unpinned by the with block


def test_a_function_outlives_release_thread(bundle):
    with polyplug.Runtime() as runtime:
        runtime.load_bundle(bundle("test-add"))
        inc = runtime.find("test.add").function("inc", "u32(u32)")
        assert inc(1) == 2
        runtime.release_thread()  # destroys this thread's reader and handles
        assert inc(2) == 3  # made again on first use
