"""The helper's container verbs: prepare, start, signal, stop, pause, remove.

Every path comes from ``ContainerDir(root/users/<uid>/containers/<id>)``: the
caller names a container by ID and can only reach its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.cgroups import open_cgroup
from engine.errors import (
    ContainerNotFound,
    ContainerStartError,
    HelperError,
    InvalidArgument,
    InvalidState,
    SkiffError,
)
from engine.helper.claims import STALE_AFTER, Claims
from engine.helper.layerrefs import LayerRefs
from engine.helper.privacy import make_private, private_dir, private_file
from engine.helper.protocol import WithFds
from engine.helper.runtime.attachhub import short_path
from engine.helper.runtime.spec import (
    Bind,
    ContainerDir,
    RuntimeSpec,
    Userns,
    announce_changes,
    changes_file,
    device_mode,
)
from engine.helper.seccomp.programs import DEFAULT, UNCONFINED, ProgramCache
from engine.helper.volumedirs import VolumeDirs
from engine.helper.zygote import Zygote
from engine.processes import is_alive

if TYPE_CHECKING:
    from engine.helper.network.networking import Networking

__all__ = ["ContainerService"]

_ACTIVE = ("running", "restarting")
# What an older Skiff left readable to every user in a container's directory.
_PRIVATE_FILES = ("spec.json", "status.json", "ctr.log", "network.json", "userns.json")


@dataclass(frozen=True)
class PublishRequest:
    """A port to publish, as the networking layer asks for it."""

    container_port: int
    protocol: str = "tcp"
    host_ip: str = ""
    host_port: int = 0
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


class ContainerService:
    def __init__(self, root: Path, uid: int, cgroup_parent: str,
                 zygote: Zygote | None = None) -> None:
        self.zygote = zygote
        self._networking: Networking | None = None
        self._network_ready = threading.Event()
        self._warm_up_error: Exception | None = None
        self._networking_lock = threading.Lock()
        self.root = root
        self.uid = uid
        self.cgroup_parent = cgroup_parent
        self.layers_dir = root / "layers"
        self.user_dir = root / "users" / str(uid)
        self.containers_dir = self.user_dir / "containers"
        self.claims = Claims(root)
        self.layer_refs = LayerRefs(root)
        self.volumes = VolumeDirs(self.user_dir, uid)
        self.seccomp = ProgramCache(root / "seccomp")
        self._monitors: list[subprocess.Popen[bytes]] = []
        # "copy" forces the layer copies that kernels before 5.19 need (tests); set only
        # by a helper that root started (engine/helper/server.py).
        self.userns_layers: str | None = None

    # -- lookup -------------------------------------------------------------------
    def _dir(self, container_id: str) -> ContainerDir:
        return ContainerDir(self.containers_dir / container_id)

    def _existing(self, container_id: str) -> ContainerDir:
        cdir = self._dir(container_id)
        if not cdir.spec.exists():
            raise ContainerNotFound(f"No such container: {container_id}")
        return cdir

    def _live_status(self, cdir: ContainerDir) -> dict[str, Any]:
        """The monitor's record, corrected when the monitor died without writing it."""
        status = cdir.read_status()
        if status.get("status") in _ACTIVE and not is_alive(int(status.get("monitor_pid", 0))):
            name, image = self._bury(cdir)
            status.update(status="exited", pid=0, exit_code=137,
                          error="the container's monitor process died",
                          finished_at=status.get("finished_at") or _now())
            cdir.journal("die", name=name, image=image, exitCode="137")
            cdir.write_status(status)
        return status

    def _bury(self, cdir: ContainerDir) -> tuple[str, str]:
        """What a dead monitor would have released: whatever of the container still runs
        (its init dies with the monitor; an exec may linger), its cgroup, its network."""
        try:
            spec = cdir.read_spec()
        except (OSError, ValueError):
            return "", ""
        try:
            open_cgroup(spec.id, self.cgroup_parent).destroy()
        except (OSError, SkiffError) as exc:
            print(f"cleaning up after {spec.id[:12]}'s monitor: {exc}", file=sys.stderr)
        if spec.network == "sandbox" and (cdir.path / "network.json").exists():
            try:
                self.networking().cleanup_container(spec.id)
                _unlink(cdir.path / "network.json")
            except Exception as exc:  # the next repair finishes the job
                print(f"network cleanup of {spec.id[:12]}: {exc}", file=sys.stderr)
        return spec.name, spec.image

    def _private_dirs(self, *below: str) -> Path:
        """``users/<uid>/<below...>``, each level entered by the user alone (and root)."""
        users = self.user_dir.parent
        users.mkdir(mode=0o711, parents=True, exist_ok=True)
        os.chmod(users, 0o711)
        levels = [self.user_dir]
        for name in below:
            levels.append(levels[-1] / name)
        for path in levels:
            try:
                path.mkdir(mode=0o700)
            except FileExistsError:
                pass
            private_dir(path, self.uid)
        return levels[-1]

    # -- verbs -------------------------------------------------------------------
    def create(self, container_id: str, spec: dict[str, Any]) -> dict[str, Any]:
        cdir = self._dir(container_id)
        if cdir.spec.exists():
            raise InvalidState(f"container {container_id[:12]} already exists")
        self.layer_refs.require(spec["layers"])  # checked again when they are recorded
        remap = self._userns(spec.get("userns") or "")
        owner = None if remap is None else _container_root(remap)
        binds = [self._check_bind(b, owner) for b in spec["binds"]]
        seccomp = spec.get("seccomp") or DEFAULT
        if seccomp != UNCONFINED:
            self.seccomp.program(seccomp)  # a bad profile is refused now, not at start
        runtime = RuntimeSpec(
            id=container_id, owner_uid=self.uid, args=spec["args"], env=spec["env"],
            cwd=spec["cwd"], user=spec["user"] or "", hostname=spec["hostname"],
            layers=spec["layers"], layers_dir=str(self.layers_dir), memory=spec["memory"],
            nano_cpus=spec["nano_cpus"], pids_limit=spec["pids_limit"],
            restart_policy=spec["restart_policy"], restart_max=spec["restart_max"],
            stop_signal=spec["stop_signal"], binds=binds,
            network="host" if spec["network_mode"] == "host" else "sandbox",
            network_mode=spec["network_mode"], ports=spec["ports"], exposed=spec["exposed"],
            aliases=spec["aliases"], name=spec["name"], image=spec["image"] or "",
            cgroup_parent=self.cgroup_parent,
            tty=bool(spec.get("tty")), open_stdin=bool(spec.get("open_stdin")),
            log_max_size=spec["log_max_size"] or 0, log_max_files=spec["log_max_files"] or 1,
            seccomp=seccomp, devices=device_mode(),
            userns=remap, healthcheck=spec.get("healthcheck"),
        )
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
            for path, text in ((tdir.hostname, f"{runtime.hostname}\n"), (tdir.hosts, (
                    "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                    f"127.0.1.1\t{runtime.hostname}\n"))):
                path.write_text(text)
                os.chmod(path, 0o644)  # bind-mounted: the container's users read it
            tdir.write_json(tdir.spec, runtime.to_json())
            self.seccomp.install(tdir.seccomp, runtime.seccomp)
            os.replace(tmp, cdir.path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            self.layer_refs.unuse(container_id, runtime.layers)
            self.claims.release(container_id, self.uid)
            raise
        return {}

    def update(self, id: str, memory: int | None, nano_cpus: int | None,
               pids_limit: int | None, restart_policy: str, restart_max: int
               ) -> dict[str, Any]:
        """docker update (engine/helper/limits.py)."""
        from engine.helper.limits import update_limits

        return update_limits(self._existing(id), memory=memory, nano_cpus=nano_cpus,
                             pids_limit=pids_limit, restart_policy=restart_policy,
                             restart_max=restart_max)

    def disk_usage(self, containers: list[str], volumes: list[str]) -> dict[str, Any]:
        """Bytes written by each container and held by each volume (engine/helper/usage.py)."""
        from engine.helper.usage import tree_size

        return {"containers": {cid: tree_size(self._dir(cid).upper) for cid in containers},
                "volumes": {name: tree_size(self.volume_dir(name)) for name in volumes}}

    def volume_dir(self, name: str) -> Path:
        """The volume's files: what its containers mount (see volumedirs.py)."""
        return self.volumes.data(name)

    def _userns(self, requested: str) -> Userns | None:
        """The user namespace of a new container: always for a user, on request for root."""
        from engine.helper.runtime import idmap, shifted

        if idmap.choose_mode(self.uid, requested) == "host":
            return None
        ids = idmap.user_map(self.uid)
        return Userns(ids.uids.to_json(), ids.gids.to_json(),
                      shifted.layers_mode(self.userns_layers, os.uname().release),
                      str(shifted.copies_dir(self.root, ids)))

    def _prepare_layers(self, spec: RuntimeSpec, remap: Userns) -> None:
        """Without idmapped layers: the user's shifted copies, made now rather than at start."""
        if remap.layers != "copy":
            return
        from engine.helper.runtime import shifted, userns

        for diff_id in spec.layers:
            shifted.ensure(self.layers_dir / "sha256" / diff_id.removeprefix("sha256:"),
                           Path(remap.shifted_dir), userns.mapping(remap))

    def volume_create(self, name: str, owner: tuple[int, int] | None = None
                      ) -> dict[str, Any]:
        """The volume (volumedirs.py): its user alone (and root) reach it. New data
        belongs to container root (``owner``, or for a user's volume the user), so the
        container can use it."""
        self._private_dirs("volumes")
        data = self.volumes.data(name)
        fresh = not data.is_dir() and not self.volumes.mountpoint(name).is_dir()
        mountpoint = self.volumes.create(name)
        if owner is None and self.uid != 0:
            owner = _user_ids(self.uid)
        if owner is not None and (fresh or _untouched(data)):
            os.chown(data, *owner)
        return {"mountpoint": str(mountpoint)}

    def volume_remove(self, name: str) -> dict[str, Any]:
        self.volumes.remove(name)
        return {}

    def _check_bind(self, bind: dict[str, Any], owner: tuple[int, int] | None = None) -> Bind:
        """A bind's source is kept as the user wrote it, never resolved here: the engine
        opens it as the user at every start (engine/helper/sources.py). A new volume
        belongs to ``owner``, the container's root."""
        kind = bind.get("type") or "bind"
        if kind == "tmpfs":
            return Bind("tmpfs", "", bind["target"], bind["read_only"])
        if kind == "volume":
            if not bind["source"] or bind["source"].startswith("/"):
                raise InvalidArgument(f"invalid volume name {bind['source']!r}")
            self.volume_create(bind["source"], owner)
            return Bind("volume", bind["source"], bind["target"], bind["read_only"])
        if not bind["source"].startswith("/"):
            raise InvalidArgument(f"bind source {bind['source']!r} must be an absolute path")
        return Bind("bind", bind["source"], bind["target"], bind["read_only"])

    def _sources(self, spec: RuntimeSpec, fds: list[int], sources: list[int] | None, *,
                 complete: bool) -> list[int]:
        """Descriptors for the spec's binds and volumes, in order (-1: a bind the caller
        left out): the caller's for binds, checked; ours for volumes. The caller's stay
        the caller's to close; ours are new."""
        from engine.helper.sources import check_access, match_sources

        matched = match_sources(spec.binds, fds, sources, complete=complete)
        check_access(spec.binds, matched, self.uid)
        result: list[int] = []
        owner = None if spec.userns is None else _container_root(spec.userns)
        try:
            for index, bind in enumerate(spec.binds):
                if bind.type == "volume":
                    self.volume_create(bind.source, owner)
                    result.append(os.open(self.volume_dir(bind.source), os.O_RDONLY
                                          | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC))
                elif bind.type == "bind":
                    result.append(matched.get(index, -1))
        except BaseException:
            _close_ours(spec, result)
            raise
        return result

    def start(self, container_id: str, attach: bool = False, fds: list[int] | None = None,
              sources: list[int] | None = None) -> dict[str, Any] | WithFds:
        """Start it; with ``attach``, hand back a socket attached from its first byte.

        ``fds`` are the caller's open bind sources (``sources``: which bind each is).
        """
        cdir = self._existing(container_id)
        status = self._live_status(cdir)
        if status.get("status") in _ACTIVE:
            raise InvalidState(f"container {container_id[:12]} is already running")
        # The previous monitor may still be releasing the network after "exited".
        _wait_gone(int(status.get("monitor_pid", 0)), 10.0)
        spec = cdir.read_spec()
        if self.uid != 0 and spec.userns is None:  # made by a Skiff without user namespaces
            raise InvalidState(f"container {container_id[:12]} was created without a user "
                               "namespace, which a user's containers now always have; remove "
                               "it and create it again")
        _unlink(cdir.stop_requested)
        cdir.set_paused(False)
        self.seccomp.install(cdir.seccomp, spec.seccomp)
        mount_sources = self._sources(spec, list(fds or []), sources, complete=True)
        try:
            with contextlib.ExitStack() as starting:  # until the monitor runs
                if spec.network == "sandbox":
                    self._start_network(cdir, spec, starting)
                ours = theirs = None
                if attach:
                    ours, theirs = socket.socketpair()
                try:
                    started = self._start_monitor(cdir, theirs.fileno() if theirs else -1,
                                                  mount_sources)
                except BaseException:
                    if ours is not None:
                        ours.close()
                    if spec.network == "sandbox":
                        self.networking().cleanup_container(spec.id)
                    raise
                finally:
                    if theirs is not None:
                        theirs.close()
        finally:
            _close_ours(spec, mount_sources)
        if ours is not None:
            return WithFds(started, [ours.detach()])
        return started

    def attach(self, container_id: str) -> WithFds:
        """A socket to the running container's monitor: its output, and its input."""
        cdir = self._existing(container_id)
        if self._live_status(cdir).get("status") not in _ACTIVE:
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
        line = _read_line(ready_r, timeout=60.0)
        os.close(ready_r)
        if not line:
            tail = _tail(cdir.path / "monitor.log")
            raise HelperError(f"the container monitor failed to start{': ' + tail if tail else ''}")
        report = json.loads(line)
        if not report.get("ok"):
            raise ContainerStartError(report.get("message", "start failed"),
                                      int(report.get("code", 125)))
        return {"pid": report["pid"]}

    # -- networking ----------------------------------------------------------------
    def networking(self) -> Networking:
        """The host's networking (pyroute2, nft): loaded on first use only."""
        with self._networking_lock:
            if self._networking is None:
                from engine.helper.network.verbs import default_networking

                self._networking = default_networking(self.root, self.uid)
            return self._networking

    def _start_network(self, cdir: ContainerDir, spec: RuntimeSpec,
                       starting: contextlib.ExitStack) -> None:
        """Sandbox, addresses, published ports, /etc files; NetworkSettings for inspect.
        ``starting`` keeps repairs away until the caller has the monitor running."""
        from engine.helper.network.plan import plan_network
        from engine.helper.network.verbs import NetworkVerbs

        plan = plan_network(spec.network_mode, spec.ports, spec.aliases)
        ports = [PublishRequest(**p) for p in spec.ports]
        if not self._network_ready.wait(60) or self._warm_up_error is not None:
            raise HelperError(f"networking is not available: {self._warm_up_error}")
        starting.enter_context(self.networking().starting())
        settings = NetworkVerbs(self.root, self.uid, self.networking()).start_container(
            spec.id, plan, hostname=spec.hostname, name=spec.name, aliases=spec.aliases,
            ports=ports, exposed=spec.exposed)
        cdir.write_json(cdir.path / "network.json", settings)

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
                [*_python_module("engine.helper.runtime.monitor"), str(cdir.path), str(ready_w),
                 str(attach_fd), ",".join(map(str, sources))],
                pass_fds=[fd for fd in (ready_w, attach_fd, *sources) if fd >= 0],
                start_new_session=True, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=err, cwd="/",
                env={"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
                     "PYTHONPATH": _PACKAGE_ROOT},
            )
        self._monitors.append(monitor)
        self._reap_monitors()

    def signal(self, container_id: str, signum: int) -> dict[str, Any]:
        cdir = self._existing(container_id)
        status = self._live_status(cdir)
        pid = int(status.get("pid", 0))
        if status.get("status") not in _ACTIVE or pid <= 0:
            raise InvalidState(f"container {container_id[:12]} is not running")
        if signum == signal.SIGKILL:
            cdir.stop_requested.touch()
        _kill(pid, signum, container_id)
        if cdir.paused.exists() and signum == signal.SIGKILL:
            self._thaw(cdir)
        return {}

    def stop(self, container_id: str, signum: int, timeout: int) -> dict[str, Any]:
        cdir = self._existing(container_id)
        status = self._live_status(cdir)
        if status.get("status") not in _ACTIVE:
            raise InvalidState(f"container {container_id[:12]} is not running")
        cdir.stop_requested.touch()
        pid = int(status.get("pid", 0))
        if pid > 0:
            _kill(pid, signum, container_id)
            if cdir.paused.exists():
                self._thaw(cdir)
        if not self._wait_exit(cdir, timeout):
            status = cdir.read_status()
            if int(status.get("pid", 0)) > 0:
                _kill(int(status["pid"]), signal.SIGKILL, container_id)
            self._thaw_cgroup(container_id)
            if not self._wait_exit(cdir, 10):
                raise HelperError(f"container {container_id[:12]} did not stop after SIGKILL")
        return {}

    def _wait_exit(self, cdir: ContainerDir, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        delay = 0.005
        while True:
            status = self._live_status(cdir)
            if status.get("status") not in _ACTIVE and not is_alive(
                    int(status.get("monitor_pid", 0))):
                return True
            if status.get("status") not in _ACTIVE and status.get("status") == "exited":
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
        open_cgroup(container_id, self.cgroup_parent).freeze()
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
            if status.get("status") in _ACTIVE:
                if not force:
                    raise InvalidState(f"cannot remove container {container_id[:12]}: it is "
                                       "running; stop it first or use force")
                self.stop(container_id, signal.SIGKILL, 0)
            monitor = int(cdir.read_status().get("monitor_pid", 0))
            _wait_gone(monitor, 5.0)
        try:
            layers: list[str] | None = cdir.read_spec().layers
        except (OSError, ValueError, TypeError):
            layers = None  # a damaged record: unuse() looks for its references itself
        open_cgroup(container_id, self.cgroup_parent).destroy()
        if (cdir.path / "network.json").exists() or cdir.netns.exists():
            self.networking().cleanup_container(container_id)
        doomed = self.containers_dir / f".{container_id}.removing"
        os.replace(cdir.path, doomed)
        shutil.rmtree(doomed, ignore_errors=True)
        # Only once it is gone: a crash before leaves references, never too few.
        self.layer_refs.unuse(container_id, layers)
        self.claims.release(container_id, self.uid)
        return {}

    def changes(self, container_id: str) -> list[list[str]]:
        from engine.helper.changes import container_changes

        cdir = self._existing(container_id)
        spec = cdir.read_spec()
        lowers = [self.layers_dir / "sha256" / d.removeprefix("sha256:")
                  for d in reversed(spec.layers)]
        mount_points = [bind.target for bind in spec.binds]
        return [[kind, path] for kind, path in container_changes(cdir.upper, lowers,
                                                                 mount_points)]

    def layer(self, container_id: str, fds: list[int]) -> dict[str, Any]:
        """The container's changes as a layer tar, written to the caller's file
        (engine/helper/upperlayer.py): for build and commit, of a container not running."""
        from engine.helper.upperlayer import IdShift, write_upper_layer

        if len(fds) != 1:
            raise InvalidArgument("container_layer needs exactly one file descriptor")
        cdir = self._existing(container_id)
        if self._live_status(cdir).get("status") in _ACTIVE:
            raise InvalidState(f"container {container_id[:12]} is running: stop or pause it "
                               "before making a layer of it")
        spec = cdir.read_spec()
        lowers = [self.layers_dir / "sha256" / d.removeprefix("sha256:")
                  for d in reversed(spec.layers)]
        userns = spec.userns
        count = write_upper_layer(
            cdir.upper, lowers, [bind.target for bind in spec.binds], fds[0],
            IdShift(userns.uid_map if userns else None),
            IdShift(userns.gid_map if userns else None))
        return {"entries": count}

    def exec(self, id: str, args: list[str], env: list[str], user: str, cwd: str, tty: bool,
             rows: int, cols: int) -> WithFds:
        """Start a process in the running container; hand its streams to the caller."""
        from engine.containers.runspec import merge_env

        cdir = self._existing(id)
        status = self._live_status(cdir)
        if status.get("status") != "running":
            raise InvalidState(f"Container {id} is not running")
        if cdir.paused.exists():
            raise InvalidState(f"Container {id} is paused, unpause the container before exec")
        if not args:
            raise InvalidArgument("no command specified")
        if not _is_in_container(int(status.get("pid", 0)), id):
            raise InvalidState(f"Container {id} is not running")
        spec = cdir.read_spec()
        if spec.seccomp != UNCONFINED and not cdir.seccomp.exists():
            self.seccomp.install(cdir.seccomp, spec.seccomp)  # started by an older Skiff
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
            "args": args, "env": merge_env(spec.env, env), "user": user or spec.user,
            "cwd": cwd or spec.cwd or "/", "hostname": spec.hostname, "tty": tty,
            "status_fd": status_w, "error_fd": error_w, "pty_socket": pty_theirs,
            "rows": rows, "cols": cols, "devices": device_mode(spec),
            "seccomp": "" if spec.seccomp == UNCONFINED else str(cdir.seccomp),
        }
        request_fd = _request_fd(request)
        try:
            process = subprocess.Popen(
                [*_python_module("engine.helper.runtime.execproc"), str(request_fd)],
                stdin=stdio[0], stdout=stdio[1], stderr=stdio[2],
                pass_fds=[fd for fd in (status_w, error_w, pty_theirs, request_fd) if fd >= 0],
                start_new_session=not tty, cwd="/",
                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                     "PYTHONPATH": _PACKAGE_ROOT})
        except BaseException:
            for fd in (*ours, *theirs, status_r, status_w, error_r, error_w, pty_ours):
                if fd >= 0:
                    os.close(fd)
            raise
        finally:
            os.close(request_fd)
        _reap_when_done(process)
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

    # -- looking inside (engine/helper/runtime/fsview.py) --------------------------------
    def files(self, id: str, op: str, path: str, follow: bool, limit: int, name: str,
              archive: bool, fds: list[int] | None = None,
              sources: list[int] | None = None) -> Any:
        """stat, list, read, get (tar out) or put (tar in) a path of the container's root.

        A fresh fsview process does it, inside the container's mount namespace when
        it runs, over a private overlay of its layers when it does not. Returns the
        path's entry; list/read/get/put also hand back the data pipe's end and the
        status pipe, whose last line says how the operation ended.
        """
        cdir = self._existing(id)
        status = self._live_status(cdir)
        spec = cdir.read_spec()
        pid = 0
        if status.get("status") in _ACTIVE:
            pid = int(status.get("pid", 0))
            if pid <= 0 or not is_alive(pid) or not _is_in_container(pid, id):
                raise InvalidState(f"container {id[:12]} is restarting; try again in a moment")
        binds: list[dict[str, Any]] = []
        ours: list[int] = []
        try:
            if not pid:  # a running container shows its own mounts; this one gets these
                mounted = [b for b in spec.binds if b.type != "tmpfs"]
                fds_of = self._sources(spec, list(fds or []), sources, complete=False)
                ours += [fd for bind, fd in zip(mounted, fds_of, strict=True)
                         if bind.type == "volume"]
                binds += [{"fd": fd, "source": bind.source, "target": bind.target,
                           "read_only": bind.read_only, "copy_up": bind.copy_up}
                          for bind, fd in zip(mounted, fds_of, strict=True) if fd >= 0]
                for file_name, target in (("hosts", "/etc/hosts"), ("hostname", "/etc/hostname"),
                                          ("resolv.conf", "/etc/resolv.conf")):
                    try:
                        fd = os.open(cdir.path / file_name,
                                     os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
                    except FileNotFoundError:
                        continue
                    ours.append(fd)
                    binds.append({"fd": fd, "source": file_name, "target": target,
                                  "read_only": False, "copy_up": False})
            return self._run_fsview(cdir, spec, op, path, follow, limit, name, archive, pid,
                                    binds)
        finally:
            for fd in ours:
                os.close(fd)

    def _run_fsview(self, cdir: ContainerDir, spec: RuntimeSpec, op: str, path: str,
                    follow: bool, limit: int, name: str, archive: bool, pid: int,
                    binds: list[dict[str, Any]]) -> Any:
        from engine.errors import from_kind

        put = op == "put"
        status_r, status_w = os.pipe2(os.O_CLOEXEC)
        data_r, data_w = os.pipe2(os.O_CLOEXEC)
        request = {
            "op": op, "path": "/" + os.path.normpath("/" + path).lstrip("/"),
            "follow": follow, "limit": limit, "name": name, "archive": archive,
            "caller_uid": self.uid, "pid": pid, "status_fd": status_w,
            "layers_dir": str(self.layers_dir / "sha256"),
            "layers": [d.removeprefix("sha256:") for d in reversed(spec.layers)],
            "upper": str(cdir.upper), "work": str(cdir.work), "empty": str(cdir.empty_layer),
            "mountpoint": str(cdir.rootfs), "binds": binds, "writable": put,
            "userns": None if spec.userns is None else asdict(spec.userns),
            "lowers": str(cdir.lowers),
            "lock": str(cdir.path / "files.lock"),
        }
        ours, theirs = (data_w, data_r) if put else (data_r, data_w)
        request_fd = _request_fd(request)
        try:
            process = subprocess.Popen(
                [*_python_module("engine.helper.runtime.fsview"), str(request_fd)],
                stdin=theirs if put else subprocess.DEVNULL,
                stdout=subprocess.DEVNULL if put else theirs, stderr=subprocess.DEVNULL,
                pass_fds=[status_w, request_fd, *(b["fd"] for b in binds)],
                start_new_session=True, cwd="/",
                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                     "PYTHONPATH": _PACKAGE_ROOT})
        except BaseException:
            for fd in (status_r, status_w, data_r, data_w):
                os.close(fd)
            raise
        finally:
            os.close(request_fd)
        _reap_when_done(process)
        os.close(status_w)
        os.close(theirs)
        self._monitors.append(process)
        self._reap_monitors()
        line = _read_one_line(status_r, timeout=60.0)
        reply = json.loads(line) if line else {}
        if not reply.get("ok"):
            os.close(status_r)
            os.close(ours)
            if not line:
                process.kill()
                raise HelperError(f"looking into container {spec.id[:12]} failed: no answer")
            raise from_kind(str(reply.get("kind", "helper")), str(reply.get("message", "")))
        if op == "stat":
            os.close(status_r)
            os.close(ours)
            return reply["entry"]
        return WithFds({"entry": reply["entry"]}, [ours, status_r])

    def rename(self, id: str, name: str) -> dict[str, Any]:
        """The name its next start and its events use, and the name its peers resolve now."""
        from dataclasses import replace

        cdir = self._existing(id)
        spec = cdir.read_spec()
        cdir.write_json(cdir.spec, replace(spec, name=name).to_json())
        if spec.network == "sandbox" and (cdir.path / "network.json").exists():
            self.networking().rename(id, spec.name, name)
        return {}

    def namespaces(self, id: str) -> list[list[Any]]:
        """[kind, container inode, host inode] of the running container's init's namespaces."""
        cdir = self._existing(id)
        status = self._live_status(cdir)
        pid = int(status.get("pid", 0))
        if status.get("status") not in _ACTIVE or pid <= 0 or not _is_in_container(pid, id):
            raise InvalidState(f"Container {id} is not running")
        rows: list[list[Any]] = []
        for kind in ("pid", "mnt", "uts", "ipc", "net", "user", "cgroup", "time"):
            try:
                mine = _namespace_inode(f"/proc/{pid}/ns/{kind}")
                try:
                    host = _namespace_inode(f"/proc/1/ns/{kind}")
                except PermissionError:  # an init with more capabilities than ours
                    host = _namespace_inode(f"/proc/self/ns/{kind}")
            except FileNotFoundError:
                continue  # a kind this kernel does not have
            rows.append([kind, mine, host])
        if int(self._live_status(cdir).get("pid", 0)) != pid:
            raise InvalidState(f"Container {id} is not running")
        return rows

    def warm_up(self) -> None:
        """In the background at helper start: load the networking code (pyroute2 takes
        ~200 ms) and repair network parts (links, rules, addresses, sandboxes) that
        nothing runs behind any more. Network set-up waits for this; nothing else does."""
        try:
            from engine.helper.network.verbs import live_container_ids

            used = (self.root / "network").is_dir()  # before Networking() creates it
            networking = self.networking()
            if used:
                networking.repair(lambda: live_container_ids(self.root), self.root / "users")
        except Exception as exc:  # reported when a container needs the network
            self._warm_up_error = exc
        finally:
            self._network_ready.set()

    def repair(self, known: list[str], layers: list[str] | None = None) -> dict[str, Any]:
        """Drop what a crash left: half-created or half-removed dirs, unknown containers,
        ID claims and layer references nothing stands behind. With ``layers`` (the
        diff_ids of the user's images), the user's layer references become those.
        Also makes private what an older Skiff left readable to all."""
        removed = []
        self._private_dirs("containers")
        if self.volumes.dir.is_dir():  # private, and mounted again after a reboot
            self._private_dirs("volumes")
            for name in os.listdir(self.volumes.dir):
                if not (self.volumes.dir / name).is_symlink():
                    self.volumes.create(name)
        changes = changes_file(self.containers_dir)
        announce_changes(changes)  # so engines can watch it
        for path in (changes, changes.with_name("events.log"),
                     changes.with_name("events.log.1")):
            if path.is_file() and not path.is_symlink():
                private_file(path, self.uid)
        keep = set(known)
        for entry in self.containers_dir.iterdir():
            name = entry.name
            if name.startswith(".") and (name.endswith(".creating")
                                         or name.endswith(".removing")):
                shutil.rmtree(entry, ignore_errors=True)
                continue
            if len(name) != 64 or entry.is_symlink():
                continue
            if entry.stat().st_mode & 0o007:  # from before containers were private
                make_private(entry, self.uid, _PRIVATE_FILES)
            if name not in keep and time.time() - entry.stat().st_mtime > STALE_AFTER:
                # Old enough that no engine is between its helper call and its
                # database write for it: a crash left it.
                status = self._live_status(ContainerDir(entry))
                if status.get("status") not in _ACTIVE:
                    self.remove(name, force=False)
                    removed.append(name)
        for name, age in self.claims.held_by(self.uid).items():
            if age > STALE_AFTER and not (self.containers_dir / name).exists():
                self.layer_refs.unuse(name)  # a crash between removing it and this
                self.claims.release(name, self.uid)
        if layers is not None:
            self.layer_refs.sync(self.uid, layers)
        return {"removed": removed}

    def _reap_monitors(self) -> None:
        self._monitors = [m for m in self._monitors if m.poll() is None]


def _python_module(module: str) -> list[str]:
    """Run a module of ours in a lean interpreter: no site (saves ~30 ms a start).

    Monitors and exec processes need the standard library and our package only.
    """
    code = (f"import sys; sys.path.insert(0, {_PACKAGE_ROOT!r}); "
            f"from {module} import main; sys.exit(main(sys.argv))")
    return [sys.executable, "-S", "-c", code]



def _request_fd(request: dict[str, Any]) -> int:
    """The request for an exec or file-access process, in a memfd it reads: never in
    its command line, where any user's `ps` would show it (environment included)."""
    fd = os.memfd_create("skiff-request", os.MFD_CLOEXEC)
    os.write(fd, json.dumps(request).encode())
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _reap_when_done(process: subprocess.Popen[bytes]) -> None:
    """Reap it as soon as it ends: a zombie would count against the container's
    pids limit (exec) and linger in `ps` until the next monitor starts."""
    threading.Thread(target=process.wait, daemon=True, name="reaper").start()


def _wait_gone(pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while is_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.01)


def _kill(pid: int, signum: int, container_id: str) -> None:
    """Signal ``pid`` if it is a process of that container; nothing when it is gone.

    The pid comes from status.json: the monitor (root) wrote it, but the process
    may have ended and its number gone to another. A pidfd taken before looking
    at its cgroup makes the look and the signal be about the same process.
    """
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        return
    try:
        if _is_in_container(pid, container_id):
            signal.pidfd_send_signal(pidfd, signum)
    except ProcessLookupError:
        pass
    finally:
        os.close(pidfd)


def _is_in_container(pid: int, container_id: str) -> bool:
    """Is ``pid`` a live process in the container's cgroup (``.../<parent>/<id>``)?"""
    if pid <= 0:
        return False
    try:
        with open(f"/proc/{pid}/cgroup") as f:
            lines = f.read().splitlines()
    except OSError:
        return False
    return any(line.split(":", 2)[-1].rsplit("/", 1)[-1] == container_id for line in lines)


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _read_line(fd: int, timeout: float) -> bytes:
    data = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in data:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\n", 1)[0]


def _read_one_line(fd: int, timeout: float) -> bytes:
    """One line, byte by byte: what follows it belongs to whoever gets the fd next."""
    data = b""
    deadline = time.monotonic() + timeout
    while not data.endswith(b"\n") and len(data) < 65536:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            break
        byte = os.read(fd, 1)
        if not byte:
            break
        data += byte
    return data.rstrip(b"\n")


def _namespace_inode(path: str) -> int:
    """The inode in "net:[4026531840]"."""
    return int(os.readlink(path).rsplit("[", 1)[1].rstrip("]"))

def _tail(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1] if lines else ""


def _close_ours(spec: RuntimeSpec, sources: list[int]) -> None:
    """Close the volume directories we opened; binds' descriptors are the caller's."""
    for bind, fd in zip((b for b in spec.binds if b.type != "tmpfs"), sources, strict=False):
        if bind.type == "volume" and fd >= 0:
            os.close(fd)


def _container_root(remap: Userns) -> tuple[int, int]:
    from engine.helper.runtime import userns

    return userns.mapping(remap).root()


def _user_ids(uid: int) -> tuple[int, int]:
    """The user's uid and primary gid (their own uid as gid when unknown)."""
    import pwd

    try:
        return uid, pwd.getpwuid(uid).pw_gid
    except KeyError:
        return uid, uid


def _untouched(path: Path) -> bool:
    """An empty directory still owned by root: made before it had an owner."""
    st = path.stat()
    return st.st_uid == 0 and st.st_gid == 0 and not any(path.iterdir())


def _now() -> str:
    from engine.containers.logformat import format_time

    return format_time(time.time_ns())
