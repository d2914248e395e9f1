"""User namespaces, with real containers: a user's container root is the user.

A real helper serves a real non-root user (``subid_user``, with subordinate
ids) over a socketpair made as that user, as the engine would through pkexec.
Everything is checked from inside the container, and on the host where the
container's files land. Root's ``--userns=remap`` goes through the engine.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import socket
import stat
import struct
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine import Engine
from engine.helper import syscalls as sc
from engine.helper.runtime import userns
from tests.engine.helper.runtime.test_cgroupfs import SHOW, check_own_cgroups
from tests.fixtures.users import SubidUser
from tests.peers import NOBODY, HelperPeer

pytestmark = pytest.mark.root

IDENTITY_MAP = "0 0 4294967295"


def _maps(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


class UserContainers:
    """Containers of one user, through that user's own helper."""

    def __init__(self, peer: HelperPeer, root: Path, uid: int, layers: list[str]) -> None:
        self.peer, self.root, self.uid, self.layers = peer, root, uid, layers
        self.made: list[str] = []
        self.binds: dict[str, list[dict[str, object]]] = {}

    def dir(self, cid: str) -> Path:
        return self.root / "users" / str(self.uid) / "containers" / cid

    def create(self, *args: str, binds: list[dict[str, object]] | None = None,
               network: str = "none", userns: str = "", user: str = "") -> str:
        cid = os.urandom(32).hex()
        spec = {"args": list(args), "env": [], "cwd": "/", "hostname": "u", "layers": self.layers,
                "restart_policy": "no", "restart_max": 0, "stop_signal": 9,
                "network_mode": network, "ports": [], "exposed": [], "aliases": [],
                "name": f"u{len(self.made)}", "binds": binds or [], "userns": userns,
                "user": user}
        reply, _ = self.peer.call("container_create", {"id": cid, "spec": spec})
        if "error" in reply:
            raise RuntimeError(str(reply["error"]["message"]))  # type: ignore[index]
        self.made.append(cid)
        self.binds[cid] = binds or []
        return cid

    def sources(self, cid: str) -> tuple[list[int], list[int]]:
        """The bind sources opened, as the engine opens them at a start; their indexes."""
        fds, indexes = [], []
        for index, bind in enumerate(self.binds[cid]):
            if bind.get("type", "bind") == "bind":
                fds.append(os.open(str(bind["source"]), os.O_RDONLY | os.O_CLOEXEC))
                indexes.append(index)
        return fds, indexes

    def start(self, cid: str) -> None:
        fds, indexes = self.sources(cid)
        try:
            reply, _ = self.peer.call("container_start", {"id": cid, "sources": indexes}, fds)
        finally:
            for fd in fds:
                os.close(fd)
        assert "result" in reply, reply

    def wait(self, cid: str, timeout: float = 20) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                status = json.loads((self.dir(cid) / "status.json").read_text())
            except (OSError, ValueError):
                status = {}
            if status.get("status") == "exited":
                return int(status["exit_code"])
            time.sleep(0.02)
        raise AssertionError(f"container {cid[:12]} did not exit")

    def log(self, cid: str) -> str:
        lines = (self.dir(cid) / "ctr.log").read_text().splitlines()
        return "".join(line.split(" ", 3)[3] + ("\n" if line.split(" ", 3)[2] == "F" else "")
                       for line in lines)

    def run(self, *args: str, **options: object) -> tuple[int, str]:
        cid = self.create(*args, **options)  # type: ignore[arg-type]
        self.start(cid)
        return self.wait(cid), self.log(cid)

    def exec(self, cid: str, *args: str, tty: bool = False) -> tuple[int, str]:
        reply, fds = self.peer.call("container_exec", {
            "id": cid, "args": list(args), "env": [], "user": "", "cwd": "", "tty": tty,
            "rows": 0, "cols": 0})
        assert "result" in reply, reply
        if tty:
            (out,), status = fds[:-1], fds[-1]
            ends = [out]
        else:
            stdin, out, err, status = fds
            os.close(stdin)
            ends = [out, err]
        output = b""
        while True:
            try:
                chunk = os.read(out, 65536)
            except OSError:  # EIO: the pty's last user is gone
                break
            if not chunk:
                break
            output += chunk
        for fd in ends:
            os.close(fd)
        with os.fdopen(status, "rb") as f:
            code = int(f.read().strip() or b"-1")
        return code, output.decode()

    def status(self, cid: str) -> dict[str, object]:
        return dict(json.loads((self.dir(cid) / "status.json").read_text()))

    def remove_all(self) -> None:
        for cid in self.made:
            reply, _ = self.peer.call("container_remove", {"id": cid, "force": True})
            assert "result" in reply, reply
        # A user's volume is a mount (its nosuid view, engine/helper/volumedirs.py).
        for name in {str(b["source"]) for binds in self.binds.values() for b in binds
                     if b.get("type") == "volume"}:
            reply, _ = self.peer.call("volume_remove", {"name": name})
            assert "result" in reply, reply


