"""The container's first moments: namespaces, filesystem, identity, exec.

``start_init`` runs in the monitor's child that starts a run: it makes the PID
namespace and clones PID 1 into it, a child of the monitor, which makes its other
namespaces, builds the root filesystem, drops privileges and execs the command.
A failure before exec is written as one JSON line to the error pipe (close-on-exec,
so a successful exec closes it empty) and the process exits with docker's code:
127 command not found, 126 cannot invoke, 125 set-up.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import signal
import socket
import struct
import termios
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engine.helper import syscalls as sc
from engine.helper.runtime import (
    capabilities,
    cgroupfs,
    devices,
    hostlimits,
    mounts,
    reaper,
    syscallfilter,
    userns,
    users,
)
from engine.helper.runtime.kernel import LINUX, Kernel
from engine.helper.runtime.spec import ContainerDir, RuntimeSpec
from engine.helper.runtime.userns import Prepared

__all__ = ["ChildPipes", "SetupError", "become_and_exec", "fail", "linger_for_tests",
           "start_init"]

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_PDEATHSIG = 1
_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1


@dataclass(frozen=True)
class ChildPipes:
    stdin: int  # read end, or -1 for /dev/null
    stdout: int  # write ends
    stderr: int
    error: int  # JSON error line before exec; closed by exec
    pty: int = -1  # with a TTY: a socket to send the pty's master to the monitor


class SetupError(Exception):
    def __init__(self, message: str, code: int = 125) -> None:
        super().__init__(message)
        self.code = code


def fail(pipe: int, message: str, code: int) -> None:
    try:
        os.write(pipe, json.dumps({"message": message, "code": code}).encode() + b"\n")
    finally:
        os._exit(code)


def enter_namespaces(network: str, netns: Path, kernel: Kernel = LINUX) -> None:
    """The container's own mount, UTS, IPC and cgroup namespaces (its PID namespace is
    its parent's doing), and its network: the sandbox prepared at ``netns`` joined,
    the host's kept, else a new one with loopback only (no sandbox was prepared)."""
    flags = sc.CLONE_NEWNS | sc.CLONE_NEWUTS | sc.CLONE_NEWIPC | sc.CLONE_NEWCGROUP
    if network == "sandbox" and netns.exists():
        fd = os.open(netns, os.O_RDONLY | os.O_CLOEXEC)
        try:
            kernel.setns(fd, sc.CLONE_NEWNET)
        finally:
            os.close(fd)
    elif network != "host":
        flags |= sc.CLONE_NEWNET
    kernel.unshare(flags)


def start_init(spec: RuntimeSpec, cdir: ContainerDir, pipes: ChildPipes,
               join_cgroup: Callable[[], None], binds: list[mounts.BindMount],
               device_mode: str, seccomp: syscallfilter.Program | None) -> int:
    """In the monitor's child that starts a run: make PID 1 of a new PID namespace,
    which sets the container up and execs its command; its pid.

    PID 1 is our sibling, the monitor's own child (CLONE_PARENT): no process sits
    between them to exit and hand it over (the stage 1 this replaced was a fork and a
    hand-over more), and from its birth its parent-death signal means the monitor's
    death. (Armed while stage 1 was still its parent, stage 1's exit killed it: exit
    137 with an empty log, under load.) A killed monitor takes its container along:
    the kernel ends a PID namespace with its PID 1.

    ``binds`` come ready (mounts.prepare_binds): detached trees made in the host's
    mount namespace, attached in the container's. A remapped container's user
    namespace is made here, before the PID namespace (its holder is a child of ours),
    and PID 1 enters it last.
    """
    userns_fd = -1 if spec.userns is None else userns.create(userns.mapping(spec.userns))
    try:
        LINUX.unshare(sc.CLONE_NEWPID)  # for our next child: PID 1
        child = sc.fork_sibling()
        if child == 0:
            _pid1(spec, cdir, pipes, join_cgroup, binds, device_mode, seccomp, userns_fd)
        return child
    finally:
        if userns_fd >= 0:
            os.close(userns_fd)


def linger_for_tests() -> None:
    """``SKIFF_TEST_START_LINGER=SECONDS`` (a test's, through a helper root started):
    the child that started PID 1 waits before it goes on and exits, as a loaded
    machine may keep it, so that a test sees what PID 1 does meanwhile."""
    delay = os.environ.get("SKIFF_TEST_START_LINGER")
    if delay:
        time.sleep(float(delay))


def _pid1(spec: RuntimeSpec, cdir: ContainerDir, pipes: ChildPipes,
          join_cgroup: Callable[[], None], binds: list[mounts.BindMount], device_mode: str,
          seccomp: syscallfilter.Program | None, userns_fd: int) -> None:
    """PID 1, up to its exec: its session, cgroup and namespaces, then the rest."""
    try:
        os.setsid()
        join_cgroup()  # we have one thread: a process just cloned
        with open("/proc/self/cgroup") as f:  # before the namespace makes it all "/"
            cgroups = cgroupfs.parse_membership(f.read())
        enter_namespaces(spec.network, cdir.netns)
        if spec.network != "host":
            userns.relax_netns()
        remap = None if userns_fd < 0 else _remap(spec, cdir, userns_fd)
        _setup_and_exec(spec, cdir, pipes, binds, device_mode, seccomp, remap, cgroups)
    except SetupError as exc:
        fail(pipes.error, str(exc), exc.code)
    except users.UserNotFound as exc:
        fail(pipes.error, str(exc), 125)
    except BaseException as exc:
        fail(pipes.error, f"container set-up failed: {exc}", 125)
    os._exit(125)  # not reached


