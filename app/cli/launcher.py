"""The ``skiff`` command's first step: hand the command to a running ``skiff``.

Python spends ~45 ms importing what a command needs before it does anything
(podman's whole ``ps`` takes ~30 ms). So the first command starts a per-user
server that has imported it all once (app/cli/forkserver.py), and each later
command is this small client: it sends its arguments, environment, working
directory, umask and its three standard streams over a Unix socket; the server
forks a child that runs the command as this process would have, with those
streams, and answers with the child's exit status. Signals the client gets
(Ctrl-C, a window resize, a stop) are passed on to the child.

Only modules the interpreter has already loaded are imported here (``_socket``
and ``_signal`` rather than ``socket`` and ``signal``, which import ``enum``):
this module's own cost is ~1 ms. Anything unusual (no server, a server of other
code, no runtime directory) runs the command in this process, as before.

The server runs as the user, sees only that user's clients (the socket is in
the user's private runtime directory, and it checks each peer's uid) and does
nothing the user could not do by running ``skiff`` directly.
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # signal imports enum: ~13 ms
import _socket
import os
import sys
import zlib

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

__all__ = ["console", "end", "idle_seconds", "main", "server_address", "start_in_background"]

PROTOCOL = b"skiff-cli 1"
#: What the server answers instead of a pid when its code is older than its files.
STALE = 0
_FORWARDED = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGWINCH", "SIGUSR1", "SIGUSR2",
              "SIGCONT")


def idle_seconds() -> float:
    """How long Skiff's background processes linger after a command: the helper's
    setting (SKIFF_HELPER_IDLE, default 60 s) also bounds the CLI server's idle life;
    0 means none lingers, so no server is started."""
    try:
        return max(0.0, min(3600.0, float(os.environ.get("SKIFF_HELPER_IDLE", "60"))))
    except ValueError:
        return 60.0


def _code_dir() -> str:
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def server_address() -> str:
    """The socket of this user's server for this copy of Skiff, or None when there is
    no private place for one.

    One per user, interpreter and code directory (two installations never share
    one); under SKIFF_ROOT when set, so a test's world has its own and it goes with
    the world; else in the user's runtime directory (root: /run/skiff), or without
    one (a login that made none) in /tmp/skiff-UID, as tmux keeps its sockets: the
    server makes it 0700 and uses it only if it is the user's alone, and a client
    talks only to a server of its own uid (so a folder someone else made first
    only means no server).
    """
    uid = os.geteuid()
    root = os.environ.get("SKIFF_ROOT")
    if root:
        folder = os.path.join(root, "run")
    elif uid == 0:
        folder = "/run/skiff"
    else:
        runtime = os.environ.get("XDG_RUNTIME_DIR")
        folder = os.path.join(runtime, "skiff") if runtime else f"/tmp/skiff-{uid}"
    key = zlib.crc32(f"{sys.executable}\0{_code_dir()}".encode())
    return os.path.join(folder, f"cli-{uid}-{key:08x}.sock")


def _request(argv: list[str]) -> bytes:
    """One length-prefixed record of NUL-separated fields (none of them can hold a NUL)."""
    umask = os.umask(0)
    os.umask(umask)
    fields = [PROTOCOL, os.getcwdb(), b"%d" % umask, b"%d" % len(argv),
              *(os.fsencode(a) for a in argv),
              *(k + b"=" + v for k, v in os.environb.items())]
    body = b"\0".join(fields)
    return len(body).to_bytes(4, "little") + body


def _streams() -> list[int]:
    """Our fds 0, 1 and 2; one that is closed goes as /dev/null (the child must have all three)."""
    fds = []
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
            fds.append(fd)
        except OSError:
            fds.append(os.open(os.devnull, os.O_RDWR))
    return fds


def _read_int(conn: _socket.socket) -> int | None:
    data = b""
    while len(data) < 4:
        chunk = conn.recv(4 - len(data))
        if not chunk:
            return None
        data += chunk
    return int.from_bytes(data, "little", signed=True)


class _Forwarder:
    """Passes the signals a command would get on to the child running it. Until the
    server names the child they wait; Ctrl-Z stops the child, then us (``fg``
    sends SIGCONT, which continues both)."""

    def __init__(self) -> None:
        self.child = 0
        self.pending: list[int] = []
        for name in _FORWARDED:
            _signal.signal(getattr(_signal, name), self.forward)
        _signal.signal(_signal.SIGTSTP, self.stop)

    def forward(self, signum: int, _frame: object = None) -> None:
        if not self.child:
            self.pending.append(signum)
            return
        try:
            os.kill(self.child, signum)
        except OSError:
            pass

    def stop(self, signum: int, _frame: object) -> None:
        self.forward(signum)
        _signal.signal(_signal.SIGTSTP, _signal.SIG_DFL)
        os.kill(os.getpid(), _signal.SIGTSTP)
        _signal.signal(_signal.SIGTSTP, self.stop)

    def named(self, pid: int) -> None:
        self.child = pid
        for signum in self.pending:
            self.forward(signum)
        self.pending.clear()

    @staticmethod
    def restore() -> None:
        for name in (*_FORWARDED, "SIGTSTP"):
            _signal.signal(getattr(_signal, name), _signal.SIG_DFL)
        _signal.signal(_signal.SIGINT, _signal.default_int_handler)


def _handed_over(address: str, argv: list[str]) -> int | None:
    """The command's exit status as the server ran it; None when no server took it."""
    try:
        conn = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    except OSError:
        return None
    try:
        try:
            conn.connect(address)
            peer = conn.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, 12)
        except OSError:
            return None
        if int.from_bytes(peer[4:8], sys.byteorder) != os.geteuid():
            return None  # not our own server: it gets neither our streams nor our environment
        fds = _streams()
        request = _request(argv)
        rights = b"".join(fd.to_bytes(4, sys.byteorder) for fd in fds)
        try:
            sent = conn.sendmsg([request], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, rights)])
            if sent < len(request):
                conn.sendall(request[sent:])
        except OSError:
            return None
        forwarder = _Forwarder()
        pid = _read_int(conn)
        if pid is None or pid == STALE:  # then this process runs the command
            forwarder.restore()
            return None
        forwarder.named(pid)
        status = _read_int(conn)
        if status is None:  # the server died: the child went with it
            return 125
        if os.WIFSIGNALED(status):
            return 128 + os.WTERMSIG(status)
        return os.WEXITSTATUS(status)
    finally:
        conn.close()


