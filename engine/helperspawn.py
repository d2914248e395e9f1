"""How the privileged helper process starts, and a cold pull's head start.

``spawn`` starts the helper on a socketpair (engine/helperclient.py talks over it).
A ``skiff pull`` that no CLI server took (app/cli/launcher.py runs it in its own
process) imported the CLI and the engine for ~0.1 s before the engine started the
helper, whose own start-up (~0.15 s) then gated the layers' unpacking: ``start_for_pull``,
called by the launcher before those imports, starts it first, so that it gets ready on
the other core meanwhile; the engine's client takes it (``take``) when it would have
started that very command, and greets it as one it started. Only when nothing could ask
for a password and no helper is there already: for root, with no helper lingering for
us, and when the store has no image of that name (a pull of an image that is here
needs no helper and starts none).

Nothing here imports asyncio: the launcher runs it before anything else.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

__all__ = ["helper_command", "idle_seconds", "lingering_socket", "spawn", "start_for_pull",
           "take"]

_early: tuple[list[str], socket.socket, subprocess.Popen[bytes]] | None = None


def idle_seconds() -> float:
    """How long a helper lingers for later commands (SKIFF_HELPER_IDLE, default 60 s)."""
    try:
        return max(0.0, min(3600.0, float(os.environ.get("SKIFF_HELPER_IDLE", "60"))))
    except ValueError:
        return 60.0


def helper_command(root: Path, cgroup_parent: str) -> list[str]:
    """Root runs this copy's helper; a user, the installed one through pkexec."""
    args = ["--root", str(root), "--cgroup-parent", cgroup_parent,
            "--idle", f"{idle_seconds():g}"]
    if os.geteuid() == 0:
        return [sys.executable, "-m", "engine.helper", *args]
    from engine import polkit  # for a user only (~4 ms of imports)

    pkexec, installed = polkit.pkexec_command()
    return [pkexec, str(installed.helper), *args]


def lingering_socket(root: Path) -> Path:
    """Where a helper that lingers for this user listens (engine/helper/server.py's
    socket_path, for our uid)."""
    return root / "run" / f"helper-{os.getuid()}.sock"


def spawn(command: list[str], theirs: socket.socket,
          through_pkexec: bool) -> subprocess.Popen[bytes]:
    """The helper running ``command`` with ``theirs`` as its standard input (and this
    package first on its path); pkexec's complaints come on a pipe."""
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    return subprocess.Popen(
        command, stdin=theirs.fileno(), stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE if through_pkexec else None,
        close_fds=True, env=env, start_new_session=True,
        cwd="/")  # `python -m` looks in the working directory first


def start_for_pull(args: list[str]) -> None:
    """Start the helper for ``skiff pull ARGS`` now, if the engine will start it for
    that pull anyway and can without asking anyone (see above); never fails."""
    global _early
    if os.geteuid() != 0 or _early is not None:
        return
    from engine import paths

    root, parent = Path(paths.helper_root()), paths.cgroup_parent()
    ref = _pulled(args)
    if ref is None or _listening(lingering_socket(root)) or _here(ref):
        return
    command = helper_command(root, parent)
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        process = spawn(command, theirs, through_pkexec=False)
    except OSError:
        ours.close()
        return  # the engine starts it, and says what is wrong
    finally:
        theirs.close()
    _early = (command, ours, process)


def _listening(path: Path) -> bool:
    """Whether a helper listens at ``path`` (the engine's client then takes it): the
    socket file of a helper that was killed refuses the connection."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_NONBLOCK)
    try:
        probe.connect(str(path))
    except BlockingIOError:  # its backlog is full: it is there, busy
        return True
    except OSError:
        return False
    finally:
        probe.close()
    return True


def take(command: list[str]) -> tuple[socket.socket, subprocess.Popen[bytes]] | None:
    """The helper started early for ``command``, once; None if none was."""
    global _early
    if _early is None or _early[0] != command:
        return None
    _, sock, process = _early
    _early = None
    return sock, process


def _pulled(args: list[str]) -> str | None:
    """The reference ``pull ARGS`` names; None unless there is exactly one."""
    names, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg == "--platform":
            skip = True
        elif not arg.startswith("-"):
            names.append(arg)
    return names[0] if len(names) == 1 else None


def _here(ref: str) -> bool:
    """Whether the store has an image of that name (or may: anything unclear counts),
    read as engine/images/store.py finds a tag or a repo digest."""
    import sqlite3

    from engine import paths
    from engine.errors import InvalidArgument
    from engine.images.reference import Reference

    database = Path(paths.engine_root(), "skiff.db")
    if not database.exists():
        return False
    try:
        parsed = Reference.parse(ref)
    except InvalidArgument:
        return True  # the engine says what is wrong with it
    if parsed.digest:
        query = "SELECT 1 FROM image_digests WHERE ref = ?"
        name = parsed.with_digest(parsed.digest).canonical
    else:
        query, name = "SELECT 1 FROM image_tags WHERE ref = ?", parsed.canonical
    try:
        conn = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
        try:
            return conn.execute(query, (name,)).fetchone() is not None
        finally:
            conn.close()
    except sqlite3.Error:
        return True
