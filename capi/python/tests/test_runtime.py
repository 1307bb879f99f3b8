"""A Python host: load, call, reload, unload; typed ints and floats; host
contracts; instances; errors carrying the runtime's message."""

import ctypes

import pytest

import polyplug


class AddArgs(ctypes.Structure):
    _fields_ = [("a", ctypes.c_uint32), ("b", ctypes.c_uint32)]


def test_load_call_reload_unload(bundle):
    with polyplug.Runtime() as runtime:
        bundle_id = runtime.load_bundle(bundle("reload-v1"))
        version = runtime.find("reload.test", (1, 0)).function("version", "u32()")
        assert version() == 100
        runtime.reload_bundle(bundle_id, bundle("reload-v2"))
        assert version() == 200  # the same function object, the new version
        with pytest.raises(polyplug.LoadError) as refused:
            runtime.reload_bundle(bundle_id, bundle("bad-abi"))
        assert refused.value.status_name == "POLYPLUG_ERR_LIBRARY"
        assert "reload-test" in refused.value.message
        assert version() == 200  # a failed reload changes nothing
        runtime.unload_bundle(bundle_id)
        with pytest.raises(polyplug.StaleContractError, match="was unloaded"):
            version()
        runtime.drain()
        stats = runtime.library_stats()
        assert (stats.opened, stats.closed) == (2, 2)  # bad-abi is refused before it counts as open


def test_typed_functions_take_ints(bundle):
    with polyplug.Runtime() as runtime:
        runtime.load_bundle(bundle("test-add"))
        add = runtime.find("test.add", "1.0.0")
        assert add.function("add", "u32(u32,u32)")(2, 3) == 5
        assert add.function("inc", " u32 ( u32 ) ")(2**32 - 1) == 0  # wraps as the plugin does
        with runtime.pin() as guard:  # the fastest form: a plain ctypes call under one guard
            inc = guard.typed(add, "inc", "u32(u32)")
            x = 0
            for _ in range(1000):
                x = inc(x)
            assert x == 1000


def test_host_contracts_take_ints_and_floats_and_plugins_call_them(bundle):
    with polyplug.Runtime() as runtime:
        runtime.register_host_contract(
            "py.math",
            (1, 0),
            typed={
                "scale": ("f64(f64,f64)", lambda x, k: x * k),
                "halve": ("f32(f32)", lambda x: x / 2),
                "negate": ("i64(i64)", lambda x: -x),
            },
        )
        math = runtime.find("py.math")
        assert math.function("scale", "f64(f64,f64)")(1.5, 4.0) == 6.0
        assert math.function("halve", "f32(f32)")(3.0) == 1.5
        assert math.function("negate", "i64(i64)")(-(2**40)) == 2**40
        name, version, bundle_id, stateful = math.info()
        assert (name, version, bundle_id, stateful) == ("py.math", (1, 0, 0), None, False)

        # host-user calls the host's test.host `double` from Rust plugin code.
        runtime.register_host_contract(
            "test.host", (1, 0), typed={"double": ("u32(u32)", lambda x: 2 * x)}
        )
        runtime.load_bundle(bundle("host-user"))
        user = runtime.find("host.user")
        assert user.call_native("double_plus_one", AddArgs(20, 0), ctypes.c_uint32) == 41


def test_errors_name_the_thing(bundle):
    with polyplug.Runtime() as runtime:
        runtime.load_bundle(bundle("test-add"))
        add = runtime.find("test.add")
        with pytest.raises(polyplug.SignatureMismatchError) as mismatch:
            add.function("inc", "u64(u64)")
        assert mismatch.value.message == (
            "contract test.add: typed function inc is u32(u32), not u64(u64)"
        )
        with pytest.raises(polyplug.NoFunctionError, match="typed function nope"):
            add.function("nope", "u32()")
        with pytest.raises(polyplug.NotFoundError, match="test.mul"):
            runtime.find("test.mul")
        with pytest.raises(polyplug.CallError) as failed:
            add.call_native("fail", AddArgs(1, 2), ctypes.c_uint32)
        assert failed.value.code == 1001
        assert "test.add failed on purpose" in failed.value.message
        with pytest.raises(polyplug.LoadError) as again:
            runtime.load_bundle(bundle("test-add"))
        assert again.value.status_name == "POLYPLUG_ERR_ALREADY_LOADED"
        with pytest.raises(polyplug.LoadError, match="no-such-bundle"):
            runtime.load_bundle("/no-such-bundle")
        with pytest.raises(ValueError, match="unknown type"):
            polyplug.prototype("str(u32)")


def test_instances_keep_their_version(bundle):
    with polyplug.Runtime() as runtime:
        bundle_id = runtime.load_bundle(bundle("reload-v1"))
        with runtime.find("reload.test").create_instance() as counter:
            assert [counter.call("bump", AddArgs(0, 0), ctypes.c_uint32) for _ in range(3)] == [1, 2, 3]
            runtime.reload_bundle(bundle_id, bundle("reload-v2"))
            assert counter.call("tag", AddArgs(0, 0), ctypes.c_uint32) == 100
            assert counter.version() == (1, 0, 0)
        with pytest.raises(polyplug.StatelessError):
            runtime.load_bundle(bundle("test-add"))
            runtime.find("test.add").create_instance()


def test_bundles_and_directories(bundle, copy_bundles):
    with polyplug.Runtime() as runtime:
        runtime.load_bundle(bundle("c-mul"))
        [info] = runtime.bundles()
        assert (info.name, info.version, info.contracts) == ("c-mul", (1, 0, 0), [("test.mul", (1, 0, 0))])
        before = runtime.revision()
        loaded = runtime.load_dir(copy_bundles("consumer", "test-add"))
        assert runtime.revision() != before
        assert loaded == [runtime.bundle_id("test-add"), runtime.bundle_id("consumer")]
        consumer = [b for b in runtime.bundles() if b.name == "consumer"][0]
        assert consumer.requires == [("test.add", (1, 0, 0))]
        with pytest.raises(polyplug.LoadError, match="consumer"):
            runtime.unload_bundle(loaded[0])
        assert runtime.unload_cascade(loaded[0]) == [loaded[1], loaded[0]]


def test_a_library_rebuilt_in_place_really_reloads(bundles, copy_bundles):
    dir = copy_bundles("reload-v1") / "reload-v1"
    [library] = dir.glob("*.so")
    with polyplug.Runtime() as runtime:
        bundle_id = runtime.load_bundle(dir)
        version = runtime.find("reload.test").function("version", "u32()")
        assert version() == 100
        [v2] = (bundles / "reload-v2").glob("*.so")
        library.write_bytes(v2.read_bytes())  # rebuilt in place: same path, new bytes
        runtime.reload_bundle(bundle_id)  # from its own directory
        assert version() == 200


def test_an_instance_keeps_its_library_until_closed(bundle):
    with polyplug.Runtime() as runtime:
        bundle_id = runtime.load_bundle(bundle("reload-v1"))
        instance = runtime.find("reload.test").create_instance()
        runtime.unload_bundle(bundle_id)
        runtime.drain()  # the tables are gone; the instance keeps v1 loaded
        assert runtime.library_stats().closed == 0
        assert instance.call("tag", AddArgs(0, 0), ctypes.c_uint32) == 100
        instance.close()  # runs the plugin's destructor; the library is closed by reclaim
        assert runtime.reclaim() == 1