def _unpack(peer: HelperPeer, engine: Engine, layers: list[object]) -> list[str]:
    diff_ids = []
    for layer in layers:
        fd = os.open(engine._shared.blobs.path(layer.digest), os.O_RDONLY)  # type: ignore[attr-defined]
        reply, _ = peer.call("unpack_layer", {"diff_id": layer.diff_id,  # type: ignore[attr-defined]
                                              "digest": layer.digest}, [fd])  # type: ignore[attr-defined]
        os.close(fd)
        assert "result" in reply, reply
        diff_ids.append(str(layer.diff_id))  # type: ignore[attr-defined]
    return diff_ids


@pytest.fixture
def user(engine: Engine, tmp_path: Path, subid_user: SubidUser) -> Iterator[UserContainers]:
    root = tmp_path / "helper"
    peer = HelperPeer(root, subid_user.uid)
    containers = UserContainers(peer, root, subid_user.uid, [])
    try:
        containers.layers = _unpack(peer, engine, _busybox_layers(engine))
        yield containers
    finally:
        containers.remove_all()
        peer.close()


@pytest.fixture
def user_dir(subid_user: SubidUser) -> Iterator[Path]:
    """A directory the test user owns, under one everybody may enter."""
    world = Path(tempfile.mkdtemp(prefix="skiff-userns-"))
    os.chmod(world, 0o755)
    mine = world / "mine"
    mine.mkdir()
    os.chown(mine, subid_user.uid, subid_user.gid)
    yield mine
    shutil.rmtree(world)


# -- a user's container ------------------------------------------------------------------------

def test_container_root_is_the_user(user: UserContainers, subid_user: SubidUser,
                                    user_dir: Path) -> None:
    code, out = user.run(
        "sh", "-c", "cat /proc/self/uid_map; echo --; cat /proc/self/gid_map; echo --; id -u; "
        "stat -c '%u:%g' /bin/busybox /etc/passwd / /dev /dev/shm /etc/hosts; "
        "grep Seccomp: /proc/self/status; "
        "echo made > /data/by-root && mkdir /data/dir && chown 33:33 /data/dir && "
        "echo written > /root-written",
        binds=[{"source": str(user_dir), "target": "/data", "read_only": False}])
    assert code == 0, out
    uid_map, gid_map, rest = out.split("--\n")
    sub_first, sub_count = subid_user.subuid
    assert _maps(uid_map) == [f"0 {subid_user.uid} 1", f"1 {sub_first} {sub_count}"]
    assert _maps(uid_map) != [IDENTITY_MAP]
    assert _maps(gid_map) == [f"0 {subid_user.gid} 1",
                              f"1 {subid_user.subgid[0]} {subid_user.subgid[1]}"]
    lines = rest.split()
    assert lines[0] == "0"  # id -u
    assert lines[1:7] == ["0:0"] * 6  # image files, its root, /dev, /etc/hosts: root's inside
    assert lines[7:] == ["Seccomp:", "2"]
    made = (user_dir / "by-root").stat()
    assert (made.st_uid, made.st_gid) == (subid_user.uid, subid_user.gid)  # the user's, on the host
    chowned = (user_dir / "dir").stat()
    assert (chowned.st_uid, chowned.st_gid) == (sub_first + 32, subid_user.subgid[0] + 32)
    # its writes to its own filesystem land owned by the user too
    cid = user.made[-1]
    upper = user.dir(cid) / "fs" / "upper"
    assert (upper / "root-written").stat().st_uid == subid_user.uid
    assert json.loads((user.dir(cid) / "userns.json").read_text())["layers"] == "idmapped"


