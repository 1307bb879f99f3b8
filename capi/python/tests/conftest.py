"""What the tests share: the package on sys.path, and the fixture bundles.

The bundles are those cargo builds for the Rust tests
(target/<profile>/build/polyplug-fixtures-*/out/bundles), or the directory
in POLYPLUG_FIXTURES. ci/capi.sh builds them first.
"""

import os
import shutil
import sys
from pathlib import Path

import pytest

PYTHON_DIR = Path(__file__).resolve().parents[1]
ROOT = PYTHON_DIR.parents[1]
sys.path.insert(0, str(PYTHON_DIR))


def bundles_dir():
    explicit = os.environ.get("POLYPLUG_FIXTURES")
    if explicit:
        return Path(explicit)
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    found = [
        d
        for d in target.glob("*/build/polyplug-fixtures-*/out/bundles")
        if (d / "test-add" / "manifest.toml").is_file()
    ]
    if not found:
        raise RuntimeError(
            "no fixture bundles: build them with `cargo test -p polyplug-capi --no-run` "
            "or set POLYPLUG_FIXTURES"
        )
    # The most recent build: a stale one must not win.
    return max(found, key=lambda d: (d / "test-add" / "manifest.toml").stat().st_mtime)


@pytest.fixture(scope="session")
def bundles():
    """The fixture bundles' directory."""
    return bundles_dir()


@pytest.fixture
def bundle(bundles):
    """The directory of fixture bundle `name`, as a string."""
    return lambda name: str(bundles / name)


@pytest.fixture
def copy_bundles(bundles, tmp_path):
    """Copies the named bundles into a fresh directory and returns it."""

    def copy(*names):
        for name in names:
            shutil.copytree(bundles / name, tmp_path / name)
        return tmp_path

    return copy


@pytest.fixture(scope="session")
def calc_bundle():
    """The capi.calc WebAssembly bundle (capi/tests/wasm/calc.wat), which the
    Rust test c_hosts writes to target/tmp/polyplug-capi-wasm/calc."""
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    calc = target / "tmp" / "polyplug-capi-wasm" / "calc"
    if not (calc / "module.wasm").is_file():
        raise RuntimeError(
            f"no {calc}: write it with `cargo test -p polyplug-capi --test c_hosts`"
        )
    return str(calc)


@pytest.fixture(scope="session")
def script_bundles():
    """The capi.lua, capi.js and capi.python script bundles (capi/tests/scripts), which
    the Rust test c_hosts writes to target/tmp/polyplug-capi-scripts."""
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    root = target / "tmp" / "polyplug-capi-scripts"
    found = {"lua": root / "lua", "javascript": root / "javascript", "python": root / "python"}
    for kind, path in found.items():
        if not (path / "manifest.toml").is_file():
            raise RuntimeError(
                f"no {path}: write it with `cargo test -p polyplug-capi --test c_hosts`"
            )
    return {kind: str(path) for kind, path in found.items()}
