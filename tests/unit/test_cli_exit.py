"""`voc` ends without the interpreter's teardown (0.3-0.7 s once Prefect is loaded), but
with everything a normal exit does first: exit hooks run, output is flushed, the exit code
is the command's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import atexit, sys
from pathlib import Path
from flows import cli
marker = Path(sys.argv[1])
atexit.register(lambda: marker.write_text("hooks ran"))
print("before", end="")  # unflushed output must not be lost
sys.argv = ["voc", *sys.argv[2:]]
cli.main()
print("never reached")
"""


@pytest.mark.parametrize(
    ("args", "code"),
    [(["--help"], 0), (["no-such-command"], 2), (["status", "--db", "/proc/no/x.duckdb"], 1)],
)
def test_voc_exits_with_the_commands_code_after_running_exit_hooks(tmp_path, args, code):
    marker = tmp_path / "marker"
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(marker), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == code, out.stderr[-2000:]
    assert marker.read_text() == "hooks ran"
    assert out.stdout.startswith("before") and "never reached" not in out.stdout
