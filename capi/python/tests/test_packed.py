"""Typed functions with str and bytes arguments and string and buf results
(the C fixture c-text), and a WebAssembly plugin (capi.calc), called packed
through polyplug_fn_call."""

import pytest

import polyplug


@pytest.fixture
def text(bundle):
    with polyplug.Runtime() as runtime:
        runtime.load_bundle(bundle("c-text"))
        yield runtime, runtime.find("test.text", (1, 0))


@pytest.fixture
def frees(monkeypatch):
    """Counts the buffers passed to polyplug_buf_free, by address."""
    lib = polyplug.library()
    real = lib.polyplug_buf_free
    freed = []

    def counting(buf):
        freed.append(buf.ptr)
        return real(buf)

    monkeypatch.setattr(lib, "polyplug_buf_free", counting)
    return freed


def test_str_round_trip_frees_the_result_once(text, frees):
    _, contract = text
    upper = contract.function("upper", "string(str)")
    assert upper("hello, wörld") == "HELLO, WöRLD"
    assert upper("abc") == "ABC"
    assert len(frees) == 2
    assert all(frees) and len(set(frees)) <= 2


def test_bytes_round_trip_keeps_nul_bytes(text, frees):
    _, contract = text
    reverse = contract.function("reverse", "buf(bytes)")
    data = b"a\x00b\x00\x00c\xff"
    assert reverse(data) == data[::-1]
    assert reverse(bytearray(b"\x00\x01")) == b"\x01\x00"
    assert contract.function("len", "u64(bytes)")(b"\x00" * 5) == 5
    assert len(frees) == 2


def test_empty_values(text, frees):
    _, contract = text
    assert contract.function("upper", "string(str)")("") == ""
    assert contract.function("reverse", "buf(bytes)")(b"") == b""
    assert contract.function("len", "u64(bytes)")(b"") == 0
    # An empty result is {NULL, 0}: freeing it is a no-op, done once all the same.
    assert frees == [None, None]


def test_a_string_result_that_is_not_utf8_is_an_error_naming_the_function(text, frees):
    _, contract = text
    bad = contract.function("bad_utf8", "string()")
    with pytest.raises(polyplug.NotUtf8Error, match="bad_utf8") as caught:
        bad()
    assert caught.value.data == b"\xff\xfe"
    assert caught.value.status_name == "POLYPLUG_ERR_UTF8"
    assert len(frees) == 1 and frees[0]


def test_wrong_argument_types_are_refused_before_the_call(text):
    _, contract = text
    with pytest.raises(TypeError, match="upper"):
        contract.function("upper", "string(str)")(b"bytes")
    with pytest.raises(TypeError, match="reverse"):
        contract.function("reverse", "buf(bytes)")("text")
    with pytest.raises(TypeError, match="takes 1 arguments"):
        contract.function("upper", "string(str)")()


def test_the_signature_is_still_checked(text):
    _, contract = text
    with pytest.raises(polyplug.SignatureMismatchError, match="upper"):
        contract.function("upper", "buf(bytes)")


def test_a_wasm_plugin_is_called_packed(calc_bundle, bundle):
    with pytest.raises(polyplug.LoadError):
        with polyplug.Runtime() as plain:
            plain.load_bundle(calc_bundle)
    with polyplug.Runtime(loaders=polyplug.LOADER_WASM) as runtime:
        bundle_id = runtime.load_bundle(calc_bundle)
        runtime.load_bundle(bundle("test-add"))
        calc = runtime.find("capi.calc", (1, 0))
        add = calc.function("add", "u32(u32,u32)")
        assert add(2, 3) == 5
        assert add(2**32 - 1, 1) == 0
        assert add(40, 2) == 42
        # A native function beside it keeps its plain pointer.
        assert runtime.find("test.add", (1, 0)).function("add", "u32(u32,u32)")(20, 22) == 42
        with pytest.raises(polyplug.CallError, match="fail") as trap:
            calc.function("fail", "u32(u32)")(7)
        assert trap.value.code == 12  # PP_ERR_TRAP
        assert add(1, 1) == 2
        # The guest calls a host function written in Python by name, through
        # the packed form the package registers with it; an exception in it
        # comes back to the guest as an error code (0xE0000000 | code).
        runtime.register_host_contract(
            "capi.host",
            (1, 0),
            typed={
                "twice": ("u32(u32)", lambda x: 2 * x),
                "plain": ("u32(u32)", lambda x: 1 // 0),
            },
        )
        assert calc.function("via_host", "u32(u32)")(21) == 42
        assert calc.function("via_plain", "u32(u32)")(21) == 0xE0000000 | 8  # PP_ERR_PANIC
        runtime.unload_bundle(bundle_id)
        with pytest.raises(polyplug.StaleContractError):
            add(1, 2)


@pytest.mark.parametrize(
    "kind, contract, flag",
    [("lua", "capi.lua", "LOADER_LUA"), ("javascript", "capi.js", "LOADER_JS")],
)
def test_script_plugins_are_called_as_any_other(script_bundles, kind, contract, flag, frees):
    path = script_bundles[kind]
    with pytest.raises(polyplug.LoadError):
        with polyplug.Runtime() as plain:
            plain.load_bundle(path)
    with polyplug.Runtime(loaders=getattr(polyplug, flag)) as runtime:
        bundle_id = runtime.load_bundle(path)
        calc = runtime.find(contract, (1, 0))
        add = calc.function("add", "u32(u32,u32)")
        assert add(2, 3) == 5
        assert add(2**32 - 1, 1) == 0
        assert calc.function("upper", "string(str)")("hello") == "HELLO"
        assert len(frees) == 1 and all(frees)
        with pytest.raises(polyplug.CallError, match="refused 7") as raised:
            calc.function("fail", "u32(u32)")(7)
        assert raised.value.code == 12  # PP_ERR_TRAP
        assert contract in str(raised.value)
        assert add(40, 2) == 42
        runtime.reload_bundle(bundle_id)
        assert add(1, 1) == 2
        runtime.unload_bundle(bundle_id)
        with pytest.raises(polyplug.StaleContractError):
            add(1, 2)


def test_a_python_host_is_refused_python_plugins_by_name(script_bundles):
    # This process's interpreter is the host's: libpolyplug does not run
    # plugins on it. The refusal is a typed error naming the loader, and
    # the runtime keeps serving what it had.
    with polyplug.Runtime(loaders=polyplug.LOADER_PYTHON | polyplug.LOADER_LUA) as runtime:
        lua_id = runtime.load_bundle(script_bundles["lua"])
        with pytest.raises(polyplug.LoadError, match="Python interpreter polyplug did not start") as refused:
            runtime.load_bundle(script_bundles["python"])
        assert "loader" in str(refused.value)
        assert runtime.find("capi.lua", (1, 0)).function("add", "u32(u32,u32)")(40, 2) == 42
        runtime.unload_bundle(lua_id)
