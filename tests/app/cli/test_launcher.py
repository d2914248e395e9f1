"""The launcher's own steps: the server it starts in the background after a command
it ran on its own gets none of that command's descriptors, streams or session."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from pathlib import Path

from tests.app.cli.e2ehelpers import wait_for
from tests.fixtures.cli import REPO


def _pid(lock: Path) -> int | None:
    try:
        text = lock.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _probe(code: str, world: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``code`` run as a command's own process (no CLI server) in ``world``, buffered
    as the interpreter buffers a pipe."""
    return subprocess.run([sys.executable, "-c", code, *args], cwd=REPO, capture_output=True,
                          text=True, timeout=60,
                          env=dict(os.environ, SKIFF_HELPER_IDLE="0", SKIFF_ROOT=str(world),
                                   PYTHONUNBUFFERED=""))


def test_the_background_server_keeps_nothing_of_the_command(tmp_path: Path) -> None:
    address = tmp_path / "run" / "cli.sock"
    address.parent.mkdir(mode=0o700)
    read, write = os.pipe()  # the command holds an inheritable end, as a shell may give
    os.set_inheritable(write, True)
    probe = ("import sys\n"
             "from app.cli.launcher import start_in_background\n"
             f"start_in_background({str(address)!r})\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, pass_fds=(write,),
                          env=dict(os.environ, SKIFF_HELPER_IDLE="60"), timeout=60,
                          capture_output=True, text=True)
    os.close(write)
    assert done.returncode == 0, done.stderr
    lock = Path(f"{address}.lock")
    wait_for(lambda: _pid(lock) is not None and address.exists(), timeout=60)
    server = _pid(lock)
    assert server is not None
    try:
        ready, _, _ = select.select([read], [], [], 10)
        assert ready and os.read(read, 1) == b""  # nobody else holds the pipe's end
        assert os.getsid(server) == server  # a session of its own
        for fd in (0, 1, 2):
            assert os.readlink(f"/proc/{server}/fd/{fd}") == os.devnull
    finally:
        os.close(read)
        os.kill(server, signal.SIGTERM)
        wait_for(lambda: not Path(f"/proc/{server}").exists(), timeout=30)


def test_a_command_run_here_gets_the_collector_back(tmp_path: Path) -> None:
    """The launcher's imports run without the cyclic collector; the command has it, as
    it has when the server runs it (app/cli/main.py turns it on for a long command)."""
    probe = ("import gc, sys\n"
             "from app.cli.launcher import main\n"
             "sys.argv = ['skiff', '--version']\n"
             "assert main() == 0\n"
             "print(gc.isenabled())\n")
    done = _probe(probe, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "True"


def test_a_command_run_here_imports_argparse_without_gettext(tmp_path: Path) -> None:
    """argparse's stand-in gettext goes once argparse has it: a later import gets the
    real module; argparse's own mistakes still read as docker's."""
    probe = ("import sys\n"
             "from app.cli.launcher import main\n"
             "sys.argv = ['skiff', 'ps', '--no-such-flag']\n"
             "status = main()\n"
             "print(status, 'gettext' in sys.modules)\n"
             "import gettext\n"
             "print(gettext.ngettext('one', 'many', 2), hasattr(gettext, 'translation'))\n")
    done = _probe(probe, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["125 False", "many True"]
    assert done.stderr == "skiff: unknown flag: --no-such-flag\nSee 'skiff ps --help'.\n"


def test_the_script_ends_as_a_served_command_does(tmp_path: Path) -> None:
    """console(): exit handlers run, buffered output is written and the status is the
    command's, with no interpreter teardown after it (app/cli/launcher.py's end)."""
    probe = ("import atexit, sys\n"
             "from app.cli.launcher import console\n"
             "atexit.register(lambda: print('handler ran', file=sys.stderr))\n"
             "sys.stdout.write('kept ')\n"
             "sys.argv = ['skiff', *sys.argv[1:]]\n"
             "console()\n"
             "print('never here')\n")
    for args, status, shown in ((["--version"], 0, "kept Skiff version"),
                                (["inspect", "no-such-container"], 1, "kept []")):
        done = _probe(probe, tmp_path, *args)
        assert done.returncode == status, done.stderr
        assert done.stdout.startswith(shown) and "never here" not in done.stdout
        assert done.stderr.endswith("handler ran\n")
