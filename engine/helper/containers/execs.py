"""exec: a process started in a running container, its streams handed to the caller.

A fresh ``python -S`` process (engine/helper/runtime/execproc.py) joins the
container's namespaces and cgroup; its request travels in a memfd.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess

from engine.environ import merge_env
from engine.errors import ContainerStartError, HelperError, InvalidArgument, InvalidState
from engine.helper.containers.base import ContainerBase
from engine.helper.containers.procs import (
    is_in_container,
    reap_when_done,
    request_memfd,
)
from engine.helper.runtime.devices import device_mode
from engine.helper.runtime.launch import PACKAGE_ROOT, python_module
from engine.helper.seccomp.programs import UNCONFINED
from engine.wire.requests import WithFds

__all__ = ["Exec"]


class Exec(ContainerBase):
    """docker exec."""

    def exec(self, id: str, args: list[str], env: list[str], user: str, cwd: str, tty: bool,
             rows: int, cols: int) -> WithFds:
        """Start a process in the running container; hand its streams to the caller."""
        cdir = self._existing(id)
        status = self._live_status(cdir)
        if status.get("status") != "running":
            raise InvalidState(f"Container {id} is not running")
        if cdir.paused.exists():
            raise InvalidState(f"Container {id} is paused, unpause the container before exec")
        if not args:
            raise InvalidArgument("no command specified")
        if not is_in_container(int(status.get("pid", 0)), id):
            raise InvalidState(f"Container {id} is not running")
        spec = cdir.read_spec()
        if spec.seccomp != UNCONFINED and not cdir.seccomp.exists():
            # started by an older Skiff
            self.seccomp.install(cdir.seccomp, spec.seccomp, spec.capabilities)
        status_r, status_w = os.pipe2(os.O_CLOEXEC)
        error_r, error_w = os.pipe2(os.O_CLOEXEC)
        ours: list[int] = []
        theirs: list[int] = []
        pty_ours = pty_theirs = -1
        if tty:
            # The pty is opened inside the container's devpts by the exec process.
            pty_ours, pty_theirs = (s.detach() for s in socket.socketpair())
            os.set_inheritable(pty_ours, False)
            devnull = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
            stdio = (devnull, devnull, devnull)
            ours, theirs = [], [devnull, pty_theirs]
        else:
            in_r, in_w = os.pipe2(os.O_CLOEXEC)
            out_r, out_w = os.pipe2(os.O_CLOEXEC)
            err_r, err_w = os.pipe2(os.O_CLOEXEC)
            stdio = (in_r, out_w, err_w)
            ours, theirs = [in_w, out_r, err_r], [in_r, out_w, err_w]
        request = {
            "id": id, "pid": int(status["pid"]), "cgroup_parent": self.cgroup_parent,
            "args": args, "env": merge_env(cdir.run_env(spec.env), env), "user": user or spec.user,
            "cwd": cwd or spec.cwd or "/", "hostname": spec.hostname, "tty": tty,
            "status_fd": status_w, "error_fd": error_w, "pty_socket": pty_theirs,
            "rows": rows, "cols": cols, "devices": device_mode(spec),
            "capabilities": spec.capabilities, "ulimits": spec.ulimits,
            "group_add": spec.group_add,
            "seccomp": "" if spec.seccomp == UNCONFINED else str(cdir.seccomp),
        }
        request_fd = request_memfd(request)
        try:
            process = subprocess.Popen(
                [*python_module("engine.helper.runtime.execproc"), str(request_fd)],
                stdin=stdio[0], stdout=stdio[1], stderr=stdio[2],
                pass_fds=[fd for fd in (status_w, error_w, pty_theirs, request_fd) if fd >= 0],
                start_new_session=not tty, cwd="/",
                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                     "PYTHONPATH": PACKAGE_ROOT})
        except BaseException:
            for fd in (*ours, *theirs, status_r, status_w, error_r, error_w, pty_ours):
                if fd >= 0:
                    os.close(fd)
            raise
        finally:
            os.close(request_fd)
        reap_when_done(process)
        for fd in (*theirs, status_w, error_w):
            os.close(fd)
        self._monitors.append(process)
        if tty:
            with socket.socket(fileno=pty_ours) as sock:
                sock.settimeout(30)
                try:
                    _, fds, _, _ = socket.recv_fds(sock, 1, 1)
                except OSError:
                    fds = []
            ours = fds
        with os.fdopen(error_r, "rb") as f:
            failure = f.read()  # EOF once the command was exec'd
        if failure or (tty and not ours):
            for fd in (*ours, status_r):
                os.close(fd)
            if not failure:
                raise HelperError("the exec process did not open a terminal")
            info = json.loads(failure.decode().splitlines()[0])
            raise ContainerStartError(info["message"], int(info["code"]))
        return WithFds({"tty": tty}, [*ours, status_r])
