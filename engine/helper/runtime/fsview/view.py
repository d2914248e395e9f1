"""The container's root as the file-access process gets it, and its privileges.

Running or paused: it joins the container's mount namespace, so "/" is the
container's root with its volumes and binds, what its processes see. Stopped or
created: it unshares a private mount namespace and mounts an overlay of the
container's layers there, under a throw-away upper for looking (the container's
upper dir is its top lower), or over the container's own upper dir for copying
in; the mounts live and die with this process's namespace.

A container in a user namespace is looked at from inside one, so the view can do
what its root could and nothing more: the running container's own, joined after
its mount namespace, or for a stopped one a fresh namespace with the same map,
entered once everything is mounted. Then the process keeps only the few
capabilities it needs.
"""

from __future__ import annotations

import os
import stat
from typing import Any

from engine.helper import syscalls as sc
from engine.helper.runtime import capabilities, mounts, userns
from engine.helper.runtime.fsview.lookup import FsError, View
from engine.helper.runtime.kernel import LINUX
from engine.helper.runtime.spec import Userns

__all__ = ["drop_privileges", "enter_running", "mount_stopped"]

_PR_SET_NO_NEW_PRIVS = 38

# Filesystems the kernel makes up: listing them is fine, their content is not ours to copy.
_KERNEL_FS = frozenset({
    "proc", "sysfs", "cgroup", "cgroup2", "devpts", "mqueue", "debugfs", "tracefs",
    "securityfs", "bpf", "configfs", "fusectl", "pstore", "efivarfs", "binfmt_misc",
    "hugetlbfs", "autofs", "nsfs",
})
_READ_CAPS = ("CAP_DAC_READ_SEARCH",)
_WRITE_CAPS = ("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
               "CAP_FSETID")


def _kernel_devices(mountinfo: str) -> frozenset[int]:
    found = set()
    try:
        with open(mountinfo) as f:
            for line in f:
                fields = line.split()
                if "-" not in fields:
                    continue
                fstype = fields[fields.index("-") + 1]
                if fstype in _KERNEL_FS:
                    major, minor = fields[2].split(":")
                    found.add(os.makedev(int(major), int(minor)))
    except (OSError, ValueError):
        pass
    return frozenset(found)


def enter_running(pid: int) -> View:
    devs = _kernel_devices(f"/proc/{pid}/mountinfo")
    userns_fd = _own_userns(pid)  # before setns(mnt) changes what /proc shows
    fd = os.open(f"/proc/{pid}/ns/mnt", os.O_RDONLY | os.O_CLOEXEC)
    try:
        LINUX.setns(fd, sc.CLONE_NEWNS)
    finally:
        os.close(fd)
    os.chdir("/")
    view = View(os.open("/", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC), devs)
    if userns_fd >= 0:  # act as the container's root would, nothing more
        userns.enter(userns_fd)
        os.close(userns_fd)
    return view


def _own_userns(pid: int) -> int:
    """An fd of the container's user namespace, or -1 when it runs in ours."""
    fd = os.open(f"/proc/{pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
    if os.fstat(fd).st_ino == os.stat("/proc/self/ns/user").st_ino:
        os.close(fd)
        return -1
    return fd


def mount_stopped(req: dict[str, Any]) -> View:
    trees = _bind_trees(req)  # in the host's mount namespace, where the sources' mounts are
    LINUX.unshare(sc.CLONE_NEWNS)
    sc.mount(None, "/", None, sc.MS_REC | sc.MS_PRIVATE)
    mountpoint: str = req["mountpoint"]
    layers: list[str] = req["layers"]  # directory names under layers_dir, top first
    remap = None
    if req.get("userns"):  # a fresh user namespace with the container's map
        remap = userns.prepare(Userns(**req["userns"]), req["layers_dir"], layers,
                               req["lowers"], req["empty"])
        remap.attach()
        os.chdir(remap.lower_dir)
        layers = remap.lowers
    else:
        os.chdir(req["layers_dir"])  # relative lowerdirs keep the option string short
    if req["writable"]:
        lowers = ":".join(layers or [req["empty"]])
        sc.mount("overlay", mountpoint, "overlay", sc.MS_NODEV,
                 f"lowerdir={lowers},upperdir={req['upper']},workdir={req['work']}")
        root = mountpoint
    else:
        # The container's upper is the top lower; a tmpfs upper takes the mountpoints.
        sc.mount("tmpfs", mountpoint, "tmpfs", sc.MS_NODEV | sc.MS_NOSUID, "mode=0755")
        for sub in ("root", "upper", "work"):
            os.mkdir(os.path.join(mountpoint, sub), 0o755)
        if remap is not None:  # the view's "/" belongs to container root, as in the container
            os.chown(os.path.join(mountpoint, "upper"), *remap.root)
        root = os.path.join(mountpoint, "root")
        lowers = ":".join([req["upper"], *layers])
        sc.mount("overlay", root, "overlay", sc.MS_NODEV | sc.MS_NOSUID,
                 f"lowerdir={lowers},upperdir={mountpoint}/upper,workdir={mountpoint}/work")
    os.chdir("/")
    for bind, mount in trees:
        _mount_bind(root, bind, mount, bool(req["writable"]))
    view = View(os.open(root, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC), frozenset())
    if remap is not None:  # last, as the container's processes do
        userns.enter(remap.fd)
        remap.close()
    return view


def _bind_trees(req: dict[str, Any]) -> list[tuple[dict[str, Any], mounts.BindMount]]:
    """The container's volumes and binds as detached trees of the descriptors the
    helper passed (a bind's, the user's process opened); read-only unless writing."""
    result = []
    for bind in req["binds"]:
        fd = int(bind["fd"])
        read_only = bool(bind["read_only"]) or not req["writable"]
        attrs = mounts.bind_attributes(read_only=read_only, owner_uid=req["caller_uid"],
                                       device_mode="nodev")
        try:
            tree = mounts.prepare_tree(fd, attrs)
        except OSError as exc:
            if req["writable"]:  # writing past a missing bind would put files in the wrong place
                raise FsError("helper", f"cannot mount {bind['target']} of the container: "
                              f"{exc.strerror or exc}") from None
            continue
        kind = "dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"
        fill = fd if bind.get("copy_up") and req["writable"] else -1
        result.append((bind, mounts.BindMount(bind["target"], tree, kind, read_only, fill)))
    return result


def _mount_bind(root: str, bind: dict[str, Any], mount: mounts.BindMount,
                writable: bool) -> None:
    """A volume or bind where the container's processes would see it."""
    step = mounts.MountStep(None, os.path.join(root, bind["target"].lstrip("/")), None,
                            kind=mount.kind, tree=mount.tree, fill_from=mount.fill_from)
    try:
        mounts.apply(mounts.RootfsPlan(root, [step]))
    except OSError as exc:
        if writable:  # writing past a missing volume would put files in the wrong place
            raise FsError("helper", f"cannot mount {bind['target']} of the container: "
                          f"{exc.strerror or exc}") from None


def drop_privileges(writing: bool, device_files: bool) -> None:
    keep = list(_WRITE_CAPS if writing else _READ_CAPS)
    if writing and device_files:
        keep.append("CAP_MKNOD")
    capabilities.apply(keep, root_user=True)
    LINUX.prctl(_PR_SET_NO_NEW_PRIVS, 1)
