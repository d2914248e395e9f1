"""A container's life: create, start (its monitor), attach, signal, stop, pause,
unpause, update, rename, remove.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from engine.errors import (
    ContainerNotFound,
    ContainerStartError,
    HelperError,
    InvalidArgument,
    InvalidState,
    SkiffError,
)
from engine.helper.cgroups import open_cgroup
from engine.helper.containers.base import ACTIVE
from engine.helper.containers.binds import Binds, close_ours, container_root
from engine.helper.containers.networking import NetworkGlue
from engine.helper.containers.procs import (
    kill,
    last_line,
    read_line,
    unlink,
    wait_gone,
)
from engine.helper.network import etcfiles
from engine.helper.privacy import private_dir
from engine.helper.runtime.attachhub import short_path
from engine.helper.runtime.devices import device_mode
from engine.helper.runtime.launch import PACKAGE_ROOT, python_module
from engine.helper.runtime.spec import Bind, ContainerDir, RuntimeSpec
from engine.helper.seccomp.programs import DEFAULT, UNCONFINED
from engine.processes import is_alive
from engine.wire.containerspec import ContainerSpec
from engine.wire.requests import WithFds

__all__ = ["Lifecycle"]


class Lifecycle(Binds, NetworkGlue):
    """The verbs that change a container's state."""

    def create(self, container_id: str, spec: ContainerSpec) -> dict[str, Any]:
        cdir = self._dir(container_id)
        if cdir.spec.exists():
            raise InvalidState(f"container {container_id[:12]} already exists")
        self.layer_refs.require(spec.layers)  # checked again when they are recorded
        remap = self._userns(spec.userns or "")
        owner = None if remap is None else container_root(remap)
        binds = [self._check_bind(b, owner) for b in spec.binds]
        from engine.helper.runtime import hostlimits

        binds += [Bind("device", d.path_on_host, d.path_in_container, "w" not in d.permissions,
                       d.permissions) for d in spec.devices or []]
        if spec.mac_address and spec.network_mode in ("host", "none"):
            raise InvalidArgument("conflicting options: mac-address and the network mode")
        mode = device_mode()
        caps = hostlimits.capability_set(spec.cap_add or [], spec.cap_drop or [], mode,
                                         owner_uid=self.uid, in_userns=remap is not None)
        seccomp = spec.seccomp or DEFAULT
        if seccomp != UNCONFINED:
            self.seccomp.program(seccomp, caps)  # a bad profile is refused now, not at start
        runtime = RuntimeSpec.from_request(
            container_id, self.uid, spec, layers_dir=str(self.layers_dir), binds=binds,
            cgroup_parent=self.cgroup_parent, seccomp=seccomp, devices=mode,
            userns=remap, capabilities=caps)
        hostlimits.check_ulimits(runtime.ulimits, self.uid)
        hostlimits.check_sysctls(runtime.sysctls, self.uid, runtime.network_mode)
        from engine.helper.network.plan import plan_network
        from engine.helper.network.verbs import check_container_network

        plan = plan_network(runtime.network_mode, runtime.ports, runtime.aliases)
        check_container_network(self.root, self.uid, plan, runtime.ports)  # refuse it now
        if not runtime.args:
            raise InvalidArgument("no command specified")
        self._private_dirs("containers")
        # The ID names host-wide things (cgroup, network, layer references): one owner.
        if not self.claims.claim(container_id, self.uid):
            raise InvalidState(f"container ID {container_id[:12]} is taken; choose another")
        tmp = self.containers_dir / f".{container_id}.creating"
        try:
            self.layer_refs.use(container_id, runtime.layers)
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(mode=0o700)
            tdir = ContainerDir(tmp)
            tdir.fs.mkdir(mode=0o700)
            for path in (tdir.upper, tdir.work, tdir.rootfs, tdir.empty_layer):
                path.mkdir(mode=0o755)
            # After fs/ exists: what the container writes there must not inherit ACLs.
            private_dir(tmp, self.uid, inherit=True)
            if remap is not None and owner is not None:
                os.chown(tdir.upper, *owner)  # the root directory container root sees
                self._prepare_layers(runtime, remap)
                from engine.helper.runtime import userns

                userns.record(tdir, remap, remap.layers)
            etcfiles.write_first_files(
                tdir.path, runtime.hostname,
                etcfiles.EtcOptions(runtime.dns, runtime.dns_search, runtime.dns_options,
                                    runtime.extra_hosts),
                host_network=runtime.network_mode == "host")
            tdir.write_json(tdir.spec, runtime.to_json())
            self.seccomp.install(tdir.seccomp, runtime.seccomp, runtime.capabilities)
            os.replace(tmp, cdir.path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            self.layer_refs.unuse(container_id, runtime.layers)
            self.claims.release(container_id, self.uid)
            raise
        return {}

    def update(self, id: str, memory: int | None, nano_cpus: int | None,
               pids_limit: int | None, restart_policy: str, restart_max: int,
               cpu_shares: int | None = None) -> dict[str, Any]:
        """docker update (engine/helper/limits.py)."""
        from engine.helper.limits import update_limits

        return update_limits(self._existing(id), memory=memory, nano_cpus=nano_cpus,
                             pids_limit=pids_limit, restart_policy=restart_policy,
                             restart_max=restart_max, cpu_shares=cpu_shares)

    def start(self, container_id: str, attach: bool = False, fds: list[int] | None = None,
              sources: list[int] | None = None,
              networks: list[dict[str, Any]] | None = None,
              links: list[str] | None = None,
              link_env: list[str] | None = None) -> dict[str, Any] | WithFds:
        """Start it; with ``attach``, hand back a socket attached from its first byte.

        ``fds`` are the caller's open bind sources (``sources``: which bind each is);
        ``networks`` the networks it joins beyond its own, and its own's address;
        ``links`` its legacy links' hosts entries and ``link_env`` their variables
        (kept for this run in links.json).
        """
        cdir = self._existing(container_id)
        status = self._live_status(cdir)
        if status.get("status") in ACTIVE:
            raise InvalidState(f"container {container_id[:12]} is already running")
        # The previous monitor may still be releasing the network after "exited".
        wait_gone(int(status.get("monitor_pid", 0)), 10.0)
        spec = cdir.read_spec()
        if self.uid != 0 and spec.userns is None:  # made by a Skiff without user namespaces
            raise InvalidState(f"container {container_id[:12]} was created without a user "
                               "namespace, which a user's containers now always have; remove "
                               "it and create it again")
        unlink(cdir.stop_requested)
        cdir.set_paused(False)
        self.seccomp.install(cdir.seccomp, spec.seccomp, spec.capabilities)
        mount_sources = self._sources(spec, list(fds or []), sources, complete=True)
        try:
            with contextlib.ExitStack() as starting:  # until the monitor runs
                if links or link_env:
                    cdir.write_json(cdir.path / etcfiles.LINKS,
                                    {"hosts": list(links or []), "env": list(link_env or [])})
                else:
                    unlink(cdir.path / etcfiles.LINKS)
                if spec.network_mode == "none":
                    self._start_alone(cdir, spec)
                elif spec.network == "sandbox":
                    self._start_network(cdir, spec, starting, networks)
                ours = theirs = None
                if attach:
                    ours, theirs = socket.socketpair()
                try:
                    started = self._start_monitor(cdir, theirs.fileno() if theirs else -1,
                                                  mount_sources)
                except BaseException:
                    if ours is not None:
                        ours.close()
                    if spec.network == "sandbox" and spec.network_mode != "none":
                        self.networking().cleanup_container(spec.id)
                    raise
                finally:
                    if theirs is not None:
                        theirs.close()
        finally:
            close_ours(spec, mount_sources)
        if ours is not None:
            return WithFds(started, [ours.detach()])
        return started

    def attach(self, container_id: str) -> WithFds:
        """A socket to the running container's monitor: its output, and its input."""
        cdir = self._existing(container_id)
        if self._live_status(cdir).get("status") not in ACTIVE:
            raise InvalidState("You cannot attach to a stopped container, start it first")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            with short_path(cdir.path / "attach.sock") as address:
                sock.connect(address)
        except OSError as exc:
            sock.close()
            raise HelperError(f"cannot attach to container {container_id[:12]}: "
                              f"{exc.strerror}") from None
        return WithFds({}, [sock.detach()])

    def _start_monitor(self, cdir: ContainerDir, attach_fd: int = -1,
                       sources: list[int] | None = None) -> dict[str, Any]:
        ready_r, ready_w = os.pipe2(os.O_CLOEXEC)
        try:
            self._spawn_monitor(cdir, ready_w, attach_fd, list(sources or []))
        finally:
            os.close(ready_w)
        line = read_line(ready_r, timeout=60.0)
        os.close(ready_r)
        if not line:
            tail = last_line(cdir.path / "monitor.log")
            raise HelperError(f"the container monitor failed to start{': ' + tail if tail else ''}")
        report = json.loads(line)
        if not report.get("ok"):
            raise ContainerStartError(report.get("message", "start failed"),
                                      int(report.get("code", 125)))
        return {"pid": report["pid"]}

    def _spawn_monitor(self, cdir: ContainerDir, ready_w: int, attach_fd: int,
                       sources: list[int]) -> None:
        """Fork it from the zygote (fast); exec a fresh interpreter if the zygote is gone."""
        log = cdir.path / "monitor.log"
        if self.zygote is not None:
            try:
                self.zygote.spawn(cdir.path, ready_w, log, attach_fd, sources)
                return
            except OSError:
                self.zygote = None
        with open(log, "ab") as err:
            monitor = subprocess.Popen(
                [*python_module("engine.helper.runtime.monitor"), str(cdir.path), str(ready_w),
                 str(attach_fd), ",".join(map(str, sources))],
                pass_fds=[fd for fd in (ready_w, attach_fd, *sources) if fd >= 0],
                start_new_session=True, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=err, cwd="/",
                env={"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
                     "PYTHONPATH": PACKAGE_ROOT},
            )
        self._monitors.append(monitor)
        self._reap_monitors()

    def signal(self, container_id: str, signum: int) -> dict[str, Any]:
        cdir = self._existing(container_id)
        status = self._live_status(cdir)
        pid = int(status.get("pid", 0))
        if status.get("status") not in ACTIVE or pid <= 0:
            raise InvalidState(f"container {container_id[:12]} is not running")
        if signum == signal.SIGKILL:
            cdir.stop_requested.touch()
        kill(pid, signum, container_id)
        if cdir.paused.exists() and signum == signal.SIGKILL:
            self._thaw(cdir)
        return {}

    def stop(self, container_id: str, signum: int, timeout: int, *,
             released: bool = True) -> dict[str, Any]:
        """Signal it, SIGKILL it after ``timeout``; with ``released``, return once its
        monitor has released its network too (it does after it records the exit)."""
        cdir = self._existing(container_id)
        status = self._live_status(cdir)
        if status.get("status") not in ACTIVE:
            raise InvalidState(f"container {container_id[:12]} is not running")
        cdir.stop_requested.touch()
        pid = int(status.get("pid", 0))
        if pid > 0:
            kill(pid, signum, container_id)
            if cdir.paused.exists():
                self._thaw(cdir)
        if not self._wait_exit(cdir, timeout):
            status = cdir.read_status()
            if int(status.get("pid", 0)) > 0:
                kill(int(status["pid"]), signal.SIGKILL, container_id)
            self._thaw_cgroup(container_id)
            if not self._wait_exit(cdir, 10):
                raise HelperError(f"container {container_id[:12]} did not stop after SIGKILL")
        if released:  # as docker's: `stop c && network inspect n` shows no c
            wait_gone(int(cdir.read_status().get("monitor_pid", 0)), 10.0)
        return {}

    def _wait_exit(self, cdir: ContainerDir, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        delay = 0.005
        while True:
            status = self._live_status(cdir)
            if status.get("status") not in ACTIVE and not is_alive(
                    int(status.get("monitor_pid", 0))):
                return True
            if status.get("status") not in ACTIVE and status.get("status") == "exited":
                # The monitor wrote its last record and is about to exit.
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    def pause(self, container_id: str) -> dict[str, Any]:
        cdir = self._existing(container_id)
        status = self._live_status(cdir)
        if status.get("status") != "running":
            raise InvalidState(f"container {container_id[:12]} is not running")
        if cdir.paused.exists():
            raise InvalidState(f"container {container_id[:12]} is already paused")
        try:
            open_cgroup(container_id, self.cgroup_parent).freeze()
        except SkiffError:
            if not is_alive(int(status.get("pid", 0))):  # it ended as it was being paused
                raise InvalidState(f"container {container_id[:12]} is not running") from None
            raise
        spec = cdir.read_spec()
        cdir.journal("pause", name=spec.name, image=spec.image)
        cdir.set_paused(True)
        return {}

    def unpause(self, container_id: str) -> dict[str, Any]:
        cdir = self._existing(container_id)
        if not cdir.paused.exists():
            raise InvalidState(f"container {container_id[:12]} is not paused")
        spec = cdir.read_spec()
        cdir.journal("unpause", name=spec.name, image=spec.image)
        self._thaw(cdir)
        return {}

    def _thaw(self, cdir: ContainerDir) -> None:
        self._thaw_cgroup(cdir.read_spec().id)
        cdir.set_paused(False)

    def _thaw_cgroup(self, container_id: str) -> None:
        """Thaw if the cgroup is still there: the monitor removes it once all exited."""
        cgroup = open_cgroup(container_id, self.cgroup_parent)
        try:
            if cgroup.exists():
                cgroup.thaw()
        except SkiffError:
            if cgroup.exists():
                raise

    def remove(self, container_id: str, force: bool) -> dict[str, Any]:
        cdir = self._dir(container_id)
        if not cdir.path.exists():
            raise ContainerNotFound(f"No such container: {container_id}")
        if cdir.spec.exists():
            status = self._live_status(cdir)
            if status.get("status") in ACTIVE:
                if not force:
                    raise InvalidState(f"cannot remove container {container_id[:12]}: it is "
                                       "running; stop it first or use force")
                try:
                    self.stop(container_id, signal.SIGKILL, 0, released=False)
                except InvalidState:
                    pass  # it ended between the two looks: nothing left to stop (docker's rm -f)
            # Its monitor, which recorded the exit, may still release the network: the
            # removal goes on beside it (run --rm waited 3-28 ms for that under load),
            # and its files go once the monitor is gone (_discard). Until then the
            # endpoint keeps its address; `network rm` releases it itself.
            monitor = int(cdir.read_status().get("monitor_pid", 0))
        else:
            monitor = 0
        try:
            layers: list[str] | None = cdir.read_spec().layers
        except (OSError, ValueError, TypeError):
            layers = None  # a damaged record: unuse() looks for its references itself
        open_cgroup(container_id, self.cgroup_parent).destroy()
        if not is_alive(monitor) and ((cdir.path / "network.json").exists()
                                      or cdir.netns.exists()):
            self.networking().cleanup_container(container_id)
        doomed = self.containers_dir / f".{container_id}.removing"
        try:
            os.replace(cdir.path, doomed)
        except FileNotFoundError:  # a removal beside this one took it first
            raise ContainerNotFound(f"No such container: {container_id}") from None
        # Gone for everyone now (nothing mounts it any more): its references go at once,
        # its files after the reply. Unlinking them waited on the disk's journal, 30-90
        # ms a removal while other programs wrote; the interpreter waits for the thread
        # before the helper exits, and repair finishes what a crash left of it. On a
        # nearly full disk the space is wanted at once (the engine's database, which
        # records the removal next, may be on it): they go before the reply.
        self.layer_refs.unuse(container_id, layers)
        self.claims.release(container_id, self.uid)
        if _short_of_space(self.containers_dir):
            self._discard(container_id, doomed, monitor)
        else:
            threading.Thread(target=self._discard, args=(container_id, doomed, monitor),
                             name="discard").start()
        return {}

    def _discard(self, container_id: str, doomed: Path, monitor: int) -> None:
        """Delete a removed container's files once its monitor is gone; what its network
        release left (it found the directory moved: the sandbox, the records) first."""
        wait_gone(monitor, 10.0)
        if (doomed / "network.json").exists() or (doomed / "netns").exists():
            from engine.helper.network.netns import destroy_sandbox
            from engine.helper.runtime.netrelease import release_network

            release_network(doomed, container_id, self.uid)
            try:
                destroy_sandbox(doomed / "netns")  # one without its record: a crash's
            except SkiffError as exc:  # repair finishes it
                print(f"the removed container's sandbox: {exc}", file=sys.stderr)
        shutil.rmtree(doomed, ignore_errors=True)

    def rename(self, id: str, name: str) -> dict[str, Any]:
        """The name its next start and its events use, and the name its peers resolve now."""
        from dataclasses import replace

        cdir = self._existing(id)
        spec = cdir.read_spec()
        cdir.write_json(cdir.spec, replace(spec, name=name).to_json())
        if spec.network == "sandbox" and (cdir.path / "network.json").exists():
            self.networking().rename(id, spec.name, name)
        return {}

    def clear_log(self, id: str) -> dict[str, Any]:
        """Empty the container's log: the rotated files go, the current one is cut to
        nothing in place, so the monitor goes on appending at its start and a reader
        following it starts again from there (engine/containers/logs.py)."""
        from engine.wire.logformat import log_files

        cdir = self._existing(id)
        *rotated, current = log_files(cdir.log)
        for path in rotated:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        try:
            fd = os.open(current, os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            return {}  # never started: nothing written yet
        try:
            os.ftruncate(fd, 0)
        finally:
            os.close(fd)
        return {}


#: below this much free space a removal frees its container's files before it answers
LOW_SPACE = 256 << 20


def _short_of_space(path: os.PathLike[str] | str) -> bool:
    try:
        st = os.statvfs(path)
    except OSError:
        return True
    return st.f_bavail * st.f_frsize < LOW_SPACE