def test_container_root_has_no_power_over_host_files(user: UserContainers, user_dir: Path,
                                                     subid_user: SubidUser) -> None:
    secret = user_dir / "secret"
    secret.write_text("root only")
    os.chmod(secret, 0o600)  # root's file in the user's directory
    code, out = user.run("sh", "-c", "cat /data/secret; echo exit=$?; stat -c %u /data/secret; "
                         "chown 0 /data/secret; echo chown=$?; rm /data/secret; echo rm=$?; "
                         "mknod /tmp/loop0 b 7 0; echo mknod=$?; "
                         "cp /bin/busybox /data/suid && chmod 4755 /data/suid; echo suid=$?",
                         binds=[{"source": str(user_dir), "target": "/data",
                                 "read_only": False}])
    assert "root only" not in out
    assert "exit=1" in out and "65534" in out and "chown=1" in out
    assert "rm=0" in out  # the user may remove files from their own directory, as on the host
    assert "mknod=1" in out  # no device nodes: CAP_MKNOD inside means nothing
    assert "suid=0" in out
    planted = (user_dir / "suid").stat()
    assert planted.st_mode & stat.S_ISUID and planted.st_uid == subid_user.uid  # set-uid *user*
    assert code == 0


def test_a_non_root_container_user_has_no_capabilities(user: UserContainers) -> None:
    code, out = user.run("sh", "-c", "id -u; grep -E '^Cap(Eff|Prm)' /proc/self/status",
                         user="100:101")
    assert code == 0, out
    lines = out.split("\n")
    assert lines[0] == "100"
    assert lines[1].split() == ["CapPrm:", "0000000000000000"]
    assert lines[2].split() == ["CapEff:", "0000000000000000"]


def test_a_user_s_tmpfs_belongs_to_container_root(user: UserContainers) -> None:
    tmpfs = {"type": "tmpfs", "source": "", "target": "/t", "read_only": False,
             "tmpfs_mode": 0o700, "tmpfs_size": 1 << 20}
    code, out = user.run("sh", "-c", "stat -c '%u %a' /t && touch /t/f && echo written",
                         binds=[tmpfs])
    assert (code, out) == (0, "0 700\nwritten\n")


def test_a_user_s_container_reads_its_own_cgroups_and_cannot_write_them(
        user: UserContainers) -> None:
    code, out = user.run("sh", "-c", SHOW)
    assert code == 0, out
    check_own_cgroups(out, pids_limit=None)


def test_a_network_service_and_exec_in_the_user_namespace(user: UserContainers) -> None:
    cid = user.create("httpd", "-f", "-p", "80", "-h", "/etc")
    user.start(cid)
    pid = int(str(user.status(cid)["pid"]))
    code, out = user.exec(cid, "sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do "
                          "wget -qO- http://127.0.0.1/hostname && break; sleep 0.1; done")
    assert (code, out) == (0, "u\n")
    code, out = user.exec(cid, "sh", "-c", "cat /proc/self/uid_map; id -u; "
                          "readlink /proc/self/ns/user")
    assert code == 0
    lines = out.splitlines()
    assert _maps(lines[0]) != [IDENTITY_MAP] and lines[-2] == "0"
    assert lines[-1] == os.readlink(f"/proc/{pid}/ns/user")  # the container's namespace
    assert lines[-1] != os.readlink("/proc/self/ns/user")
    code, out = user.exec(cid, "sh", "-c", "stat -c %u:%g $(tty)", tty=True)
    assert (code, out.strip()) == (0, "0:5")  # the terminal is container root's, group tty
    assert _icmp_echo_as_container_root(pid)


