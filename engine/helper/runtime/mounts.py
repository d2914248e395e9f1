"""The container's filesystem as a plan: mounts computed as data, then applied.

``plan_rootfs`` is pure; ``apply`` performs the steps inside the container's
fresh mount namespace, before pivot_root, through a ``Kernel`` (kernel.py):
tests give it a recording one and check the plans and their application without
root (tests/engine/helper/runtime/test_mounts.py). Paths in the
plan are absolute host paths under the container's rootfs mountpoint.

Binds and volumes are never mounted by path: ``prepare_tree`` clones the mount
tree at a descriptor (the user's own process opened a bind's source, so the
kernel checked the user's rights along the path) into a detached tree, with
its flags set on every mount in it, and ``apply`` attaches that tree. A
symbolic link swapped in after the descriptor was opened changes nothing.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field

from engine.helper import syscalls as sc
from engine.helper.runtime import devices
from engine.helper.runtime.kernel import LINUX, Kernel
from engine.helper.runtime.spec import Bind

__all__ = [
    "MASKED_PATHS",
    "READONLY_PATHS",
    "MountError",
    "MountStep",
    "bind_attributes",
    "plan_rootfs",
    "prepare_binds",
    "prepare_tree",
    "release",
]

# Docker's defaults (moby's oci/defaults.go).
MASKED_PATHS = (
    "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
    "/sys/firmware", "/sys/devices/virtual/powercap",
)
READONLY_PATHS = (
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
)


SHM_SIZE = 64 << 20  # Docker's default /dev/shm
_VOLATILE = ",volatile"


class MountError(Exception):
    """A mount the user asked for cannot be made; str() says which and why."""


@dataclass(frozen=True)
class MountStep:
    source: str | None
    target: str  # host path
    fstype: str | None
    flags: int = 0
    data: str | None = None
    kind: str = "dir"  # what the target must be: dir | file; mkdir, symlink: only made
    tree: int = -1  # a detached mount tree (prepare_tree) to attach at the target
    fill_from: int = -1  # a volume's directory: filled with the image's files at the target
    owner: tuple[int, int] | None = None  # mkdir: who a directory made here belongs to


@dataclass(frozen=True)
class RootfsPlan:
    rootfs: str
    steps: list[MountStep] = field(default_factory=list)
    devices: str = "cgroup"  # how /dev gets its nodes: devices.MODES


@dataclass(frozen=True)
class BindMount:
    target: str  # path inside the container
    tree: int = -1  # the detached tree to attach (prepare_tree); -1 for a tmpfs
    kind: str = "dir"  # dir | file | tmpfs
    read_only: bool = False  # a tmpfs's; a tree carries its own flags
    fill_from: int = -1  # copy-up into this volume directory when it is empty
    tmpfs: str = ""  # a tmpfs's size= and mode= options (mode 1777 unless given)
    tmpfs_exec: bool = False


def bind_attributes(*, read_only: bool, owner_uid: int, device_mode: str) -> int:
    """MOUNT_ATTR_* for every mount in a bind's or volume's tree.

    Read-only is recursive. A user's binds and volumes can never carry a set-uid
    file or a device node that works; root's get nodev where nodev is what keeps
    devices shut (there is no devices cgroup to do it).
    """
    attrs = sc.MOUNT_ATTR_RDONLY if read_only else 0
    if owner_uid != 0:
        attrs |= sc.MOUNT_ATTR_NOSUID | sc.MOUNT_ATTR_NODEV
    if device_mode == "nodev":
        attrs |= sc.MOUNT_ATTR_NODEV
    return attrs


def prepare_tree(source_fd: int, attributes: int, kernel: Kernel = LINUX) -> int:
    """A detached, private copy of the mount tree at ``source_fd``, every mount in it
    with ``attributes``; attach it with ``apply`` (it is consumed there)."""
    tree = kernel.open_tree(source_fd, recursive=True)
    try:
        # Private: mounts the container's set-up makes on top must not reach the host.
        kernel.mount_setattr(tree, attr_set=attributes, propagation=sc.MS_PRIVATE,
                             recursive=True)
    except BaseException:
        os.close(tree)
        raise
    return tree


def prepare_binds(binds: list[Bind], sources: list[int], files: list[tuple[int, str]], *,
                  owner_uid: int, device_mode: str, kernel: Kernel = LINUX
                  ) -> list[BindMount]:
    """The container's binds, volumes and tmpfs mounts, ready for ``plan_rootfs``.

    ``sources`` holds one open descriptor for each bind or volume, in order (a bind's
    from the user's own process); ``files`` are (descriptor, target) of the files the
    helper writes for the container (/etc/hosts, ...). Trees are made here, in the
    host's mount namespace, where the descriptors' mounts live; on failure the ones
    made so far are closed.
    """
    result: list[BindMount] = []
    pending = iter(sources)
    try:
        for bind in binds:
            if bind.type == "tmpfs":
                result.append(BindMount(bind.target, kind="tmpfs", read_only=bind.read_only,
                                        tmpfs=bind.tmpfs, tmpfs_exec=bind.tmpfs_exec))
                continue
            fd = next(pending, -1)
            if fd < 0:
                raise MountError(f"cannot mount {bind.source or bind.type} at {bind.target}: "
                                 "its source was not handed over")
            attrs = bind_attributes(read_only=bind.read_only, owner_uid=owner_uid,
                                    device_mode=device_mode)
            if bind.type == "device":  # the one node the owner may open (sources.py)
                attrs = sc.MOUNT_ATTR_NOSUID | sc.MOUNT_ATTR_NOEXEC
            try:
                tree = prepare_tree(fd, attrs, kernel)
            except OSError as exc:
                raise MountError(f"cannot mount {bind.source} at {bind.target}: "
                                 f"{os.strerror(exc.errno or 0).lower()}") from None
            kind = "dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"
            result.append(BindMount(bind.target, tree, kind, bind.read_only,
                                    fd if bind.copy_up else -1))
        for fd, target in files:
            attrs = bind_attributes(read_only=False, owner_uid=owner_uid, device_mode=device_mode)
            result.append(BindMount(target, prepare_tree(fd, attrs, kernel), "file"))
    except BaseException:
        release(result)
        raise
    return result


def release(binds: list[BindMount]) -> None:
    """Close the trees of binds that will not be mounted (or were handed to a child)."""
    for bind in binds:
        if bind.tree >= 0:
            os.close(bind.tree)


def _inside(rootfs: str, path: str) -> str:
    return os.path.join(rootfs, path.lstrip("/"))


def plan_rootfs(*, rootfs: str, lowerdirs: list[str], upperdir: str, workdir: str,
                binds: list[BindMount], shm_size: int = SHM_SIZE,
                mount_sysfs: bool = True, device_mode: str = "cgroup",
                owner: tuple[int, int, int] | None = None, read_only: bool = False,
                workdir_in: str = "", cgroupfs: Sequence[MountStep] = (),
                volatile: bool = False) -> RootfsPlan:
    """Everything mounted under ``rootfs`` before pivot_root, in order.

    ``lowerdirs`` are top layer first, as overlayfs wants them. The overlay is
    mounted nodev: device nodes shipped in an image layer stay inert, and /dev
    is our own tmpfs with the standard nodes; with ``device_mode`` "nodev" it is
    nodev too, and its nodes are the host's, bound (devices.py). ``owner`` (host
    uid and gid of container root, host gid of its tty group) is given for a
    container in a user namespace: /dev, /dev/shm and new ptys then belong to
    container root. ``read_only`` (--read-only) makes the root filesystem itself
    read-only last, once the mountpoints and the working directory ``workdir_in``
    exist in it; what is mounted on it (volumes, tmpfs, /dev...) stays as it is.
    ``cgroupfs`` (cgroupfs.py) goes on sysfs, and only with it. ``volatile`` (a --rm
    container, as podman mounts one): the overlay ignores syncs, and its teardown at the
    container's exit no longer syncs the whole upper filesystem (this VM's ext4, busy
    with other programs: 9 ms median, up to 47 ms alone; ~4 ms of a `run --rm`); see
    ``clear_volatile``.
    """
    nosuid_nodev_noexec = sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC
    dev_flags = sc.MS_NOSUID | sc.MS_STRICTATIME | (sc.MS_NODEV if device_mode == "nodev" else 0)
    ids = f",uid={owner[0]},gid={owner[1]}" if owner else ""
    pts = f"uid={owner[0]},gid={owner[2]}" if owner else "gid=5"
    steps = [
        MountStep("overlay", rootfs, "overlay", sc.MS_NODEV,
                  f"lowerdir={':'.join(lowerdirs)},upperdir={upperdir},workdir={workdir}"
                  + (_VOLATILE if volatile else "")),
        MountStep("proc", _inside(rootfs, "/proc"), "proc", nosuid_nodev_noexec),
        MountStep("tmpfs", _inside(rootfs, "/dev"), "tmpfs", dev_flags,
                  f"mode=755,size=65536k{ids}"),
        MountStep("devpts", _inside(rootfs, "/dev/pts"), "devpts", sc.MS_NOSUID | sc.MS_NOEXEC,
                  f"newinstance,ptmxmode=0666,mode=0620,{pts}"),
        MountStep("shm", _inside(rootfs, "/dev/shm"), "tmpfs", nosuid_nodev_noexec,
                  f"mode=1777,size={shm_size}{ids}"),
        MountStep("mqueue", _inside(rootfs, "/dev/mqueue"), "mqueue", nosuid_nodev_noexec),
    ]
    if mount_sysfs:
        steps.append(MountStep("sysfs", _inside(rootfs, "/sys"), "sysfs",
                               nosuid_nodev_noexec | sc.MS_RDONLY))
        steps.extend(cgroupfs)
    for bind in binds:
        if bind.kind == "tmpfs":  # as docker's: nosuid, nodev, noexec unless asked
            flags = sc.MS_NOSUID | sc.MS_NODEV | (sc.MS_RDONLY if bind.read_only else 0) \
                | (0 if bind.tmpfs_exec else sc.MS_NOEXEC)
            options = bind.tmpfs if "mode=" in bind.tmpfs else ",".join(
                filter(None, ["mode=1777", bind.tmpfs]))
            steps.append(MountStep("tmpfs", _inside(rootfs, bind.target), "tmpfs", flags,
                                   options + ids))
            continue
        steps.append(MountStep(None, _inside(rootfs, bind.target), None, kind=bind.kind,
                               tree=bind.tree, fill_from=bind.fill_from))
    if read_only:
        if workdir_in not in ("", "/"):  # made now, container root's, as Docker makes it
            steps.append(MountStep(None, _inside(rootfs, workdir_in), None, kind="mkdir",
                                   owner=(owner[0], owner[1]) if owner else None))
        steps.append(MountStep(None, rootfs, None,
                               sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY | sc.MS_NODEV))
    return RootfsPlan(rootfs, steps, device_mode)


def _ensure_target(target: str, kind: str, rootfs: str) -> int:
    """Create a mountpoint inside the rootfs without following symlinks out of it;
    an O_PATH descriptor of it."""
    rel = os.path.relpath(target, rootfs)
    if rel.startswith(".."):
        raise OSError(22, f"mount target {target} is outside the root filesystem")
    fd = os.open(rootfs, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        parts = [p for p in rel.split("/") if p not in ("", ".")]
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            try:
                st = os.stat(part, dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                if last and kind == "file":
                    os.close(os.open(part, os.O_CREAT | os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC,
                                     0o644, dir_fd=fd))
                else:
                    os.mkdir(part, 0o755, dir_fd=fd)
                st = os.stat(part, dir_fd=fd, follow_symlinks=False)
            if stat.S_ISLNK(st.st_mode):
                raise OSError(40, f"mount target {target} goes through a symbolic link")
            flags = os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC | (0 if last else os.O_DIRECTORY)
            nfd = os.open(part, flags, dir_fd=fd)
            os.close(fd)
            fd = nfd
        result, fd = fd, -1
        return result
    finally:
        if fd >= 0:
            os.close(fd)


def apply(plan: RootfsPlan, kernel: Kernel = LINUX) -> None:
    """Perform the plan in the current (private) mount namespace."""
    for step in plan.steps:
        if step.kind == "mkdir":  # a directory, nothing mounted on it
            made = not os.path.lexists(step.target)
            fd = _ensure_target(step.target, "dir", plan.rootfs)
            try:
                if made and step.owner is not None:
                    os.chown(f"/proc/self/fd/{fd}", *step.owner)
            finally:
                os.close(fd)
            continue
        if step.kind == "symlink":  # in a tmpfs of ours: nothing of the image's in the way
            assert step.source is not None
            os.symlink(step.source, step.target)
            continue
        if step.fill_from >= 0:
            _copy_up(step.target, step.fill_from, plan.rootfs)
        if step.tree >= 0:
            where = _ensure_target(step.target, step.kind, plan.rootfs)
            try:
                kernel.move_mount(step.tree, where)
            finally:
                os.close(where)
                os.close(step.tree)
            continue
        if step.target != plan.rootfs:
            os.close(_ensure_target(step.target, step.kind, plan.rootfs))
        try:
            kernel.mount(step.source, step.target, step.fstype, step.flags, step.data)
        except OSError as exc:  # a kernel before 5.10 has no volatile overlay
            if not (step.fstype == "overlay" and exc.errno == errno.EINVAL
                    and step.data is not None and step.data.endswith(_VOLATILE)):
                raise
            kernel.mount(step.source, step.target, step.fstype, step.flags,
                         step.data.removesuffix(_VOLATILE))
        if step.fstype == "tmpfs" and step.target.endswith("/dev"):
            devices.populate(step.target, plan.devices, kernel)


def _copy_up(target: str, volume: int, rootfs: str) -> None:
    """Docker's volume initialisation: an empty volume gets the image's files there."""
    if not stat.S_ISDIR(os.fstat(volume).st_mode) or os.listdir(volume):
        return
    real = os.path.realpath(target)
    if not (real + "/").startswith(rootfs.rstrip("/") + "/") or not os.path.isdir(real) \
            or os.path.islink(target):
        return
    _copy_tree(real, volume)


def _copy_tree(source: str, dest: int) -> None:
    """Copy contents into the directory ``dest`` with owners, modes and links, never
    following a symlink (another container may be using the volume meanwhile)."""
    for entry in os.scandir(source):
        st = entry.stat(follow_symlinks=False)
        name = entry.name
        if entry.is_symlink():
            os.symlink(os.readlink(entry.path), name, dir_fd=dest)
            os.chown(name, st.st_uid, st.st_gid, dir_fd=dest, follow_symlinks=False)
            continue
        if entry.is_dir(follow_symlinks=False):
            os.mkdir(name, 0o700, dir_fd=dest)
            fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC,
                         dir_fd=dest)
            try:
                _copy_tree(entry.path, fd)
            finally:
                os.close(fd)
            continue
        if not entry.is_file(follow_symlinks=False):
            continue  # devices, fifos and sockets are not copied into volumes
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     0o600, dir_fd=dest)
        with open(entry.path, "rb") as fin, os.fdopen(fd, "wb") as fout:
            while chunk := fin.read(1 << 20):
                fout.write(chunk)
            fout.flush()
            _own(fout.fileno(), st)
    _own(dest, os.stat(source))


def _own(fd: int, st: os.stat_result) -> None:
    os.fchown(fd, st.st_uid, st.st_gid)
    os.fchmod(fd, stat.S_IMODE(st.st_mode))


def mask_paths(masked: tuple[str, ...] = MASKED_PATHS,
               readonly: tuple[str, ...] = READONLY_PATHS, kernel: Kernel = LINUX) -> None:
    """After pivot_root: hide kernel files and make others read-only, as Docker does."""
    for path in masked:
        try:
            st = os.stat(path, follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode):
            kernel.mount("tmpfs", path, "tmpfs", sc.MS_RDONLY, "size=0")
        else:
            kernel.mount("/dev/null", path, None, sc.MS_BIND)
    for path in readonly:
        if not os.path.exists(path):
            continue
        kernel.mount(path, path, None, sc.MS_BIND | sc.MS_REC)
        kernel.mount(None, path, None,
                 sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY | sc.MS_REC | sc.MS_NOSUID
                 | sc.MS_NODEV | sc.MS_NOEXEC)


def enter_rootfs(rootfs: str, kernel: Kernel = LINUX) -> None:
    """pivot_root into rootfs and detach the old root (the "." "." trick)."""
    os.chdir(rootfs)
    kernel.pivot_root(".", ".")
    kernel.umount2(".", sc.MNT_DETACH)
    os.chdir("/")




def clear_volatile(workdir: str) -> None:
    """Before a volatile overlay with this ``workdir``: the mark an earlier volatile
    mount left (``work/incompat/volatile``, so that a mount after a crash is refused)
    goes. What a crash left of a --rm container's changes matters to nobody."""
    try:
        shutil.rmtree(os.path.join(workdir, "work", "incompat"))
    except FileNotFoundError:
        pass


__all__ += ["BindMount", "RootfsPlan", "apply", "clear_volatile", "enter_rootfs",
            "mask_paths"]
