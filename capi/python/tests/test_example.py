"""The example Python host (capi/examples/host.py) runs and says what it did."""

import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "host.py"


def test_the_example_python_host_runs(bundle):
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), bundle("test-add"), bundle("reload-v1"), bundle("reload-v2")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "inc(41) = 42"
    assert lines[1] in ("answers seen: [100, 200]", "answers seen: [100]", "answers seen: [200]")
    assert lines[2] == "refused: POLYPLUG_ERR_BUNDLE - still serving 100"
    assert lines[3] == "reloads reported: 10"
    assert lines[4] == "libraries: LibraryStats(opened=12, closed=11, unmapped=11, still_mapped=0)"