def _asks_on_this_terminal(helper_root: str | None) -> bool:
    """Whether this command may start the helper through pkexec with no graphical agent
    to ask for the password: pkexec then asks on its controlling terminal, which a
    server's child does not have. So a user at a terminal with no helper running
    (the installed launcher names where its socket would be) runs the command here."""
    if os.geteuid() == 0 or not os.isatty(0):
        return False
    if helper_root is None:
        return True
    return not os.path.exists(f"{helper_root}/run/helper-{os.getuid()}.sock")


def start_in_background(address: str) -> None:
    """Start a server for the next commands (this one runs in its own process meanwhile).

    It runs with this interpreter and this process's module path, in a session of
    its own, with /dev/null for streams and no other descriptor of ours; if another
    is starting at the same time, one of them keeps the address and the rest exit at
    once. Spawned with os.posix_spawn, not subprocess, whose import was ~3-5 ms of a
    first ``skiff ps``'s ~50.
    """
    code = (f"import sys; sys.path[:] = {sys.path!r}; "
            f"from app.cli.forkserver import serve; serve({address!r})")
    try:
        null = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return
    try:  # with the site module: it makes sys.prefix the venv's, where the installation is
        kept = [int(fd) for fd in os.listdir("/proc/self/fd") if int(fd) > 2]
        actions: list[tuple[int, ...]] = [(os.POSIX_SPAWN_DUP2, null, fd) for fd in (0, 1, 2)]
        actions += [(os.POSIX_SPAWN_CLOSE, fd) for fd in kept
                    if fd != null and _inheritable(fd)]
        os.posix_spawn(sys.executable, [sys.executable, "-I", "-c", code], os.environ,
                       file_actions=actions, setsid=True,
                       setsigdef=(_signal.SIGPIPE, _signal.SIGXFSZ))
    except OSError:
        pass  # no server: commands run on their own, as before
    finally:
        os.close(null)