def _icmp_echo_as_container_root(pid: int) -> bool:
    """A ping through an ICMP socket (net.ipv4.ping_group_range) as container root would
    send it: in the container's network and user namespaces. (The busybox of the test
    image pings through raw sockets only, which container root may not open.)"""
    child = os.fork()
    if child == 0:
        code = 1
        try:
            net = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY)
            user_ns = os.open(f"/proc/{pid}/ns/user", os.O_RDONLY)
            sc.setns(net, sc.CLONE_NEWNET)
            userns.enter(user_ns)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP) as s:
                s.sendto(struct.pack("!BBHHH", 8, 0, 0xF7FF, 0, 0), ("127.0.0.1", 0))
                if select.select([s], [], [], 5)[0] and s.recv(64)[0] == 0:  # echo reply
                    code = 0
            try:
                socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
                code = 2  # a raw socket: capabilities over the host's namespaces
            except PermissionError:
                pass
        finally:
            os._exit(code)
    _, status = os.waitpid(child, 0)
    return os.waitstatus_to_exitcode(status) == 0


def test_host_network_gives_a_user_nothing(user: UserContainers) -> None:
    try:
        code, out = user.run("sh", "-c", "httpd -f -p 80 -h /etc; echo httpd=$?; "
                             "ping -c 1 -W 1 127.0.0.1; echo ping=$?", network="host")
    except RuntimeError as exc:  # refusing host networking to users is as good
        assert "host" in str(exc)
        return
    if int(Path("/proc/sys/net/ipv4/ip_unprivileged_port_start").read_text()) > 80:
        assert "httpd=1" in out, out
    assert "ping=1" in out, out  # no raw socket on the host's network
    assert code == 0


def test_volumes_belong_to_container_root(user: UserContainers, subid_user: SubidUser) -> None:
    code, out = user.run("sh", "-c", "stat -c '%u:%g %a' /etc/passwd /etc; touch /etc/new",
                         binds=[{"type": "volume", "source": "conf", "target": "/etc",
                                 "read_only": False}])
    assert code == 0, out
    assert out.split("\n")[:2] == ["0:0 644", "0:0 755"]  # the image's view, copied up
    data = user.root / "users" / str(subid_user.uid) / "volumes" / "conf" / "_data"
    for path in (data, data / "passwd", data / "new"):
        assert path.stat().st_uid == subid_user.uid


def test_the_files_view_acts_as_container_root(user: UserContainers, subid_user: SubidUser,
                                               user_dir: Path) -> None:
    secret = user_dir / "secret"
    secret.write_text("root only")
    os.chmod(secret, 0o600)
    (user_dir / "open").write_text("for the user")
    binds = [{"source": str(user_dir), "target": "/data", "read_only": False}]
    stopped = user.create("true", binds=binds)
    running = user.create("sleep", "60", binds=binds)
    user.start(running)
    for cid in (stopped, running):
        assert "Permission denied" in _fs_read(user, cid, "/data/secret")
        assert _fs_read(user, cid, "/data/open") == "for the user"
        reply, _ = user.peer.call("container_fs", _fs_args(cid, "stat", "/etc/passwd"))
        entry = reply["result"]
        assert (entry["uid"], entry["gid"]) == (0, 0), entry  # type: ignore[index]
    secret.unlink()


def _fs_args(cid: str, op: str, path: str) -> dict[str, object]:
    return {"id": cid, "op": op, "path": path, "follow": True, "limit": 1 << 20, "name": ".",
            "archive": False}


def _fs_read(user: UserContainers, cid: str, path: str) -> str:
    sources, indexes = user.sources(cid)
    try:
        reply, fds = user.peer.call("container_fs", {**_fs_args(cid, "read", path),
                                                     "sources": indexes}, sources)
    finally:
        for fd in sources:
            os.close(fd)
    if "error" in reply:
        return str(reply["error"]["message"])  # type: ignore[index]
    data, status = fds
    with os.fdopen(data, "rb") as f:
        content = f.read().decode()
    os.close(status)
    return content


def test_a_user_without_subordinate_ids_is_told_the_fix(engine: Engine, tmp_path: Path) -> None:
    peer = HelperPeer(tmp_path / "helper", NOBODY)
    try:
        containers = UserContainers(peer, tmp_path / "helper", NOBODY, [])
        with pytest.raises(RuntimeError, match=r"no subordinate uids .*sudo usermod "
                                               r"--add-subuids \d+-\d+ --add-subgids "
                                               r"\d+-\d+ nobody"):
            containers.create("true")
    finally:
        peer.close()


