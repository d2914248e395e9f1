"""The privileged helper: validated requests from its user's engines.

The engine starts it with the connected socket as standard input (pkexec
keeps fds 0-2 only). It answers until the engine hangs up, then exits (or
lingers for later engines of the same user); container monitors run in their
own sessions and outlive it. Each connection is served on its own, with
bounded queues and workers (engine/helper/connection.py); at most
``MAX_CONNECTIONS`` at once.
"""

from __future__ import annotations

import os
import socket
import struct
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import InvalidArgument, ProtocolError, SkiffError
from engine.helper.cancel import Cancellation
from engine.helper.connection import Connection, close_all
from engine.helper.containers import ContainerService
from engine.helper.layersource import UnpackLimits
from engine.helper.verbs import HANDLERS, Call
from engine.helper.zygote import Zygote
from engine.wire import protocol
from engine.wire.requests import REQUESTS, Verb

if TYPE_CHECKING:
    from engine.helper.network.verbs import NetworkVerbs

__all__ = ["MAX_CONNECTIONS", "HelperServer", "peer_uid"]

# A user's parallel commands each hold one (50 `skiff run -d` at once); one refused
# starts a helper of its own, which costs it ~0.5 s of CPU.
MAX_CONNECTIONS = 64
HELLO_TIMEOUT = 10.0  # seconds a new connection has to say hello
# What a pull asks (with the repair every engine starts with): no container behind them,
# so they leave the networking and the zygote cold (ContainerService.warm).
_COLD_VERBS = frozenset({Verb.PING, Verb.CANCEL, Verb.REPAIR, Verb.LAYER_EXISTS,
                         Verb.CLAIM_LAYER, Verb.UNPACK_LAYER, Verb.REMOVE_LAYER})


def peer_uid(sock: socket.socket) -> int:
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return int(uid)


