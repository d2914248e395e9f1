"""The read commands typed all day (and version, --version, --help), run with no CLI
server up (the first one after a pause runs in a process of its own,
app/cli/launcher.py), import none of the modules below: each costs that first
command milliseconds of the ~45 it takes and does nothing for it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.app.cli.e2ehelpers import Skiff
from tests.fixtures.cli import REPO

#: Modules no cold read command imports, one an entry.
UNUSED = (
    "typing",  # ~3 ms; names for annotations only are imported under `TYPE_CHECKING = False`
    "pathlib",  # ~4 ms with urllib.parse, ipaddress and ntpath: paths are strings (engine/paths.py)
    "gettext",  # ~1 ms: argparse has a stand-in for it (app/cli/launcher.py)
    "dataclasses",  # ~2 ms, and it imports inspect: models are engine/frozen.py's
    "inspect",  # ~10 ms, with ast, dis and tokenize
)

# As the installed launcher runs a command (packaging/skiff.in: a venv's `python -IS`, the
# code first in the path, site set up by the launcher), with the modules it loaded written out.
_PROBE = """\
import sys
sys.path[:0] = [{repo!r}]
sys.argv = ["skiff", *{args!r}]
from app.cli.launcher import main
status = main()
with open({loaded!r}, "w") as out:
    out.write("\\n".join(sys.modules))
sys.exit(status)
"""


def _installed_python(folder: Path) -> str:
    """A venv's interpreter with nothing in its site-packages, as ``make install`` leaves
    one (Skiff itself is not installed editable there: the development .venv's finder
    imports pathlib when site runs)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    return str(folder / "bin" / "python")


def _run_cold(python: str, args: tuple[str, ...], loaded: Path) -> tuple[str, set[str]]:
    """The command's output and the modules it imported, run as the first command
    after a pause: no CLI server to hand it to, and none started after it."""
    probe = _PROBE.format(repo=str(REPO), args=list(args), loaded=str(loaded))
    done = subprocess.run([python, "-IS", "-c", probe], capture_output=True,
                          text=True, timeout=120,
                          env={**os.environ, "SKIFF_HELPER_IDLE": "0"})
    assert done.returncode == 0, (args, done.stderr)
    return done.stdout, set(loaded.read_text().split())


def test_the_cold_read_commands_import_none_of_the_unused_modules(
        skiff: Skiff, busybox_image: str, tmp_path: Path) -> None:
    name = "cold-reader"
    assert skiff("run", "--name", name, busybox_image, "echo", "said once").returncode == 0
    expected = {("ps",): "CONTAINER ID", ("ps", "-a"): name, ("inspect", name): '"Id"',
                ("logs", "--tail", "10", name): "said once", ("images",): "busybox",
                ("version",): "Version:", ("--version",): "Skiff version",
                ("--help",): "List containers",
                ("ps", "-a", "--format", "json"): name,
                ("inspect", "--format", "{{.State.Status}}", name): "exited",
                ("inspect", busybox_image): '"RepoTags"',
                ("images", "--format", "json"): "busybox"}
    found = {}
    python = _installed_python(tmp_path / "venv")
    for args, output in expected.items():
        printed, loaded = _run_cold(python, args, tmp_path / "loaded")
        assert output in printed, (args, printed)
        assert "app.cli.launcher" in loaded and "engine" in loaded  # the probe sees them
        found[" ".join(args)] = sorted(loaded.intersection(UNUSED))
    assert found == {command: [] for command in found}
