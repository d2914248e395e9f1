"""The ``skiff`` launcher handing commands to the user's pre-imported server.

Each test runs a copy of the code (so the server is this module's own, and its
files can be changed to make it stale) the way the installed launcher runs it:
``python -I -S``, the client first. Commands must come out exactly as when they
run on their own: output, exit status, standard input, terminal, environment,
working directory, umask and signals.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import pty
import select
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import sysconfig
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app.cli.e2ehelpers import wait_for
from tests.fixtures.cli import REPO
from tests.fixtures.engine import stop_lingering
from tests.fixtures.terminal import read_until_closed

LAUNCH = ("import sys; sys.path[:0] = [{code!r}]; sys.path.append({site!r}); "
          "from app.cli.launcher import main; sys.exit(main())")


class Client:
    """``skiff`` from a private copy of the code, with a lingering server."""

    def __init__(self, code: Path, root: Path) -> None:
        self.code = code
        self.root = root
        self.command = [sys.executable, "-I", "-S", "-c",
                        LAUNCH.format(code=str(code), site=sysconfig.get_paths()["purelib"])]
        self.env = dict(os.environ, SKIFF_HELPER_IDLE="60")

    def __call__(self, *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
        kwargs.setdefault("env", self.env)
        return subprocess.run([*self.command, *args], capture_output=True, text=True,
                              timeout=120, **kwargs)  # type: ignore[call-overload]

    def server(self) -> int | None:
        """The pid of the server serving this copy, once it listens."""
        for lock in (self.root / "run").glob("cli-*.sock.lock"):
            socket_path = lock.with_suffix("")
            text = lock.read_text().strip() if socket_path.exists() else ""
            if text.isdigit() and str(self.code).encode() in _cmdline(int(text)):
                return int(text)
        return None

    def lock(self, server: int) -> Path:
        """The lock file (its socket's name and ".lock") of this copy's server ``server``."""
        for lock in (self.root / "run").glob("cli-*.sock.lock"):
            if lock.read_text().strip() == str(server):
                return lock
        raise AssertionError(f"no lock names server {server}")

    def served(self) -> int:
        """Starts the server (one command run on its own) and waits until it listens."""
        if self.server() is None:
            assert self("ps").returncode == 0
            wait_for(lambda: self.server() is not None, timeout=60)
        pid = self.server()
        assert pid is not None
        return pid


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _gone(server: int, child: int) -> bool:
    return child not in _children(server) and not _cmdline(child)


def _children_cpu(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[13]) + int(fields[14])  # cutime + cstime: its reaped children's


@pytest.fixture(scope="module")
def client(skiff_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    code = tmp_path_factory.mktemp("skiff-code")
    for package in ("app", "engine"):
        shutil.copytree(REPO / package, code / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    made = Client(code, skiff_root)
    yield made
    pid = made.server()
    stop_lingering(skiff_root)  # the server, and the helper its commands left waiting
    if pid is not None:
        wait_for(lambda: not _cmdline(pid), timeout=30)


def test_a_served_command_answers_as_one_run_on_its_own(client: Client) -> None:
    alone = client("inspect", "no-such-thing", env=dict(client.env, SKIFF_HELPER_IDLE="0"))
    server = client.served()
    before = _children_cpu(server)
    served = [client("inspect", "no-such-thing") for _ in range(5)]
    for result in served:
        assert (result.returncode, result.stdout, result.stderr) == (
            alone.returncode, alone.stdout, alone.stderr)
    assert alone.returncode == 1 and "No such object: no-such-thing" in alone.stderr
    assert client.server() == server
    # The server ran them: its reaped children's CPU grew (a command costs ~10 ms).
    wait_for(lambda: _children_cpu(server) > before, timeout=10)


def test_the_server_is_private_and_has_no_threads(client: Client) -> None:
    server = client.served()
    folder = client.root / "run"
    assert folder.stat().st_mode & 0o777 == 0o700
    for entry in folder.glob("cli-*"):
        assert entry.stat().st_mode & 0o777 == 0o600, entry
    assert os.listdir(f"/proc/{server}/task") == [str(server)]


def test_environment_folder_and_umask_are_the_clients(client: Client, tmp_path: Path,
                                                      busybox_image: str) -> None:
    client.served()
    (tmp_path / "compose.yaml").write_text(
        "services:\n  web:\n    image: ${IMAGE_NAME}\n    command: echo $$HOME\n")
    shown = client("compose", "config", "--format", "json", cwd=tmp_path,
                   env=dict(client.env, IMAGE_NAME="from-the-client"))
    assert shown.returncode == 0, shown.stderr
    config = json.loads(shown.stdout)
    assert config["name"] == tmp_path.name  # the project is named after the client's folder
    assert config["services"]["web"]["image"] == "from-the-client"
    created = client("create", "--network", "none", busybox_image)
    assert created.returncode == 0, created.stderr
    try:
        for umask, mode in ((0o077, 0o600), (0o022, 0o644)):
            target = tmp_path / f"rootfs-{umask:o}.tar"
            exported = client("export", "-o", str(target), created.stdout.strip(),
                              preexec_fn=lambda u=umask: os.umask(u))
            assert exported.returncode == 0, exported.stderr
            assert target.stat().st_mode & 0o777 == mode
    finally:
        client("rm", "-f", created.stdout.strip())


def test_standard_input_reaches_a_container(client: Client, busybox_image: str) -> None:
    client.served()
    done = client("run", "-i", "--rm", "--network", "none", busybox_image, "sh", "-c",
                  "tr a-z A-Z; exit 3", input="hello from stdin\n")
    assert (done.returncode, done.stdout) == (3, "HELLO FROM STDIN\n"), done.stderr


def test_a_terminal_and_its_resizing_reach_a_container(client: Client, busybox_image: str
                                                       ) -> None:
    """The client's terminal is the container's (by fd), and a resize of it (SIGWINCH,
    which the terminal sends the client's group) reaches the container's pty."""
    client.served()
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 111, 0, 0))

    def controlling_terminal() -> None:
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    process = subprocess.Popen([*client.command, "run", "-it", "--rm", "--network", "none",
                                busybox_image, "sh", "-c", "tty; echo ready; sleep 3; stty size"],
                               env=client.env, stdin=follower, stdout=follower, stderr=follower,
                               start_new_session=True, preexec_fn=controlling_terminal)
    output = b""
    try:
        while b"ready" not in output:
            output += os.read(leader, 4096)
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        os.close(follower)
        output += read_until_closed(leader)
        assert process.wait(60) == 0, output
    finally:
        os.close(leader)
    assert b"/dev/pts/0" in output and b"40 120" in output, output


def test_signals_reach_the_command_and_a_dead_client_takes_it_along(client: Client) -> None:
    server = client.served()
    for kill, status in ((signal.SIGINT, None), (signal.SIGKILL, -signal.SIGKILL)):
        events = subprocess.Popen([*client.command, "events"], env=client.env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        wait_for(lambda: bool(_children(server)), timeout=30)
        (child,) = _children(server)
        time.sleep(0.3)  # let it open the engine; a signal before that is also fine
        events.send_signal(kill)
        code = events.wait(30)
        wait_for(functools.partial(_gone, server, child), timeout=30)
        if status is None:  # as `skiff events` ends on Ctrl-C when it runs on its own
            alone = subprocess.Popen([*client.command, "events"],
                                     env=dict(client.env, SKIFF_HELPER_IDLE="0"),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            time.sleep(1.5)
            alone.send_signal(kill)
            assert code == alone.wait(30)
            assert b"Traceback" not in events.stderr.read()  # type: ignore[union-attr]
        else:
            assert code == status
        events.stdout.close()  # type: ignore[union-attr]
        events.stderr.close()  # type: ignore[union-attr]


def test_changed_code_is_never_run_by_an_old_server(client: Client) -> None:
    server = client.served()
    module = client.code / "app" / "cli" / "inspection.py"
    stamp = module.stat().st_mtime_ns
    os.utime(module, ns=(stamp, stamp + 1_000_000_000))
    done = client("inspect", "no-such-thing")
    assert done.returncode == 1 and "No such object" in done.stderr
    wait_for(lambda: not _cmdline(server), timeout=30)  # it went: the next starts afresh
    assert client.served() != server


def test_an_idle_server_goes_and_so_does_one_whose_socket_is_removed(client: Client) -> None:
    env = dict(client.env, SKIFF_HELPER_IDLE="60")
    server = client.served()
    lock = client.lock(server)
    lock.with_suffix("").unlink()  # its socket
    wait_for(lambda: not _cmdline(server), timeout=60)
    client.env = dict(env, SKIFF_HELPER_IDLE="1")
    try:  # a server that idles 1 s: it may come and go between two looks, its lock stays
        assert client("ps").returncode == 0
        wait_for(lambda: lock.read_text().strip() not in ("", str(server)), timeout=120)
        quick = int(lock.read_text())
        wait_for(lambda: not _cmdline(quick), timeout=60)
    finally:
        client.env = env


def test_the_preload_remembers_nothing_and_starts_no_thread() -> None:
    """What the server imported must not hold an answer computed with its own
    environment: a child runs with the client's."""
    probe = (
        "import functools, os, sys\n"
        "from app.cli.forkserver import preload\n"
        "preload()  # the first part and the rest\n"
        "assert len(os.listdir('/proc/self/task')) == 1, 'a thread'\n"
        "filled = []\n"
        "for name, module in list(sys.modules.items()):\n"
        "    if not name.startswith(('app.', 'engine.')):\n"
        "        continue\n"
        "    for attr, value in vars(module).items():\n"
        "        if isinstance(value, functools._lru_cache_wrapper) and "
        "value.cache_info().currsize:\n"
        "            filled.append(f'{name}.{attr}')\n"
        "assert not filled, filled\n"
        "print(len([n for n in sys.modules if n.startswith(('app.cli.', 'engine.'))]))\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 150  # every command's module and the engine's


def test_the_server_listens_first_and_imports_the_rest_between_commands(tmp_path: Path
                                                                         ) -> None:
    """The rest of the preload, one module at a time: one that fails to import costs
    only its commands; one that starts a thread ends the serving (a fork would copy
    a process without it)."""
    (tmp_path / "late_good.py").write_text("VALUE = 1\n")
    (tmp_path / "late_bad.py").write_text("raise RuntimeError('broken')\n")
    (tmp_path / "late_thread.py").write_text(
        "import threading, time\nthreading.Thread(target=time.sleep, args=(30,), "
        "daemon=True).start()\n")
    probe = (
        "import os, socket, sys\n"
        "from pathlib import Path\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        "from app.cli.forkserver import _Server\n"
        f"address = Path({str(tmp_path / 'server.sock')!r})\n"
        "listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
        "listener.bind(str(address)); listener.listen(1)\n"
        "lock = os.open(str(address) + '.lock', os.O_RDWR | os.O_CREAT, 0o600)\n"
        "server = _Server(address, listener, lock,\n"
        "                 iter(['late_good', 'late_bad', 'late_thread']))\n"
        "server.import_next()\n"
        "assert 'late_good' in sys.modules and server.listener is not None\n"
        "server.import_next()\n"
        "assert 'late_bad' not in sys.modules and server.listener is not None\n"
        "server.import_next()\n"
        "assert server.listener is None and not address.exists(), 'still serving'\n"
        "assert server.pending is not None\n"
        "server.import_next()\n"
        "assert server.pending is None\n"
        "print('ok')\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and done.stdout == "ok\n", done.stderr


def _listen_as_nobody(address: str) -> tuple[int, int]:
    """A server of another uid at ``address``: (its pid, a pipe that tells "listening",
    then how many bytes the one client it accepts sent)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(read)
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(address)  # then nobody: the peer's credentials are the listen()er's
            os.setgroups([])
            os.setresgid(65534, 65534, 65534)
            os.setresuid(65534, 65534, 65534)
            listener.listen(1)
            listener.settimeout(60)
            os.write(write, b"listening\n")
            conn, _ = listener.accept()
            conn.settimeout(10)
            received = 0
            while chunk := conn.recv(65536):
                received += len(chunk)
            os.write(write, b"%d\n" % received)
        finally:
            os._exit(0)
    os.close(write)
    return pid, read


def test_a_client_talks_only_to_a_server_of_its_own_uid(client: Client, tmp_path: Path) -> None:
    """Someone else's socket where ours would be (a folder they made first) gets
    neither our environment nor our streams: the command runs on its own."""
    world = tmp_path / "world"
    (world / "run").mkdir(parents=True)
    (world / "run").chmod(0o777)
    env = dict(client.env, SKIFF_ROOT=str(world))
    where = subprocess.run([*client.command[:-1], client.command[-1].replace(
        "sys.exit(main())", "from app.cli.launcher import server_address; "
        "print(server_address())")], env=env, capture_output=True, text=True, check=True)
    pid, pipe = _listen_as_nobody(where.stdout.strip())
    try:
        with os.fdopen(pipe) as told:
            assert told.readline() == "listening\n"
            done = client("--version", env=env)
            assert done.returncode == 0 and done.stdout.startswith("Skiff version"), done
            assert told.readline() == "0\n"  # it heard nothing from us
    finally:
        os.waitpid(pid, 0)
    assert not list((world / "run").glob("*.lock"))  # no server in a folder not ours alone


def test_a_job_in_the_background_of_its_terminal_cannot_take_it(client: Client,
                                                                busybox_image: str) -> None:
    """``skiff run -it x &`` from a shell with job control stops when it sets up the
    terminal, as any program does, instead of leaving the shell's terminal raw."""
    client.served()
    containers = set(client("ps", "-aq").stdout.split())
    leader, follower = pty.openpty()
    before = termios.tcgetattr(follower)

    def controlling_terminal() -> None:
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    skiff = " ".join(shlex.quote(word) for word in client.command)
    shell = subprocess.Popen(
        ["sh", "-m", "-c", f"{skiff} run -it --rm --network none {busybox_image} sh & "
                           "sleep 5; jobs -l; kill -9 %1; echo finished"],
        env=client.env, stdin=follower, stdout=follower, stderr=follower,
        start_new_session=True, preexec_fn=controlling_terminal)
    output = b""
    try:
        deadline = time.monotonic() + 120
        while b"finished" not in output and time.monotonic() < deadline:
            if select.select([leader], [], [], 1)[0]:
                output += os.read(leader, 4096)
        shell.wait(60)
        assert b"Stopped" in output, output  # by SIGTTOU, as docker's would be
        assert termios.tcgetattr(follower)[3] == before[3]  # still cooked, echoing
    finally:
        os.close(follower)
        os.close(leader)
        made = set(client("ps", "-aq").stdout.split()) - containers
        if made:  # the job was killed where it stopped: its container may be there
            client("rm", "-f", *made)