class HelperServer:
    """Serves the engines of one user: the one that started it, and, while it stays
    up for ``idle`` seconds, later ones that connect to its socket."""

    def __init__(self, root: Path, uid: int, cgroup_parent: str,
                 zygote: Zygote | None = None, limits: UnpackLimits | None = None) -> None:
        self.root = root
        self.uid = uid
        self.cgroup_parent = cgroup_parent
        self.limits = limits or UnpackLimits()
        self.containers: ContainerService = ContainerService(root, uid, cgroup_parent, zygote)
        self.containers.max_layer_bytes = self.limits.max_bytes
        self._active = 0
        self._idle_since = time.monotonic()
        self._state_lock = threading.Lock()

    def serve(self, sock: socket.socket) -> None:
        """Answer one connection until it closes."""
        if not self._admit():
            self._refuse(sock)
            return
        self._serve_admitted(sock)

    def _admit(self) -> bool:
        with self._state_lock:
            if self._active >= MAX_CONNECTIONS:
                return False
            self._active += 1
            return True

    def _serve_admitted(self, sock: socket.socket) -> None:
        try:
            self._serve(sock)
        finally:
            sock.close()
            with self._state_lock:
                self._active -= 1
                self._idle_since = time.monotonic()

    def _serve(self, sock: socket.socket) -> None:
        reader = protocol.FrameReader(sock)
        try:
            sock.settimeout(HELLO_TIMEOUT)
            first = reader.read()
            sock.settimeout(None)
        except (OSError, ProtocolError):
            return
        if first is None:
            return
        hello, fds = first
        close_all(fds)
        if hello.get("hello") != protocol.VERSION:
            _send_quietly(sock, {"error": {"kind": "protocol", "message":
                                           f"protocol version {str(hello.get('hello'))[:32]!r} "
                                           f"is not supported; this helper speaks "
                                           f"{protocol.VERSION}"}})
            return
        conn = Connection(sock, reader, self._dispatch)
        conn.send({"hello": protocol.VERSION, "root": str(self.root), "pid": os.getpid(),
                   "cgroup_parent": self.cgroup_parent})
        conn.run()

    def _refuse(self, sock: socket.socket) -> None:
        """Too many connections: say so (the engine then starts a helper of its own)."""
        sock.settimeout(1.0)
        _send_quietly(sock, {"error": {"kind": "helper", "message":
                                       f"the helper already serves {MAX_CONNECTIONS} "
                                       "connections"}})
        sock.close()

    def serve_listener(self, listener: socket.socket, idle: float) -> None:
        """Accept this user's later engines until nobody was connected for ``idle`` s."""
        listener.settimeout(1.0)
        while True:
            try:
                sock, _ = listener.accept()
            except TimeoutError:
                with self._state_lock:
                    if self._active == 0 and time.monotonic() - self._idle_since > idle:
                        return
                continue
            except OSError:
                return
            sock.settimeout(None)
            if peer_uid(sock) != self.uid:
                sock.close()  # the socket's mode already keeps others out; be sure
                continue
            if not self._admit():
                self._refuse(sock)
                continue
            threading.Thread(target=self._serve_admitted, args=(sock,), daemon=True,
                             name="connection").start()

    def wait_idle(self) -> None:
        while True:
            with self._state_lock:
                if self._active == 0:
                    break
            time.sleep(0.05)

    def _dispatch(self, verb: str, args: dict[str, Any], fds: list[int],
                  cancel: Cancellation) -> Any:
        handler = HANDLERS.get(Verb(verb)) if verb in REQUESTS else None
        if handler is None:
            raise ProtocolError(f"unknown verb {verb!r}")
        request = REQUESTS[Verb(verb)].from_checked(args)
        if verb not in _COLD_VERBS:
            self.containers.warm()
        return handler(self, Call(request, fds, cancel))

    # -- layers: shared by every user, each user's references counted --------------
    def layer_exists(self, diff_id: str) -> bool:
        from engine.helper import layers

        return layers.has_layer(self.root / "layers", diff_id)

    def claim_layer(self, diff_id: str) -> bool:
        """Record the caller's reference to the layer if it is unpacked; say whether it is."""
        return self.containers.layer_refs.claim(diff_id, self.uid)

    def remove_layer(self, diff_id: str) -> None:
        self.containers.layer_refs.release(diff_id, self.uid)

    def unpack_layer(self, diff_id: str, digest: str | None, fds: list[int],
                     cancel: Cancellation) -> Any:
        """Unpack the blob whose descriptor is the one in ``fds`` (it is taken)."""
        from engine.helper import layers
        from engine.helper.layersource import BlobSource, Budget

        if len(fds) != 1:
            raise InvalidArgument("unpack_layer needs exactly one file descriptor")
        self.containers.layer_refs.hold(diff_id, self.uid)
        budget = Budget(self.limits, diff_id[:19], cancel)
        source = BlobSource(fds.pop(), budget, self.uid)
        try:
            return layers.unpack_layer(source, self.root / "layers", diff_id=diff_id,
                                       digest=digest, budget=budget)
        finally:
            source.close()

    def networks(self) -> NetworkVerbs:
        """The network verbs for this connection's user (made on first use)."""
        from engine.helper.network.verbs import NetworkVerbs

        self.containers.network_ready()
        verbs: NetworkVerbs | None = getattr(self, "_network_verbs", None)
        if verbs is None:
            # the containers' own: a network removed takes its spare sandboxes along
            verbs = self._network_verbs = NetworkVerbs(self.root, self.uid,
                                                       self.containers.networking())
        return verbs



def _send_quietly(sock: socket.socket, message: dict[str, Any]) -> None:
    try:
        protocol.send_frame(sock, message)
    except OSError:
        pass  # it hung up already