def test_a_user_cannot_leave_the_user_namespace(user: UserContainers) -> None:
    with pytest.raises(RuntimeError, match="--userns=host is for root's containers only"):
        user.create("true", userns="host")
    cid = user.create("true")
    spec_file = user.dir(cid) / "spec.json"
    spec = json.loads(spec_file.read_text())
    spec["userns"] = None  # as a Skiff before user namespaces wrote it
    spec_file.write_text(json.dumps(spec))
    reply, _ = user.peer.call("container_start", {"id": cid})
    assert "created without a user namespace" in str(reply["error"]), reply


def test_shifted_copies_where_layers_cannot_be_idmapped(
        engine: Engine, tmp_path: Path, subid_user: SubidUser) -> None:
    """The fallback for kernels before 5.19, forced: one shifted copy per user and layer."""
    root = tmp_path / "helper"
    peer = HelperPeer(root, subid_user.uid, env={**os.environ, "SKIFF_USERNS_LAYERS": "copy"})
    containers = UserContainers(peer, root, subid_user.uid, [])
    try:
        containers.layers = _unpack(peer, engine, _busybox_layers(engine))
        code, out = containers.run("sh", "-c", "stat -c '%u:%g' /bin/busybox /etc; "
                                   "cat /proc/self/uid_map")
        assert code == 0, out
        assert out.split()[:2] == ["0:0", "0:0"]
        cid = containers.made[-1]
        assert json.loads((containers.dir(cid) / "userns.json").read_text())["layers"] == "copy"
        copies = [p for p in (root / "shifted").glob("*/*") if p.is_dir()]
        assert len(copies) == len(containers.layers)
        assert {(p / "bin").stat().st_uid for p in copies} == {subid_user.uid}
        before = {p: p.stat().st_ino for p in copies}
        code, _ = containers.run("true")
        assert code == 0
        assert {p: p.stat().st_ino for p in copies} == before  # reused, not copied again
    finally:
        containers.remove_all()
        peer.close()


def test_a_shifted_copy_keeps_everything_but_the_owners(tmp_path: Path) -> None:
    from engine.helper.runtime import shifted
    from engine.helper.runtime.idmap import IdMap, UsernsMap

    layer = tmp_path / "layers" / ("a" * 64)
    (layer / "bin").mkdir(parents=True)
    su = layer / "bin" / "su"
    su.write_text("#!/bin/sh\n")
    os.chown(su, 0, 0)
    os.chmod(su, 0o4755)
    os.link(su, layer / "bin" / "su2")
    (layer / "www").mkdir()
    os.chown(layer / "www", 33, 33)
    os.symlink("/etc/passwd", layer / "link")
    os.lchown(layer / "link", 33, 0)
    os.mknod(layer / "gone", stat.S_IFCHR, os.makedev(0, 0))  # a whiteout
    os.setxattr(layer / "www", "trusted.overlay.opaque", b"y")
    os.chown(layer / "bin", 70000, 0)  # a uid the map does not have
    ids = UsernsMap(IdMap(((0, 1000, 1), (1, 200000, 65536))),
                    IdMap(((0, 1001, 1), (1, 300000, 65536))))
    copies = tmp_path / "shifted" / "map"
    copy = shifted.ensure(layer, copies, ids)
    assert copy == copies / layer.name
    owner = {p.name: (p.lstat().st_uid, p.lstat().st_gid) for p in (copy, *copy.rglob("*"))}
    assert owner == {layer.name: (1000, 1001), "bin": (65534, 1001), "su": (1000, 1001),
                     "su2": (1000, 1001), "www": (200032, 300032), "link": (200032, 1001),
                     "gone": (1000, 1001)}
    assert (copy / "bin" / "su").stat().st_mode & 0o7777 == 0o4755  # chown cleared it; back
    assert (copy / "bin" / "su").stat().st_ino == (copy / "bin" / "su2").stat().st_ino
    assert os.readlink(copy / "link") == "/etc/passwd"
    assert os.getxattr(copy / "www", "trusted.overlay.opaque") == b"y"
    assert stat.S_ISCHR((copy / "gone").lstat().st_mode)
    assert shifted.ensure(layer, copies, ids).stat().st_ino == copy.stat().st_ino  # reused
    shifted.forget(tmp_path, layer.name)
    assert not copy.exists() and list(copies.iterdir()) == []


def _busybox_layers(engine: Engine) -> list[object]:
    return list(engine._shared.image_store.get("busybox").layers)