def _inheritable(fd: int) -> bool:
    try:
        return os.get_inheritable(fd)
    except OSError:  # listdir's own descriptor, closed since
        return False


def _in_the_background() -> bool:
    """A job in the background of its terminal (``skiff run -it x &``): the kernel stops
    it when it reads or sets up the terminal (SIGTTIN, SIGTTOU), so it cannot take
    the shell's keystrokes or leave its terminal raw. A server's child has no
    terminal of its own, so nothing would stop it: such a job runs here."""
    try:
        return os.isatty(0) and os.tcgetpgrp(0) != os.getpgrp()
    except OSError:
        return False


def _keeps_the_process(argv: list[str]) -> bool:
    """``skiff serve`` runs here: it may be handed sockets beyond the three streams
    (systemd's socket activation: LISTEN_FDS names this very process), and it runs
    for long, so its start-up does not matter."""
    return "LISTEN_FDS" in os.environ or "serve" in argv[1:2]


def _import_argparse_without_gettext() -> None:
    """argparse imports gettext for two functions, and gettext compiles a pattern at
    import (~0.9 ms of a first ``skiff ps``). Skiff's words are English and
    app/cli/main.py takes argparse's messages as they are: argparse is imported here
    with a stand-in that does just that, which then goes (a later ``import gettext``
    gets the real one)."""
    if "argparse" in sys.modules or "gettext" in sys.modules:
        return
    stand_in = type(sys)("gettext")
    stand_in.gettext = str  # type: ignore[attr-defined]
    stand_in.ngettext = lambda one, many, n: one if n == 1 else many  # type: ignore[attr-defined]
    sys.modules["gettext"] = stand_in
    try:
        import argparse  # noqa: F401
    finally:
        del sys.modules["gettext"]


def end(status: int) -> NoReturn:
    """End this process as a command's should once it is done: exit handlers run, output
    flushed, then gone, without the interpreter's teardown of every module (a command
    imports ~100: ~4 M instructions, ~1 ms of a first ``skiff ps``). A command the
    server runs ends so in its child (app/cli/forkserver.py); one run here, the same."""
    try:
        import atexit

        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (AttributeError, OSError, ValueError):  # none, or closed
                pass
    finally:
        os._exit(status & 0xFF)


def console(helper_root: str | None = None) -> NoReturn:
    """The ``skiff`` script: ``main``, then ``end``."""
    end(main(helper_root))


def main(helper_root: str | None = None) -> int:
    """A ``skiff`` command, run by its server or here; its exit status (``console``
    ends the process with it). ``helper_root``: the installed helper's, when the
    installation's launcher knows it."""
    address = server_address() if idle_seconds() > 0 else None
    tried = (address is not None and not _asks_on_this_terminal(helper_root)
             and not _keeps_the_process(sys.argv) and not _in_the_background())
    if address is not None and tried:
        status = _handed_over(address, sys.argv)
        if status is not None:
            return status
    import gc  # here: a served command's client needs none of it

    # The imports below make tens of thousands of objects and no garbage: the cyclic
    # collector's ~12 passes over them were ~2 ms of a first `skiff ps`'s ~50.
    gc.disable()
    if "site" not in sys.modules:  # started with -S by the installed launcher
        import site

        # What site.main() does that a command needs: the venv's prefix (its installation,
        # engine/installation.py) and site-packages; not the builtins for interactive use
        # nor the sitecustomize and usercustomize hooks, whose failed imports searched the
        # whole path (~0.3 ms of a first `skiff ps`).
        known = site.removeduppaths()
        site.venv(known)  # a venv's prefix and site-packages
        site.addsitepackages(known)  # the interpreter's, when it is none
    if sys.argv[1:2] == ["pull"]:  # its helper gets ready while we import (~0.1 s)
        from engine import start_for_pull

        start_for_pull(sys.argv[2:])
    _import_argparse_without_gettext()
    from app.cli.main import main as run

    gc.enable()  # the command decides (app/cli/main.py)
    try:
        return run()
    finally:  # after the command, whose cores the server's imports would share
        if address is not None and (tried or not os.path.exists(address)):
            start_in_background(address)