def main(argv: list[str] | None = None) -> int:
    import argparse
    import signal

    parser = argparse.ArgumentParser(prog="skiff-helper")
    parser.add_argument("--root", help="storage root (honoured only for a root caller)")
    parser.add_argument("--cgroup-parent", help="honoured only for a root caller")
    parser.add_argument("--idle", type=float, default=0.0,
                        help="stay up this many seconds for later engines (0: exit with "
                             "the engine that started us)")
    defaults = UnpackLimits()
    # Layer limits, like --root, are honoured only when root started us (not through pkexec).
    parser.add_argument("--max-layer-size", type=int, default=defaults.max_bytes,
                        help="bytes a layer's blob, tar or files may each reach")
    parser.add_argument("--layer-stall", type=float, default=defaults.stall_seconds,
                        help="seconds a layer's stream may stay silent")
    parser.add_argument("--layer-time", type=float, default=defaults.max_seconds,
                        help="seconds one layer's unpack may take")
    options = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the CLI must not kill us midway
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    if os.geteuid() != 0:
        print("skiff-helper: must run as root", file=sys.stderr)
        return 1
    sock = socket.socket(fileno=os.dup(0))
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    uid = peer_uid(sock)
    pkexec_uid = os.environ.get("PKEXEC_UID")
    if pkexec_uid is not None and int(pkexec_uid) != uid:
        print("skiff-helper: the socket's peer is not the user pkexec authorised", file=sys.stderr)
        return 1
    from engine.cgroups.base import check_component

    root, cgroup_parent = _world(options.root, options.cgroup_parent,
                                 trusted=pkexec_uid is None)
    limits = defaults if pkexec_uid is not None else UnpackLimits(
        max(1, options.max_layer_size), max(0.1, options.layer_stall),
        max(0.1, options.layer_time))
    try:
        parent = check_component(cgroup_parent, "cgroup parent")
    except SkiffError as exc:
        print(f"skiff-helper: {exc}", file=sys.stderr)
        return 1
    root.mkdir(parents=True, exist_ok=True, mode=0o711)
    (root / "layers").mkdir(exist_ok=True, mode=0o711)
    from engine.helper.layerrefs import LayerRefs
    from engine.helper.layers import clean_temp

    clean_temp(root / "layers")
    LayerRefs(root).adopt()  # once: containers from before references were counted
    listener = _listen(root, uid) if 0 < options.idle <= 3600 else None
    zygote = Zygote()  # before any thread exists: forking is safe only now
    try:
        server = HelperServer(root, uid, parent, zygote, limits)
        server.containers.spare_sandboxes = listener is not None  # later starts take them
        if pkexec_uid is None:  # a test's choice; never a user's (pkexec clears it anyway)
            server.containers.userns_layers = os.environ.get("SKIFF_USERNS_LAYERS") or None
        if listener is None:
            server.serve(sock)
        else:
            threading.Thread(target=server.serve, args=(sock,), daemon=True,
                             name="connection").start()
            # asked to go (stop_lingering, a shutdown): go as after being idle, so what
            # is left at exit (spare network sandboxes) is deleted
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            server.serve_listener(listener, options.idle)
            _unlisten(listener, root, uid)
        server.wait_idle()
    finally:
        zygote.close()
    return 0


def _world(root: str | None, cgroup_parent: str | None, trusted: bool) -> tuple[Path, str]:
    """The storage root and cgroup parent we serve, and (in our environment) the bridge
    prefix and nft table: a root caller's choice, else our installation's.

    Through pkexec, a user could point the arguments anywhere; pkexec cleared the
    environment, so only what the root-owned installation says counts.
    """
    from engine import installation
    from engine.paths import SYSTEM_ROOT

    installed = installation.own()
    default_root = Path(installed.helper_root if installed else f"{SYSTEM_ROOT}/helper")
    default_parent = installed.cgroup_parent if installed else "skiff"
    network = installed.network_environment() if installed else {}
    if not trusted:
        for key in ("SKIFF_NET_PREFIX", "SKIFF_NET_TABLE", "SKIFF_NETFILTER"):
            os.environ.pop(key, None)
        os.environ.update(network)
        return default_root, default_parent
    for key, value in network.items():
        os.environ.setdefault(key, value)
    return (Path(root) if root else default_root), cgroup_parent or default_parent


def socket_path(root: Path, uid: int) -> Path:
    """Where a user's lingering helper listens; the engine derives the same path."""
    return root / "run" / f"helper-{uid}.sock"


def _listen(root: Path, uid: int) -> socket.socket | None:
    """Become this user's lingering helper, unless another one already is."""
    import fcntl

    run = root / "run"
    run.mkdir(mode=0o755, exist_ok=True)
    lock = os.open(run / f"helper-{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(lock)
        return None  # another helper serves this user; we serve our engine and go
    path = socket_path(root, uid)
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        listener.bind(str(path))
    finally:
        os.umask(old)
    os.chown(path, uid, -1)
    listener.listen(MAX_CONNECTIONS)  # a user's parallel commands connect at once
    # A lingering helper must not write into the terminal of a command long gone.
    log = os.open(run / f"helper-{uid}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 2)
    os.close(log)
    _LOCKS.append(lock)  # held for our lifetime
    return listener


_LOCKS: list[int] = []


def _unlisten(listener: socket.socket, root: Path, uid: int) -> None:
    try:
        socket_path(root, uid).unlink()
    except FileNotFoundError:
        pass
    listener.close()