def _remap(spec: RuntimeSpec, cdir: ContainerDir, fd: int) -> Prepared:
    """The container's layers as its user namespace ``fd`` sees them."""
    assert spec.userns is not None
    remap = userns.prepare(spec.userns, os.path.join(spec.layers_dir, "sha256"),
                           [d.removeprefix("sha256:") for d in reversed(spec.layers)],
                           str(cdir.lowers), str(cdir.empty_layer), fd)
    if remap.layers != spec.userns.layers:  # the helper recorded its plan at create
        userns.record(cdir, spec.userns, remap.layers)
    for name in ("hosts", "hostname", "resolv.conf"):  # container root edits its /etc/hosts
        try:
            os.chown(cdir.path / name, *remap.root, follow_symlinks=False)
        except FileNotFoundError:
            pass
    return remap


def _setup_and_exec(spec: RuntimeSpec, cdir: ContainerDir, pipes: ChildPipes,
                    binds: list[mounts.BindMount], device_mode: str,
                    seccomp: syscallfilter.Program | None, remap: Prepared | None,
                    cgroups: list[cgroupfs.Membership]) -> None:
    if pipes.pty < 0:
        stdin = pipes.stdin if pipes.stdin >= 0 else os.open("/dev/null", os.O_RDONLY)
        os.dup2(stdin, 0)
        os.dup2(pipes.stdout, 1)
        os.dup2(pipes.stderr, 2)

    sc.mount(None, "/", None, sc.MS_REC | sc.MS_PRIVATE)
    try:
        hostlimits.apply_sysctls(spec.sysctls)  # as root, in the container's namespaces
    except OSError as exc:
        raise SetupError(str(exc)) from exc
    # Relative lowerdirs keep the overlay option string short with many layers.
    if remap is None:
        os.chdir(os.path.join(spec.layers_dir, "sha256"))
        lowers = [d.removeprefix("sha256:") for d in reversed(spec.layers)] \
            or [str(cdir.empty_layer)]
    else:
        remap.attach()
        os.chdir(remap.lower_dir)
        lowers = remap.lowers
    plan = mounts.plan_rootfs(rootfs=str(cdir.rootfs), lowerdirs=lowers,
                              upperdir=str(cdir.upper), workdir=str(cdir.work), binds=binds,
                              device_mode=device_mode,
                              owner=None if remap is None else (*remap.root, remap.tty_gid),
                              read_only=spec.read_only, workdir_in=spec.cwd or "/",
                              shm_size=spec.shm_size or mounts.SHM_SIZE,
                              cgroupfs=cgroupfs.plan_cgroupfs(
                                  os.path.join(cdir.rootfs, "sys/fs/cgroup"), cgroups),
                              volatile=spec.volatile)
    if spec.volatile:
        mounts.clear_volatile(str(cdir.work))
    mounts.apply(plan)
    if spec.hostname:
        LINUX.sethostname(spec.hostname)
    if spec.network != "host":
        _loopback_up()
    mounts.enter_rootfs(str(cdir.rootfs))
    mounts.mask_paths()
    if pipes.pty >= 0:
        _terminal(pipes.pty, spec)
    try:
        hostlimits.apply_ulimits(spec.ulimits)  # checked against the owner's at create
    except (OSError, ValueError) as exc:
        raise SetupError(f"cannot set the container's ulimits: {exc}") from exc
    die_with_parent = True
    if spec.init:  # PID 1 stays ours, a reaper; the command is its child
        reaper.fork_command(spec.args, seccomp=seccomp,
                            userns_fd=-1 if remap is None else remap.fd)
        die_with_parent = False  # the command dies with its PID namespace

    become_and_exec(args=spec.args, env=spec.env, user_spec=spec.user, cwd=spec.cwd or "/",
                    hostname=spec.hostname, error_fd=pipes.error, create_cwd=True,
                    seccomp=seccomp, userns_fd=-1 if remap is None else remap.fd,
                    die_with_parent=die_with_parent,
                    keep=devices.container_capabilities(device_mode, spec.capabilities),
                    group_add=tuple(spec.group_add))


