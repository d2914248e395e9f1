"""``exec``: a new process inside a running container.

``python -m engine.helper.runtime.execproc REQUEST_FD``, started by the
helper with the session's stdio already in place (a pty slave, or pipes), the
request (JSON) in a memfd, and an exit-status pipe and an error pipe whose fd
numbers the request names. It joins the container's namespaces and forks (a PID
namespace applies to children only); the child moves itself into the
container's cgroup, enters the container's user namespace (if it has one: last,
like the container's init), becomes the user and execs. This process stays
outside the cgroup, so it is neither in `skiff top` nor counted against the
pids limit; it waits and writes the exit code to the status pipe, so whoever
holds the other end learns it even if the helper is gone.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import struct
import sys
import termios

from engine.helper import syscalls as sc
from engine.helper.cgroups import join_file, open_cgroup
from engine.helper.runtime import devices, hostlimits, init, syscallfilter, users
from engine.helper.runtime.kernel import LINUX

__all__ = ["NAMESPACES", "main", "own_userns"]

# Joined in this order: the mount namespace last, since it changes the root.
# Everything is imported before setns(mnt): the container's root has no Python.
NAMESPACES = (("ipc", sc.CLONE_NEWIPC), ("uts", sc.CLONE_NEWUTS), ("net", sc.CLONE_NEWNET),
               ("pid", sc.CLONE_NEWPID), ("cgroup", sc.CLONE_NEWCGROUP), ("mnt", sc.CLONE_NEWNS))


def main(argv: list[str]) -> int:
    with os.fdopen(int(argv[1]), "rb") as source:
        request = json.loads(source.read())
    pid = int(request["pid"])
    status_fd, error_fd = int(request["status_fd"]), int(request["error_fd"])
    try:
        # Read on the host's side: the container's root has no such path.
        seccomp = syscallfilter.read(request["seccomp"]) if request["seccomp"] else None
    except (OSError, ValueError) as exc:
        init.fail(error_fd, f"cannot read the container's seccomp filter: {exc}", 126)
    try:
        # Opened on the host's side; written by the child, whose "0" moves itself.
        procs = [os.open(join_file(path), os.O_WRONLY | os.O_CLOEXEC) for path in
                 set(open_cgroup(request["id"], request["cgroup_parent"]).paths.values())]
        fds = [(os.open(f"/proc/{pid}/ns/{name}", os.O_RDONLY | os.O_CLOEXEC), flag)
               for name, flag in NAMESPACES]
        userns_fd = own_userns(pid)
        for fd, flag in fds:
            LINUX.setns(fd, flag)
            os.close(fd)
    except OSError as exc:
        init.fail(error_fd, f"cannot enter the container: {exc.strerror or exc}", 126)
    if request["tty"]:
        _terminal_from_container(int(request["pty_socket"]), request["rows"], request["cols"])
    child = os.fork()
    if child == 0:
        try:
            for fd in procs:
                os.write(fd, b"0")
                os.close(fd)
        except OSError as exc:
            init.fail(error_fd, f"cannot join the container's cgroup: {exc.strerror}", 126)
        os.set_inheritable(error_fd, False)
        if request["tty"]:
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        try:
            # the container's --ulimit, as runc gives an exec (checked at create)
            hostlimits.apply_ulimits(request.get("ulimits") or [])
            init.become_and_exec(args=request["args"], env=request["env"],
                                 user_spec=request["user"], cwd=request["cwd"],
                                 hostname=request["hostname"], error_fd=error_fd,
                                 create_cwd=False, seccomp=seccomp,
                                 userns_fd=userns_fd,
                                 keep=devices.container_capabilities(
                                     request["devices"], request.get("capabilities")),
                                 group_add=tuple(request.get("group_add") or ()))
        except init.SetupError as exc:
            init.fail(error_fd, str(exc), exc.code)
        except users.UserNotFound as exc:
            init.fail(error_fd, str(exc), 126)
        except BaseException as exc:
            init.fail(error_fd, f"exec failed: {exc}", 126)
    for fd in procs:
        os.close(fd)
    os.close(error_fd)
    for fd in (0, 1, 2):
        os.close(fd)  # the session's streams end when the process's do
    _, status = os.waitpid(child, 0)
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
    try:
        os.write(status_fd, f"{code}\n".encode())
    except OSError:
        pass
    return 0


def own_userns(pid: int) -> int:
    """An fd of the container's user namespace, or -1 when it runs in ours."""
    fd = os.open(f"/proc/{pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
    if os.fstat(fd).st_ino == os.stat("/proc/self/ns/user").st_ino:
        os.close(fd)
        return -1
    return fd


def _terminal_from_container(sock_fd: int, rows: int, cols: int) -> None:
    """Open the pty in the container's devpts, keep the slave, send the master back.

    A pty from the host's devpts would not exist under the container's /dev/pts,
    so ``tty`` inside would answer "not a tty".
    """
    master, slave = os.openpty()
    if rows and cols:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    with socket.socket(fileno=sock_fd) as sock:
        socket.send_fds(sock, [b"m"], [master])
    os.close(master)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    os.close(slave)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