def become_and_exec(*, args: list[str], env: list[str], user_spec: str, cwd: str,
                    hostname: str, error_fd: int, create_cwd: bool,
                    seccomp: syscallfilter.Program | None, userns_fd: int = -1,
                    die_with_parent: bool = False,
                    keep: tuple[str, ...] = capabilities.DEFAULT_CAPABILITIES,
                    group_add: tuple[str, ...] = (),
                    kernel: Kernel = LINUX) -> None:
    """Inside the container's namespaces and root: drop to the user and exec.

    Shared by the container's init and by ``exec`` sessions; ``keep`` is the
    capability set (devices.container_capabilities). Raises SetupError.
    With ``userns_fd``, the process first becomes root of that user namespace:
    everything after (working directory, capabilities, user) is the container's.
    The seccomp filter comes last, so it governs the command and nothing of ours.

    ``die_with_parent`` (the container's init only, whose parent is the monitor): a
    killed monitor takes its container along (the kernel ends a PID namespace with
    its PID 1), instead of leaving it running where nothing watches, logs or stops
    it, while `skiff ps` says it exited (``start_init`` says more).
    """
    if userns_fd >= 0:
        _enter_userns(userns_fd)
    user = users.resolve_user(user_spec)
    full_env = _environment(env, hostname, user)
    if create_cwd and not os.path.isdir(cwd):
        try:
            os.makedirs(cwd, 0o755)
        except OSError as exc:
            raise SetupError(f"cannot create working directory {cwd}: {exc.strerror}") from exc

    capabilities.apply(keep, root_user=False, kernel=kernel)  # the bounding set, while
    kernel.prctl(_PR_SET_NO_NEW_PRIVS, 1)                      # we change user
    os.setgroups(list(dict.fromkeys((*user.groups, *users.resolve_groups(list(group_add))))))
    os.setgid(user.gid)
    os.setuid(user.uid)
    if user.uid == 0:  # after the change: --cap-drop SETUID must not stop it
        capabilities.apply(keep, root_user=True, kernel=kernel)
    try:
        os.chdir(cwd)
    except OSError as exc:
        raise SetupError(f"cannot enter working directory {cwd}: {exc.strerror}", 126) from exc

    path = _find_executable(args[0], full_env)
    for sig in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT, signal.SIGTERM,
                signal.SIGCHLD, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1):
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    os.umask(0o022)
    if die_with_parent:  # after the last change of credentials, which would clear it
        kernel.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    _close_fds_except(error_fd)
    if seccomp is not None:
        try:
            kernel.load_seccomp(seccomp)
        except OSError as exc:
            raise SetupError(f"cannot apply the seccomp filter: {exc.strerror}") from exc
    try:
        os.execve(path, args, _env_dict(full_env))
    except OSError as exc:
        code = 127 if exc.errno == errno.ENOENT else 126
        raise SetupError(f'exec: "{args[0]}": {(exc.strerror or str(exc)).lower()}',
                         code) from exc


def _enter_userns(fd: int) -> None:
    try:
        userns.enter(fd)
    except OSError as exc:
        raise SetupError(f"cannot enter the container's user namespace: "
                         f"{exc.strerror or exc}") from exc


def _environment(base: list[str], hostname: str, user: users.ExecUser) -> list[str]:
    env = list(base)
    keys = {item.partition("=")[0] for item in env}
    if "PATH" not in keys:
        env.insert(0, f"PATH={DEFAULT_PATH}")
    if "HOSTNAME" not in keys and hostname:
        env.append(f"HOSTNAME={hostname}")
    if "HOME" not in keys:
        env.append(f"HOME={user.home}")
    return env


def _env_dict(env: list[str]) -> dict[str, str]:
    result: dict[str, str] = {}
    for item in env:
        key, _, value = item.partition("=")
        if key:
            result[key] = value
    return result


def _find_executable(name: str, env: list[str]) -> str:
    if not name:
        raise SetupError("no command specified", 125)
    if "/" in name:
        if not os.path.exists(name):
            raise SetupError(f'exec: "{name}": stat {name}: no such file or directory', 127)
        if os.path.isdir(name) or not os.access(name, os.X_OK):
            raise SetupError(f'exec: "{name}": permission denied', 126)
        return name
    search = _env_dict(env).get("PATH", DEFAULT_PATH)
    denied = False
    for directory in search.split(":"):
        candidate = os.path.join(directory or ".", name)
        if os.path.isfile(candidate):
            if os.access(candidate, os.X_OK):
                return candidate
            denied = True
    if denied:
        raise SetupError(f'exec: "{name}": permission denied', 126)
    raise SetupError(f'exec: "{name}": executable file not found in $PATH', 127)


def _terminal(sock_fd: int, spec: RuntimeSpec) -> None:
    """A pty from the container's own devpts as stdio and controlling terminal; its
    master goes to the monitor, which logs what it shows and forwards the keys."""
    master, slave = os.openpty()
    rows, cols = spec.console_size
    if rows and cols:  # the client's size, before the process can ask (Docker's ConsoleSize)
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    with socket.socket(fileno=sock_fd) as sock:
        socket.send_fds(sock, [b"m"], [master])
    os.close(master)
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)  # we lead a session of our own (_pid1)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    if slave > 2:
        os.close(slave)


def _loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifreq = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s, _SIOCGIFFLAGS, ifreq))[1]
        fcntl.ioctl(s, _SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | _IFF_UP))


def _close_fds_except(keep: int) -> None:
    os.closerange(3, keep)
    os.closerange(keep + 1, 65536)
